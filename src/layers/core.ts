// The one core under every layer: what a layer does with its kernel once it has one. A layer
// class (FeedForward, GatedFeedForward) is a spec, its types and its factories; everything
// else is here, once.
import { encodeFloat32 } from "../base64";
import { assertGradientPair, assertToken, kindOf, readBatch } from "../check";
import type { WeightDtype } from "../dtype";
import { float32Maps } from "../kernels/unpack";
import type { ActivationName } from "../kernels/activation";
import {
  type HiddenCount,
  type Kernel,
  type KernelName,
  type LayerShape,
  type MapTensors,
  type StoredTensors,
  mapDims,
} from "../kernels/kernel";
import type { Matrix } from "../matrix";
import { buildSeeded, takeBuilt } from "./build";
import { ENCODING } from "./parse";
import type { LayerSpec } from "./spec";

// Each layer's kernel, for tests that reach inside (worker faults); not exported by index.ts.
const kernels = new WeakMap<object, Kernel>();
export function kernelOf(layer: object): Kernel | undefined {
  return kernels.get(layer);
}

/**
 * A layer's weights as its kernel stores them, in tokenwise's (in, out) layout: float32, or
 * a 16-bit layer's values as bits (for writing a checkpoint of the layer's own type). Throws
 * as the layer's own methods do once it is disposed.
 */
export let storedWeights: (layer: Layer<object, object, object>, where: string) => StoredTensors[];

/**
 * What a forward call reports when given this object: how many of the hidden values (dHidden a
 * token: a gated layer's act(gate) · up) were zero, +0 or -0. A relu layer's second map leaves
 * out the rows of its weights that meet only zeros, which changes no bit of the result
 * (docs/numerics.md, "Sparse hidden values"), so `zeroShare` is the share of that map's work
 * the call could skip. The call overwrites the three fields, and only when it succeeds.
 *
 * @category Layers
 * @example
 * ```ts
 * import { FeedForward, fromRows } from "tokenwise";
 * const ffn = FeedForward.fromWeights({
 *   w1: fromRows([[1, -1, 2, -2]]), b1: new Float32Array(4), // dModel 1, dHidden 4
 *   w2: fromRows([[1], [1], [1], [1]]), b2: new Float32Array(1),
 * });
 * const stats = { hidden: 0, zeros: 0, zeroShare: 0 };
 * ffn.forward(fromRows([[1], [-1], [0]]), undefined, stats);
 * console.log(stats);
 * // { hidden: 12, zeros: 8, zeroShare: 0.6666666666666666 }
 * ```
 */
export interface ForwardStats {
  /** Hidden values the call computed: tokens × dHidden. */
  hidden: number;
  /** How many of them were zero. */
  zeros: number;
  /** zeros / hidden, or 0 for a call of no tokens. */
  zeroShare: number;
}

const STATS_KEYS = ["hidden", "zeros", "zeroShare"] as const;

/**
 * Whether `o[key] = v` sets a value in strict mode: an own or inherited property that is a
 * writable value (an inherited one only where o may take a property of its own) or has a setter,
 * or none on an extensible o.
 */
function canSet(o: object, key: string): boolean {
  for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, key);
    if (d === undefined) continue;
    if (d.get !== undefined || d.set !== undefined) return d.set !== undefined;
    return d.writable === true && (p === o || Object.isExtensible(o));
  }
  return Object.isExtensible(o);
}

/**
 * Stats objects found settable, while they stay extensible: reading property descriptors makes
 * objects, and a forward with stats allocates nothing once its stats object has been checked.
 * (An object frozen or sealed since is checked again; one given a read-only field since fails
 * when the call writes it, after the output.)
 */
const settableStats = new WeakSet<object>();

/**
 * A stats argument: undefined, or an object whose three fields the call can set (checked before
 * anything runs, so a frozen object fails the call, not its last step after the output).
 */
function assertStats(where: string, stats: unknown): ForwardStats | undefined {
  if (stats === undefined) return undefined;
  if (typeof stats !== "object" || stats === null)
    throw new TypeError(`${where}: stats must be an object, got ${kindOf(stats)}`);
  if (settableStats.has(stats) && Object.isExtensible(stats)) return stats as ForwardStats;
  for (const key of STATS_KEYS)
    if (!canSet(stats, key))
      throw new TypeError(
        `${where}: stats must be an object whose hidden, zeros and zeroShare can be set; its ${key} cannot`,
      );
  settableStats.add(stats);
  return stats as ForwardStats;
}

