import type { WeightDtype } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";
import { type GatedFeedForwardGradients, gatedBackward } from "./backward";
import type { LayerShape } from "../kernels/kernel";
import type { WeightSource } from "../kernels/source";
import { buildAsync, buildFromJSON, buildFromSource, buildFromWeights, construct } from "./build";
import type { Built, LayerSpec, WeightLayout } from "./spec";
import { Layer } from "./core";
import type { KernelChoice } from "./options";
import type { GpuDevice } from "../kernels/webgpu/gpu";

/**
 * The kernels a {@link GatedFeedForward} can compute with: the same choice as every layer's.
 *
 * @category GatedFeedForward
 */
export type GatedKernelChoice = KernelChoice;

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
   * give GeGLU (T5 v1.1 and Gemma use `"geluTanh"`), `"relu"` gives ReGLU.
   */
  activation?: ActivationName;
  /** Whether the three linear maps have biases; default `false`, as in LLaMA and T5. */
  bias?: boolean;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /**
   * Threads to compute on, the calling one included; as {@link FeedForwardOptions.threads}.
   * See docs/threads.md.
   */
  threads?: number;
  /** The type the weight matrices are kept in; as {@link FeedForwardOptions.dtype}. */
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
   * the layers that take the default. Only {@link GatedFeedForward.create} takes it.
   */
  device?: GpuDevice;
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
  kernel?: KernelChoice;
  /**
   * How the three matrices are laid out: `"conv1d"` (the default) is tokenwise's (in, out);
   * `"linear"` is PyTorch's `nn.Linear` (out, in), as LLaMA's checkpoints store them.
   */
  layout?: WeightLayout;
  /** The type the layer keeps the weight matrices in; as {@link FromWeightsOptions.dtype}. */
  dtype?: WeightDtype;
  /**
   * Whether a relu layer's second map skips the rows of its weights that meet only zero hidden
   * values; default true. The result is the same bits either way (docs/numerics.md, "Sparse
   * hidden values"): false is for measuring what the skip saves.
   */
  sparse?: boolean;
}

/**
 * Options of {@link GatedFeedForward.create} for a layer from existing weights (copied, as
 * {@link GatedFeedForward.fromWeights} does).
 *
 * @category GatedFeedForward
 */
