import type { WeightDtype } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";
import { type FeedForwardGradients, feedForwardBackward } from "./backward";
import type { LayerShape } from "../kernels/kernel";
import type { WeightSource } from "../kernels/source";
import { buildAsync, buildFromJSON, buildFromSource, buildFromWeights, construct } from "./build";
import type { Built, LayerSpec, WeightLayout } from "./spec";
import { Layer } from "./core";
import type { KernelChoice } from "./options";
import type { GpuDevice } from "../kernels/webgpu/gpu";

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
  /** Whether the two linear maps have biases; default `true` (T5 v1.0 has none). */
  bias?: boolean;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /**
   * Threads to compute on, the calling one included in the count; default 1 for the
   * constructor, which can only take 1, and the number of cores for {@link FeedForward.create}
   * (at most the number of cores, or 4 if that is more: a larger count is capped and
   * `threadsFallback` says so). Threads need the `"wasm"` kernel and SharedArrayBuffer (in
   * browsers, a cross-origin isolated page); where either is missing the layer runs on one
   * thread and says why in `threadsFallback`. See docs/threads.md.
   */
  threads?: number;
  /**
   * The activation between the two linear maps; default `"relu"`. `"gelu"` (BERT, GPT-2 in
   * PyTorch's exact form), `"geluTanh"` (GPT-2's `gelu_new`) and `"silu"` are the others.
   * Threads run every activation, with the same bits as one thread.
   */
  activation?: ActivationName;
  /**
   * The type the weight matrices are kept in; default `"f32"`. `"bf16"` and `"f16"` keep half
   * the bytes: the seeded float32 weights are rounded to nearest even, and the layer computes
   * exactly what a float32 layer computes on the rounded weights. Biases stay float32. See
   * docs/numerics.md ("16-bit weights").
   */
  dtype?: WeightDtype;
  /**
   * Whether a relu layer's second map skips the rows of its weights that meet only zero hidden
   * values; default true. The result is the same bits either way (docs/numerics.md, "Sparse
   * hidden values"): false is for measuring what the skip saves.
   */
  sparse?: boolean;
  /**
   * The WebGPU device of kernel `"webgpu"` (a `GPUDevice`: in Node, from the `webgpu`
   * package; in a page, an application's own); default one from `navigator.gpu`, shared by
   * the layers that take the default. Only {@link FeedForward.create} takes it.
   */
  device?: GpuDevice;
}

/**
 * Options of {@link FeedForward.fromWeights}.
 *
 * @category FeedForward
 */
export interface FromWeightsOptions {
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /** The activation between the two linear maps; default `"relu"`. */
  activation?: ActivationName;
  /**
   * The type the layer keeps the weight matrices in; default `"f32"`. With `"bf16"` or
   * `"f16"` each given weight is rounded to nearest even (ties to even) and the layer computes
   * exactly what a float32 layer computes on the rounded weights. A finite weight of magnitude
   * 65520 or more is beyond f16's range (IEEE rounding would make it infinite): `"f16"` then
   * throws a RangeError naming it. Biases stay float32.
   */
  dtype?: WeightDtype;
  /**
   * How `w1` and `w2` are laid out: `"conv1d"` (the default) is tokenwise's (in, out), as
   * GPT-2's Conv1D; `"linear"` is PyTorch's `nn.Linear` (out, in), read as it is (no copy of
   * the transpose is made).
   */
  layout?: WeightLayout;
  /**
   * Whether a relu layer's second map skips the rows of its weights that meet only zero hidden
   * values; default true. The result is the same bits either way (docs/numerics.md, "Sparse
   * hidden values"): false is for measuring what the skip saves.
   */
  sparse?: boolean;
}

/**
 * Options of {@link FeedForward.create} for a layer from existing weights (copied, as
 * {@link FeedForward.fromWeights} does).
 *
 * @category FeedForward
 */
