// A researcher's own kernel, benched beside the built-in ones. Two forms:
//
//   { name, gemm(out, a, b, m, k, n) }   out (m x n) = a (m x k) · b (k x n), row-major float32;
//                                        the harness builds the run's layer around it (biases
//                                        and activation, or the gated layer's three products);
//                                        an optional prepare(b, k, n) turns each weight matrix
//                                        into the kernel's own form once, untimed, and gemm
//                                        gets that as b
//   { name, setup(weights, shape) }      returns a whole forward function x → y, for the layer
//                                        and activation it says it computes (default ffn with
//                                        relu; layer: "gated" takes wGate, wUp, wDown, silu)
//
// Either may be async. A module given to `--custom` exports one as default, or an array of them.
import { ACTIVATION_SCALAR } from "../src/kernels/activation";
import type { Contender, ForwardFn, Unavailable } from "./contender";
import {
  ACTIVATIONS,
  type ActivationName,
  LAYERS,
  type LayerKind,
  type Variant,
  defaultActivation,
  describeVariant,
} from "./layer";
import {
  type GatedProblemWeights,
  type LayerWeights,
  type ProblemWeights,
  ffnWeights,
  gatedWeights,
  isGated,
} from "./problem";
import type { Shape } from "./shapes";

/**
 * A GEMM: out (m x n) = a (m x k) · b (k x n), row-major float32. `P` is what prepare makes of a
 * weight matrix (the matrix itself without prepare).
 */
export interface GemmKernel<P = Float32Array> {
  name: string;
  /** Threads it uses, for the report and the ratio to peers at the same count; default 1. */
  threads?: number;
  /**
   * Turns a weight matrix w (k x n, row-major) into the kernel's own form (packed, transposed,
   * uploaded), once per matrix at setup, untimed; gemm then gets that as `b`.
   */
  prepare?(w: Float32Array, k: number, n: number): P | Promise<P>;
  gemm(
    out: Float32Array,
    a: Float32Array,
    b: P,
    m: number,
    k: number,
    n: number,
  ): void | Promise<void>;
}

export interface ForwardKernel {
  name: string;
  threads?: number;
  /** The FeedForward (the default); a gated kernel says `layer: "gated"` (GatedForwardKernel). */
  layer?: "ffn";
  /**
   * The activation its FeedForward applies; default "relu". It runs only in a bench of that
   * activation (`--activation`), and never in one of the gated layer: elsewhere it is listed as
   * unavailable.
   */
  activation?: ActivationName;
  /** Loads the weights (untimed) and returns the forward function that is timed. */
  setup(weights: ProblemWeights, shape: Shape): ForwardFn | Promise<ForwardFn>;
}

/** A whole gated layer, y = (act(x·Wgate) ⊙ (x·Wup))·Wdown: runs in `--layer gated` benches. */
export interface GatedForwardKernel {
  name: string;
  threads?: number;
  layer: "gated";
  /** The activation of its gate; default "silu" (SwiGLU). */
  activation?: ActivationName;
  /** Loads the weights (untimed) and returns the forward function that is timed. */
  setup(weights: GatedProblemWeights, shape: Shape): ForwardFn | Promise<ForwardFn>;
}

// Any P: gemm's b is whatever that kernel's own prepare made.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CustomKernel = GemmKernel<any> | ForwardKernel | GatedForwardKernel;

type AnyGemm = GemmKernel<unknown>;