export interface GatedCreateFromWeightsOptions extends GatedFromWeightsOptions {
  /** The weights; dModel and dHidden are read from their shapes. */
  weights: GatedFeedForwardWeights;
  /** As {@link GatedFeedForwardOptions.threads}. */
  threads?: number;
  /** As {@link GatedFeedForwardOptions.device}. */
  device?: GpuDevice;
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
 * Options of {@link GatedFeedForward.fromJSON}.
 *
 * @category GatedFeedForward
 */
export interface GatedFromJSONOptions {
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /**
   * The type the layer keeps its weight matrices in; default the JSON's own (`"f32"` before
   * version 2); as {@link FromJSONOptions.dtype}.
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
 * A gated layer as plain JSON, from {@link Layer.toJSON}: each tensor is its values as
 * little-endian bytes in base64, so the round trip is exact to the bit. Version 2 added
 * `dtype`, written for a bf16 or f16 layer (a float32 layer is still written as version 1): its
 * `encoding` is `"le-base64"`, its weight matrices are 16-bit values of `dtype`, its biases
 * float32.
 *
 * @category GatedFeedForward
 */
export interface GatedFeedForwardJSON {
  format: "tokenwise.GatedFeedForward";
  version: 1 | 2;
  activation: ActivationName;
  /** The weight matrices' type (version 2); absent in version 1, whose weights are float32. */
  dtype?: WeightDtype;
  dModel: number;
  dHidden: number;
  /** `"float32-le-base64"` in version 1, `"le-base64"` from version 2. */
  encoding: "float32-le-base64" | "le-base64";
  wGate: string;
  bGate: string | null;
  wUp: string;
  bUp: string | null;
  wDown: string;
  bDown: string | null;
}

/** GatedFeedForward as data: act(x · wGate + bGate) ⊙ (x · wUp + bUp), then · wDown + bDown. */
export const GATED: LayerSpec<GatedFeedForwardGradients> = {
  name: "GatedFeedForward",
  maps: [
    { weight: "wGate", bias: "bGate" },
    { weight: "wUp", bias: "bUp" },
    { weight: "wDown", bias: "bDown" },
  ],
  expand: 2,
  defaults: { bias: false, activation: "silu" },
  json: {
    format: "tokenwise.GatedFeedForward",
    version: 2,
    oldest: 1,
    activationSince: 1,
    dtypeSince: 2,
  },
  backward: (shape, [g, u, d], x, rows, dY) =>
    gatedBackward(
      { ...shape, wGate: g!.w, bGate: g!.b, wUp: u!.w, bUp: u!.b, wDown: d!.w, bDown: d!.b },
      x,
      rows,
      dY,
    ),
};

/**
 * The gated feedforward layer of LLaMA (SwiGLU), Gemma and T5 v1.1 (GeGLU): each token row
 * goes alone through two projections to dHidden, the gate (`x · Wgate + bgate`, then the
 * activation) and the up projection (`x · Wup + bup`), their elementwise product, and the
 * down projection back to dModel: `y = (act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown +
 * bdown`.
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
export class GatedFeedForward extends Layer<
  GatedFeedForwardWeights,
  GatedFeedForwardJSON,
  GatedFeedForwardGradients
> {
  /**
   * A new layer with weights drawn like PyTorch's `nn.Linear` default: wGate, wUp (and bGate,
   * bUp) uniform in ±1/sqrt(dModel), wDown (and bDown) in ±1/sqrt(dHidden), from `Random`
   * seeded with `seed`, in the order wGate (row-major), bGate, wUp, bUp, wDown, bDown.
   *
   * @param options - see {@link GatedFeedForwardOptions}
   * @throws TypeError for a missing or non-integer size, a bad seed, activation or kernel, or
   *   an unknown option
   * @throws RangeError for a zero size, weights too large for the kernel, or a dtype that is
   *   not `"f32"`, `"bf16"` or `"f16"`
   */
  constructor(options: GatedFeedForwardOptions) {
    super(GATED, options);
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
    return make(await buildAsync(GATED, options));
  }

  /**
   * A layer from given weights, which are copied: later changes to the caller's buffers do not
   * reach the layer.
   *
   * @param weights - `wGate`, `wUp` (dModel, dHidden) and `wDown` (dHidden, dModel), with the
   *   biases `bGate`, `bUp` (dHidden) and `bDown` (dModel) all present or all absent; with
   *   `{ layout: "linear" }`, each matrix as `nn.Linear` stores it, (out, in)
   * @param options - see {@link GatedFromWeightsOptions}
   * @returns the layer
   * @throws TypeError for a value of the wrong kind, an unknown key, or biases only partly given
   * @throws {@link ShapeError} for shapes that do not fit together
   * @throws RangeError for an unknown dtype, or with `dtype: "f16"` a finite weight of
   *   magnitude 65520 or more (beyond f16's range), naming the first
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
    return make(buildFromWeights(GATED, weights, options));
  }

  /**
   * A layer from {@link Layer.toJSON}'s output (or that output after `JSON.stringify` and
   * `JSON.parse`). Its outputs are the original layer's, bit for bit.
   *
   * @param json - the object
   * @param options - see {@link GatedFromJSONOptions}
   * @returns the layer
   * @throws TypeError if `json` is not a tokenwise GatedFeedForward of a known version, or its
   *   data does not decode to the stated sizes
   * @throws RangeError for an unknown dtype, or for `dtype: "f16"` and weights beyond f16's
   *   range
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
    return make(buildFromJSON(GATED, json, options));
  }
}

// Outside the class body, so that the bundled class keeps its name (a body that names its own
// class makes the bundler give it an inner alias).
function make(built: Built): GatedFeedForward {
  return construct(GatedFeedForward, built);
}

/**
 * A GatedFeedForward of a shape from a weight source, on one thread (for loaders in io/; not exported by
 * index.ts): `kernel` is the caller's option, checked here.
 */
export function gatedFeedForwardFromSource(
  shape: LayerShape,
  source: WeightSource,
  kernel: unknown,
  where: string,
): GatedFeedForward {
  return make(buildFromSource(GATED, shape, source, kernel, where));
}