export interface CreateFromWeightsOptions extends FromWeightsOptions {
  /** The weights; dModel and dHidden are read from their shapes. */
  weights: FeedForwardWeights;
  /** As {@link FeedForwardOptions.threads}. */
  threads?: number;
  /** As {@link FeedForwardOptions.device}. */
  device?: GpuDevice;
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
  /**
   * The type the layer keeps its weight matrices in; default the JSON's own (`"f32"` before
   * version 3). Another type converts them: 16-bit weights widen to float32 exactly, float32
   * ones round to nearest even, and bf16 ones become f16 through float32 (one rounding).
   */
  dtype?: WeightDtype;
  /**
   * Whether a relu layer's second map skips the rows of its weights that meet only zero hidden
   * values; default true. The result is the same bits either way (docs/numerics.md, "Sparse
   * hidden values"): false is for measuring what the skip saves.
   */
  sparse?: boolean;
}

/**
 * A layer as plain JSON, from {@link Layer.toJSON}. Each tensor is its values as little-endian
 * bytes in base64, so the round trip is exact to the bit (-0 and NaN included). Version 2 added
 * `activation`; a version 1 object (which has none) loads as a relu layer. Version 3 added
 * `dtype`, written for a bf16 or f16 layer (a float32 layer is still written as version 2):
 * its `encoding` is `"le-base64"`, its weight matrices are 16-bit values of `dtype`, its biases
 * float32.
 *
 * @category FeedForward
 */
export interface FeedForwardJSON {
  format: "tokenwise.FeedForward";
  version: 1 | 2 | 3;
  /** The activation (version 2); absent in version 1, whose layers are all relu. */
  activation?: ActivationName;
  /** The weight matrices' type (version 3); absent before, whose weights are float32. */
  dtype?: WeightDtype;
  dModel: number;
  dHidden: number;
  /** `"float32-le-base64"` before version 3, `"le-base64"` from it. */
  encoding: "float32-le-base64" | "le-base64";
  w1: string;
  b1: string | null;
  w2: string;
  b2: string | null;
}

/** FeedForward as data: act(x · w1 + b1), then · w2 + b2. */
export const FEEDFORWARD: LayerSpec<FeedForwardGradients> = {
  name: "FeedForward",
  maps: [
    { weight: "w1", bias: "b1" },
    { weight: "w2", bias: "b2" },
  ],
  expand: 1,
  defaults: { bias: true, activation: "relu" },
  json: {
    format: "tokenwise.FeedForward",
    version: 3,
    oldest: 1,
    activationSince: 2,
    dtypeSince: 3,
  },
  backward: (shape, [m1, m2], x, rows, dY) =>
    feedForwardBackward({ ...shape, w1: m1!.w, b1: m1!.b, w2: m2!.w, b2: m2!.b }, x, rows, dY),
};

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
export class FeedForward extends Layer<FeedForwardWeights, FeedForwardJSON, FeedForwardGradients> {
  /**
   * A new layer with weights drawn like PyTorch's `nn.Linear` default: every element of W1 and
   * b1 uniform in [-1/sqrt(dModel), 1/sqrt(dModel)], of W2 and b2 in
   * [-1/sqrt(dHidden), 1/sqrt(dHidden)], from `Random` seeded with `seed`, in the order
   * w1 (row-major), b1, w2, b2.
   *
   * @param options - see {@link FeedForwardOptions}
   * @throws TypeError for a missing or non-integer size, a bad seed or an unknown option
   * @throws RangeError for a zero size, weights too large for the kernel, or a dtype that is
   *   not `"f32"`, `"bf16"` or `"f16"`
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const half = new FeedForward({ dModel: 768, dHidden: 3072, dtype: "bf16" });
   * const full = FeedForward.fromWeights(half.weights); // the same weights, as float32
   * const t = new Float32Array(768).fill(0.5);
   * console.log(half.dtype, half.forwardToken(t).every((v, i) => Object.is(v, full.forwardToken(t)[i])));
   * // bf16 true
   * ```
   */
  constructor(options: FeedForwardOptions) {
    super(FEEDFORWARD, options);
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
    return make(await buildAsync(FEEDFORWARD, options));
  }

