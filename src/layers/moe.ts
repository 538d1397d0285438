import { assertGradientPair, assertToken, readBatch } from "../check";
import type { WeightDtype } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import type { ExpertsKernel } from "../kernels/experts";
import type { KernelName, LayerShape } from "../kernels/kernel";
import { float32Maps } from "../kernels/unpack";
import type { Matrix } from "../matrix";
import { moeBackward } from "./moe-backward";
import * as build from "./moe-build";
import type { MoEBuilt } from "./moe-build";
import { construct, takeBuilt, track } from "./moe-make";
import { Runner } from "./moe-forward";
import { jsonOf, parameterCount, routeAll, weightsOf } from "./moe-weights";
import type * as T from "./moe-types";

/**
 * A mixture of experts (Mixtral, Qwen2-MoE and Qwen3-MoE, OLMoE, DeepSeek-V3's routing): a
 * router scores the experts for each token, the token goes through its top-k gated experts,
 * and their outputs are summed with the router's weights, plus a shared expert every token
 * goes through if there is one. Dropless: every token gets its k experts, always.
 *
 * No token sees another: the router is plain float64 arithmetic on the token's own row, the
 * experts are row-independent kernels run on the group of tokens that chose each one, and a
 * token's outputs are summed in one fixed order (its experts in increasing index, then the
 * shared one). So a token's output is the same bits in any batch, at any position and on any
 * number of threads; docs/moe.md writes down every step.
 *
 * @category MixtureOfExperts
 * @example
 * ```ts
 * import { MixtureOfExperts, matrix } from "tokenwise";
 * const moe = new MixtureOfExperts({ dModel: 4, dHidden: 8, experts: 4, topK: 2, seed: 1 });
 * const x = matrix(2, 4, new Float32Array([1, 0, -1, 0.5, 0, 2, 0, -0.5]));
 * const y = moe.forward(x);
 * console.log(y.rows, y.cols, moe.parameterCount);
 * // 2 4 400
 * console.log(moe.forwardToken(x.data.subarray(4, 8)).every((v, j) => v === y.data[4 + j]));
 * // true
 * ```
 */
export class MixtureOfExperts {
  /** Width of a token vector, the layer's input and output. */
  readonly dModel: number;
  /** Hidden width of each routed expert. */
  readonly dHidden: number;
  /** Number of routed experts. */
  readonly experts: number;
  /** How tokens are routed: experts per token, scoring, normalisation, routed scale. */
  readonly routing: Readonly<Required<T.RoutingOptions>>;
  /** The experts' gate activation. */
  readonly activation: ActivationName;
  /** Whether the experts' linear maps have biases. */
  readonly hasBias: boolean;
  /** Hidden width of the shared expert, 0 without one. */
  readonly sharedHidden: number;
  readonly #b: MoEBuilt;
  readonly #run: Runner;
  #disposed = false;

  /**
   * A new mixture with seeded weights (see {@link MixtureOfExpertsOptions} for the order).
   *
   * @param options - see {@link MixtureOfExpertsOptions}
   * @throws TypeError for a missing or non-integer size, a bad seed, activation, scoring or
   *   kernel, `threads` above 1 (use `create`), or an unknown option
   * @throws RangeError for a zero size, `topK` above `experts`, or weights too large
   */
  constructor(options: T.MixtureOfExpertsOptions) {
    const b = takeBuilt(options) ?? build.buildSeededMoE(options);
    const s = b.shapes[0] as LayerShape;
    const r = b.router;
    this.#b = b;
    this.dModel = s.dModel;
    this.dHidden = s.dHidden;
    this.experts = r.experts;
    const { topK, scoring, normalize, scale: routedScale } = r;
    this.routing = Object.freeze({ topK, scoring, normalize, routedScale });
    this.activation = b.activation;
    this.hasBias = s.hasBias;
    this.sharedHidden = b.shapes.length > r.experts ? (b.shapes.at(-1) as LayerShape).dHidden : 0;
    this.#run = new Runner(b.kernel, r, this.sharedHidden > 0);
    track(this, b);
  }

