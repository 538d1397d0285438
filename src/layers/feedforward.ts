import { decodeFloat32, encodeFloat32 } from "../base64";
import {
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
import { JsFeedForwardKernel } from "../kernels/js-feedforward";
import type { FeedForwardKernel, KernelName, RawWeights } from "../kernels/kernel";
import { type WeightSource, rawSource, seededSource } from "../kernels/source";
import { WasmKernel, feedForwardLayer } from "../kernels/wasm-feedforward";
import { ThreadedWasmKernel } from "../kernels/wasm-threaded";
import type { ThreadHost } from "../threads/platform";
import { gemmModule, gemmModuleSync } from "../kernels/wasm/module";
import type { Matrix } from "../matrix";
import { assertActivation } from "./activation-option";
import { planThreads, resolveKernel } from "./kernel-option";
import { type FeedForwardGradients, feedForwardBackward } from "./backward";

/**
 * Which kernel a layer computes with. `"wasm"` is WebAssembly SIMD128, the fast one; `"js"` is
 * plain JavaScript and runs everywhere; `"auto"` takes `"wasm"` where this engine can run it
 * (SIMD128 present, and compiling WebAssembly allowed by the page's Content-Security-Policy)
 * and `"js"` elsewhere.
 *
 * @category FeedForward
 */
export type KernelChoice = "auto" | KernelName;

/**
 * Options of `new FeedForward(options)`.
 *
 * @category FeedForward
 */
export interface FeedForwardOptions {
  /** Width of a token vector, the layer's input and output. */
  dModel: number;
  /** Width of the expanded hidden vector (commonly 4 x dModel). */
  dHidden: number;
  /**
   * Seed of the weight initialisation, an integer in [0, 2^32); default 0. The same seed gives
   * the same weights on every platform (see `Random` and docs/numerics.md).
   */
  seed?: number;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /**
   * Threads to compute on, the calling one included in the count; default 1 for the
   * constructor, which can only take 1, and the number of cores for {@link FeedForward.create}.
   * Threads need the `"wasm"` kernel and SharedArrayBuffer (in browsers, a cross-origin
   * isolated page); where either is missing the layer runs on one thread and says why in
   * {@link FeedForward.threadsFallback}. See docs/threads.md.
   */
  threads?: number;
  /**
   * The activation between the two linear maps; default `"relu"`. `"gelu"` (BERT, GPT-2 in
   * PyTorch's exact form), `"geluTanh"` (GPT-2's `gelu_new`) and `"silu"` are the others.
   * Threads run every activation, with the same bits as one thread.
   */
  activation?: ActivationName;
}

/**
 * Options of {@link FeedForward.create} for a layer from existing weights (copied, as
 * {@link FeedForward.fromWeights} does).
 *
 * @category FeedForward
 */
export interface CreateFromWeightsOptions {
  /** The weights; dModel and dHidden are read from their shapes. */
  weights: FeedForwardWeights;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /** As {@link FeedForwardOptions.threads}. */
  threads?: number;
  /** As {@link FeedForwardOptions.activation}. */
  activation?: ActivationName;
}

/**
 * The weights of a FeedForward layer: `y = act(x · w1 + b1) · w2 + b2`. A layer may have no
 * biases (as in T5); then `b1` and `b2` are absent.
 *
 * @category FeedForward
 */
export interface FeedForwardWeights {
  /** (dModel, dHidden): the expansion. */
  w1: Matrix;
  /** length dHidden; absent for a layer without biases. */
  b1?: Float32Array | undefined;
  /** (dHidden, dModel): the condensation. */
  w2: Matrix;
  /** length dModel; absent for a layer without biases. */
  b2?: Float32Array | undefined;
}

/**
 * Options of {@link FeedForward.fromJSON}.
 *
 * @category FeedForward
 */
export interface FromJSONOptions {
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
}

/**
 * Options of {@link FeedForward.fromWeights}.
 *
 * @category FeedForward
 */
export interface FromWeightsOptions extends FromJSONOptions {
  /** The activation between the two linear maps; default `"relu"`. */
  activation?: ActivationName;
}

/**
 * A layer as plain JSON, from {@link FeedForward.toJSON}. Each tensor is its float32 values as
 * little-endian bytes in base64, so the round trip is exact to the bit (-0 and NaN included).
 * Version 2 added `activation`; a version 1 object (which has none) loads as a relu layer.
 *
 * @category FeedForward
 */
export interface FeedForwardJSON {
  format: "tokenwise.FeedForward";
  version: 1 | 2;
  /** The activation (version 2); absent in version 1, whose layers are all relu. */
  activation?: ActivationName;
  dModel: number;
  dHidden: number;
  encoding: "float32-le-base64";
  w1: string;
  b1: string | null;
  w2: string;
  b2: string | null;
}

const OPTIONS = ["dModel", "dHidden", "seed", "kernel", "threads", "activation"] as const;
const CREATE_FROM_WEIGHTS_OPTIONS = ["weights", "kernel", "threads", "activation"] as const;
const FROM_WEIGHTS_OPTIONS = ["kernel", "activation"] as const;
const FROM_JSON_OPTIONS = ["kernel"] as const;
const WEIGHT_KEYS = ["w1", "b1", "w2", "b2"] as const;
const KERNELS: readonly KernelChoice[] = ["auto", "js", "wasm"];

function assertKernel(value: unknown, where: string): KernelChoice {
  if (value === undefined) return "auto";
  if (typeof value === "string" && (KERNELS as readonly string[]).includes(value)) {
    return value as KernelChoice;
  }
  throw new TypeError(
    `${where}: options.kernel must be one of ${KERNELS.map((k) => `"${k}"`).join(", ")}, got ${typeof value === "string" ? `"${value}"` : kindOf(value)}`,
  );
}

// Each layer's kernel, for tests that reach inside (worker faults); not exported by index.ts.
const kernels = new WeakMap<FeedForward, FeedForwardKernel>();
export function kernelOf(layer: FeedForward): FeedForwardKernel | undefined {
  return kernels.get(layer);
}

// The constructor's private door for layers built by the static factories: a key no caller has.
const BUILD = Symbol("tokenwise.build");
interface Build {
  dModel: number;
  dHidden: number;
  kernel: KernelName;
  source: WeightSource;
  threads: number;
  host: ThreadHost | null;
  fallback: string | null;
  activation: ActivationName;
}

function build(spec: Build): FeedForward {
  return new FeedForward({ [BUILD]: spec } as unknown as FeedForwardOptions);
}

/** A layer's sizes, seed and kernel from the options object, checked. */
function parseOptions(options: unknown, where: string) {
  if (options === undefined) {
    throw new TypeError(`${where}: options { dModel, dHidden } are required`);
  }
  const opts = assertOptions<FeedForwardOptions>(options, OPTIONS, where);
  const dModel = assertPositiveSize(opts.dModel, where, "options.dModel");
  const dHidden = assertPositiveSize(opts.dHidden, where, "options.dHidden");
  const seed = opts.seed === undefined ? 0 : assertSize(opts.seed, where, "options.seed");
  if (seed > 0xffffffff) {
    throw new RangeError(`${where}: options.seed must be below 2^32, got ${seed}`);
  }
  const kernel = assertKernel(opts.kernel, where);
  const threads =
    opts.threads === undefined
      ? undefined
      : assertPositiveSize(opts.threads, where, "options.threads");
  const activation = assertActivation(opts.activation, where, "options.activation", "relu");
  return { dModel, dHidden, seed, kernel, threads, activation };
}

function makeKernel(spec: Build): FeedForwardKernel {
  const { kernel: name, dModel, dHidden, source } = spec;
  if (name === "wasm" && spec.host !== null) {
    const layer = feedForwardLayer(dModel, dHidden, source, true);
    return new ThreadedWasmKernel(
      layer,
      gemmModuleSync(true),
      spec.host,
      spec.threads,
      spec.activation,
    );
  }
  if (name === "wasm") {
    const module = gemmModuleSync(false);
    return new WasmKernel(
      feedForwardLayer(dModel, dHidden, source, false),
      module,
      spec.activation,
    );
  }
  try {
    return new JsFeedForwardKernel(dModel, dHidden, source, spec.activation);
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new RangeError(
      `FeedForward: cannot allocate the weights of dModel = ${dModel}, dHidden = ${dHidden} (${((8 * dModel * dHidden) / 2 ** 20).toFixed(1)} MiB)`,
      { cause },
    );
  }
}

/**
 * The position-wise feedforward layer of a transformer: each token row goes alone through
 * expand (`x · W1 + b1`, dModel to dHidden), filter (the activation: `relu` by default, or
 * `gelu`, `geluTanh`, `silu`), condense (`· W2 + b2`, back to dModel).
 *
 * No token sees another: a token's output is the same bits whatever batch it sits in and at
 * whatever position, because every output element is summed in a fixed order that depends on
 * nothing but that token's row (docs/numerics.md). The tests check this bit for bit.
 *
 * @category FeedForward
 * @example
 * ```ts
 * import { FeedForward, matrix } from "tokenwise";
 * const ffn = new FeedForward({ dModel: 4, dHidden: 16, seed: 42 });
 * const x = matrix(3, 4, new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]));
 * const y = ffn.forward(x);
 * console.log(y.rows, y.cols, ffn.parameterCount);
 * // 3 4 148
 * console.log(ffn.forwardToken(x.data.subarray(4, 8)).every((v, j) => v === y.data[4 + j]));
 * // true
 * ```
 */
export class FeedForward {
  /** Width of a token vector. */
  readonly dModel: number;
  /** Width of the hidden vector. */
  readonly dHidden: number;
  /** Whether the layer has the biases b1 and b2. */
  readonly hasBias: boolean;
  readonly #threads: number;
  readonly #threadsFallback: string | null;
  /** The activation between the two linear maps. */
  readonly activation: ActivationName;
  readonly #kernel: FeedForwardKernel;
  #disposed = false;

  /**
   * A new layer with weights drawn like PyTorch's `nn.Linear` default: every element of W1 and
   * b1 uniform in [-1/sqrt(dModel), 1/sqrt(dModel)], of W2 and b2 in
   * [-1/sqrt(dHidden), 1/sqrt(dHidden)], from `Random` seeded with `seed`, in the order
   * w1 (row-major), b1, w2, b2.
   *
   * @param options - see {@link FeedForwardOptions}
   * @throws TypeError for a missing or non-integer size, a bad seed or an unknown option
   * @throws RangeError for a zero size, or weights too large to allocate
   */
  constructor(options: FeedForwardOptions) {
    const where = "FeedForward";
    let spec = (options as unknown as { [BUILD]?: Build } | undefined)?.[BUILD];
    if (spec === undefined) {
      const o = parseOptions(options, where);
      if (o.threads !== undefined && o.threads > 1) {
        throw new TypeError(
          `${where}: options.threads = ${o.threads} needs the async factory: await FeedForward.create(options)`,
        );
      }
      spec = {
        dModel: o.dModel,
        dHidden: o.dHidden,
        kernel: resolveKernel(o.kernel, where),
        source: seededSource(o.seed, o.dModel, o.dHidden),
        threads: 1,
        host: null,
        fallback: null,
        activation: o.activation,
      };
    }
    this.dModel = spec.dModel;
    this.dHidden = spec.dHidden;
    this.hasBias = spec.source.hasBias;
    this.activation = spec.activation;
    this.#threads = spec.threads;
    this.#threadsFallback = spec.fallback;
    this.#kernel = makeKernel(spec);
    kernels.set(this, this.#kernel);
  }

  /**
   * Makes a layer, compiling the WebAssembly kernel asynchronously first (as browsers prefer)
   * and starting threads where asked: this is the one way to get every fast path in every
   * environment. Takes the constructor's options, or `{ weights }` to copy existing weights.
   * Threads default to the number of cores; the workers start on the first forward call.
   *
   * @param options - see {@link FeedForwardOptions} and {@link CreateFromWeightsOptions}
   * @returns a promise of the layer
   * @throws as the constructor and {@link FeedForward.fromWeights} do (the promise rejects)
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const ffn = await FeedForward.create({ dModel: 16, dHidden: 64, seed: 3, threads: 2 });
   * console.log(ffn.kernel, ffn.threads);
   * // wasm 2
   * ffn.dispose();
   * ```
   */
  static async create(
    options: FeedForwardOptions | CreateFromWeightsOptions,
  ): Promise<FeedForward> {
    const where = "FeedForward.create";
    let dModel: number;
    let dHidden: number;
    let choice: KernelChoice;
    let requested: number | undefined;
    let source: WeightSource;
    let activation: ActivationName;
    if (typeof options === "object" && options !== null && "weights" in options) {
      const opts = assertOptions<CreateFromWeightsOptions>(
        options,
        CREATE_FROM_WEIGHTS_OPTIONS,
        where,
      );
      const raw = checkWeights(opts.weights, where);
      ({ dModel, dHidden } = raw);
      choice = assertKernel(opts.kernel, where);
      requested =
        opts.threads === undefined
          ? undefined
          : assertPositiveSize(opts.threads, where, "options.threads");
      source = rawSource(raw, dModel, dHidden);
      activation = assertActivation(opts.activation, where, "options.activation", "relu");
    } else {
      const o = parseOptions(options, where);
      ({ dModel, dHidden, activation } = o);
      choice = o.kernel;
      requested = o.threads;
      source = seededSource(o.seed, dModel, dHidden);
    }
    const kernel = resolveKernel(choice, where);
    const plan = await planThreads(kernel, requested);
    if (kernel === "wasm") await gemmModule(plan.host !== null);
    return build({ dModel, dHidden, kernel, source, ...plan, activation });
  }

  /**
   * A layer from given weights, which are copied: later changes to the caller's buffers do not
   * reach the layer, and the layer never writes to them.
   *
   * @param weights - `w1` (dModel, dHidden) and `w2` (dHidden, dModel), with the biases `b1`
   *   (dHidden) and `b2` (dModel) both present or both absent
   * @param options - see {@link FromWeightsOptions}
   * @returns the layer
   * @throws TypeError for a value of the wrong kind or an unknown key
   * @throws {@link ShapeError} for shapes that do not fit together
   * @example
   * ```ts
   * import { FeedForward, fromRows, matrix } from "tokenwise";
   * const ffn = FeedForward.fromWeights({
   *   w1: fromRows([[1, -1]]), b1: new Float32Array([0, 0]), // dModel 1, dHidden 2
   *   w2: fromRows([[2], [3]]), b2: new Float32Array([0.5]),
   * });
   * console.log(ffn.forward(matrix(2, 1, new Float32Array([1, -1]))).data);
   * // Float32Array(2) [ 2.5, 3.5 ]
   * ```
   */
  static fromWeights(weights: FeedForwardWeights, options?: FromWeightsOptions): FeedForward {
    const where = "FeedForward.fromWeights";
    const opts = assertOptions<FromWeightsOptions>(options, FROM_WEIGHTS_OPTIONS, where);
    const kernel = assertKernel(opts.kernel, where);
    const activation = assertActivation(opts.activation, where, "options.activation", "relu");
    const raw = checkWeights(weights, where);
    return build({
      dModel: raw.dModel,
      dHidden: raw.dHidden,
      kernel: resolveKernel(kernel, where),
      source: rawSource(raw, raw.dModel, raw.dHidden),
      threads: 1,
      host: null,
      fallback: null,
      activation,
    });
  }

  /**
   * A layer from {@link FeedForward.toJSON}'s output (or that output after `JSON.stringify` and
   * `JSON.parse`). Its outputs are the original layer's, bit for bit.
   *
   * @param json - the object
   * @param options - see {@link FromJSONOptions}
   * @returns the layer
   * @throws TypeError if `json` is not a tokenwise FeedForward of a known version, a size is
   *   not an integer, or its data does not decode to the stated sizes
   * @throws RangeError if `json.dModel` or `json.dHidden` is 0
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const a = new FeedForward({ dModel: 8, dHidden: 32, seed: 1 });
   * const b = FeedForward.fromJSON(JSON.parse(JSON.stringify(a)));
   * const t = new Float32Array(8).fill(0.25);
   * console.log(a.forwardToken(t).every((v, i) => Object.is(v, b.forwardToken(t)[i])));
   * // true
   * ```
   */
  static fromJSON(json: FeedForwardJSON, options?: FromJSONOptions): FeedForward {
    const where = "FeedForward.fromJSON";
    const opts = assertOptions<FromJSONOptions>(options, FROM_JSON_OPTIONS, where);
    const kernel = assertKernel(opts.kernel, where);
    if (typeof json !== "object" || json === null || json.format !== "tokenwise.FeedForward") {
      throw new TypeError(`${where}: json is not a tokenwise.FeedForward (format field missing)`);
    }
    if ((json.version !== 1 && json.version !== 2) || json.encoding !== "float32-le-base64") {
      throw new TypeError(
        `${where}: unsupported version ${String(json.version)} or encoding ${String(json.encoding)}`,
      );
    }
    const activation =
      json.version === 1
        ? "relu"
        : assertActivation(json.activation ?? null, where, "json.activation", "relu");
    const dModel = assertPositiveSize(json.dModel, where, "json.dModel");
    const dHidden = assertPositiveSize(json.dHidden, where, "json.dHidden");
    const decode = (key: keyof RawWeights, length: number, optional: boolean) => {
      const text = json[key];
      if (text === null && optional) return null;
      const data = typeof text === "string" ? decodeFloat32(text, length) : null;
      if (data === null) {
        throw new TypeError(`${where}: json.${key} is not base64 of ${length} float32 values`);
      }
      return data;
    };
    const raw: RawWeights = {
      w1: decode("w1", dModel * dHidden, false) as Float32Array,
      b1: decode("b1", dHidden, true),
      w2: decode("w2", dHidden * dModel, false) as Float32Array,
      b2: decode("b2", dModel, true),
    };
    if ((raw.b1 === null) !== (raw.b2 === null)) {
      throw new TypeError(`${where}: json.b1 and json.b2 must both be present or both be null`);
    }
    return build({
      dModel,
      dHidden,
      kernel: resolveKernel(kernel, where),
      source: rawSource(raw, dModel, dHidden),
      threads: 1,
      host: null,
      fallback: null,
      activation,
    });
  }

  /** Threads the layer computes on (1 unless made by {@link FeedForward.create} with threads). */
  get threads(): number {
    const k = this.#kernel as Partial<ThreadedWasmKernel>;
    return k.threadsInUse ?? this.#threads;
  }

  /**
   * Why the layer runs on one thread although more were asked for (no SharedArrayBuffer in a
   * page that is not cross-origin isolated, no Web Workers, workers a page's policy forbids,
   * the js kernel), or null.
   */
  get threadsFallback(): string | null {
    const k = this.#kernel as Partial<ThreadedWasmKernel>;
    return k.unavailable ?? this.#threadsFallback;
  }

  /** The kernel this layer computes with: `"wasm"` or `"js"`. */
  get kernel(): KernelName {
    return this.#kernel.name;
  }

  /** Number of weights and biases: dModel·dHidden·2, plus dHidden + dModel with biases. */
  get parameterCount(): number {
    const w = 2 * this.dModel * this.dHidden;
    return this.hasBias ? w + this.dHidden + this.dModel : w;
  }

  /**
   * A copy of the weights in tokenwise's layout, unpacked from the kernel's: changing it does
   * not change the layer. Each read makes a new copy.
   */
  get weights(): FeedForwardWeights {
    const raw = this.#live("weights").unpack();
    const weights: FeedForwardWeights = {
      w1: { rows: this.dModel, cols: this.dHidden, data: raw.w1 },
      w2: { rows: this.dHidden, cols: this.dModel, data: raw.w2 },
    };
    if (raw.b1 !== null) weights.b1 = raw.b1;
    if (raw.b2 !== null) weights.b2 = raw.b2;
    return weights;
  }

  /**
   * Runs every token row of `x` through the layer: `act(x · W1 + b1) · W2 + b2`.
   *
   * @param x - (tokens, dModel), one token a row; zero rows gives an empty result
   * @param out - optional (tokens, dModel) output that must not overlap `x`; when given, the
   *   call allocates nothing (the hidden buffer is the layer's own, reused)
   * @returns `out`, or a new matrix
   * @throws TypeError if `x` or `out` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel, or `out` has the wrong shape or
   *   overlaps `x`; nothing is written then
   * @example
   * ```ts
   * import { FeedForward, zeros } from "tokenwise";
   * const ffn = new FeedForward({ dModel: 2, dHidden: 8 });
   * const out = zeros(5, 2);
   * console.log(ffn.forward(zeros(5, 2), out) === out);
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
   * {@link FeedForward.forward} without blocking the calling thread: on a layer with threads,
   * the workers compute while this thread goes on; elsewhere it computes at once. The result
   * is the same bits as `forward`'s. Calls on one layer queue; do not touch `x` or `out` until
   * the promise settles.
   *
   * @param x - (tokens, dModel), one token a row
   * @param out - optional (tokens, dModel) output that must not overlap `x`
   * @returns a promise of `out`, or of a new matrix
   * @throws (rejects with) what {@link FeedForward.forward} throws, and an Error naming the
   *   worker when a worker thread fails; the layer then starts new workers on the next call
   * @example
   * ```ts
   * import { FeedForward, matrix } from "tokenwise";
   * const ffn = await FeedForward.create({ dModel: 8, dHidden: 32, threads: 2 });
   * const x = matrix(3, 8, new Float32Array(24).fill(0.5));
   * const y = await ffn.forwardAsync(x);
   * console.log(y.data.every((v, i) => v === ffn.forward(x).data[i]));
   * // true
   * ffn.dispose();
   * ```
   */
  async forwardAsync(x: Matrix, out?: Matrix): Promise<Matrix> {
    const where = "forwardAsync";
    const target = assertBatch(where, x, out, this.dModel);
    const kernel = this.#live(where);
    if (kernel.forwardAsync === undefined) kernel.forward(x.data, 0, x.rows, target.data, 0);
    else await kernel.forwardAsync(x.data, 0, x.rows, target.data, 0);
    return target;
  }

  /**
   * Runs one token through the layer. The result is the same bits as that token's row of
   * {@link FeedForward.forward} in any batch.
   *
   * @param token - dModel values
   * @param out - optional dModel output that must not overlap `token`
   * @returns `out`, or a new Float32Array
   * @throws TypeError if `token` or `out` is not a Float32Array
   * @throws {@link ShapeError} for a length other than dModel, or an `out` overlapping `token`
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const ffn = new FeedForward({ dModel: 3, dHidden: 12, seed: 5 });
   * console.log(ffn.forwardToken(new Float32Array([0.1, 0.2, 0.3])).length);
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
   * The gradients of a loss L through the layer, given `dY = ∂L/∂y` for the outputs
   * `y = forward(x)`: `∂L/∂x` and `∂L/∂` of each weight and bias.
   *
   * The forward's intermediate values are recomputed from `x`, not kept from an earlier
   * forward call, so the layer holds no state and each call stands alone. Row i of `dX`
   * depends on row i of `x` and `dY` alone, bit for bit; the weight gradients sum over the
   * tokens in order. Every element is one float64 sum rounded once to float32 (the
   * pre-activations are those of the `"js"` kernel's forward, whatever this layer's kernel;
   * see docs/activations.md).
   *
   * @param x - (tokens, dModel), the forward's input
   * @param dY - (tokens, dModel), the gradient of the loss with respect to the forward's output
   * @returns new arrays: `dX` (tokens, dModel), `dW1` (dModel, dHidden), `dW2` (dHidden,
   *   dModel), and `db1`, `db2` when the layer has biases
   * @throws TypeError if `x` or `dY` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel or `dY` is not (x.rows, dModel)
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { FeedForward, fromRows, toRows } from "tokenwise";
   * const ffn = FeedForward.fromWeights({
   *   w1: fromRows([[1, -1]]), b1: new Float32Array([0, 0]), // dModel 1, dHidden 2
   *   w2: fromRows([[2], [3]]), b2: new Float32Array([0.5]),
   * });
   * const g = ffn.backward(fromRows([[1]]), fromRows([[1]]));
   * console.log(toRows(g.dX), toRows(g.dW1), g.db1, toRows(g.dW2), g.db2);
   * // [ [ 2 ] ] [ [ 2, 0 ] ] Float32Array(2) [ 2, 0 ] [ [ 1 ], [ 0 ] ] Float32Array(1) [ 1 ]
   * ```
   */
  backward(x: Matrix, dY: Matrix): FeedForwardGradients {
    const where = "backward";
    const xm = assertGradientPair(where, x, dY, this.dModel);
    const raw = this.#live(where).unpack();
    const params = { dModel: this.dModel, dHidden: this.dHidden, activation: this.activation };
    return feedForwardBackward({ ...params, ...raw }, xm.data, xm.rows, dY.data);
  }

  /**
   * The layer as plain JSON (see {@link FeedForwardJSON}); `JSON.stringify(layer)` calls it.
   *
   * @returns an object that {@link FeedForward.fromJSON} turns back into an identical layer
   */
  toJSON(): FeedForwardJSON {
    const raw = this.#live("toJSON").unpack();
    return {
      format: "tokenwise.FeedForward",
      version: 2,
      activation: this.activation,
      dModel: this.dModel,
      dHidden: this.dHidden,
      encoding: "float32-le-base64",
      w1: encodeFloat32(raw.w1),
      b1: raw.b1 === null ? null : encodeFloat32(raw.b1),
      w2: encodeFloat32(raw.w2),
      b2: raw.b2 === null ? null : encodeFloat32(raw.b2),
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

  /** `using ffn = await FeedForward.create(...)` disposes the layer at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #live(where: string): FeedForwardKernel {
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    return this.#kernel;
  }
}

/** A layer's weights, checked and copied into the raw layout. */
function checkWeights(
  weights: unknown,
  where: string,
): RawWeights & { dModel: number; dHidden: number } {
  const w = assertOptions<FeedForwardWeights>(weights, WEIGHT_KEYS, where, "weights");
  if (weights === undefined)
    throw new TypeError(`${where}: weights { w1, b1, w2, b2 } are required`);
  const w1 = assertMatrix(w.w1, where, "weights.w1");
  const w2 = assertMatrix(w.w2, where, "weights.w2");
  const dModel = w1.rows;
  const dHidden = w1.cols;
  if (dModel === 0 || dHidden === 0) {
    throw new ShapeError(
      `${where}: weights.w1 is ${dModel} x ${dHidden}; dModel and dHidden must be at least 1`,
    );
  }
  assertShape(w2, dHidden, dModel, where, "weights.w2", "(w1.cols, w1.rows)");
  const b1 = w.b1 === undefined ? null : assertFloat32Array(w.b1, where, "weights.b1");
  const b2 = w.b2 === undefined ? null : assertFloat32Array(w.b2, where, "weights.b2");
  if ((b1 === null) !== (b2 === null)) {
    throw new TypeError(`${where}: weights.b1 and weights.b2 must both be given or both be absent`);
  }
  if (b1 !== null && b1.length !== dHidden) {
    throw new ShapeError(
      `${where}: weights.b1 has length ${b1.length}, expected dHidden = ${dHidden}`,
    );
  }
  if (b2 !== null && b2.length !== dModel) {
    throw new ShapeError(
      `${where}: weights.b2 has length ${b2.length}, expected dModel = ${dModel}`,
    );
  }
  return { dModel, dHidden, w1: w1.data, b1, w2: w2.data, b2 };
}
