// Where a gated feedforward layer's tensors sit in Hugging Face checkpoints, and how to turn
// them into GatedFeedForward weights. Plain tables and functions, no file format: the io
// module (safetensors) supplies a getter from a tensor name to its data.
import { assertMatrix, assertSize, kindOf } from "../check";
import type { ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";
import type { GatedFeedForwardWeights } from "./gated";

/**
 * The checkpoint families whose gated MLP tensor names tokenwise knows: `"llama"` (LLaMA,
 * Llama 2 and 3, Mistral, Qwen2 and other models with LLaMA's layout), `"t5v1.1-encoder"` and
 * `"t5v1.1-decoder"` (T5 v1.1, Flan-T5, mT5: gated-GELU).
 *
 * @category GatedFeedForward
 */
export type GatedCheckpointFamily = "llama" | "t5v1.1-encoder" | "t5v1.1-decoder";

/**
 * The names of one family's gated MLP tensors, with `{N}` standing for the layer (block)
 * index. Each is an `nn.Linear` weight, stored (out, in): the transpose of tokenwise's layout.
 * None of these families has biases in its MLP.
 *
 * @category GatedFeedForward
 */
export interface GatedCheckpointNames {
  /** The gate projection, (dHidden, dModel) in the file. */
  wGate: string;
  /** The up projection, (dHidden, dModel) in the file. */
  wUp: string;
  /** The down projection, (dModel, dHidden) in the file. */
  wDown: string;
  /** The gate's activation in this family (its config's `hidden_act` or `dense_act_fn`). */
  activation: ActivationName;
}

/**
 * The tensor names of each family, with `{N}` for the layer index.
 *
 * @category GatedFeedForward
 * @example
 * ```ts
 * import { GATED_CHECKPOINT_NAMES } from "tokenwise";
 * console.log(GATED_CHECKPOINT_NAMES.llama.wGate, GATED_CHECKPOINT_NAMES.llama.activation);
 * // model.layers.{N}.mlp.gate_proj.weight silu
 * ```
 */
export const GATED_CHECKPOINT_NAMES: Readonly<
  Record<GatedCheckpointFamily, Readonly<GatedCheckpointNames>>
> = {
  llama: {
    wGate: "model.layers.{N}.mlp.gate_proj.weight",
    wUp: "model.layers.{N}.mlp.up_proj.weight",
    wDown: "model.layers.{N}.mlp.down_proj.weight",
    activation: "silu",
  },
  // T5DenseGatedActDense: wi_0 is the gate (through gelu_new), wi_1 the linear branch.
  "t5v1.1-encoder": {
    wGate: "encoder.block.{N}.layer.1.DenseReluDense.wi_0.weight",
    wUp: "encoder.block.{N}.layer.1.DenseReluDense.wi_1.weight",
    wDown: "encoder.block.{N}.layer.1.DenseReluDense.wo.weight",
    activation: "geluTanh",
  },
  "t5v1.1-decoder": {
    wGate: "decoder.block.{N}.layer.2.DenseReluDense.wi_0.weight",
    wUp: "decoder.block.{N}.layer.2.DenseReluDense.wi_1.weight",
    wDown: "decoder.block.{N}.layer.2.DenseReluDense.wo.weight",
    activation: "geluTanh",
  },
};

const FAMILIES = Object.keys(GATED_CHECKPOINT_NAMES) as GatedCheckpointFamily[];

function assertFamily(value: unknown, where: string): GatedCheckpointFamily {
  if (typeof value === "string" && (FAMILIES as string[]).includes(value)) {
    return value as GatedCheckpointFamily;
  }
  throw new TypeError(
    `${where}: family must be one of ${FAMILIES.map((f) => `"${f}"`).join(", ")}, got ${typeof value === "string" ? `"${value}"` : kindOf(value)}`,
  );
}

/**
 * The tensor names of layer `layer` of a checkpoint family.
 *
 * @param family - see {@link GatedCheckpointFamily}
 * @param layer - the layer (block) index, a non-negative integer
 * @returns the three names and the family's activation
 * @throws TypeError for an unknown family or a layer that is not a non-negative integer
 * @category GatedFeedForward
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
  return namesOf(family, layer, "gatedCheckpointNames");
}

function namesOf(family: unknown, layer: unknown, where: string): GatedCheckpointNames {
  const names = GATED_CHECKPOINT_NAMES[assertFamily(family, where)];
  const n = String(assertSize(layer, where, "layer"));
  return {
    wGate: names.wGate.replace("{N}", n),
    wUp: names.wUp.replace("{N}", n),
    wDown: names.wDown.replace("{N}", n),
    activation: names.activation,
  };
}

/** The transpose of an (r, c) matrix, copied: (c, r). */
function transposed(m: Matrix): Matrix {
  const { rows, cols, data } = m;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j] as number;
  }
  return { rows: cols, cols: rows, data: out };
}

/**
 * The weights of layer `layer` of a checkpoint, for {@link GatedFeedForward.fromWeights}:
 * reads the three `nn.Linear` weights by name through `get` and transposes each from the
 * file's (out, in) into tokenwise's (in, out) layout (copies; `get`'s arrays are not kept).
 *
 * @param family - see {@link GatedCheckpointFamily}
 * @param layer - the layer (block) index
 * @param get - returns the tensor of a name as a matrix in the file's layout, (out, in)
 * @returns `{ wGate, wUp, wDown }`; pass `gatedCheckpointNames(family, layer).activation` (or
 *   the model config's) as the layer's activation
 * @throws TypeError for an unknown family, a bad layer index, or a `get` result that is not a
 *   matrix (the message names the tensor)
 * @throws {@link ShapeError} from `get` results of inconsistent shapes, when the layer is built
 * @category GatedFeedForward
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
  const names = namesOf(family, layer, where);
  if (typeof get !== "function") {
    throw new TypeError(`${where}: get must be a function from a tensor name to a matrix`);
  }
  const read = (name: string) => transposed(assertMatrix(get(name), where, `get("${name}")`));
  return { wGate: read(names.wGate), wUp: read(names.wUp), wDown: read(names.wDown) };
}