  /**
   * Makes a mixture, compiling the WebAssembly kernel first and starting threads where asked
   * (the one way to get threads). All experts share one WebAssembly memory and one pool of
   * threads; each job runs one expert on the group of tokens that chose it, its output columns
   * split among the threads, so the result is one thread's bits. It is also the one way to the
   * GPU: with `kernel: "webgpu"` (and `device`, or one from `navigator.gpu`) the experts
   * compute on WebGPU, through `forwardAsync` only (docs/moe.md, "On a GPU").
   *
   * @param options - see {@link MixtureOfExpertsOptions} and {@link MoECreateFromWeightsOptions}
   * @returns a promise of the layer
   * @throws as the constructor and {@link MixtureOfExperts.fromWeights} do (the promise rejects)
   * @example
   * ```ts
   * import { MixtureOfExperts } from "tokenwise";
   * const moe = await MixtureOfExperts.create({ dModel: 16, dHidden: 32, experts: 8, topK: 2, threads: 2 });
   * console.log(moe.kernel, moe.threads, moe.experts);
   * // wasm 2 8
   * moe.dispose();
   * ```
   */
  static async create(
    options: T.MixtureOfExpertsOptions | T.MoECreateFromWeightsOptions,
  ): Promise<MixtureOfExperts> {
    return make(await build.buildMoEAsync(options));
  }

  /**
   * A mixture from given weights (copied).
   *
   * @param weights - see {@link MixtureOfExpertsWeights}
   * @param options - `topK` and the other {@link MoEFromWeightsOptions}
   * @returns the layer
   * @throws TypeError for a value of the wrong kind, an unknown key, a missing `topK`, biases
   *   only partly given
   * @throws {@link ShapeError} for experts of different shapes, or a router that does not fit them
   * @throws RangeError for `topK` below 1 or above the number of experts
   * @example
   * ```ts
   * import { MixtureOfExperts, fromRows } from "tokenwise";
   * const expert = (s: number) => ({ wGate: fromRows([[s]]), wUp: fromRows([[1]]), wDown: fromRows([[1]]) });
   * const moe = MixtureOfExperts.fromWeights(
   *   { router: fromRows([[1, -1]]), experts: [expert(1), expert(-2)] }, // dModel 1, dHidden 1
   *   { topK: 1, activation: "relu" },
   * );
   * console.log(moe.route(fromRows([[3], [-3]])).experts, moe.forward(fromRows([[3], [-3]])).data);
   * // Int32Array(2) [ 0, 1 ] Float32Array(2) [ 9, -18 ]
   * ```
   */
  static fromWeights(
    weights: T.MixtureOfExpertsWeights,
    options: T.MoEFromWeightsOptions,
  ): MixtureOfExperts {
    return make(build.buildMoEFromWeights(weights, options));
  }

  /**
   * A mixture from {@link MixtureOfExperts.toJSON}'s output; its outputs are the original's, bit
   * for bit.
   *
   * @param json - the object
   * @param options - see {@link MoEFromJSONOptions}
   * @returns the layer
   * @throws TypeError if `json` is not a tokenwise MixtureOfExperts of a known version, or its
   *   data does not decode to the stated sizes
   */
  static fromJSON(json: T.MixtureOfExpertsJSON, options?: T.MoEFromJSONOptions): MixtureOfExperts {
    return make(build.buildMoEFromJSON(json, options));
  }

  /**
   * The type the experts keep their weight matrices in: `"f32"`, `"bf16"` or `"f16"` (the
   * router, the shared gate and the biases are float32 whatever it is).
   */
  get dtype(): WeightDtype {
    return this.#b.dtype;
  }

  /** The kernel the experts compute with: `"wasm"`, `"js"` or `"webgpu"`. */
  get kernel(): KernelName {
    return this.#b.kernel.name;
  }

  /** Threads the experts compute on (1 unless made by `create` with threads). */
  get threads(): number {
    return this.#b.kernel.threadsInUse;
  }

  /** Why the layer runs on fewer threads than asked for, or null. */
  get threadsFallback(): string | null {
    return this.#b.kernel.unavailable ?? this.#b.fallback;
  }

