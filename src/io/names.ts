// Where each model family keeps its feedforward tensors, with its layout and activation: the
// models are data (one table row each), spelled by one function for both layers.
import { assertSize, kindOf } from "../check";
import type { ActivationName } from "../kernels/activation";
import type { GatedFeedForwardWeights } from "../layers/gated";
import type { Matrix } from "../matrix";
import {
  gatedWeightsThrough,
  type CheckpointLayout,
  type FeedForwardTensorNames,
  type GatedFeedForwardTensorNames,
} from "./checkpoint";

/** A family: its modules in the order of the layer's maps, bias or not, layout, activation. */
interface Family {
  readonly modules: readonly string[];
  readonly bias: boolean;
  readonly layout: CheckpointLayout;
  readonly activation: ActivationName;
}

const PLAIN_KEYS = [
  ["w1", "b1"],
  ["w2", "b2"],
] as const;
const GATED_KEYS = [
  ["wGate", "bGate"],
  ["wUp", "bUp"],
  ["wDown", "bDown"],
] as const;

// Each row is the model's published module structure (Hugging Face transformers' modeling
// files) and its config's activation; scripts/fixtures/make_checkpoint_fixtures.py builds each
// in PyTorch and the tests load it by these names.
const OPT: Family = { modules: ["fc1", "fc2"], bias: true, layout: "linear", activation: "relu" };
const T5: Family = { modules: ["wi", "wo"], bias: false, layout: "linear", activation: "relu" };
const GPT2: Family = {
  modules: ["mlp.c_fc", "mlp.c_proj"],
  bias: true,
  layout: "conv1d",
  activation: "geluTanh", // activation_function "gelu_new"
};
const BERT: Family = {
  modules: ["intermediate.dense", "output.dense"], // not attention.output.dense
  bias: true,
  layout: "linear",
  activation: "gelu", // hidden_act "gelu", the exact (erf) form
};
const LLAMA: Family = {
  modules: ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"],
  bias: false,
  layout: "linear",
  activation: "silu",
};
const GEMMA: Family = { ...LLAMA, activation: "geluTanh" }; // gelu_pytorch_tanh
const T5_GATED: Family = {
  modules: ["wi_0", "wi_1", "wo"], // T5DenseGatedActDense: wi_0 through the activation
  bias: false,
  layout: "linear",
  activation: "geluTanh", // feed_forward_proj "gated-gelu", which is gelu_new
};

/** The names of a family's tensors under `at` (the layer's own module path). */
function spell(
  keys: readonly (readonly [string, string])[],
  family: Family,
  at: string,
): Record<string, string> {
  const names: Record<string, string> = {};
  keys.forEach(([weight, bias], i) => {
    const module = `${at}.${family.modules[i] as string}`;
    names[weight] = `${module}.weight`;
    if (family.bias) names[bias] = `${module}.bias`;
  });
  return { ...names, layout: family.layout, activation: family.activation };
}

function plain(family: Family, at: string): FeedForwardTensorNames {
  return spell(PLAIN_KEYS, family, at) as unknown as FeedForwardTensorNames;
}

function gated(family: Family, at: string): GatedFeedForwardTensorNames {
  return spell(GATED_KEYS, family, at) as unknown as GatedFeedForwardTensorNames;
}

/** `${prefix}.${layer}`, both checked. */
function layerPath(where: string, layer: unknown, prefix: unknown): string {
  const n = assertSize(layer, where, "layer");
  if (typeof prefix !== "string") {
    throw new TypeError(`${where}: prefix must be a string, got ${kindOf(prefix)}`);
  }
  return `${prefix}.${n}`;
}

/** A T5 block's feedforward module: layer.1 in the encoder, layer.2 (after cross-attention) in the decoder. */
function t5Path(where: string, layer: unknown, stack: unknown): string {
  const n = assertSize(layer, where, "layer");
  if (stack !== "encoder" && stack !== "decoder") {
    throw new TypeError(`${where}: stack must be "encoder" or "decoder", got ${kindOf(stack)}`);
  }
  return t5Module(stack, String(n));
}