/**
 * What every tokenwise layer does, whatever its maps: forward a batch or one token, on one
 * thread or several, without blocking or blocking, give its weights and gradients, save itself
 * as JSON, and free what it holds. A token's output is the same bits whatever batch it sits in
 * and at whatever position, on every kernel and any number of threads (docs/numerics.md).
 *
 * @typeParam W - the layer's weights object
 * @typeParam J - its JSON
 * @typeParam G - its gradients
 * @category Layers
 * @example
 * ```ts
 * import { FeedForward, GatedFeedForward, Layer } from "tokenwise";
 * const layers = [
 *   new FeedForward({ dModel: 4, dHidden: 8 }),
 *   new GatedFeedForward({ dModel: 4, dHidden: 8 }),
 * ];
 * console.log(layers.map((l) => [l instanceof Layer, l.parameterCount]));
 * // [ [ true, 76 ], [ true, 96 ] ]
 * ```
 */
export abstract class Layer<W extends object, J extends object, G extends object> {
  /** Width of a token vector, the layer's input and output. */
  readonly dModel: number;
  /** Width of the hidden vector. */
  readonly dHidden: number;
  /** Whether the layer's linear maps have biases (all of them, or none). */
  readonly hasBias: boolean;
  /** The activation after the first linear map (a gated layer's gate). */
  readonly activation: ActivationName;
  /**
   * The type the weight matrices are kept in: `"f32"`, or `"bf16"` or `"f16"` (half the
   * memory; the layer computes exactly what a float32 layer computes on these values). Biases
   * are float32 whatever it is.
   */
  readonly dtype: WeightDtype;
  readonly #spec: LayerSpec<G>;
  readonly #shape: LayerShape;
  readonly #kernel: Kernel;
  readonly #fallback: string | null;
  #disposed = false;

  /**
   * @param spec - the layer's spec
   * @param options - the caller's options (a seeded layer), or what a factory built
   */
  protected constructor(spec: LayerSpec<G>, options: unknown) {
    const built = takeBuilt(options) ?? buildSeeded(spec, options);
    this.#spec = spec;
    this.#shape = built.shape;
    this.#kernel = built.kernel;
    this.#fallback = built.fallback;
    this.dModel = built.shape.dModel;
    this.dHidden = built.shape.dHidden;
    this.hasBias = built.shape.hasBias;
    this.activation = built.shape.activation;
    this.dtype = built.shape.dtype;
    kernels.set(this, built.kernel);
  }

  /** Threads the layer computes on (1 unless made by `create` with threads). */
  get threads(): number {
    return this.#kernel.threadsInUse;
  }

  /**
   * Why the layer runs on fewer threads than asked for (no SharedArrayBuffer in a page that is
   * not cross-origin isolated, no Web Workers, workers a page's policy forbids, the js kernel,
   * a count over the cap), or null.
   */
  get threadsFallback(): string | null {
    return this.#kernel.unavailable ?? this.#fallback;
  }

  /** The kernel this layer computes with: `"wasm"`, `"js"` or `"webgpu"`. */
  get kernel(): KernelName {
    return this.#kernel.name;
  }

  /** Number of weights and biases. */
  get parameterCount(): number {
    let n = 0;
    for (let i = 0; i < this.#spec.maps.length; i++) {
      const { rows, cols } = mapDims(this.#shape, i);
      n += rows * cols + (this.hasBias ? cols : 0);
    }
    return n;
  }

  /**
   * A copy of the weights in tokenwise's (in, out) layout, unpacked from the kernel's:
   * changing it does not change the layer. Each read makes a new copy. The values are float32
   * whatever the dtype: a bf16 or f16 layer's weights widened, which is exact.
   */
  get weights(): W {
    const maps = this.#float32("weights");
    const out: Record<string, Matrix | Float32Array> = {};
    this.#spec.maps.forEach((m, i) => {
      const { rows, cols } = mapDims(this.#shape, i);
      const t = maps[i] as (typeof maps)[number];
      out[m.weight] = { rows, cols, data: t.w };
      if (t.b !== null) out[m.bias] = t.b;
    });
    return out as W;
  }

