// From a model's own tensors to a FeedForward layer and back: which tensors, in which layout.
import { assertOptions, kindOf } from "../check";
import { ShapeError } from "../errors";
import {
  FeedForward,
  type FeedForwardWeights,
  type FromWeightsOptions,
} from "../layers/feedforward";
import {
  SafetensorsError,
  serializeSafetensors,
  tensorToFloat32,
  type SafetensorsFile,
  type SafetensorsTensor,
  type SafetensorsTensorInput,
  type ShardedSafetensors,
} from "./safetensors";

/**
 * How a checkpoint stores a weight matrix.
 *
 * - `"linear"`: PyTorch's `nn.Linear`, `weight` is (out, in), and the layer computes
 *   `x · weightᵀ + bias`. OPT, T5, BERT, Llama and most models store their weights so.
 * - `"conv1d"`: the `Conv1D` of GPT-2 in Hugging Face transformers, `weight` is (in, out), and
 *   the layer computes `x · weight + bias`: tokenwise's own layout.
 *
 * @category Checkpoints
 */
export type CheckpointLayout = "linear" | "conv1d";

/**
 * Where a FeedForward layer's weights are in a checkpoint: the tensor names, and their layout.
 * `w1`/`b1` are the expansion (dModel to dHidden, before the ReLU), `w2`/`b2` the condensation.
 * The biases are both named or both absent.
 *
 * @category Checkpoints
 */
export interface FeedForwardTensorNames {
  /** The expansion's weight. */
  readonly w1: string;
  /** The expansion's bias, if the layer has biases. */
  readonly b1?: string | undefined;
  /** The condensation's weight. */
  readonly w2: string;
  /** The condensation's bias, if the layer has biases. */
  readonly b2?: string | undefined;
  /** How `w1` and `w2` are stored. */
  readonly layout: CheckpointLayout;
}

const NAME_KEYS = ["w1", "b1", "w2", "b2", "layout"] as const;

function assertLayer(layer: unknown, where: string): number {
  if (typeof layer === "number" && Number.isSafeInteger(layer) && layer >= 0) return layer;
  throw new TypeError(`${where}: layer must be a non-negative integer, got ${kindOf(layer)}`);
}

/**
 * The feedforward tensors of layer `layer` of an OPT model (facebook/opt-125m and its
 * siblings, Hugging Face `OPTForCausalLM`): `fc1` and `fc2`, `nn.Linear` with biases, ReLU
 * between them.
 *
 * @param layer - the decoder layer, from 0
 * @param prefix - what comes before the layer number; `"model.decoder.layers"` (the default)
 *   in an `OPTForCausalLM` checkpoint, `"decoder.layers"` in a bare `OPTModel` one
 * @returns the names, layout `"linear"`
 * @throws TypeError if `layer` is not a non-negative integer or `prefix` not a string
 * @category Checkpoints
 * @example
 * ```ts
 * import { optFeedForwardNames } from "tokenwise";
 * console.log(optFeedForwardNames(3).w1);
 * // model.decoder.layers.3.fc1.weight
 * ```
 */
export function optFeedForwardNames(
  layer: number,
  prefix = "model.decoder.layers",
): FeedForwardTensorNames {
  const where = "optFeedForwardNames";
  const n = assertLayer(layer, where);
  if (typeof prefix !== "string") {
    throw new TypeError(`${where}: prefix must be a string, got ${kindOf(prefix)}`);
  }
  const at = `${prefix}.${n}`;
  return {
    w1: `${at}.fc1.weight`,
    b1: `${at}.fc1.bias`,
    w2: `${at}.fc2.weight`,
    b2: `${at}.fc2.bias`,
    layout: "linear",
  };
}

