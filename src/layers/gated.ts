import { decodeFloat32, encodeFloat32 } from "../base64";
import {
  assertBoolean,
  assertFloat32Array,
  assertMatrix,
  assertBatch,
  assertGradientPair,
  assertToken,
  assertOptions,
  assertPositiveSize,
  assertShape,
  assertSize,
  kindOf,
} from "../check";
import { ShapeError } from "../errors";
import type { ActivationName } from "../kernels/activation";
import type { KernelName } from "../kernels/kernel";
import {
  type GatedRawWeights,
  type GatedSource,
  JsGatedKernel,
  rawGatedSource,
  seededGatedSource,
} from "../kernels/js-gated";
import type { Matrix } from "../matrix";
import { assertActivation } from "./activation-option";
import { type GatedFeedForwardGradients, gatedBackward } from "./backward";
import { WasmKernel } from "../kernels/wasm-feedforward";
import { gatedLayer } from "../kernels/wasm-gated";
import { ThreadedWasmKernel } from "../kernels/wasm-threaded";
import { gemmModule, gemmModuleSync } from "../kernels/wasm/module";
import type { ThreadHost } from "../threads/platform";
import { planThreads, resolveKernel } from "./kernel-option";

/**
 * The kernels a {@link GatedFeedForward} can compute with: `"wasm"` (WebAssembly SIMD, as
 * {@link FeedForward}'s), `"js"` (plain JavaScript, every engine), or `"auto"`, which takes
 * `"wasm"` where it can run and `"js"` elsewhere.
 *
 * @category GatedFeedForward
 */
export type GatedKernelChoice = "auto" | "js" | "wasm";

type GatedKernel =
  JsGatedKernel | WasmKernel<GatedRawWeights> | ThreadedWasmKernel<GatedRawWeights>;

/**
 * Options of `new GatedFeedForward(options)`.
 *
 * @category GatedFeedForward
 */
export interface GatedFeedForwardOptions {
  /** Width of a token vector, the layer's input and output. */
  dModel: number;
  /** Width of the hidden vector (LLaMA-7B: 11008 for dModel 4096). */
  dHidden: number;
  /** Seed of the weight initialisation, an integer in [0, 2^32); default 0. */
  seed?: number;
  /**
   * The gate's activation; default `"silu"` (SwiGLU, as in LLaMA). `"gelu"` or `"geluTanh"`
   * give GeGLU (T5 v1.1 uses `"geluTanh"`), `"relu"` gives ReGLU.
   */
  activation?: ActivationName;
  /** Whether the three linear maps have biases; default `false`, as in LLaMA and T5. */
  bias?: boolean;
  /** The kernel; default `"auto"`. */
  kernel?: GatedKernelChoice;
  /**
   * Threads to compute on, the calling one included; default 1 for the constructor, which can
   * only take 1, and the number of cores for {@link GatedFeedForward.create}. As for
   * {@link FeedForward}: the `"wasm"` kernel and SharedArrayBuffer are needed, and where either
   * is missing the layer runs on one thread and says why in
   * {@link GatedFeedForward.threadsFallback}. See docs/threads.md.
   */
  threads?: number;
}

/**
 * Options of {@link GatedFeedForward.create} for a layer from existing weights (copied, as
 * {@link GatedFeedForward.fromWeights} does).
 *
 * @category GatedFeedForward
 */
export interface GatedCreateFromWeightsOptions {
  /** The weights; dModel and dHidden are read from their shapes. */
  weights: GatedFeedForwardWeights;
  /** The gate's activation; default `"silu"`. */
  activation?: ActivationName;
  /** The kernel; default `"auto"`. */
  kernel?: GatedKernelChoice;
  /** As {@link GatedFeedForwardOptions.threads}. */
  threads?: number;
}

/**
 * The weights of a {@link GatedFeedForward}, in tokenwise's (in, out) layout:
 * `y = (act(x · wGate + bGate) ⊙ (x · wUp + bUp)) · wDown + bDown`. The biases are all present
 * or all absent.
 *
 * @category GatedFeedForward
 */
