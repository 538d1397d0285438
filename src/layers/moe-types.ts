// The public types of MixtureOfExperts: its options, weights, JSON, routes and gradients.
import type { WeightDtype } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";
import type { GatedFeedForwardGradients } from "./backward";
import type { GatedFeedForwardWeights } from "./gated";
import type { Scoring } from "./moe-route";
import type { GpuDevice } from "../kernels/webgpu/gpu";
import type { KernelChoice } from "./options";
import type { WeightLayout } from "./spec";

/**
 * How a mixture routes its tokens; every field but `topK` has a default.
 *
 * @category MixtureOfExperts
 */
export interface RoutingOptions {
  /** Experts per token, from 1 to the number of experts (Mixtral 2, OLMoE and Qwen3-MoE 8). */
  topK: number;
  /**
   * Whether the chosen experts' weights are divided by their sum (Mixtral, Qwen3-MoE,
   * DeepSeek-V3: `norm_topk_prob`), or kept as scored (Qwen2-MoE, OLMoE); default `true`.
   */
  normalize?: boolean;
  /** `"softmax"` (the default) or `"sigmoid"` (DeepSeek-V3); see {@link Scoring}. */
  scoring?: Scoring;
  /** Every routed weight is multiplied by this (DeepSeek-V3's `routed_scaling_factor`); default 1. */
  routedScale?: number;
}

/**
 * Options of `new MixtureOfExperts(options)`: a layer with seeded weights.
 *
 * @category MixtureOfExperts
 */
export interface MixtureOfExpertsOptions extends RoutingOptions {
  /** Width of a token vector, the layer's input and output. */
  dModel: number;
  /** Hidden width of each routed expert (OLMoE: 1024 for dModel 2048). */
  dHidden: number;
  /** Number of routed experts (OLMoE 64, Mixtral 8). */
  experts: number;
  /** Hidden width of a shared expert that every token goes through; default 0, none. */
  sharedHidden?: number;
  /** Whether the shared expert is scaled by sigmoid(x · sharedGate) (Qwen2-MoE); default true. */
  sharedGate?: boolean;
  /** Seed of the weight initialisation, an integer in [0, 2^32); default 0. */
  seed?: number;
  /** The experts' gate activation; default `"silu"` (SwiGLU). */
  activation?: ActivationName;
  /** Whether the experts' linear maps have biases; default `false`. */
  bias?: boolean;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /** Threads to compute on, the calling one included (only with `create`); see docs/threads.md. */
  threads?: number;
  /**
   * The type the experts keep their weight matrices in: `"f32"` (the default), or `"bf16"` /
   * `"f16"`, each weight rounded to nearest even (ties to even), as the other layers' `dtype`.
   * The mixture then computes exactly what a float32 mixture computes on the rounded weights.
   * The router, the shared gate and the biases stay float32.
   */
  dtype?: WeightDtype;
  /**
   * The WebGPU device of kernel `"webgpu"` (a `GPUDevice`: in Node, from the `webgpu`
   * package; in a page, an application's own); default one from `navigator.gpu`, shared by
   * the layers that take the default. Only {@link MixtureOfExperts.create} takes it.
   */
  device?: GpuDevice;
}

/**
 * The weights of a {@link MixtureOfExperts}, in tokenwise's (in, out) layout unless
 * `{ layout: "linear" }` is given (then every matrix as `nn.Linear` stores it, (out, in)).
 *
 * @category MixtureOfExperts
 */
export interface MixtureOfExpertsWeights {
  /** (dModel, experts): the router's logits are x · router (+ routerBias). */
  router: Matrix;
  /** length experts: added to the logits (gpt-oss's router bias); absent for none. */
  routerBias?: Float32Array | undefined;
  /**
   * length experts: added to the scores to choose the experts, not to weight them
   * (DeepSeek-V3's `e_score_correction_bias`); absent for none.
   */
  selectionBias?: Float32Array | undefined;
  /** The routed experts, all of one shape: dModel, dHidden and biases alike. */
  experts: GatedFeedForwardWeights[];
  /** A shared expert every token goes through (Qwen2-MoE, DeepSeek-V3); any hidden width. */
  shared?: GatedFeedForwardWeights | undefined;
  /** (dModel, 1): the shared expert's output is scaled by sigmoid(x · sharedGate) (Qwen2-MoE). */
  sharedGate?: Matrix | undefined;
}