  /** Number of weights and biases (router, its biases, experts, shared expert and gate). */
  get parameterCount(): number {
    return parameterCount(this.#b);
  }

  /** A copy of the weights in tokenwise's (in, out) layout. */
  get weights(): T.MixtureOfExpertsWeights {
    return weightsOf(this.#b, this.#live("weights"));
  }

  /**
   * Each token's chosen experts and their weights, as {@link MixtureOfExperts.forward} uses
   * them: k per token, in decreasing weight, equal weights in increasing expert index.
   *
   * @param x - (tokens, dModel)
   * @returns new arrays of tokens · k experts and weights
   * @throws TypeError if `x` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel
   * @throws Error if the layer was disposed
   */
  route(x: Matrix): T.Routes {
    const { rows, x: xd } = readBatch("route", x, undefined, this.dModel);
    this.#live("route");
    return routeAll(this.#b.router, xd, rows);
  }

  /**
   * Runs every token row of `x` through the mixture.
   *
   * @param x - (tokens, dModel), one token a row
   * @param out - optional (tokens, dModel) output that must not overlap `x`
   * @returns `out`, or a new matrix
   * @throws TypeError if `x` or `out` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel, or `out` has the wrong shape or
   *   overlaps `x`; nothing is written then
   * @throws Error if the layer was disposed, or on kernel `"webgpu"` (use `forwardAsync`)
   */
  forward(x: Matrix, out?: Matrix): Matrix {
    const { rows, x: xd, out: od, result } = readBatch("forward", x, out, this.dModel);
    this.#sync("forward");
    this.#run.run(xd, rows, od);
    return result;
  }

  /**
   * {@link MixtureOfExperts.forward} without blocking the calling thread; the same bits. Calls
   * on one layer queue; do not touch `x` or `out` until the promise settles. A call that
   * rejects has written nothing to `out`.
   *
   * @param x - (tokens, dModel)
   * @param out - optional (tokens, dModel) output that must not overlap `x`
   * @returns a promise of `out`, or of a new matrix
   * @throws (rejects with) what `forward` throws (but computes on kernel `"webgpu"`), an Error
   *   naming a worker that failed, and on kernel `"webgpu"` an Error when the device is lost
   *   (make the layer again with `create`)
   */
  async forwardAsync(x: Matrix, out?: Matrix): Promise<Matrix> {
    const { rows, x: xd, out: od, result } = readBatch("forwardAsync", x, out, this.dModel);
    this.#live("forwardAsync");
    await this.#run.runAsync(xd, rows, od);
    return result;
  }

  /**
   * Runs one token through the mixture: only its k experts' weights (and a shared expert's)
   * are read. The same bits as that token's row of `forward` in any batch.
   *
   * @param token - dModel values
   * @param out - optional dModel output that must not overlap `token`
   * @returns `out`, or a new Float32Array
   * @throws TypeError if `token` or `out` is not a Float32Array
   * @throws {@link ShapeError} for a length other than dModel, or an overlapping `out`
   * @throws Error if the layer was disposed, or on kernel `"webgpu"` (use `forwardAsync`)
   */
  forwardToken(token: Float32Array, out?: Float32Array): Float32Array {
    const target = assertToken("forwardToken", token, out, this.dModel);
    this.#sync("forwardToken");
    this.#run.run(token, 1, target);
    return target;
  }

  /**
   * The gradients of a loss L through the mixture, given `dY = ∂L/∂y` for `y = forward(x)`:
   * of the input, the router (through the chosen experts' weights) and every expert. The
   * routing is recomputed from `x`; the experts are recomputed with the `"js"` kernel's
   * arithmetic (docs/moe.md).
   *
   * @param x - (tokens, dModel), the forward's input
   * @param dY - (tokens, dModel)
   * @returns new arrays, see {@link MixtureOfExpertsGradients}
   * @throws TypeError if `x` or `dY` is not a matrix
   * @throws {@link ShapeError} if `x.cols` is not dModel or `dY` is not (x.rows, dModel)
   * @throws Error if the layer was disposed
   */
  backward(x: Matrix, dY: Matrix): T.MixtureOfExpertsGradients {
    const where = "backward";
    const { x: xm, dY: dy } = assertGradientPair(where, x, dY, this.dModel);
    const kernel = this.#live(where);
    const shapes = this.#b.shapes;
    return moeBackward(
      this.#b,
      (e) => float32Maps(kernel.unpack(e), shapes[e] as LayerShape),
      xm.data,
      xm.rows,
      dy.data,
    );
  }

  /**
   * The mixture as plain JSON, exact to the bit; `JSON.stringify(layer)` calls it.
   *
   * @returns an object that {@link MixtureOfExperts.fromJSON} turns back into an identical layer
   * @throws Error if the layer was disposed
   */
  toJSON(): T.MixtureOfExpertsJSON {
    const kernel = this.#live("toJSON");
    return jsonOf(this.#b, this.weights, (e) => kernel.unpack(e));
  }

  /** Frees the experts' memory and threads. Calling it twice is harmless. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#run.dispose();
  }

  /** `using moe = await MixtureOfExperts.create(...)` disposes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The kernel, if it computes synchronously (webgpu does not). */
  #sync(where: string): void {
    const kernel = this.#live(where);
    if (kernel.run === undefined) {
      throw new Error(
        `${where}: the ${kernel.name} kernel computes asynchronously; use forwardAsync`,
      );
    }
  }

  #live(where: string): ExpertsKernel {
    if (this.#disposed) throw new Error(`${where}: the layer was disposed`);
    return this.#b.kernel;
  }
}

// Outside the class body, so that the bundled class keeps its name.
function make(built: MoEBuilt): MixtureOfExperts {
  return construct(MixtureOfExperts, built);
}