export interface GatedFeedForwardWeights {
  /** (dModel, dHidden): the gate projection (LLaMA's `gate_proj`, transposed). */
  wGate: Matrix;
  /** length dHidden; absent for a layer without biases. */
  bGate?: Float32Array | undefined;
  /** (dModel, dHidden): the up projection (LLaMA's `up_proj`, transposed). */
  wUp: Matrix;
  /** length dHidden; absent for a layer without biases. */
  bUp?: Float32Array | undefined;
  /** (dHidden, dModel): the down projection (LLaMA's `down_proj`, transposed). */
  wDown: Matrix;
  /** length dModel; absent for a layer without biases. */
  bDown?: Float32Array | undefined;
}

/**
 * Options of {@link GatedFeedForward.fromWeights}.
 *
 * @category GatedFeedForward
 */
export interface GatedFromWeightsOptions {
  /** The gate's activation; default `"silu"`. */
  activation?: ActivationName;
  /** The kernel; default `"auto"`. */
  kernel?: GatedKernelChoice;
}

/**
 * Options of {@link GatedFeedForward.fromJSON}.
 *
 * @category GatedFeedForward
 */
export interface GatedFromJSONOptions {
  /** The kernel; default `"auto"`. */
  kernel?: GatedKernelChoice;
}

/**
 * A gated layer as plain JSON, from {@link GatedFeedForward.toJSON}: each tensor is its float32
 * values as little-endian bytes in base64, so the round trip is exact to the bit.
 *
 * @category GatedFeedForward
 */
export interface GatedFeedForwardJSON {
  format: "tokenwise.GatedFeedForward";
  version: 1;
  activation: ActivationName;
  dModel: number;
  dHidden: number;
  encoding: "float32-le-base64";
  wGate: string;
  bGate: string | null;
  wUp: string;
  bUp: string | null;
  wDown: string;
  bDown: string | null;
}

const OPTIONS = ["dModel", "dHidden", "seed", "activation", "bias", "kernel", "threads"] as const;
const CREATE_FROM_WEIGHTS_OPTIONS = ["weights", "activation", "kernel", "threads"] as const;
const FROM_WEIGHTS_OPTIONS = ["activation", "kernel"] as const;
const FROM_JSON_OPTIONS = ["kernel"] as const;
const WEIGHT_KEYS = ["wGate", "bGate", "wUp", "bUp", "wDown", "bDown"] as const;
const KERNELS: readonly GatedKernelChoice[] = ["auto", "js", "wasm"];

function assertGatedKernel(value: unknown, where: string): GatedKernelChoice {
  if (value === undefined) return "auto";
  if (typeof value === "string" && (KERNELS as readonly string[]).includes(value)) {
    return value as GatedKernelChoice;
  }
  throw new TypeError(
    `${where}: options.kernel must be one of ${KERNELS.map((k) => `"${k}"`).join(", ")}, got ${typeof value === "string" ? `"${value}"` : kindOf(value)}`,
  );
}

// Each layer's kernel, for tests that reach inside (worker faults); not exported by index.ts.
const kernels = new WeakMap<GatedFeedForward, GatedKernel>();
export function gatedKernelOf(layer: GatedFeedForward): GatedKernel | undefined {
  return kernels.get(layer);
}

// The constructor's private door for layers built by the static factories: a key no caller has.
const BUILD = Symbol("tokenwise.buildGated");
interface Build {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  source: GatedSource;
  kernel: KernelName;
  threads: number;
  host: ThreadHost | null;
  fallback: string | null;
}
const ONE_THREAD = { threads: 1, host: null, fallback: null } as const;

function build(spec: Build): GatedFeedForward {
  return new GatedFeedForward({ [BUILD]: spec } as unknown as GatedFeedForwardOptions);
}

