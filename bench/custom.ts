// A researcher's own kernel, benched beside the built-in ones. Two forms:
//
//   { name, gemm(out, a, b, m, k, n) }   out (m x n) = a (m x k) · b (k x n), row-major float32;
//                                        the harness adds the biases and relu around it
//   { name, setup(weights, shape) }      returns a whole forward function x → y
//
// Either may be async. A module given to `--custom` exports one as default, or an array of them.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Contender, ForwardFn } from "./contender";
import type { ProblemWeights } from "./problem";
import type { Shape } from "./shapes";

export interface GemmKernel {
  name: string;
  /** Threads it uses, for the report and the ratio to peers at the same count; default 1. */
  threads?: number;
  gemm(
    out: Float32Array,
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
  ): void | Promise<void>;
}

export interface ForwardKernel {
  name: string;
  threads?: number;
  /** Loads the weights (untimed) and returns the forward function that is timed. */
  setup(weights: ProblemWeights, shape: Shape): ForwardFn | Promise<ForwardFn>;
}

export type CustomKernel = GemmKernel | ForwardKernel;

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/** The forward pass around a GEMM: h = relu(x·W1 + b1) in float32, then y = h·W2 + b2. */
function gemmForward(kernel: GemmKernel, shape: Shape, w: ProblemWeights): ForwardFn {
  const { tokens: T, dModel: D, dHidden: H } = shape;
  const h = new Float32Array(T * H);
  const y = new Float32Array(T * D);
  const second = (): Float32Array | Promise<Float32Array> => {
    for (let r = 0; r < T; r++) {
      for (let i = 0; i < H; i++) {
        const v = Math.fround((h[r * H + i] as number) + (w.b1[i] as number));
        h[r * H + i] = v < 0 ? 0 : v;
      }
    }
    const done = kernel.gemm(y, h, w.w2, T, H, D);
    const finish = () => {
      for (let r = 0; r < T; r++)
        for (let j = 0; j < D; j++) y[r * D + j] = (y[r * D + j] as number) + (w.b2[j] as number);
      return y;
    };
    return isPromise(done) ? done.then(finish) : finish();
  };
  return (x) => {
    const done = kernel.gemm(h, x, w.w1, T, D, H);
    return isPromise(done) ? done.then(second) : second();
  };
}

function checkKernel(value: unknown, where: string): CustomKernel {
  const k = value as Partial<GemmKernel & ForwardKernel> | null;
  if (k === null || typeof k !== "object" || typeof k.name !== "string" || k.name === "") {
    throw new TypeError(`${where}: a custom kernel is an object with a non-empty string name`);
  }
  if (typeof k.gemm !== "function" && typeof k.setup !== "function") {
    throw new TypeError(
      `${where}: custom kernel "${k.name}" needs a gemm(out, a, b, m, k, n) or a setup(weights, shape) function`,
    );
  }
  if (k.threads !== undefined && !(Number.isInteger(k.threads) && k.threads >= 1)) {
    throw new TypeError(`${where}: custom kernel "${k.name}": threads must be a positive integer`);
  }
  return k as CustomKernel;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** A contender from a custom kernel; `source` lets a child process rebuild it (memory probe). */
export function customContender(
  kernel: CustomKernel,
  source?: { module: string; index: number },
): Contender {
  const k = checkKernel(kernel, "custom kernel");
  return {
    id: `custom:${slug(k.name)}`,
    label: k.name,
    group: "custom",
    threads: k.threads ?? 1,
    library: source === undefined ? "custom (in-process function)" : `custom (${source.module})`,
    ...(source === undefined ? {} : { host: { kind: "custom" as const, ...source } }),
    async setup(shape, weights) {
      if ("gemm" in k && typeof k.gemm === "function")
        return { forward: gemmForward(k, shape, weights) };
      return { forward: await (k as ForwardKernel).setup(weights, shape) };
    },
  };
}

/** The custom kernels a module exports: `export default kernel` or `export default [k1, k2]`. */
export async function loadCustomModule(
  path: string,
): Promise<{ module: string; kernels: CustomKernel[] }> {
  const module = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const mod = (await import(pathToFileURL(module).href)) as { default?: unknown };
  if (mod.default === undefined) {
    throw new TypeError(
      `--custom ${path}: the module has no default export (a kernel or an array of kernels)`,
    );
  }
  const list = Array.isArray(mod.default) ? mod.default : [mod.default];
  return { module, kernels: list.map((k, i) => checkKernel(k, `--custom ${path} [${i}]`)) };
}