  /**
   * A layer from given weights, which are copied: later changes to the caller's buffers do not
   * reach the layer, and the layer never writes to them.
   *
   * @param weights - `w1` (dModel, dHidden) and `w2` (dHidden, dModel), with the biases `b1`
   *   (dHidden) and `b2` (dModel) both present or both absent; with `{ layout: "linear" }`,
   *   `w1` (dHidden, dModel) and `w2` (dModel, dHidden) as `nn.Linear` stores them
   * @param options - see {@link FromWeightsOptions}
   * @returns the layer
   * @throws TypeError for a value of the wrong kind or an unknown key
   * @throws {@link ShapeError} for shapes that do not fit together (saying when a transposed
   *   matrix would fit)
   * @throws RangeError for an unknown dtype, or with `dtype: "f16"` a finite weight of
   *   magnitude 65520 or more (beyond f16's range), naming the first
   * @example
   * ```ts
   * import { FeedForward, fromRows } from "tokenwise";
   * const w = { w1: fromRows([[0.1, 70000]]), w2: fromRows([[1], [1]]) };
   * console.log(FeedForward.fromWeights(w, { dtype: "bf16" }).weights.w1.data); // rounded
   * // Float32Array(2) [ 0.10009765625, 70144 ]
   * const f16 = () => FeedForward.fromWeights(w, { dtype: "f16" });
   * console.log(((): unknown => { try { return f16(); } catch (e) { return (e as Error).message; } })());
   * // FeedForward.fromWeights: weights.w1[0, 1] = 70000 is beyond f16's range (65504 is its largest finite value; 65520 and above round to Infinity); use dtype "bf16" or "f32"
   * ```
   * @example
   * ```ts
   * import { FeedForward, fromRows, matrix } from "tokenwise";
   * const ffn = FeedForward.fromWeights({
   *   w1: fromRows([[1, -1]]), b1: new Float32Array([0, 0]), // dModel 1, dHidden 2
   *   w2: fromRows([[2], [3]]), b2: new Float32Array([0.5]),
   * });
   * console.log(ffn.forward(matrix(2, 1, new Float32Array([1, -1]))).data);
   * // Float32Array(2) [ 2.5, 3.5 ]
   * const linear = FeedForward.fromWeights(
   *   { w1: fromRows([[1], [-1]]), b1: new Float32Array([0, 0]), w2: fromRows([[2, 3]]), b2: new Float32Array([0.5]) },
   *   { layout: "linear" }, // nn.Linear's (out, in): the same layer
   * );
   * console.log(linear.forward(matrix(2, 1, new Float32Array([1, -1]))).data);
   * // Float32Array(2) [ 2.5, 3.5 ]
   * ```
   */
  static fromWeights(weights: FeedForwardWeights, options?: FromWeightsOptions): FeedForward {
    return make(buildFromWeights(FEEDFORWARD, weights, options));
  }

  /**
   * A layer from {@link Layer.toJSON}'s output (or that output after `JSON.stringify` and
   * `JSON.parse`). Its outputs are the original layer's, bit for bit.
   *
   * @param json - the object
   * @param options - see {@link FromJSONOptions}
   * @returns the layer
   * @throws TypeError if `json` is not a tokenwise FeedForward of a known version, a size is
   *   not an integer, or its data does not decode to the stated sizes
   * @throws RangeError if `json.dModel` or `json.dHidden` is 0, for an unknown dtype, or for
   *   `dtype: "f16"` and weights beyond f16's range
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
    return make(buildFromJSON(FEEDFORWARD, json, options));
  }
}

// Outside the class body, so that the bundled class keeps its name (a body that names its own
// class makes the bundler give it an inner alias).
function make(built: Built): FeedForward {
  return construct(FeedForward, built);
}

/**
 * A FeedForward of a shape from a weight source, on one thread (for loaders in io/; not exported by
 * index.ts): `kernel` is the caller's option, checked here.
 */
export function feedForwardFromSource(
  shape: LayerShape,
  source: WeightSource,
  kernel: unknown,
  where: string,
): FeedForward {
  return make(buildFromSource(FEEDFORWARD, shape, source, kernel, where));
}