/**
 * The feedforward tensors of block `layer` of a T5 v1.0 model (t5-small, t5-base, ...:
 * `DenseReluDense` with `wi` and `wo`, `nn.Linear` without biases, ReLU between them). The
 * encoder's feedforward is the block's `layer.1`, the decoder's `layer.2` (after its
 * cross-attention). T5 v1.1 and Flan-T5 use a gated GELU (`wi_0`, `wi_1`), which is not this
 * layer.
 *
 * @param layer - the block, from 0
 * @param stack - `"encoder"` (the default) or `"decoder"`
 * @returns the names, no biases, layout `"linear"`
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
  const where = "t5FeedForwardNames";
  const n = assertLayer(layer, where);
  if (stack !== "encoder" && stack !== "decoder") {
    throw new TypeError(`${where}: stack must be "encoder" or "decoder", got ${kindOf(stack)}`);
  }
  const at = `${stack}.block.${n}.layer.${stack === "encoder" ? 1 : 2}.DenseReluDense`;
  return { w1: `${at}.wi.weight`, w2: `${at}.wo.weight`, layout: "linear" };
}

function checkNames(value: unknown, where: string): FeedForwardTensorNames {
  if (value === undefined)
    throw new TypeError(`${where}: names { w1, w2, b1?, b2?, layout } are required`);
  const names = assertOptions<FeedForwardTensorNames>(value, NAME_KEYS, where, "names");
  for (const key of ["w1", "w2"] as const) {
    if (typeof names[key] !== "string") {
      throw new TypeError(
        `${where}: names.${key} must be a tensor name, got ${kindOf(names[key])}`,
      );
    }
  }
  for (const key of ["b1", "b2"] as const) {
    if (names[key] !== undefined && typeof names[key] !== "string") {
      throw new TypeError(
        `${where}: names.${key} must be a tensor name or absent, got ${kindOf(names[key])}`,
      );
    }
  }
  if ((names.b1 === undefined) !== (names.b2 === undefined)) {
    throw new TypeError(`${where}: names.b1 and names.b2 must both be given or both be absent`);
  }
  if (names.layout === undefined) {
    throw new TypeError(
      `${where}: names.layout is missing: "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out)`,
    );
  }
  if (names.layout !== "linear" && names.layout !== "conv1d") {
    throw new TypeError(
      `${where}: names.layout must be "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out), got ${kindOf(names.layout)}`,
    );
  }
  return names as FeedForwardTensorNames;
}

/** The transpose of a row-major (rows, cols) array: (cols, rows). */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j] as number;
  }
  return out;
}

function tensorMap(value: unknown, where: string): ReadonlyMap<string, SafetensorsTensor> {
  if (value instanceof Map) return value as ReadonlyMap<string, SafetensorsTensor>;
  const inner = (value as { tensors?: unknown } | null)?.tensors;
  if (inner instanceof Map) return inner as ReadonlyMap<string, SafetensorsTensor>;
  throw new TypeError(
    `${where}: tensors must be a Map of tensors or a parsed file { tensors }, got ${kindOf(value)}`,
  );
}

/**
 * Builds a FeedForward layer from a model's tensors, such as a parsed safetensors file: finds
 * the named tensors, converts them to float32 ({@link tensorToFloat32}: F32 as is, F16 and BF16
 * exactly), puts `"linear"` weights in tokenwise's (in, out) layout by transposing them, checks
 * that every shape fits, and calls {@link FeedForward.fromWeights}. The layer then computes
 * what the model's own `relu(fc1(x))` into `fc2` computes.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are: {@link optFeedForwardNames}, {@link t5FeedForwardNames},
 *   or your own {@link FeedForwardTensorNames}
 * @param options - passed to {@link FeedForward.fromWeights}
 * @returns the layer, with its own copy of the weights
 * @throws TypeError for arguments of the wrong kind, or names without a valid layout
 * @throws {@link SafetensorsError} with code `TensorNotFound` for a named tensor the file lacks,
 *   or `UnsupportedDtype` for one that is not F32, F16 or BF16
 * @throws {@link ShapeError} for a tensor whose shape does not fit the others, naming it
 * @category Checkpoints
 * @example
 * ```ts
 * import { feedForwardFromCheckpoint, parseSafetensors, serializeSafetensors } from "tokenwise";
 * const f32 = (shape: number[], ...v: number[]) => ({ dtype: "F32" as const, shape, data: new Float32Array(v) });
 * const file = parseSafetensors(serializeSafetensors({
 *   "fc1.weight": f32([2, 1], 1, -1), "fc1.bias": f32([2], 0, 0), // nn.Linear(1, 2): out x in
 *   "fc2.weight": f32([1, 2], 2, 3), "fc2.bias": f32([1], 0.5),   // nn.Linear(2, 1)
 * }));
 * const ffn = feedForwardFromCheckpoint(file, {
 *   w1: "fc1.weight", b1: "fc1.bias", w2: "fc2.weight", b2: "fc2.bias", layout: "linear",
 * });
 * console.log(ffn.dModel, ffn.dHidden, ffn.forwardToken(new Float32Array([1])));
 * // 1 2 Float32Array(1) [ 2.5 ]
 * ```
 */
export function feedForwardFromCheckpoint(
  tensors: ReadonlyMap<string, SafetensorsTensor> | SafetensorsFile | ShardedSafetensors,
  names: FeedForwardTensorNames,
  options?: FromWeightsOptions,
): FeedForward {
  return FeedForward.fromWeights(readWeights(tensors, names, "feedForwardFromCheckpoint"), options);
}