  /**
   * Runs every token row of `x` through the layer.
   *
   * @param x - (tokens, dModel), one token a row; zero rows gives an empty result
   * @param out - optional (tokens, dModel) output that must not overlap `x`; when given, the
   *   call allocates nothing (the hidden buffers are the layer's own, reused)
   * @param stats - optional object that receives the share of hidden values that were zero
   *   ({@link ForwardStats})
   * @returns `out`, or a new matrix
   * @throws TypeError if `x` or `out` is not a matrix, or `stats` is not an object whose
   *   `hidden`, `zeros` and `zeroShare` can be set (a frozen one, say)
   * @throws {@link ShapeError} if `x.cols` is not dModel, or `out` has the wrong shape or
   *   overlaps `x`; nothing is written then
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { FeedForward, zeros } from "tokenwise";
   * const ffn = new FeedForward({ dModel: 2, dHidden: 8 });
   * const out = zeros(5, 2);
   * console.log(ffn.forward(zeros(5, 2), out) === out);
   * // true
   * ```
   */
  forward(x: Matrix, out?: Matrix, stats?: ForwardStats): Matrix {
    const where = "forward";
    const { rows, x: xd, out: od, result } = readBatch(where, x, out, this.dModel);
    const report = assertStats(where, stats);
    const kernel = this.#live(where);
    if (kernel.forward === undefined) {
      throw new Error(
        `${where}: the ${kernel.name} kernel computes asynchronously; use forwardAsync`,
      );
    }
    const count = report === undefined ? undefined : this.#count;
    if (count !== undefined) count.zeros = 0;
    kernel.forward(xd, 0, rows, od, 0, count);
    if (report !== undefined) this.#report(report, rows, this.#count.zeros);
    return result;
  }

  /**
   * {@link Layer.forward} without blocking the calling thread: on a layer with threads, the
   * workers compute while this thread goes on; elsewhere it computes at once. The result is
   * the same bits as `forward`'s. Calls on one layer queue; do not touch `x` or `out` until the
   * promise settles. A call that rejects has written nothing to `out`.
   *
   * @param x - (tokens, dModel), one token a row
   * @param out - optional (tokens, dModel) output that must not overlap `x`
   * @param stats - optional object that receives the share of hidden values that were zero
   *   ({@link ForwardStats}), once the promise resolves
   * @returns a promise of `out`, or of a new matrix
   * @throws (rejects with) what {@link Layer.forward} throws, and an Error naming the worker
   *   when a worker thread fails; the layer then starts new workers on the next call
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
  async forwardAsync(x: Matrix, out?: Matrix, stats?: ForwardStats): Promise<Matrix> {
    const where = "forwardAsync";
    const { rows, x: xd, out: od, result } = readBatch(where, x, out, this.dModel);
    const report = assertStats(where, stats);
    // A count of its own: calls on one layer may be in flight together.
    const count: HiddenCount | undefined = report === undefined ? undefined : { zeros: 0 };
    await this.#live(where).forwardAsync(xd, 0, rows, od, 0, count);
    if (report !== undefined) this.#report(report, rows, count?.zeros ?? 0);
    return result;
  }

  /**
   * Runs one token through the layer. The result is the same bits as that token's row of
   * {@link Layer.forward} in any batch.
   *
   * @param token - dModel values
   * @param out - optional dModel output that must not overlap `token`
   * @param stats - optional object that receives the share of the token's hidden values that
   *   were zero ({@link ForwardStats})
   * @returns `out`, or a new Float32Array
   * @throws TypeError if `token` or `out` is not a Float32Array, or `stats` is not an object
   *   whose `hidden`, `zeros` and `zeroShare` can be set
   * @throws {@link ShapeError} for a length other than dModel, or an `out` overlapping `token`
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const ffn = new FeedForward({ dModel: 3, dHidden: 12, seed: 5 });
   * console.log(ffn.forwardToken(new Float32Array([0.1, 0.2, 0.3])).length);
   * // 3
   * ```
   */
  forwardToken(token: Float32Array, out?: Float32Array, stats?: ForwardStats): Float32Array {
    const where = "forwardToken";
    const target = assertToken(where, token, out, this.dModel);
    const report = assertStats(where, stats);
    const kernel = this.#live(where);
    if (kernel.forward === undefined) {
      throw new Error(
        `${where}: the ${kernel.name} kernel computes asynchronously; use forwardAsync`,
      );
    }
    const count = report === undefined ? undefined : this.#count;
    if (count !== undefined) count.zeros = 0;
    kernel.forward(token, 0, 1, target, 0, count);
    if (report !== undefined) this.#report(report, 1, this.#count.zeros);
    return target;
  }

