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
import { WasmGatedKernel } from "../kernels/wasm-gated";
import { gemmModuleSync, wasmAvailability } from "../kernels/wasm/module";

/**
 * The kernels a {@link GatedFeedForward} can compute with: `"wasm"` (WebAssembly SIMD, as
 * {@link FeedForward}'s), `"js"` (plain JavaScript, every engine), or `"auto"`, which takes
 * `"wasm"` where it can run and `"js"` elsewhere.
 *
 * @category GatedFeedForward
 */
export type GatedKernelChoice = "auto" | "js" | "wasm";

type GatedKernel = JsGatedKernel | WasmGatedKernel;

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

const OPTIONS = ["dModel", "dHidden", "seed", "activation", "bias", "kernel"] as const;
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

// The constructor's private door for layers built from existing weights: a key no caller has.
const ADOPT = Symbol("tokenwise.adoptGated");
interface Adopt {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  source: GatedSource;
  kernel: GatedKernelChoice;
}

function adopt(
  dModel: number,
  dHidden: number,
  activation: ActivationName,
  raw: GatedRawWeights,
  kernel: GatedKernelChoice,
): GatedFeedForward {
  const source = rawGatedSource(raw, dModel, dHidden);
  const door = { [ADOPT]: { dModel, dHidden, activation, source, kernel } };
  return new GatedFeedForward(door as unknown as GatedFeedForwardOptions);
}

function makeKernel(
  dModel: number,
  dHidden: number,
  source: GatedSource,
  activation: ActivationName,
  choice: GatedKernelChoice,
  where: string,
): GatedKernel {
  if (choice !== "js") {
    const wasm = wasmAvailability();
    if (wasm.ok) {
      return new WasmGatedKernel(dModel, dHidden, source, activation, gemmModuleSync(false));
    }
    if (choice === "wasm")
      throw new Error(`${where}: kernel "wasm" is not available: ${wasm.reason}`);
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
    const internal = (options as unknown as { [ADOPT]?: Adopt } | undefined)?.[ADOPT];
    if (internal !== undefined) {
      this.dModel = internal.dModel;
      this.dHidden = internal.dHidden;
      this.activation = internal.activation;
      this.hasBias = internal.source.hasBias;
      this.#kernel = makeKernel(
        this.dModel,
        this.dHidden,
        internal.source,
        this.activation,
        internal.kernel,
        where,
      );
      return;
    }
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
    this.dModel = dModel;
    this.dHidden = dHidden;
    this.activation = activation;
    this.hasBias = bias;
    const source = seededGatedSource(seed, dModel, dHidden, bias);
    this.#kernel = makeKernel(dModel, dHidden, source, activation, kernel, where);
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
    return adopt(raw.dModel, raw.dHidden, activation, raw, kernel);
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
    return adopt(dModel, dHidden, activation, raw, kernel);
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
   * Frees what the kernel holds. Calling it twice is harmless; any other use of the layer
   * afterwards throws.
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