/**
 * The weights of a FeedForward layer from a model's tensors, in tokenwise's layout: what
 * {@link feedForwardFromCheckpoint} reads, checks and converts before it builds the layer. Use
 * it to build the layer another way, such as on worker threads with
 * `await FeedForward.create({ weights, threads })`.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are (see {@link feedForwardFromCheckpoint})
 * @returns `w1` (dModel, dHidden) and `w2` (dHidden, dModel), and the biases if `names` has
 *   them; new arrays that share no memory with the file
 * @throws as {@link feedForwardFromCheckpoint} does, but never for options
 * @category Checkpoints
 * @example
 * ```ts
 * import { FeedForward, feedForwardWeightsFromCheckpoint, parseSafetensors, serializeSafetensors } from "tokenwise";
 * const file = parseSafetensors(serializeSafetensors({
 *   wi: { dtype: "F32", shape: [3, 2], data: new Float32Array(6).fill(1) }, // nn.Linear(2, 3, bias=False)
 *   wo: { dtype: "F32", shape: [2, 3], data: new Float32Array(6).fill(0.5) },
 * }));
 * const weights = feedForwardWeightsFromCheckpoint(file, { w1: "wi", w2: "wo", layout: "linear" });
 * console.log(weights.w1.rows, weights.w1.cols, "b1" in weights);
 * // 2 3 false
 * const ffn = await FeedForward.create({ weights });
 * console.log(ffn.forwardToken(new Float32Array([1, 2])));
 * // Float32Array(2) [ 4.5, 4.5 ]
 * ffn.dispose();
 * ```
 */
export function feedForwardWeightsFromCheckpoint(
  tensors: ReadonlyMap<string, SafetensorsTensor> | SafetensorsFile | ShardedSafetensors,
  names: FeedForwardTensorNames,
): FeedForwardWeights {
  return readWeights(tensors, names, "feedForwardWeightsFromCheckpoint");
}

function readWeights(tensors: unknown, names: unknown, where: string): FeedForwardWeights {
  const map = tensorMap(tensors, where);
  const n = checkNames(names, where);
  const get = (name: string, rank: number): SafetensorsTensor => {
    const t = map.get(name);
    if (t === undefined) {
      throw new SafetensorsError(
        "TensorNotFound",
        `${where}: tensor ${JSON.stringify(name)} is not in the checkpoint (${map.size} tensors${nearby(map, name)})`,
        name,
      );
    }
    if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16") {
      throw new SafetensorsError(
        "UnsupportedDtype",
        `${where}: tensor ${JSON.stringify(name)} has dtype ${t.dtype}; weights must be F32, F16 or BF16`,
        name,
      );
    }
    if (t.shape.length !== rank) {
      throw new ShapeError(
        `${where}: tensor ${JSON.stringify(name)} has shape [${t.shape.join(", ")}], expected ${rank === 2 ? "a matrix (2 dimensions)" : "a vector (1 dimension)"}`,
      );
    }
    return t;
  };
  const t1 = get(n.w1, 2);
  const t2 = get(n.w2, 2);
  const linear = n.layout === "linear";
  // (dModel, dHidden) from w1: stored (dHidden, dModel) by nn.Linear, (dModel, dHidden) by Conv1D.
  const dModel = t1.shape[linear ? 1 : 0] as number;
  const dHidden = t1.shape[linear ? 0 : 1] as number;
  const w2Rows = linear ? dModel : dHidden;
  const w2Cols = linear ? dHidden : dModel;
  if (t2.shape[0] !== w2Rows || t2.shape[1] !== w2Cols) {
    throw new ShapeError(
      `${where}: tensor ${JSON.stringify(n.w2)} has shape [${t2.shape.join(", ")}], expected [${w2Rows}, ${w2Cols}] to fit ${JSON.stringify(n.w1)} [${t1.shape.join(", ")}] (layout "${n.layout}")`,
    );
  }
  const bias = (
    name: string | undefined,
    length: number,
    what: string,
  ): Float32Array | undefined => {
    if (name === undefined) return undefined;
    const t = get(name, 1);
    if (t.shape[0] !== length) {
      throw new ShapeError(
        `${where}: tensor ${JSON.stringify(name)} has shape [${t.shape.join(", ")}], expected [${length}] (${what})`,
      );
    }
    return tensorToFloat32(t);
  };
  const b1 = bias(n.b1, dHidden, "dHidden");
  const b2 = bias(n.b2, dModel, "dModel");
  const w1 = linear ? transpose(tensorToFloat32(t1), dHidden, dModel) : tensorToFloat32(t1);
  const w2 = linear ? transpose(tensorToFloat32(t2), dModel, dHidden) : tensorToFloat32(t2);
  const weights: FeedForwardWeights = {
    w1: { rows: dModel, cols: dHidden, data: w1 },
    w2: { rows: dHidden, cols: dModel, data: w2 },
  };
  if (b1 !== undefined && b2 !== undefined) {
    weights.b1 = b1;
    weights.b2 = b2;
  }
  return weights;
}