  /**
   * The gradients of a loss L through the layer, given `dY = ∂L/∂y` for `y = forward(x)`:
   * `∂L/∂x` and `∂L/∂` of each weight and bias.
   *
   * The forward's intermediate values are recomputed from `x`, not kept from an earlier
   * forward call, so the layer holds no state and each call stands alone. Row i of `dX`
   * depends on row i of `x` and `dY` alone, bit for bit; the weight gradients sum over the
   * tokens in order. Every element is one float64 sum rounded once to float32 (the
   * pre-activations are those of the `"js"` kernel's forward, whatever this layer's kernel;
   * see docs/activations.md). A q8_0 or q4_0 layer is differentiated as the float32 layer on
   * its dequantized weights, with its activations not quantized (the straight-through
   * estimator): the quantization itself has no useful gradient.
   *
   * @param x - (tokens, dModel), the forward's input
   * @param dY - (tokens, dModel), the gradient of the loss with respect to the forward's output
   * @returns new arrays: `dX` (tokens, dModel) and one gradient per weight and bias
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
  backward(x: Matrix, dY: Matrix): G {
    const where = "backward";
    const { x: xm, dY: dy } = assertGradientPair(where, x, dY, this.dModel);
    const maps = this.#float32(where);
    return this.#spec.backward(this.#shape, maps, xm.data, xm.rows, dy.data);
  }

  /**
   * The layer as plain JSON: each tensor is its values as little-endian bytes in base64, so
   * the round trip through the layer's `fromJSON` is exact to the bit (-0 and NaN payloads
   * included). A float32 layer's JSON is as before 16-bit weights came (`encoding:
   * "float32-le-base64"`); a bf16 or f16 layer's is the next version, with `dtype` and
   * `encoding: "le-base64"`: its weight matrices as 16-bit values, its biases float32.
   * `JSON.stringify(layer)` calls it.
   *
   * @returns an object that `fromJSON` turns back into an identical layer
   * @throws Error if the layer was disposed
   * @example
   * ```ts
   * import { FeedForward } from "tokenwise";
   * const ffn = new FeedForward({ dModel: 4, dHidden: 16, dtype: "bf16" });
   * const json = ffn.toJSON();
   * console.log(json.version, json.dtype, json.encoding, json.w1.length, json.b1?.length);
   * // 3 bf16 le-base64 172 88
   * ```
   */
  toJSON(): J {
    const maps = this.#live("toJSON").unpack();
    const { format, version, dtypeSince } = this.#spec.json;
    const typed = this.dtype !== "f32";
    const json: Record<string, unknown> = {
      format,
      version: typed ? version : dtypeSince - 1,
      activation: this.activation,
    };
    if (typed) json.dtype = this.dtype;
    Object.assign(json, {
      dModel: this.dModel,
      dHidden: this.dHidden,
      encoding: typed ? ENCODING.typed : ENCODING.float32,
    });
    this.#spec.maps.forEach((m, i) => {
      const t = maps[i] as (typeof maps)[number];
      json[m.weight] = encodeFloat32(t.w);
      json[m.bias] = t.b === null ? null : encodeFloat32(t.b);
    });
    return json as J;
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

  /** `using layer = await FeedForward.create(...)` disposes the layer at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  static {
    storedWeights = (layer, where) => layer.#live(where).unpack();
  }

  /** The count a blocking call fills (made once: a forward with stats allocates nothing). */
  readonly #count: HiddenCount = { zeros: 0 };

  #report(stats: ForwardStats, rows: number, zeros: number): void {
    const hidden = rows * this.dHidden;
    stats.hidden = hidden;
    stats.zeros = zeros;
    stats.zeroShare = hidden === 0 ? 0 : zeros / hidden;
  }

  #live(where: string): Kernel {
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    return this.#kernel;
  }

  /**
   * Each map's weights as float32 values (16-bit ones widened, exactly; ggml blocks
   * dequantized, as ggml does, exactly too) and biases.
   */
  #float32(where: string): MapTensors[] {
    return float32Maps(this.#live(where).unpack(), this.#shape);
  }
}