function t5Module(stack: "encoder" | "decoder", n: string): string {
  return `${stack}.block.${n}.layer.${stack === "encoder" ? 1 : 2}.DenseReluDense`;
}

/**
 * The feedforward tensors of decoder layer `layer` of an OPT model (facebook/opt-125m and its
 * siblings, `OPTForCausalLM`): `fc1` and `fc2`, `nn.Linear` with biases, ReLU between them.
 * BART and M2M100 name theirs the same way (`model.encoder.layers`, `model.decoder.layers`)
 * but with GELU: spread these names and set `activation: "gelu"`.
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number; `"model.decoder.layers"` (the default)
 *   in an `OPTForCausalLM` checkpoint, `"decoder.layers"` in a bare `OPTModel` one
 * @returns the names, layout `"linear"`, activation `"relu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { optFeedForwardNames } from "tokenwise";
 * const names = optFeedForwardNames(3);
 * console.log(names.w1, names.activation);
 * // model.decoder.layers.3.fc1.weight relu
 * ```
 */
export function optFeedForwardNames(
  layer: number,
  prefix = "model.decoder.layers",
): FeedForwardTensorNames {
  return plain(OPT, layerPath("optFeedForwardNames", layer, prefix));
}

/**
 * The feedforward tensors of block `layer` of a T5 v1.0 model (t5-small, t5-base, ...:
 * `DenseReluDense` with `wi` and `wo`, `nn.Linear` without biases, ReLU between them). The
 * encoder's feedforward is the block's `layer.1`, the decoder's `layer.2` (after its
 * cross-attention). T5 v1.1, Flan-T5 and mT5 use a gated GELU: {@link t5GatedFeedForwardNames}.
 *
 * @param layer - the block, from 0
 * @param stack - `"encoder"` (the default) or `"decoder"`
 * @returns the names, no biases, layout `"linear"`, activation `"relu"`
 * @throws TypeError if `layer` is not a non-negative integer or `stack` is neither
 * @category Checkpoints
 * @example
 * ```ts
 * import { t5FeedForwardNames } from "tokenwise";
 * console.log(t5FeedForwardNames(0, "decoder").w2);
 * // decoder.block.0.layer.2.DenseReluDense.wo.weight
 * ```
 */
export function t5FeedForwardNames(
  layer: number,
  stack: "encoder" | "decoder" = "encoder",
): FeedForwardTensorNames {
  return plain(T5, t5Path("t5FeedForwardNames", layer, stack));
}

/**
 * The feedforward tensors of block `layer` of a GPT-2 model (`GPT2MLP`): `mlp.c_fc` and
 * `mlp.c_proj`, GPT-2's `Conv1D` (weight stored in x out) with biases, and `gelu_new` (the
 * tanh form, `"geluTanh"`) between them.
 *
 * @param layer - the block, from 0
 * @param prefix - what comes before the block number: `"transformer.h"` (the default) in a
 *   checkpoint saved from `GPT2LMHeadModel`; `"h"` in one saved from a bare `GPT2Model`, as
 *   the original `gpt2` files are
 * @returns the names, layout `"conv1d"`, activation `"geluTanh"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { gpt2FeedForwardNames } from "tokenwise";
 * const names = gpt2FeedForwardNames(11);
 * console.log(names.w1, names.layout, names.activation);
 * // transformer.h.11.mlp.c_fc.weight conv1d geluTanh
 * ```
 */
export function gpt2FeedForwardNames(
  layer: number,
  prefix = "transformer.h",
): FeedForwardTensorNames {
  return plain(GPT2, layerPath("gpt2FeedForwardNames", layer, prefix));
}