/** A one-thread layer from checked weights (copied as the kernel packs them). */
function adoptRaw(
  dModel: number,
  dHidden: number,
  activation: ActivationName,
  raw: GatedRawWeights,
  kernel: KernelName,
): GatedFeedForward {
  const source = rawGatedSource(raw, dModel, dHidden);
  return build({ dModel, dHidden, activation, source, kernel, ...ONE_THREAD });
}

function makeKernel(spec: Build): GatedKernel {
  const { dModel, dHidden, source, activation } = spec;
  if (spec.kernel === "wasm" && spec.host !== null) {
    const layer = gatedLayer(dModel, dHidden, source, true);
    return new ThreadedWasmKernel(layer, gemmModuleSync(true), spec.host, spec.threads, activation);
  }
  if (spec.kernel === "wasm") {
    return new WasmKernel(
      gatedLayer(dModel, dHidden, source, false),
      gemmModuleSync(false),
      activation,
    );
  }
  try {
    return new JsGatedKernel(dModel, dHidden, source, activation);
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new RangeError(
      `GatedFeedForward: cannot allocate the weights of dModel = ${dModel}, dHidden = ${dHidden} (${((12 * dModel * dHidden) / 2 ** 20).toFixed(1)} MiB)`,
      { cause },
    );
  }
}

/** A seeded layer's options, checked. */
function parseOptions(options: unknown, where: string) {
  if (options === undefined) {
    throw new TypeError(`${where}: options { dModel, dHidden } are required`);
  }
  const opts = assertOptions<GatedFeedForwardOptions>(options, OPTIONS, where);
  const dModel = assertPositiveSize(opts.dModel, where, "options.dModel");
  const dHidden = assertPositiveSize(opts.dHidden, where, "options.dHidden");
  const seed = opts.seed === undefined ? 0 : assertSize(opts.seed, where, "options.seed");
  if (seed > 0xffffffff) {
    throw new RangeError(`${where}: options.seed must be below 2^32, got ${seed}`);
  }
  const activation = assertActivation(opts.activation, where, "options.activation", "silu");
  const bias = opts.bias === undefined ? false : assertBoolean(opts.bias, where, "options.bias");
  const kernel = assertGatedKernel(opts.kernel, where);
  const threads =
    opts.threads === undefined
      ? undefined
      : assertPositiveSize(opts.threads, where, "options.threads");
  const source = seededGatedSource(seed, dModel, dHidden, bias);
  return { dModel, dHidden, activation, kernel, threads, source };
}

/**
 * The gated feedforward layer of LLaMA (SwiGLU) and T5 v1.1 (GeGLU): each token row goes alone
 * through two projections to dHidden, the gate (`x · Wgate + bgate`, then the activation) and
 * the up projection (`x · Wup + bup`), their elementwise product, and the down projection back
 * to dModel: `y = (act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown + bdown`.
 *
 * As with {@link FeedForward}, no token sees another: every output element is summed in a fixed
 * order that depends on nothing but its own row, so a token's output is the same bits in any
 * batch and at any position (the tests check this bit for bit).
 *
 * @category GatedFeedForward
 * @example
 * ```ts
 * import { GatedFeedForward, matrix } from "tokenwise";
 * const swiglu = new GatedFeedForward({ dModel: 4, dHidden: 12, seed: 7 });
 * const x = matrix(2, 4, new Float32Array([1, 0, -1, 0.5, 0, 2, 0, -0.5]));
 * const y = swiglu.forward(x);
 * console.log(y.rows, y.cols, swiglu.activation, swiglu.parameterCount);
 * // 2 4 silu 144
 * console.log(swiglu.forwardToken(x.data.subarray(4, 8)).every((v, j) => v === y.data[4 + j]));
 * // true
 * ```
 */
export class GatedFeedForward {
  /** Width of a token vector. */
  readonly dModel: number;
  /** Width of the hidden vector. */
  readonly dHidden: number;
  /** Whether the layer has the biases bGate, bUp and bDown. */
  readonly hasBias: boolean;
  /** The gate's activation. */
  readonly activation: ActivationName;
  readonly #threads: number;
  readonly #threadsFallback: string | null;
  readonly #kernel: GatedKernel;
  #disposed = false;