/**
 * Options of {@link MixtureOfExperts.fromWeights}.
 *
 * @category MixtureOfExperts
 */
export interface MoEFromWeightsOptions extends RoutingOptions {
  /** The experts' gate activation; default `"silu"`. */
  activation?: ActivationName;
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /** How every matrix is laid out: `"conv1d"` (the default, (in, out)) or `"linear"` (out, in). */
  layout?: WeightLayout;
  /**
   * The type the experts keep their weight matrices in: `"f32"` (the default), or `"bf16"` /
   * `"f16"`, each weight rounded to nearest even (ties to even), as the other layers' `dtype`.
   * The mixture then computes exactly what a float32 mixture computes on the rounded weights.
   * The router, the shared gate and the biases stay float32.
   */
  dtype?: WeightDtype;
}

/**
 * Options of {@link MixtureOfExperts.create} from existing weights (copied).
 *
 * @category MixtureOfExperts
 */
export interface MoECreateFromWeightsOptions extends MoEFromWeightsOptions {
  /** The weights; every size is read from their shapes. */
  weights: MixtureOfExpertsWeights;
  /** As {@link MixtureOfExpertsOptions.threads}. */
  threads?: number;
  /** As {@link MixtureOfExpertsOptions.device}. */
  device?: GpuDevice;
}

/**
 * Options of {@link MixtureOfExperts.fromJSON}.
 *
 * @category MixtureOfExperts
 */
export interface MoEFromJSONOptions {
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /**
   * The experts' weight type; default the JSON's (version 2 says it, version 1 is float32).
   * Another converts: float32 to 16-bit rounds to nearest even, 16-bit to float32 widens.
   */
  dtype?: WeightDtype;
}

/**
 * One gated expert as JSON: its tensors as little-endian bytes in base64, the weight matrices
 * of the mixture's dtype (float32 in version 1), the biases float32.
 *
 * @category MixtureOfExperts
 */
export interface ExpertJSON {
  dHidden: number;
  wGate: string;
  bGate: string | null;
  wUp: string;
  bUp: string | null;
  wDown: string;
  bDown: string | null;
}

/**
 * A mixture as plain JSON, from {@link MixtureOfExperts.toJSON}: exact to the bit.
 *
 * @category MixtureOfExperts
 */
export interface MixtureOfExpertsJSON {
  format: "tokenwise.MixtureOfExperts";
  /** 1 for a float32 mixture; 2, with `dtype`, for a bf16 or f16 one. */
  version: 1 | 2;
  /** `"float32-le-base64"` (version 1), or `"le-base64"` (version 2). */
  encoding: "float32-le-base64" | "le-base64";
  /** The experts' weight type (version 2). */
  dtype?: WeightDtype;
  dModel: number;
  activation: ActivationName;
  topK: number;
  normalize: boolean;
  scoring: Scoring;
  routedScale: number;
  router: string;
  routerBias: string | null;
  selectionBias: string | null;
  experts: ExpertJSON[];
  shared: ExpertJSON | null;
  sharedGate: string | null;
}

/**
 * Each token's experts, from {@link MixtureOfExperts.route}: row t holds token t's k experts
 * in decreasing weight (equal weights in increasing expert index).
 *
 * @category MixtureOfExperts
 */
export interface Routes {
  /** (tokens · k): the experts' indices. */
  experts: Int32Array;
  /** (tokens · k): their weights, as the layer multiplies their outputs by them. */
  weights: Float32Array;
  /** k, the experts per token. */
  topK: number;
}

/**
 * The gradients of a {@link MixtureOfExperts}'s loss, from {@link MixtureOfExperts.backward}.
 * An expert that no token chose has zero gradients.
 *
 * @category MixtureOfExperts
 */
export interface MixtureOfExpertsGradients {
  /** (tokens, dModel): with respect to the input x. */
  dX: Matrix;
  /** (dModel, experts): with respect to the router. */
  dRouter: Matrix;
  /** length experts: with respect to the router's bias; absent without one. */
  dRouterBias?: Float32Array;
  /** One per routed expert, as a gated layer's (without its dX). */
  dExperts: Omit<GatedFeedForwardGradients, "dX">[];
  /** The shared expert's; absent without one. */
  dShared?: Omit<GatedFeedForwardGradients, "dX">;
  /** (dModel, 1): with respect to the shared gate; absent without one. */
  dSharedGate?: Matrix;
}