/**
 * The feedforward tensors of encoder layer `layer` of a BERT model: `intermediate.dense` and
 * `output.dense` (not `attention.output.dense`), `nn.Linear` with biases, and the exact GELU
 * between them. The residual and `output.LayerNorm` after them are not part of this layer.
 *
 * @param layer - the encoder layer, from 0
 * @param prefix - what comes before the layer number: `"bert.encoder.layer"` (the default) in
 *   a checkpoint saved from a task model (`BertForMaskedLM`, `BertForPreTraining`, ...);
 *   `"encoder.layer"` in one saved from a bare `BertModel`
 * @returns the names, layout `"linear"`, activation `"gelu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { bertFeedForwardNames } from "tokenwise";
 * const names = bertFeedForwardNames(0);
 * console.log(names.w2, names.activation);
 * // bert.encoder.layer.0.output.dense.weight gelu
 * ```
 */
export function bertFeedForwardNames(
  layer: number,
  prefix = "bert.encoder.layer",
): FeedForwardTensorNames {
  return plain(BERT, layerPath("bertFeedForwardNames", layer, prefix));
}

/**
 * The feedforward tensors of encoder layer `layer` of a RoBERTa model: BERT's structure
 * ({@link bertFeedForwardNames}) under `roberta.`.
 *
 * @param layer - the encoder layer, from 0
 * @param prefix - what comes before the layer number: `"roberta.encoder.layer"` (the default);
 *   `"encoder.layer"` in a checkpoint saved from a bare `RobertaModel`
 * @returns the names, layout `"linear"`, activation `"gelu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { robertaFeedForwardNames } from "tokenwise";
 * console.log(robertaFeedForwardNames(5).b1);
 * // roberta.encoder.layer.5.intermediate.dense.bias
 * ```
 */
export function robertaFeedForwardNames(
  layer: number,
  prefix = "roberta.encoder.layer",
): FeedForwardTensorNames {
  return plain(BERT, layerPath("robertaFeedForwardNames", layer, prefix));
}

/**
 * The gated MLP tensors of decoder layer `layer` of a LLaMA model (Llama 1, 2, 3): `gate_proj`,
 * `up_proj` and `down_proj`, `nn.Linear` without biases, `down(silu(gate(x)) * up(x))`.
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number: `"model.layers"` (the default) in a
 *   `LlamaForCausalLM` checkpoint, `"layers"` in a bare `LlamaModel` one
 * @returns the names, layout `"linear"`, activation `"silu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { llamaFeedForwardNames } from "tokenwise";
 * const names = llamaFeedForwardNames(31);
 * console.log(names.wGate, names.activation);
 * // model.layers.31.mlp.gate_proj.weight silu
 * ```
 */
export function llamaFeedForwardNames(
  layer: number,
  prefix = "model.layers",
): GatedFeedForwardTensorNames {
  return gated(LLAMA, layerPath("llamaFeedForwardNames", layer, prefix));
}

/**
 * The gated MLP tensors of decoder layer `layer` of a Mistral model: LLaMA's structure and
 * activation ({@link llamaFeedForwardNames}), `MistralMLP`.
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number; `"model.layers"` by default
 * @returns the names, layout `"linear"`, activation `"silu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { mistralFeedForwardNames } from "tokenwise";
 * console.log(mistralFeedForwardNames(0).wUp);
 * // model.layers.0.mlp.up_proj.weight
 * ```
 */
export function mistralFeedForwardNames(
  layer: number,
  prefix = "model.layers",
): GatedFeedForwardTensorNames {
  return gated(LLAMA, layerPath("mistralFeedForwardNames", layer, prefix));
}

/**
 * The gated MLP tensors of decoder layer `layer` of a Qwen2 model: LLaMA's structure and
 * activation ({@link llamaFeedForwardNames}), `Qwen2MLP` (Qwen2's biases are in its attention,
 * not its MLP).
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number; `"model.layers"` by default
 * @returns the names, layout `"linear"`, activation `"silu"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { qwen2FeedForwardNames } from "tokenwise";
 * console.log(qwen2FeedForwardNames(1).wDown);
 * // model.layers.1.mlp.down_proj.weight
 * ```
 */
export function qwen2FeedForwardNames(
  layer: number,
  prefix = "model.layers",
): GatedFeedForwardTensorNames {
  return gated(LLAMA, layerPath("qwen2FeedForwardNames", layer, prefix));
}