  /**
   * A new layer with weights drawn like PyTorch's `nn.Linear` default: wGate, wUp (and bGate,
   * bUp) uniform in ±1/sqrt(dModel), wDown (and bDown) in ±1/sqrt(dHidden), from `Random`
   * seeded with `seed`, in the order wGate (row-major), bGate, wUp, bUp, wDown, bDown.
   *
   * @param options - see {@link GatedFeedForwardOptions}
   * @throws TypeError for a missing or non-integer size, a bad seed, activation or kernel, or
   *   an unknown option
   * @throws RangeError for a zero size, or weights too large to allocate
   */
  constructor(options: GatedFeedForwardOptions) {
    const where = "GatedFeedForward";
    let spec = (options as unknown as { [BUILD]?: Build } | undefined)?.[BUILD];
    if (spec === undefined) {
      const o = parseOptions(options, where);
      if (o.threads !== undefined && o.threads > 1) {
        throw new TypeError(
          `${where}: options.threads = ${o.threads} needs the async factory: await GatedFeedForward.create(options)`,
        );
      }
      spec = { ...o, kernel: resolveKernel(o.kernel, where), ...ONE_THREAD };
    }
    this.dModel = spec.dModel;
    this.dHidden = spec.dHidden;
    this.activation = spec.activation;
    this.hasBias = spec.source.hasBias;
    this.#threads = spec.threads;
    this.#threadsFallback = spec.fallback;
    this.#kernel = makeKernel(spec);
    kernels.set(this, this.#kernel);
  }

  /**
   * Makes a layer, compiling the WebAssembly kernel asynchronously first (as browsers prefer)
   * and starting threads where asked: the one way to get a gated layer on several threads.
   * Takes the constructor's options, or `{ weights }` to copy existing weights. Threads
   * default to the number of cores; the workers start on the first forward call. Each thread
   * computes its own columns of the gate, the up projection and their product, then its own
   * output columns, so the result is the same bits as one thread's.
   *
   * @param options - see {@link GatedFeedForwardOptions} and {@link GatedCreateFromWeightsOptions}
   * @returns a promise of the layer
   * @throws as the constructor and {@link GatedFeedForward.fromWeights} do (the promise rejects)
   * @example
   * ```ts
   * import { GatedFeedForward } from "tokenwise";
   * const swiglu = await GatedFeedForward.create({ dModel: 16, dHidden: 48, threads: 2 });
   * console.log(swiglu.kernel, swiglu.threads, swiglu.activation);
   * // wasm 2 silu
   * swiglu.dispose();
   * ```
   */
  static async create(
    options: GatedFeedForwardOptions | GatedCreateFromWeightsOptions,
  ): Promise<GatedFeedForward> {
    const where = "GatedFeedForward.create";
    let o: Omit<Build, "kernel" | "threads" | "host" | "fallback"> & {
      kernel: GatedKernelChoice;
      threads: number | undefined;
    };
    if (typeof options === "object" && options !== null && "weights" in options) {
      const opts = assertOptions<GatedCreateFromWeightsOptions>(
        options,
        CREATE_FROM_WEIGHTS_OPTIONS,
        where,
      );
      const raw = checkGatedWeights(opts.weights, where);
      const { dModel, dHidden } = raw;
      o = {
        dModel,
        dHidden,
        activation: assertActivation(opts.activation, where, "options.activation", "silu"),
        kernel: assertGatedKernel(opts.kernel, where),
        threads:
          opts.threads === undefined
            ? undefined
            : assertPositiveSize(opts.threads, where, "options.threads"),
        source: rawGatedSource(raw, dModel, dHidden),
      };
    } else {
      o = parseOptions(options, where);
    }
    const kernel = resolveKernel(o.kernel, where);
    const plan = await planThreads(kernel, o.threads);
    if (kernel === "wasm") await gemmModule(plan.host !== null);
    return build({ ...o, kernel, ...plan });
  }

  /**
   * A layer from given weights, which are copied: later changes to the caller's buffers do not
   * reach the layer. For a LLaMA checkpoint, {@link gatedWeightsFromCheckpoint} turns its `nn.Linear`
   * (out, in) tensors into these.
   *
   * @param weights - `wGate`, `wUp` (dModel, dHidden) and `wDown` (dHidden, dModel), with the
   *   biases `bGate`, `bUp` (dHidden) and `bDown` (dModel) all present or all absent
   * @param options - see {@link GatedFromWeightsOptions}
   * @returns the layer
   * @throws TypeError for a value of the wrong kind, an unknown key, or biases only partly given
   * @throws {@link ShapeError} for shapes that do not fit together
   * @example
   * ```ts
   * import { GatedFeedForward, fromRows } from "tokenwise";
   * const glu = GatedFeedForward.fromWeights(
   *   { wGate: fromRows([[1, -1]]), wUp: fromRows([[2, 3]]), wDown: fromRows([[1], [1]]) },
   *   { activation: "relu" }, // dModel 1, dHidden 2
   * );
   * console.log(glu.forward(fromRows([[1], [-1]])).data);
   * // Float32Array(2) [ 2, -3 ]
   * ```
   */
  static fromWeights(
    weights: GatedFeedForwardWeights,
    options?: GatedFromWeightsOptions,
  ): GatedFeedForward {
    const where = "GatedFeedForward.fromWeights";
    const opts = assertOptions<GatedFromWeightsOptions>(options, FROM_WEIGHTS_OPTIONS, where);
    const activation = assertActivation(opts.activation, where, "options.activation", "silu");
    const kernel = assertGatedKernel(opts.kernel, where);
    const raw = checkGatedWeights(weights, where);
    return adoptRaw(raw.dModel, raw.dHidden, activation, raw, resolveKernel(kernel, where));
  }

  /**
   * A layer from {@link GatedFeedForward.toJSON}'s output (or that output after
   * `JSON.stringify` and `JSON.parse`). Its outputs are the original layer's, bit for bit.
   *
   * @param json - the object
   * @param options - see {@link GatedFromJSONOptions}
   * @returns the layer
   * @throws TypeError if `json` is not a tokenwise GatedFeedForward of a known version, or its
   *   data does not decode to the stated sizes
   * @example
   * ```ts
   * import { GatedFeedForward } from "tokenwise";
   * const a = new GatedFeedForward({ dModel: 8, dHidden: 24, seed: 1, activation: "gelu" });
   * const b = GatedFeedForward.fromJSON(JSON.parse(JSON.stringify(a)));
   * const t = new Float32Array(8).fill(0.25);
   * console.log(b.activation, a.forwardToken(t).every((v, i) => Object.is(v, b.forwardToken(t)[i])));
   * // gelu true
   * ```
   */
  static fromJSON(json: GatedFeedForwardJSON, options?: GatedFromJSONOptions): GatedFeedForward {
    const where = "GatedFeedForward.fromJSON";
    const opts = assertOptions<GatedFromJSONOptions>(options, FROM_JSON_OPTIONS, where);
    const kernel = assertGatedKernel(opts.kernel, where);
    if (typeof json !== "object" || json === null || json.format !== "tokenwise.GatedFeedForward") {
      throw new TypeError(
        `${where}: json is not a tokenwise.GatedFeedForward (format field missing)`,
      );
    }
    if (json.version !== 1 || json.encoding !== "float32-le-base64") {
      throw new TypeError(
        `${where}: unsupported version ${String(json.version)} or encoding ${String(json.encoding)}`,
      );
    }
    const activation = assertActivation(json.activation ?? null, where, "json.activation", "silu");
    const dModel = assertPositiveSize(json.dModel, where, "json.dModel");
    const dHidden = assertPositiveSize(json.dHidden, where, "json.dHidden");
    const decode = (key: (typeof WEIGHT_KEYS)[number], length: number, optional: boolean) => {
      const text = json[key];
      if (text === null && optional) return null;
      const data = typeof text === "string" ? decodeFloat32(text, length) : null;
      if (data === null) {
        throw new TypeError(`${where}: json.${key} is not base64 of ${length} float32 values`);
      }
      return data;
    };
    const raw: GatedRawWeights = {
      wGate: decode("wGate", dModel * dHidden, false) as Float32Array,
      bGate: decode("bGate", dHidden, true),
      wUp: decode("wUp", dModel * dHidden, false) as Float32Array,
      bUp: decode("bUp", dHidden, true),
      wDown: decode("wDown", dHidden * dModel, false) as Float32Array,
      bDown: decode("bDown", dModel, true),
    };
    const nulls = [raw.bGate, raw.bUp, raw.bDown].filter((b) => b === null).length;
    if (nulls !== 0 && nulls !== 3) {
      throw new TypeError(
        `${where}: json.bGate, json.bUp and json.bDown must all be present or all be null`,
      );
    }
    return adoptRaw(dModel, dHidden, activation, raw, resolveKernel(kernel, where));
  }

  /** Threads the layer computes on (1 unless made by {@link GatedFeedForward.create} with threads). */
  get threads(): number {
    const k = this.#kernel as Partial<ThreadedWasmKernel<GatedRawWeights>>;
    return k.threadsInUse ?? this.#threads;
  }

  /**
   * Why the layer runs on one thread although more were asked for (as
   * {@link FeedForward.threadsFallback}), or null.
   */
  get threadsFallback(): string | null {
    const k = this.#kernel as Partial<ThreadedWasmKernel<GatedRawWeights>>;
    return k.unavailable ?? this.#threadsFallback;
  }

  /** The kernel this layer computes with: `"wasm"` or `"js"`. */
  get kernel(): "js" | "wasm" {
    return this.#kernel.name;
  }

  /** Number of weights and biases: 3·dModel·dHidden, plus 2·dHidden + dModel with biases. */
  get parameterCount(): number {
    const w = 3 * this.dModel * this.dHidden;
    return this.hasBias ? w + 2 * this.dHidden + this.dModel : w;
  }

  /**
   * A copy of the weights in tokenwise's layout: changing it does not change the layer. Each
   * read makes a new copy.
   */
  get weights(): GatedFeedForwardWeights {
    const raw = this.#live("weights").unpack();
    const d = this.dModel;
    const h = this.dHidden;
    const weights: GatedFeedForwardWeights = {
      wGate: { rows: d, cols: h, data: raw.wGate },
      wUp: { rows: d, cols: h, data: raw.wUp },
      wDown: { rows: h, cols: d, data: raw.wDown },
    };
    if (raw.bGate !== null) weights.bGate = raw.bGate;
    if (raw.bUp !== null) weights.bUp = raw.bUp;
    if (raw.bDown !== null) weights.bDown = raw.bDown;
    return weights;
  }

  /**
   * Runs every token row of `x` through the layer:
   * `(act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown + bdown`.
   *
   * @param x - (tokens, dModel), one token a row; zero rows gives an empty result
   * @param out - optional (tokens, dModel) output that must not overlap `x`; when given, the
   *   call allocates nothing (the hidden buffers are the layer's own, reused)
   * @returns `out`, or a new matrix
   * @throws TypeError if `x` or `out` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel, or `out` has the wrong shape or
   *   overlaps `x`; nothing is written then
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { GatedFeedForward, zeros } from "tokenwise";
   * const layer = new GatedFeedForward({ dModel: 2, dHidden: 6, bias: true });
   * const out = zeros(3, 2);
   * console.log(layer.forward(zeros(3, 2), out) === out);
   * // true
   * ```
   */
  forward(x: Matrix, out?: Matrix): Matrix {
    const where = "forward";
    const target = assertBatch(where, x, out, this.dModel);
    this.#live(where).forward(x.data, 0, x.rows, target.data, 0);
    return target;
  }

  /**
   * {@link GatedFeedForward.forward} without blocking the calling thread: on a layer with
   * threads, the workers compute while this thread goes on; elsewhere it computes at once. The
   * result is the same bits as `forward`'s. Calls on one layer queue; do not touch `x` or `out`
   * until the promise settles.
   *
   * @param x - (tokens, dModel), one token a row
   * @param out - optional (tokens, dModel) output that must not overlap `x`
   * @returns a promise of `out`, or of a new matrix
   * @throws (rejects with) what {@link GatedFeedForward.forward} throws, and an Error naming the
   *   worker when a worker thread fails; the layer then starts new workers on the next call
   * @example
   * ```ts
   * import { GatedFeedForward, matrix } from "tokenwise";
   * const glu = await GatedFeedForward.create({ dModel: 8, dHidden: 24, threads: 2 });
   * const x = matrix(3, 8, new Float32Array(24).fill(0.5));
   * const y = await glu.forwardAsync(x);
   * console.log(y.data.every((v, i) => v === glu.forward(x).data[i]));
   * // true
   * glu.dispose();
   * ```
   */
  async forwardAsync(x: Matrix, out?: Matrix): Promise<Matrix> {
    const where = "forwardAsync";
    const target = assertBatch(where, x, out, this.dModel);
    const kernel = this.#live(where);
    if (!("forwardAsync" in kernel)) kernel.forward(x.data, 0, x.rows, target.data, 0);
    else await kernel.forwardAsync(x.data, 0, x.rows, target.data, 0);
    return target;
  }

  /**
   * Runs one token through the layer. The result is the same bits as that token's row of
   * {@link GatedFeedForward.forward} in any batch.
   *
   * @param token - dModel values
   * @param out - optional dModel output that must not overlap `token`
   * @returns `out`, or a new Float32Array
   * @throws TypeError if `token` or `out` is not a Float32Array
   * @throws {@link ShapeError} for a length other than dModel, or an `out` overlapping `token`
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { GatedFeedForward } from "tokenwise";
   * const layer = new GatedFeedForward({ dModel: 3, dHidden: 8, seed: 5, activation: "geluTanh" });
   * console.log(layer.forwardToken(new Float32Array([0.1, 0.2, 0.3])).length);
   * // 3
   * ```
   */
  forwardToken(token: Float32Array, out?: Float32Array): Float32Array {
    const where = "forwardToken";
    const target = assertToken(where, token, out, this.dModel);
    this.#live(where).forward(token, 0, 1, target, 0);
    return target;
  }

  /**
   * The gradients of a loss L through the layer, given `dY = ∂L/∂y` for `y = forward(x)`.
   * As {@link FeedForward.backward}: the gate and up pre-activations are recomputed from `x`
   * (nothing is kept between calls), row i of `dX` depends on row i of `x` and `dY` alone, bit
   * for bit, and each element is one float64 sum rounded once to float32.
   *
   * @param x - (tokens, dModel), the forward's input
   * @param dY - (tokens, dModel), the gradient of the loss with respect to the forward's output
   * @returns new arrays: `dX`, `dWGate`, `dWUp`, `dWDown`, and `dbGate`, `dbUp`, `dbDown` when
   *   the layer has biases
   * @throws TypeError if `x` or `dY` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel or `dY` is not (x.rows, dModel)
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { GatedFeedForward, fromRows, toRows } from "tokenwise";
   * const glu = GatedFeedForward.fromWeights(
   *   { wGate: fromRows([[1, -1]]), wUp: fromRows([[2, 3]]), wDown: fromRows([[1], [1]]) },
   *   { activation: "relu" },
   * );
   * const g = glu.backward(fromRows([[1]]), fromRows([[1]]));
   * console.log(toRows(g.dX), toRows(g.dWGate), toRows(g.dWUp), toRows(g.dWDown));
   * // [ [ 4 ] ] [ [ 2, 0 ] ] [ [ 1, 0 ] ] [ [ 2 ], [ 0 ] ]
   * ```
   */
  backward(x: Matrix, dY: Matrix): GatedFeedForwardGradients {
    const where = "backward";
    const xm = assertGradientPair(where, x, dY, this.dModel);
    const raw = this.#live(where).unpack();
    const params = { dModel: this.dModel, dHidden: this.dHidden, activation: this.activation };
    return gatedBackward({ ...params, ...raw }, xm.data, xm.rows, dY.data);
  }

  /**
   * The layer as plain JSON (see {@link GatedFeedForwardJSON}); `JSON.stringify(layer)` calls
   * it.
   *
   * @returns an object that {@link GatedFeedForward.fromJSON} turns back into an identical
   *   layer
   * @throws Error if the layer was disposed
   */
  toJSON(): GatedFeedForwardJSON {
    const raw = this.#live("toJSON").unpack();
    const opt = (b: Float32Array | null) => (b === null ? null : encodeFloat32(b));
    return {
      format: "tokenwise.GatedFeedForward",
      version: 1,
      activation: this.activation,
      dModel: this.dModel,
      dHidden: this.dHidden,
      encoding: "float32-le-base64",
      wGate: encodeFloat32(raw.wGate),
      bGate: opt(raw.bGate),
      wUp: encodeFloat32(raw.wUp),
      bUp: opt(raw.bUp),
      wDown: encodeFloat32(raw.wDown),
      bDown: opt(raw.bDown),
    };
  }

  /**
   * Frees what the kernel holds (its WebAssembly memory, its threads). Calling it twice is
   * harmless; any other use of the layer afterwards throws.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#kernel.dispose();
  }

  #live(where: string): GatedKernel {
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    return this.#kernel;
  }
}

/** A gated layer's weights, checked; the kernel copies them as it packs. */
function checkGatedWeights(
  weights: unknown,
  where: string,
): GatedRawWeights & { dModel: number; dHidden: number } {
  if (weights === undefined) {
    throw new TypeError(`${where}: weights { wGate, wUp, wDown } are required`);
  }
  const w = assertOptions<GatedFeedForwardWeights>(weights, WEIGHT_KEYS, where, "weights");
  const wGate = assertMatrix(w.wGate, where, "weights.wGate");
  const wUp = assertMatrix(w.wUp, where, "weights.wUp");
  const wDown = assertMatrix(w.wDown, where, "weights.wDown");
  const dModel = wGate.rows;
  const dHidden = wGate.cols;
  if (dModel === 0 || dHidden === 0) {
    throw new ShapeError(
      `${where}: weights.wGate is ${dModel} x ${dHidden}; dModel and dHidden must be at least 1`,
    );
  }
  assertShape(wUp, dModel, dHidden, where, "weights.wUp", "(wGate.rows, wGate.cols)");
  assertShape(wDown, dHidden, dModel, where, "weights.wDown", "(wGate.cols, wGate.rows)");
  const vec = (v: unknown, name: string, n: number, what: string) => {
    if (v === undefined) return null;
    const b = assertFloat32Array(v, where, `weights.${name}`);
    if (b.length !== n) {
      throw new ShapeError(
        `${where}: weights.${name} has length ${b.length}, expected ${what} = ${n}`,
      );
    }
    return b;
  };
  const given = [w.bGate, w.bUp, w.bDown].filter((b) => b !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new TypeError(
      `${where}: weights.bGate, weights.bUp and weights.bDown must all be given or all be absent`,
    );
  }
  return {
    dModel,
    dHidden,
    wGate: wGate.data,
    bGate: vec(w.bGate, "bGate", dHidden, "dHidden"),
    wUp: wUp.data,
    bUp: vec(w.bUp, "bUp", dHidden, "dHidden"),
    wDown: wDown.data,
    bDown: vec(w.bDown, "bDown", dModel, "dModel"),
  };
}