/** A hint for a name not found: up to three names of the file that share its last part. */
function nearby(map: ReadonlyMap<string, unknown>, name: string): string {
  const tail = name.split(".").slice(-2).join(".");
  const like: string[] = [];
  for (const key of map.keys()) {
    if (key.endsWith(tail)) like.push(JSON.stringify(key));
    if (like.length === 3) break;
  }
  return like.length === 0 ? "" : `; similar names: ${like.join(", ")}`;
}

/**
 * A layer's weights as F32 tensors named and laid out as the checkpoint stores them: the
 * inverse of {@link feedForwardFromCheckpoint}. Merge the maps of several layers into one
 * `Map` to write a whole model with {@link serializeSafetensors}.
 *
 * @param ffn - the layer
 * @param names - where to put the weights; with biases exactly when the layer has them
 * @returns the tensors by name, each with its own copy of the data
 * @throws TypeError for names of the wrong kind, or bias names that do not match `ffn.hasBias`
 * @category Checkpoints
 * @example
 * ```ts
 * import { FeedForward, feedForwardTensors, t5FeedForwardNames } from "tokenwise";
 * const ffn = FeedForward.fromWeights({
 *   w1: { rows: 2, cols: 3, data: new Float32Array(6) }, w2: { rows: 3, cols: 2, data: new Float32Array(6) },
 * });
 * const names = t5FeedForwardNames(0); // nn.Linear: wi is stored (dHidden, dModel)
 * const tensors = feedForwardTensors(ffn, names);
 * console.log(tensors.size, tensors.get(names.w1)?.shape);
 * // 2 [ 3, 2 ]
 * ```
 */
export function feedForwardTensors(
  ffn: FeedForward,
  names: FeedForwardTensorNames,
): Map<string, SafetensorsTensorInput> {
  const where = "feedForwardTensors";
  if (!(ffn instanceof FeedForward)) {
    throw new TypeError(`${where}: ffn must be a FeedForward, got ${kindOf(ffn)}`);
  }
  const n = checkNames(names, where);
  if ((n.b1 !== undefined) !== ffn.hasBias) {
    throw new TypeError(
      `${where}: the layer ${ffn.hasBias ? "has biases but names.b1 and names.b2 are absent" : "has no biases but names.b1 and names.b2 are given"}`,
    );
  }
  const { dModel, dHidden } = ffn;
  const w = ffn.weights;
  const linear = n.layout === "linear";
  const out = new Map<string, SafetensorsTensorInput>();
  out.set(n.w1, {
    dtype: "F32",
    shape: linear ? [dHidden, dModel] : [dModel, dHidden],
    data: linear ? transpose(w.w1.data, dModel, dHidden) : w.w1.data,
  });
  if (n.b1 !== undefined && w.b1 !== undefined)
    out.set(n.b1, { dtype: "F32", shape: [dHidden], data: w.b1 });
  out.set(n.w2, {
    dtype: "F32",
    shape: linear ? [dModel, dHidden] : [dHidden, dModel],
    data: linear ? transpose(w.w2.data, dHidden, dModel) : w.w2.data,
  });
  if (n.b2 !== undefined && w.b2 !== undefined)
    out.set(n.b2, { dtype: "F32", shape: [dModel], data: w.b2 });
  return out;
}

/**
 * A layer as a safetensors file, its weights named and laid out as `names` says. Loading it
 * back with {@link feedForwardFromCheckpoint} and the same names gives the same weights, bit
 * for bit.
 *
 * @param ffn - the layer
 * @param names - where to put the weights
 * @param metadata - optional `__metadata__` strings
 * @returns the file's bytes
 * @throws TypeError as {@link feedForwardTensors} and {@link serializeSafetensors} do
 * @category Checkpoints
 * @example
 * ```ts
 * import { FeedForward, feedForwardFromCheckpoint, feedForwardToSafetensors, optFeedForwardNames, parseSafetensors } from "tokenwise";
 * const a = new FeedForward({ dModel: 4, dHidden: 16, seed: 3 });
 * const bytes = feedForwardToSafetensors(a, optFeedForwardNames(0), { format: "pt" });
 * const b = feedForwardFromCheckpoint(parseSafetensors(bytes), optFeedForwardNames(0));
 * console.log(b.weights.w2.data.every((v, i) => Object.is(v, a.weights.w2.data[i])));
 * // true
 * ```
 */
export function feedForwardToSafetensors(
  ffn: FeedForward,
  names: FeedForwardTensorNames,
  metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null,
): Uint8Array {
  return serializeSafetensors(feedForwardTensors(ffn, names), metadata);
}