/**
 * The gated MLP tensors of decoder layer `layer` of a Gemma model: LLaMA's structure
 * (`gate_proj`, `up_proj`, `down_proj`, no biases) with the tanh GELU as the gate's activation
 * (`gelu_pytorch_tanh`, `"geluTanh"`).
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number; `"model.layers"` by default
 * @returns the names, layout `"linear"`, activation `"geluTanh"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { gemmaFeedForwardNames } from "tokenwise";
 * const names = gemmaFeedForwardNames(2);
 * console.log(names.wGate, names.activation);
 * // model.layers.2.mlp.gate_proj.weight geluTanh
 * ```
 */
export function gemmaFeedForwardNames(
  layer: number,
  prefix = "model.layers",
): GatedFeedForwardTensorNames {
  return gated(GEMMA, layerPath("gemmaFeedForwardNames", layer, prefix));
}

/**
 * The gated feedforward tensors of block `layer` of a T5 v1.1 model (T5 v1.1, Flan-T5, mT5:
 * `T5DenseGatedActDense`): `wi_0` (the gate, through `gelu_new`, the tanh GELU), `wi_1` (the
 * linear branch) and `wo`, `nn.Linear` without biases. The encoder's feedforward is the block's
 * `layer.1`, the decoder's `layer.2`.
 *
 * @param layer - the block, from 0
 * @param stack - `"encoder"` (the default) or `"decoder"`
 * @returns the names, layout `"linear"`, activation `"geluTanh"`
 * @throws TypeError if `layer` is not a non-negative integer or `stack` is neither
 * @category Checkpoints
 * @example
 * ```ts
 * import { t5GatedFeedForwardNames } from "tokenwise";
 * console.log(t5GatedFeedForwardNames(2).wGate);
 * // encoder.block.2.layer.1.DenseReluDense.wi_0.weight
 * ```
 */
export function t5GatedFeedForwardNames(
  layer: number,
  stack: "encoder" | "decoder" = "encoder",
): GatedFeedForwardTensorNames {
  return gated(T5_GATED, t5Path("t5GatedFeedForwardNames", layer, stack));
}

// ---------------------------------------------------------------------------------------------
// The earlier gated API, kept working over the names above.

/**
 * The gated checkpoint families of {@link gatedCheckpointNames}.
 *
 * @deprecated Use the family's own names function ({@link llamaFeedForwardNames},
 *   {@link t5GatedFeedForwardNames}, ...), which also covers Mistral, Qwen2 and Gemma.
 * @category Checkpoints
 */
export type GatedCheckpointFamily = "llama" | "t5v1.1-encoder" | "t5v1.1-decoder";

/**
 * The names of one family's gated MLP tensors.
 *
 * @deprecated The same as {@link GatedFeedForwardTensorNames}.
 * @category Checkpoints
 */
export type GatedCheckpointNames = GatedFeedForwardTensorNames;

const FAMILIES: Readonly<Record<GatedCheckpointFamily, (n: string) => GatedCheckpointNames>> = {
  llama: (n) => gated(LLAMA, `model.layers.${n}`),
  "t5v1.1-encoder": (n) => gated(T5_GATED, t5Module("encoder", n)),
  "t5v1.1-decoder": (n) => gated(T5_GATED, t5Module("decoder", n)),
};

/**
 * The tensor names of each family, with `{N}` for the layer index.
 *
 * @deprecated Use the family's own names function, such as {@link llamaFeedForwardNames}.
 * @category Checkpoints
 * @example
 * ```ts
 * import { GATED_CHECKPOINT_NAMES } from "tokenwise";
 * console.log(GATED_CHECKPOINT_NAMES.llama.wGate, GATED_CHECKPOINT_NAMES.llama.activation);
 * // model.layers.{N}.mlp.gate_proj.weight silu
 * ```
 */
export const GATED_CHECKPOINT_NAMES: Readonly<
  Record<GatedCheckpointFamily, Readonly<GatedCheckpointNames>>
