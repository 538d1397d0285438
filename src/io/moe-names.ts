// Where a mixture of experts' tensors sit in Hugging Face checkpoints (Mixtral, Qwen2-MoE,
// Qwen3-MoE, OLMoE), and how each family routes. Plain tables and one function, no file
// format: a getter from a tensor name to its data (from parseSafetensors and tensorToFloat32,
// say) supplies the tensors.
import { assertMatrix, assertSize, kindOf } from "../check";
import type { ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";
import type { GatedFeedForwardWeights } from "../layers/gated";
import type { MixtureOfExpertsWeights, MoEFromWeightsOptions } from "../layers/moe-types";

/**
 * The checkpoint families whose mixture-of-experts tensor names tokenwise knows.
 *
 * @category MixtureOfExperts
 */
export type MoECheckpointFamily = "mixtral" | "qwen2-moe" | "qwen3-moe" | "olmoe";

/**
 * One family's tensor names (`{N}` the layer, `{E}` the expert; each an `nn.Linear` weight,
 * (out, in)) and its routing.
 *
 * @category MixtureOfExperts
 */
export interface MoECheckpointNames {
  /** The router, (experts, dModel) in the file. */
  router: string;
  /** Expert `{E}`'s gate, up and down projections. */
  expert: { wGate: string; wUp: string; wDown: string };
  /** The shared expert's projections and its gate (1, dModel), for a family that has one. */
  shared?: { wGate: string; wUp: string; wDown: string; gate: string };
  /** The experts' activation (the config's `hidden_act`). */
  activation: ActivationName;
  /** Whether the family renormalises the chosen weights (the config's `norm_topk_prob`). */
  normalize: boolean;
}

const projections = (prefix: string, [g, u, d]: [string, string, string]) => ({
  wGate: `${prefix}.${g}.weight`,
  wUp: `${prefix}.${u}.weight`,
  wDown: `${prefix}.${d}.weight`,
});
const LLAMA: [string, string, string] = ["gate_proj", "up_proj", "down_proj"];
const MLP = "model.layers.{N}.mlp";

/**
 * The tensor names and routing of each family. Mixtral's experts are `w1` (gate), `w3` (up),
 * `w2` (down) and it always renormalises; Qwen2-MoE adds a shared expert scaled by
 * sigmoid(x · shared_expert_gate) and does not renormalise (`norm_topk_prob` false), Qwen3-MoE
 * renormalises (as its released models' configs say) and has no shared expert; OLMoE does not
 * renormalise. All score with a softmax over all the experts.
 *
 * @category MixtureOfExperts
 * @example
 * ```ts
 * import { MOE_CHECKPOINT_NAMES } from "tokenwise";
 * console.log(MOE_CHECKPOINT_NAMES.mixtral.expert.wGate, MOE_CHECKPOINT_NAMES.olmoe.normalize);
 * // model.layers.{N}.block_sparse_moe.experts.{E}.w1.weight false
 * ```
 */
export const MOE_CHECKPOINT_NAMES: Readonly<Record<MoECheckpointFamily, MoECheckpointNames>> = {
  mixtral: {
    router: "model.layers.{N}.block_sparse_moe.gate.weight",
    expert: projections("model.layers.{N}.block_sparse_moe.experts.{E}", ["w1", "w3", "w2"]),
    activation: "silu",
    normalize: true,
  },
  "qwen2-moe": {
    router: `${MLP}.gate.weight`,
    expert: projections(`${MLP}.experts.{E}`, LLAMA),
    shared: {
      ...projections(`${MLP}.shared_expert`, LLAMA),
      gate: `${MLP}.shared_expert_gate.weight`,
    },
    activation: "silu",
    normalize: false,
  },
  "qwen3-moe": {
    router: `${MLP}.gate.weight`,
    expert: projections(`${MLP}.experts.{E}`, LLAMA),
    activation: "silu",
    normalize: true,
  },
  olmoe: {
    router: `${MLP}.gate.weight`,
    expert: projections(`${MLP}.experts.{E}`, LLAMA),
    activation: "silu",
    normalize: false,
  },
};

const FAMILIES = Object.keys(MOE_CHECKPOINT_NAMES) as MoECheckpointFamily[];

/**
 * Layer `layer` of a mixture-of-experts checkpoint: its weights as the file stores them
 * (`nn.Linear`'s (out, in), no copies: `fromWeights` copies them) and the options that go with
 * them. The number of experts is the router's row count; `topK` is the model config's
 * `num_experts_per_tok`, which the weights do not hold.
 *
 * @param family - see {@link MoECheckpointFamily}
 * @param layer - the layer index, a non-negative integer
 * @param get - returns the tensor of a name as a matrix in the file's layout
 * @returns `{ weights, options }` for {@link MixtureOfExperts.fromWeights} once `topK` is added
 * @throws TypeError for an unknown family, a bad layer index, a `get` that is not a function or
 *   a result that is not a matrix (the message names the tensor)
 * @category MixtureOfExperts
 * @example
 * ```ts
 * import { MixtureOfExperts, matrix, moeFromCheckpoint } from "tokenwise";
 * // A stand-in for a safetensors file: dModel 2, 3 experts of dHidden 4, every weight 0.25.
 * const file = (name: string) =>
 *   name.endsWith("gate.weight") ? matrix(3, 2, new Float32Array(6).fill(0.25))
 *   : name.includes(".w2.") ? matrix(2, 4, new Float32Array(8).fill(0.25))
 *   : matrix(4, 2, new Float32Array(8).fill(0.25));
 * const { weights, options } = moeFromCheckpoint("mixtral", 0, file);
 * const moe = MixtureOfExperts.fromWeights(weights, { ...options, topK: 2 });
 * console.log(moe.experts, moe.dHidden, options.layout, moe.routing.normalize);
 * // 3 4 linear true
 * ```
 */
export function moeFromCheckpoint(
  family: MoECheckpointFamily,
  layer: number,
  get: (name: string) => Matrix,
): { weights: MixtureOfExpertsWeights; options: Omit<MoEFromWeightsOptions, "topK"> } {
  const where = "moeFromCheckpoint";
  if (typeof family !== "string" || !(FAMILIES as string[]).includes(family)) {
    throw new TypeError(
      `${where}: family must be one of ${FAMILIES.map((f) => `"${f}"`).join(", ")}, got ${typeof family === "string" ? `"${family}"` : kindOf(family)}`,
    );
  }
  const n = String(assertSize(layer, where, "layer"));
  if (typeof get !== "function") {
    throw new TypeError(`${where}: get must be a function from a tensor name to a matrix`);
  }
  const names = MOE_CHECKPOINT_NAMES[family];
  const read = (name: string, e = 0) => {
    const full = name.replace("{N}", n).replace("{E}", String(e));
    return assertMatrix(get(full), where, `get("${full}")`);
  };
  const router = read(names.router);
  const gated = (
    p: { wGate: string; wUp: string; wDown: string },
    e = 0,
  ): GatedFeedForwardWeights => ({
    wGate: read(p.wGate, e),
    wUp: read(p.wUp, e),
    wDown: read(p.wDown, e),
  });
  const weights: MixtureOfExpertsWeights = {
    router,
    experts: Array.from({ length: router.rows }, (_, e) => gated(names.expert, e)),
  };
  if (names.shared !== undefined) {
    weights.shared = gated(names.shared);
    weights.sharedGate = read(names.shared.gate);
  }
  return {
    weights,
    options: {
      activation: names.activation,
      normalize: names.normalize,
      scoring: "softmax",
      layout: "linear",
    },
  };
}