/** The weight matrices in the kernel's form: prepare's result, or the matrices themselves. */
async function prepared(kernel: AnyGemm, w: Float32Array, k: number, n: number): Promise<unknown> {
  return kernel.prepare === undefined ? w : await kernel.prepare(w, k, n);
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/**
 * The gated layer around a GEMM: g = x·Wgate, v = x·Wup, p = act(g) ⊙ v in float32 (tokenwise's
 * float32 activation), then y = p·Wdown.
 */
async function gatedGemmForward(
  kernel: AnyGemm,
  shape: Shape,
  w: LayerWeights,
  variant: Variant,
): Promise<ForwardFn> {
  if (!isGated(w)) throw new TypeError(`custom kernel "${kernel.name}": expected gated weights`);
  const { tokens: T, dModel: D, dHidden: H } = shape;
  const act = ACTIVATION_SCALAR[variant.activation];
  const wGate = await prepared(kernel, w.wGate, D, H);
  const wUp = await prepared(kernel, w.wUp, D, H);
  const wDown = await prepared(kernel, w.wDown, H, D);
  const g = new Float32Array(T * H);
  const v = new Float32Array(T * H);
  const y = new Float32Array(T * D);
  return async (x) => {
    await kernel.gemm(g, x, wGate, T, D, H);
    await kernel.gemm(v, x, wUp, T, D, H);
    for (let i = 0; i < g.length; i++) g[i] = act(g[i] as number) * (v[i] as number);
    await kernel.gemm(y, g, wDown, T, H, D);
    return y;
  };
}

/** The forward pass around a GEMM: h = act(x·W1 + b1) in float32, then y = h·W2 + b2. */
async function gemmForward(
  kernel: AnyGemm,
  shape: Shape,
  w: ProblemWeights,
  activation: ActivationName,
): Promise<ForwardFn> {
  const { tokens: T, dModel: D, dHidden: H } = shape;
  const act = ACTIVATION_SCALAR[activation];
  const w1 = await prepared(kernel, w.w1, D, H);
  const w2 = await prepared(kernel, w.w2, H, D);
  const h = new Float32Array(T * H);
  const y = new Float32Array(T * D);
  const second = (): Float32Array | Promise<Float32Array> => {
    for (let r = 0; r < T; r++) {
      for (let i = 0; i < H; i++) {
        h[r * H + i] = act(Math.fround((h[r * H + i] as number) + (w.b1[i] as number)));
      }
    }
    const done = kernel.gemm(y, h, w2, T, H, D);
    const finish = () => {
      for (let r = 0; r < T; r++)
        for (let j = 0; j < D; j++) y[r * D + j] = (y[r * D + j] as number) + (w.b2[j] as number);
      return y;
    };
    return isPromise(done) ? done.then(finish) : finish();
  };
  return (x) => {
    const done = kernel.gemm(h, x, w1, T, D, H);
    return isPromise(done) ? done.then(second) : second();
  };
}

function checkKernel(value: unknown, where: string): CustomKernel {
  const k = value as {
    name?: unknown;
    gemm?: unknown;
    prepare?: unknown;
    setup?: unknown;
    layer?: unknown;
    activation?: unknown;
    threads?: unknown;
  } | null;
  if (k === null || typeof k !== "object" || typeof k.name !== "string" || k.name === "") {
    throw new TypeError(`${where}: a custom kernel is an object with a non-empty string name`);
  }
  if (typeof k.gemm !== "function" && typeof k.setup !== "function") {
    throw new TypeError(
      `${where}: custom kernel "${k.name}" needs a gemm(out, a, b, m, k, n) or a setup(weights, shape) function`,
    );
  }
  if (k.activation !== undefined && !(ACTIVATIONS as readonly unknown[]).includes(k.activation)) {
    throw new TypeError(
      `${where}: custom kernel "${k.name}": activation must be one of ${ACTIVATIONS.join(", ")}`,
    );
  }
  if (k.prepare !== undefined && typeof k.prepare !== "function") {
    throw new TypeError(`${where}: custom kernel "${k.name}": prepare must be a function`);
  }
  if (k.layer !== undefined && !(LAYERS as readonly unknown[]).includes(k.layer)) {
    throw new TypeError(
      `${where}: custom kernel "${k.name}": layer must be one of ${LAYERS.join(", ")}`,
    );
  }
  if (k.threads !== undefined && !(Number.isInteger(k.threads) && (k.threads as number) >= 1)) {
    throw new TypeError(`${where}: custom kernel "${k.name}": threads must be a positive integer`);
  }
  return k as unknown as CustomKernel;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/**
 * A contender from a custom kernel for the run's layer; `source` lets a child process rebuild it
 * (memory probe). A forward kernel made for another layer or activation is unavailable.
 */
export function customContender(
  kernel: CustomKernel,
  variant: Variant,
  source?: { module: string; index: number },
): Contender | Unavailable {
  const k = checkKernel(kernel, "custom kernel");
  const names = { id: `custom:${slug(k.name)}`, label: k.name, group: "custom" as const };
  const threads = k.threads ?? 1;
  if (!("gemm" in k && typeof k.gemm === "function")) {
    const f = k as ForwardKernel | GatedForwardKernel;
    const layer: LayerKind = f.layer ?? "ffn";
    const own = f.activation ?? defaultActivation(layer);
    if (variant.layer !== layer || own !== variant.activation) {
      return {
        ...names,
        threads,
        reason: `a forward kernel of the ${describeVariant({ layer, activation: own })} layer; this run benches the ${describeVariant(variant)} layer (give a gemm kernel to run in every layer)`,
      };
    }
  }
  return {
    ...names,
    threads,
    library: source === undefined ? "custom (in-process function)" : `custom (${source.module})`,
    ...(source === undefined ? {} : { host: { kind: "custom" as const, ...source } }),
    async setup(shape, weights) {
      if ("gemm" in k && typeof k.gemm === "function") {
        const g = k as AnyGemm;
        return {
          forward:
            variant.layer === "gated"
              ? await gatedGemmForward(g, shape, weights, variant)
              : await gemmForward(g, shape, ffnWeights(weights, k.name), variant.activation),
        };
      }
      const f = k as ForwardKernel | GatedForwardKernel;
      if (f.layer === "gated") {
        return { forward: await f.setup(gatedWeights(weights, k.name), shape) };
      }
      return {
        forward: await (k as ForwardKernel).setup(ffnWeights(weights, k.name), shape),
      };
    },
  };
}

/**
 * The custom kernels of a module's namespace: `export default kernel` or `export default [k1, k2]`.
 * `path` names the module in errors.
 */
export function kernelsOf(mod: { default?: unknown }, path: string): CustomKernel[] {
  if (mod.default === undefined) {
    throw new TypeError(
      `--custom ${path}: the module has no default export (a kernel or an array of kernels)`,
    );
  }
  const list = Array.isArray(mod.default) ? mod.default : [mod.default];
  return list.map((k, i) => checkKernel(k, `--custom ${path} [${i}]`));
}