> = /* @__PURE__ */ (() => ({
  llama: FAMILIES.llama("{N}"),
  "t5v1.1-encoder": FAMILIES["t5v1.1-encoder"]("{N}"),
  "t5v1.1-decoder": FAMILIES["t5v1.1-decoder"]("{N}"),
}))();

function familyNames(family: unknown, layer: unknown, where: string): GatedCheckpointNames {
  const known = Object.keys(FAMILIES);
  if (typeof family !== "string" || !known.includes(family)) {
    throw new TypeError(
      `${where}: family must be one of ${known.map((f) => `"${f}"`).join(", ")}, got ${typeof family === "string" ? `"${family}"` : kindOf(family)}`,
    );
  }
  const n = assertSize(layer, where, "layer");
  return FAMILIES[family as GatedCheckpointFamily](String(n));
}

/**
 * The tensor names of layer `layer` of a checkpoint family.
 *
 * @deprecated Use the family's own names function, such as {@link llamaFeedForwardNames}.
 * @param family - see {@link GatedCheckpointFamily}
 * @param layer - the layer (block) index, a non-negative integer
 * @returns the names, their layout and the family's activation
 * @throws TypeError for an unknown family or a layer that is not a non-negative integer
 * @category Checkpoints
 * @example
 * ```ts
 * import { gatedCheckpointNames } from "tokenwise";
 * console.log(gatedCheckpointNames("llama", 3).wDown);
 * // model.layers.3.mlp.down_proj.weight
 * ```
 */
export function gatedCheckpointNames(
  family: GatedCheckpointFamily,
  layer: number,
): GatedCheckpointNames {
  return familyNames(family, layer, "gatedCheckpointNames");
}

/**
 * The weights of layer `layer` of a checkpoint, for {@link GatedFeedForward.fromWeights}:
 * reads the three `nn.Linear` weights by name through `get` and transposes each from the
 * file's (out, in) into tokenwise's (in, out) layout (copies; `get`'s arrays are not kept).
 *
 * @deprecated Use {@link gatedFeedForwardWeightsFromCheckpoint} (or
 *   {@link gatedFeedForwardFromCheckpoint}) with the parsed file and the family's names.
 * @param family - see {@link GatedCheckpointFamily}
 * @param layer - the layer (block) index
 * @param get - returns the tensor of a name as a matrix in the file's layout, (out, in)
 * @returns `{ wGate, wUp, wDown }`; pass `gatedCheckpointNames(family, layer).activation` as the
 *   layer's activation
 * @throws TypeError for an unknown family, a bad layer index, or a `get` result that is not a
 *   matrix (the message names the tensor)
 * @throws {@link ShapeError} for `get` results whose shapes do not fit each other
 * @category Checkpoints
 * @example
 * ```ts
 * import { GatedFeedForward, gatedWeightsFromCheckpoint, matrix } from "tokenwise";
 * // A stand-in for a safetensors file: dModel 2, dHidden 3, every weight 0.5.
 * const file = (name: string) =>
 *   name.includes("down_proj") ? matrix(2, 3, new Float32Array(6).fill(0.5))
 *                              : matrix(3, 2, new Float32Array(6).fill(0.5));
 * const w = gatedWeightsFromCheckpoint("llama", 0, file);
 * const layer = GatedFeedForward.fromWeights(w, { activation: "silu" });
 * console.log(w.wGate.rows, w.wGate.cols, layer.dModel, layer.dHidden);
 * // 2 3 2 3
 * ```
 */
export function gatedWeightsFromCheckpoint(
  family: GatedCheckpointFamily,
  layer: number,
  get: (name: string) => Matrix,
): GatedFeedForwardWeights {
  const where = "gatedWeightsFromCheckpoint";
  const names = familyNames(family, layer, where);
  if (typeof get !== "function") {
    throw new TypeError(`${where}: get must be a function from a tensor name to a matrix`);
  }
  return gatedWeightsThrough(names, get, where);
}
