// From a model's own tensors to a layer and back, for both layers by one mechanism: a names
// spec says which tensor holds each weight, how the checkpoint lays its matrices out, and the
// model's activation; a small table per layer (LayerIo) says which linear maps it has. Reading
// and writing walk that table, so the plain and the gated layer share every line of it.
import { assertMatrix, assertOptions, kindOf } from "../check";
import { ShapeError } from "../errors";
import { ACTIVATIONS, type ActivationName } from "../kernels/activation";
import { assertActivation } from "../layers/options";
import { type WeightDtype, isQuant } from "../dtype";
import { float32Maps } from "../kernels/unpack";
import type { StoredTensors } from "../kernels/kernel";
import {
  type StoredOptions,
  type StoredWeights,
  buildFromStored,
  buildFromStoredAsync,
  construct,
} from "../layers/build";
import { type Layer, storedWeights } from "../layers/core";
import {
  FEEDFORWARD,
  FeedForward,
  type FeedForwardWeights,
  type FromWeightsOptions,
} from "../layers/feedforward";
import {
  GATED,
  GatedFeedForward,
  type GatedFeedForwardWeights,
  type GatedFromWeightsOptions,
} from "../layers/gated";
import type { KernelChoice } from "../layers/options";
import type { Matrix } from "../matrix";
import { transposeKernel } from "../ops/transpose";
import {
  assertFloatDtype,
  bits16Of,
  checkTensor,
  float32Of,
  SafetensorsError,
  serializeSafetensors,
  type CheckedTensor,
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
 * What every names spec says besides the tensor names: how the checkpoint lays out its
 * matrices, and the model's activation. Loading a layer by its names gives the model's layer.
 *
 * @category Checkpoints
 */
export interface CheckpointLayerNames {
  /** How the weights are stored. */
  readonly layout: CheckpointLayout;
  /**
   * The model's activation (its `config.json`'s `hidden_act`, `activation_function` or
   * `feed_forward_proj`): GPT-2's `gelu_new` is `"geluTanh"`, BERT's `gelu` is `"gelu"`.
   * A loader's `options.activation` overrides it.
   */
  readonly activation: ActivationName;
}

/**
 * Where a {@link FeedForward} layer's weights are in a checkpoint: `w1`/`b1` the expansion
 * (dModel to dHidden, before the activation), `w2`/`b2` the condensation. The biases are both
 * named or both absent. {@link optFeedForwardNames}, {@link gpt2FeedForwardNames} and their
 * siblings make them.
 *
 * @category Checkpoints
 */
export interface FeedForwardTensorNames extends CheckpointLayerNames {
  /** The expansion's weight. */
  readonly w1: string;
  /** The expansion's bias, if the layer has biases. */
  readonly b1?: string | undefined;
  /** The condensation's weight. */
  readonly w2: string;
  /** The condensation's bias, if the layer has biases. */
  readonly b2?: string | undefined;
}

/**
 * Where a {@link GatedFeedForward} layer's weights are in a checkpoint: the gate and up
 * projections (dModel to dHidden) and the down projection (dHidden to dModel). The biases are
 * all named or all absent (absent in every family tokenwise names). {@link llamaFeedForwardNames}
 * and its siblings make them.
 *
 * @category Checkpoints
 */
export interface GatedFeedForwardTensorNames extends CheckpointLayerNames {
  /** The gate projection's weight (LLaMA's `gate_proj`, T5 v1.1's `wi_0`). */
  readonly wGate: string;
  /** The gate projection's bias, if the layer has biases. */
  readonly bGate?: string | undefined;
  /** The up projection's weight (LLaMA's `up_proj`, T5 v1.1's `wi_1`). */
  readonly wUp: string;
  /** The up projection's bias, if the layer has biases. */
  readonly bUp?: string | undefined;
  /** The down projection's weight (LLaMA's `down_proj`, T5 v1.1's `wo`). */
  readonly wDown: string;
  /** The down projection's bias, if the layer has biases. */
  readonly bDown?: string | undefined;
}

/**
 * A model's tensors: a parsed file, a sharded one, or the `tensors` map of either.
 *
 * @category Checkpoints
 */
export type CheckpointTensors =
  ReadonlyMap<string, SafetensorsTensor> | SafetensorsFile | ShardedSafetensors;

// ---------------------------------------------------------------------------------------------
// The mechanism. A layer's linear maps, each a weight key and a bias key (the same keys in
// the names spec and in the layer's weights) and the dimensions it maps between.

type Dim = "dModel" | "dHidden";

interface MapIo {
  readonly weight: string;
  readonly bias: string;
  readonly from: Dim;
  readonly to: Dim;
}

/** What io/ needs of a layer class. */
interface LayerIo<L> {
  readonly maps: readonly MapIo[];
  readonly className: string;
  /** A weight key of the other layer, and what to call for it: names given to the wrong loader. */
  readonly otherKey: string;
  readonly otherFunctions: string;
  isLayer(value: unknown): value is L;
  /** The layer from weights a loader found and checked (see {@link buildFromStored}). */
  fromStored(
    stored: StoredWeights,
    options: StoredOptions,
    where: string,
    label: (i: number) => string,
  ): L;
  fromStoredAsync(
    stored: StoredWeights,
    options: StoredOptions,
    where: string,
    label: (i: number) => string,
  ): Promise<L>;
}

const LOADER_OPTIONS = ["kernel", "activation", "dtype", "layout", "sparse"];

interface LayerView {
  readonly hasBias: boolean;
  readonly activation: ActivationName;
  readonly dtype: WeightDtype;
  readonly dModel: number;
  readonly dHidden: number;
}

const FEEDFORWARD_IO: LayerIo<FeedForward> = {
  maps: [
    { weight: "w1", bias: "b1", from: "dModel", to: "dHidden" },
    { weight: "w2", bias: "b2", from: "dHidden", to: "dModel" },
  ],
  className: "FeedForward",
  otherKey: "wGate",
  otherFunctions: "gatedFeedForwardFromCheckpoint and its siblings",
  isLayer: (value): value is FeedForward => value instanceof FeedForward,
  fromStored: (stored, options, where, label) =>
    construct(FeedForward, buildFromStored(FEEDFORWARD, stored, options, where, label)),
  fromStoredAsync: async (stored, options, where, label) =>
    construct(FeedForward, await buildFromStoredAsync(FEEDFORWARD, stored, options, where, label)),
};

const GATED_IO: LayerIo<GatedFeedForward> = {
  maps: [
    { weight: "wGate", bias: "bGate", from: "dModel", to: "dHidden" },
    { weight: "wUp", bias: "bUp", from: "dModel", to: "dHidden" },
    { weight: "wDown", bias: "bDown", from: "dHidden", to: "dModel" },
  ],
  className: "GatedFeedForward",
  otherKey: "w1",
  otherFunctions: "feedForwardFromCheckpoint and its siblings",
  isLayer: (value): value is GatedFeedForward => value instanceof GatedFeedForward,
  fromStored: (stored, options, where, label) =>
    construct(GatedFeedForward, buildFromStored(GATED, stored, options, where, label)),
  fromStoredAsync: async (stored, options, where, label) =>
    construct(GatedFeedForward, await buildFromStoredAsync(GATED, stored, options, where, label)),
};

/** A names spec, checked and read once: the tensor name of each key, layout, activation. */
interface Names {
  readonly tensors: Readonly<Record<string, string | undefined>>;
  readonly bias: boolean;
  readonly layout: CheckpointLayout;
  readonly activation: ActivationName;
}

const quote = (s: string) => JSON.stringify(s);

/** "names.b1 and names.b2", "names.bGate, names.bUp and names.bDown" */
function listNames(keys: readonly string[]): string {
  const list = keys.map((k) => `names.${k}`);
  return `${list.slice(0, -1).join(", ")} and ${list.at(-1) as string}`;
}

function checkNames(io: LayerIo<unknown>, value: unknown, where: string): Names {
  const weightKeys = io.maps.map((m) => m.weight);
  const biasKeys = io.maps.map((m) => m.bias);
  const listed = [...weightKeys, ...biasKeys.map((k) => `${k}?`), "layout", "activation"].join(
    ", ",
  );
  if (value === undefined) throw new TypeError(`${where}: names { ${listed} } are required`);
  const known = [...io.maps.flatMap((m) => [m.weight, m.bias]), "layout", "activation"];
  if (typeof value === "object" && value !== null && io.otherKey in value) {
    throw new TypeError(
      `${where}: names has ${io.otherKey}, not ${weightKeys.join(", ")}: these name another layer's weights; use ${io.otherFunctions}`,
    );
  }
  const spec = assertOptions<Record<string, unknown>>(value, known, where, "names");
  // Each field read once, so that a getter cannot pass a check and then change.
  const read = Object.fromEntries(known.map((k) => [k, spec[k]])) as Record<string, unknown>;
  const tensors: Record<string, string | undefined> = {};
  for (const key of weightKeys) {
    const name = read[key];
    if (typeof name !== "string") {
      throw new TypeError(`${where}: names.${key} must be a tensor name, got ${kindOf(name)}`);
    }
    tensors[key] = name;
  }
  for (const key of biasKeys) {
    const name = read[key];
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(
        `${where}: names.${key} must be a tensor name or absent, got ${kindOf(name)}`,
      );
    }
    tensors[key] = name;
  }
  const given = biasKeys.filter((k) => tensors[k] !== undefined).length;
  if (given !== 0 && given !== biasKeys.length) {
    const word = biasKeys.length === 2 ? "both" : "all";
    throw new TypeError(
      `${where}: ${listNames(biasKeys)} must ${word} be given or ${word} be absent`,
    );
  }
  const layout = read["layout"];
  const layouts = `"linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out)`;
  if (layout === undefined) throw new TypeError(`${where}: names.layout is missing: ${layouts}`);
  if (layout !== "linear" && layout !== "conv1d") {
    throw new TypeError(`${where}: names.layout must be ${layouts}, got ${kindOf(layout)}`);
  }
  if (read["activation"] === undefined) {
    throw new TypeError(
      `${where}: names.activation is missing: the model's activation, one of ${ACTIVATIONS.map((a) => `"${a}"`).join(", ")} (its config.json's hidden_act or activation_function)`,
    );
  }
  const activation = assertActivation(read["activation"], where, "names.activation", "relu");
  return { tensors, bias: given !== 0, layout, activation };
}

function tensorMap(value: unknown, where: string): ReadonlyMap<string, unknown> {
  if (value instanceof Map) return value as ReadonlyMap<string, unknown>;
  const inner =
    typeof value === "object" && value !== null ? (value as { tensors?: unknown }).tensors : null;
  if (inner instanceof Map) return inner as ReadonlyMap<string, unknown>;
  throw new TypeError(
    `${where}: tensors must be a Map of tensors or a parsed file { tensors }, got ${kindOf(value)}`,
  );
}

/** A hint for a name not found: up to three names of the file that share its last part. */
function nearby(map: ReadonlyMap<string, unknown>, name: string): string {
  const tail = name.split(".").slice(-2).join(".");
  const like: string[] = [];
  for (const key of map.keys()) {
    if (key.endsWith(tail)) like.push(quote(key));
    if (like.length === 3) break;
  }
  return like.length === 0 ? "" : `; similar names: ${like.join(", ")}`;
}

/** A named tensor of the map, checked as a tensor, as weights (F32, F16, BF16) and for rank. */
function getTensor(
  map: ReadonlyMap<string, unknown>,
  name: string,
  rank: 1 | 2,
  where: string,
): CheckedTensor {
  const value = map.get(name);
  if (value === undefined) {
    throw new SafetensorsError(
      "TensorNotFound",
      `${where}: tensor ${quote(name)} is not in the checkpoint (${map.size} tensors${nearby(map, name)})`,
      name,
    );
  }
  const t = checkTensor(value, where, `tensors.get(${quote(name)})`);
  assertFloatDtype(t.dtype, where, name);
  if (t.shape.length !== rank) {
    throw new ShapeError(
      `${where}: tensor ${quote(name)} has shape [${t.shape.join(", ")}], expected ${rank === 2 ? "a matrix (2 dimensions)" : "a vector (1 dimension)"}`,
    );
  }
  return t;
}

/** The shape a map's weight has in the file: (out, in) for nn.Linear, (in, out) for Conv1D. */
function storedShape(map: MapIo, dims: Record<Dim, number>, layout: CheckpointLayout): number[] {
  return layout === "linear" ? [dims[map.to], dims[map.from]] : [dims[map.from], dims[map.to]];
}

/** A layer's tensors in a checkpoint, found and checked, not yet converted. */
interface FoundWeights {
  readonly names: Names;
  readonly dims: Record<Dim, number>;
  /** Each map's weight tensor, in the names' layout. */
  readonly weights: readonly CheckedTensor[];
  /** Each map's bias tensor, if the names have biases. */
  readonly biases: readonly (CheckedTensor | undefined)[];
}

/**
 * A layer's tensors from a model's tensors: every named tensor found and checked (its kind,
 * dtype, rank, and that its shape fits the first weight's) before any is converted.
 */
function findWeights(
  io: LayerIo<unknown>,
  tensors: unknown,
  names: unknown,
  where: string,
): FoundWeights {
  const map = tensorMap(tensors, where);
  const n = checkNames(io, names, where);
  const weightName = (m: MapIo) => n.tensors[m.weight] as string;
  const found = io.maps.map((m) => getTensor(map, weightName(m), 2, where));
  // The first map's weight gives the sizes; the others must fit them.
  const first = io.maps[0] as MapIo;
  const t0 = found[0] as CheckedTensor;
  const [a, b] = t0.shape as [number, number];
  const dims = { dModel: 0, dHidden: 0 };
  dims[first.from] = n.layout === "linear" ? b : a;
  dims[first.to] = n.layout === "linear" ? a : b;
  io.maps.forEach((m, i) => {
    const t = found[i] as CheckedTensor;
    const want = storedShape(m, dims, n.layout);
    if (t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
      throw new ShapeError(
        `${where}: tensor ${quote(weightName(m))} has shape [${t.shape.join(", ")}], expected [${want.join(", ")}] to fit ${quote(weightName(first))} [${t0.shape.join(", ")}] (layout "${n.layout}")`,
      );
    }
  });
  const biases = io.maps.map((m) => {
    const name = n.tensors[m.bias];
    if (name === undefined) return undefined;
    const t = getTensor(map, name, 1, where);
    if (t.shape[0] !== dims[m.to]) {
      throw new ShapeError(
        `${where}: tensor ${quote(name)} has shape [${t.shape.join(", ")}], expected [${dims[m.to]}] (${m.to})`,
      );
    }
    return t;
  });
  return { names: n, dims, weights: found, biases };
}

/**
 * A layer's weights from a model's tensors, found and checked ({@link findWeights}), each
 * converted to float32 and, for "linear", transposed into tokenwise's (in, out).
 */
function readWeights(
  io: LayerIo<unknown>,
  tensors: unknown,
  names: unknown,
  where: string,
): { weights: Record<string, Matrix | Float32Array>; names: Names } {
  const { names: n, dims, weights: found, biases } = findWeights(io, tensors, names, where);
  const weights: Record<string, Matrix | Float32Array> = {};
  io.maps.forEach((m, i) => {
    const rows = dims[m.from];
    const cols = dims[m.to];
    const stored = float32Of(found[i] as CheckedTensor, where, n.tensors[m.weight]);
    if (n.layout !== "linear") weights[m.weight] = { rows, cols, data: stored };
    else {
      const data = new Float32Array(stored.length);
      transposeKernel(stored, cols, rows, data);
      weights[m.weight] = { rows, cols, data };
    }
    const bias = biases[i];
    if (bias !== undefined) weights[m.bias] = float32Of(bias, where, n.tensors[m.bias]);
  });
  return { weights, names: n };
}

/** The 16-bit type of a safetensors dtype, or null. */
const type16 = (dtype: string): "bf16" | "f16" | null =>
  dtype === "BF16" ? "bf16" : dtype === "F16" ? "f16" : null;

/**
 * A layer from a model's tensors. The weight matrices go to the kernel as the file stores
 * them: nn.Linear's (out, in) read as they are, and F16 or BF16 values as their 16-bit bits,
 * with no float32 copy. The layer's dtype is `options.dtype`, else the weights' own type when
 * they all share one 16-bit type, else "f32" (every F16 and BF16 value is a float32).
 */
function readStored(
  io: LayerIo<unknown>,
  tensors: unknown,
  names: unknown,
  options: unknown,
  where: string,
  keys: readonly string[],
) {
  const opts = assertOptions<FromWeightsOptions & { threads?: number }>(options, keys, where);
  const { names: n, dims, weights, biases } = findWeights(io, tensors, names, where);
  // Each option read once; the layout is the names'.
  const { kernel, dtype, layout, threads, sparse } = opts;
  const activation =
    opts.activation === undefined
      ? n.activation
      : assertActivation(opts.activation, where, "options.activation", n.activation);
  if (layout !== undefined && layout !== n.layout) {
    throw new TypeError(
      `${where}: options.layout is ${kindOf(layout) === "string" ? `"${layout}"` : kindOf(layout)}, but names.layout is "${n.layout}": a loader reads the layout from the names`,
    );
  }
  const types = weights.map((t) => type16(t.dtype));
  const shared = types[0] ?? null;
  const from: WeightDtype = shared !== null && types.every((t) => t === shared) ? shared : "f32";
  const maps = io.maps.map((m, i) => {
    const t = weights[i] as CheckedTensor;
    const bias = biases[i];
    return {
      w: from === "f32" ? float32Of(t, where, n.tensors[m.weight]) : bits16Of(t),
      b: bias === undefined ? null : float32Of(bias, where, n.tensors[m.bias]),
    };
  });
  const stored: StoredWeights = { ...dims, maps, from, linear: n.layout === "linear" };
  const label = (i: number) => `tensor ${quote(n.tensors[io.maps[i]?.weight as string] as string)}`;
  return { stored, options: { kernel, activation, dtype, threads, sparse }, label };
}

/**
 * A layer from a model's tensors. The weight matrices go to the kernel as the file stores
 * them: nn.Linear's (out, in) read as they are, and F16 or BF16 values as their 16-bit bits,
 * with no float32 copy. The layer's dtype is `options.dtype`, else the weights' own type when
 * they all share one 16-bit type, else "f32" (every F16 and BF16 value is a float32).
 */
function loadLayer<L>(
  io: LayerIo<L>,
  tensors: unknown,
  names: unknown,
  options: unknown,
  where: string,
): L {
  const r = readStored(io, tensors, names, options, where, LOADER_OPTIONS);
  return io.fromStored(r.stored, r.options, where, r.label);
}

/** As {@link loadLayer}, with the kernel compiled ahead and `options.threads`. */
async function loadLayerAsync<L>(
  io: LayerIo<L>,
  tensors: unknown,
  names: unknown,
  options: unknown,
  where: string,
): Promise<L> {
  const r = readStored(io, tensors, names, options, where, [...LOADER_OPTIONS, "threads"]);
  return io.fromStoredAsync(r.stored, r.options, where, r.label);
}

/** A layer's weights as tensors of its type (F32, BF16, F16) under the names, in their layout. */
function layerTensors<L>(
  io: LayerIo<L>,
  layer: unknown,
  names: unknown,
  where: string,
  param: string,
): Map<string, SafetensorsTensorInput> {
  if (!io.isLayer(layer)) {
    throw new TypeError(`${where}: ${param} must be a ${io.className}, got ${kindOf(layer)}`);
  }
  const n = checkNames(io, names, where);
  const view = layer as LayerView;
  if (n.bias !== view.hasBias) {
    const keys = listNames(io.maps.map((m) => m.bias));
    throw new TypeError(
      `${where}: the layer ${view.hasBias ? `has biases but ${keys} are absent` : `has no biases but ${keys} are given`}`,
    );
  }
  if (n.activation !== view.activation) {
    throw new TypeError(
      `${where}: the layer's activation is "${view.activation}" but names.activation is "${n.activation}"; loading the file by these names would compute another layer`,
    );
  }
  // The weights as the kernel keeps them: a bf16 or f16 layer's as BF16 or F16 tensors; a
  // quantized layer's dequantized, as F32 (safetensors has no ggml block types).
  const kept = storedWeights(layer as Layer<object, object, object>, where);
  const dims = { dModel: view.dModel, dHidden: view.dHidden };
  const shape = {
    ...dims,
    expand: io.maps.length - 1,
    hasBias: view.hasBias,
    activation: view.activation,
    dtype: view.dtype,
  };
  const stored = isQuant(view.dtype) ? float32Maps(kept, shape) : kept;
  const dtype = view.dtype === "bf16" ? "BF16" : view.dtype === "f16" ? "F16" : "F32";
  const out = new Map<string, SafetensorsTensorInput>();
  io.maps.forEach((m, i) => {
    const { w, b } = stored[i] as StoredTensors;
    const rows = dims[m.from];
    const cols = dims[m.to];
    const shape = n.layout === "linear" ? [cols, rows] : [rows, cols];
    let data = w as Float32Array | Uint16Array;
    if (n.layout === "linear") {
      data = w instanceof Float32Array ? new Float32Array(w.length) : new Uint16Array(w.length);
      transposeKernel(w as Float32Array | Uint16Array, rows, cols, data);
    }
    out.set(n.tensors[m.weight] as string, { dtype, shape, data });
    const biasName = n.tensors[m.bias];
    if (b !== null && biasName !== undefined) {
      out.set(biasName, { dtype: "F32", shape: [b.length], data: b });
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The public face: four functions per layer, each one line over the mechanism.

/**
 * Builds a FeedForward layer from a model's tensors, such as a parsed safetensors file: finds
 * the named tensors, checks that every shape fits, and packs the weights into the kernel as the
 * file stores them (nn.Linear's `"linear"` (out, in) read as it is, no transposed copy), with
 * the names' activation. The layer then computes what the model's own feedforward computes.
 *
 * The layer keeps the file's type: F16 and BF16 weight matrices give an `"f16"` or `"bf16"`
 * layer, their 16-bit values going into the kernel's memory as they are, with no float32 copy
 * (half the memory of float32; docs/numerics.md). F32 weights, or weights of mixed types, give
 * an `"f32"` layer (every F16 and BF16 value is a float32, so widening is exact). Biases are
 * kept as float32 whatever their type.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are and the model's activation: {@link gpt2FeedForwardNames},
 *   {@link bertFeedForwardNames}, {@link optFeedForwardNames} and their siblings, or your own
 *   {@link FeedForwardTensorNames}
 * @param options - `kernel`; `activation`, overriding `names.activation`; `dtype`, converting
 *   (`"f32"` widens 16-bit weights exactly, a 16-bit type rounds others to nearest even);
 *   `layout`, if given, must be `names.layout`
 * @returns the layer, with its own copy of the weights
 * @throws TypeError for arguments of the wrong kind (a map entry that is not a tensor, a names
 *   field that is not a name, an unknown option), names without a valid layout or activation,
 *   or an `options.layout` other than the names'
 * @throws {@link SafetensorsError} with code `TensorNotFound` for a named tensor the file lacks,
 *   or `UnsupportedDtype` for one that is not F32, F16 or BF16
 * @throws RangeError for an unknown `options.dtype`, or with `dtype: "f16"` a weight beyond
 *   f16's range (naming the tensor and the element)
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
 *   w1: "fc1.weight", b1: "fc1.bias", w2: "fc2.weight", b2: "fc2.bias",
 *   layout: "linear", activation: "relu",
 * });
 * console.log(ffn.dModel, ffn.dHidden, ffn.forwardToken(new Float32Array([1])));
 * // 1 2 Float32Array(1) [ 2.5 ]
 * ```
 */
export function feedForwardFromCheckpoint(
  tensors: CheckpointTensors,
  names: FeedForwardTensorNames,
  options?: FromWeightsOptions,
): FeedForward {
  return loadLayer(FEEDFORWARD_IO, tensors, names, options, "feedForwardFromCheckpoint");
}

/**
 * Options of {@link feedForwardFromCheckpointAsync} and
 * {@link gatedFeedForwardFromCheckpointAsync}: the loaders' options, and threads.
 *
 * @category Checkpoints
 */
export interface CheckpointCreateOptions {
  /** The kernel; default `"auto"`. */
  kernel?: KernelChoice;
  /** Overrides `names.activation`. */
  activation?: ActivationName;
  /** The layer's weight type; default the file's (see {@link feedForwardFromCheckpoint}). */
  dtype?: WeightDtype;
  /** If given, must be `names.layout`. */
  layout?: CheckpointLayout;
  /** Threads to compute on, as the layers' `create` takes them (docs/threads.md). */
  threads?: number;
  /** As the layers' `sparse`: `false` keeps a relu layer's dense path (for measurement). */
  sparse?: boolean;
}

/**
 * As {@link feedForwardFromCheckpoint}, made as {@link FeedForward.create} makes a layer: the
 * WebAssembly kernel compiled asynchronously first, and threads where asked. A bf16 or f16
 * checkpoint's weights go from the file's bytes into the threads' shared memory as 16 bits.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are and the model's activation
 * @param options - see {@link CheckpointCreateOptions}
 * @returns a promise of the layer
 * @throws as {@link feedForwardFromCheckpoint} does (the promise rejects), and TypeError for
 *   a bad `options.threads`
 * @category Checkpoints
 * @example
 * ```ts
 * import { feedForwardFromCheckpointAsync, optFeedForwardNames, parseSafetensors, serializeSafetensors } from "tokenwise";
 * const names = optFeedForwardNames(0);
 * const bf16 = (shape: number[], n: number) => ({ dtype: "BF16" as const, shape, data: new Uint16Array(n).fill(0x3c00) }); // 2^-7
 * const f32 = (n: number) => ({ dtype: "F32" as const, shape: [n], data: new Float32Array(n) });
 * const file = parseSafetensors(serializeSafetensors({
 *   [names.w1]: bf16([64, 16], 1024), [names.b1]: f32(64), [names.w2]: bf16([16, 64], 1024), [names.b2]: f32(16),
 * }));
 * const ffn = await feedForwardFromCheckpointAsync(file, names, { threads: 2 });
 * console.log(ffn.dtype, ffn.threads, ffn.forwardToken(new Float32Array(16).fill(1))[0]);
 * // bf16 2 0.0625
 * ffn.dispose();
 * ```
 */
export function feedForwardFromCheckpointAsync(
  tensors: CheckpointTensors,
  names: FeedForwardTensorNames,
  options?: CheckpointCreateOptions,
): Promise<FeedForward> {
  const where = "feedForwardFromCheckpointAsync";
  return loadLayerAsync(FEEDFORWARD_IO, tensors, names, options, where);
}

/**
 * The weights of a FeedForward layer from a model's tensors, in tokenwise's layout: what
 * {@link feedForwardFromCheckpoint} reads, checks and converts before it builds the layer. Use
 * it to build the layer another way, such as on worker threads with
 * `await FeedForward.create({ weights, threads, activation: names.activation })`.
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
 * const names = { w1: "wi", w2: "wo", layout: "linear", activation: "relu" } as const;
 * const weights = feedForwardWeightsFromCheckpoint(file, names);
 * console.log(weights.w1.rows, weights.w1.cols, "b1" in weights);
 * // 2 3 false
 * const ffn = await FeedForward.create({ weights, activation: names.activation });
 * console.log(ffn.forwardToken(new Float32Array([1, 2])));
 * // Float32Array(2) [ 4.5, 4.5 ]
 * ffn.dispose();
 * ```
 */
export function feedForwardWeightsFromCheckpoint(
  tensors: CheckpointTensors,
  names: FeedForwardTensorNames,
): FeedForwardWeights {
  const where = "feedForwardWeightsFromCheckpoint";
  return readWeights(FEEDFORWARD_IO, tensors, names, where)
    .weights as unknown as FeedForwardWeights;
}

/**
 * A layer's weights as tensors named and laid out as the checkpoint stores them: the inverse
 * of {@link feedForwardFromCheckpoint}. The weight matrices are of the layer's type (F32, or a
 * bf16 or f16 layer's BF16 or F16 values as they are), the biases F32. Merge the maps of
 * several layers into one `Map` to write a whole model with {@link serializeSafetensors}.
 *
 * @param ffn - the layer
 * @param names - where to put the weights; with biases exactly when the layer has them, and
 *   the layer's own activation (else loading the file by these names would give another layer)
 * @returns the tensors by name, each with its own copy of the data
 * @throws TypeError for names of the wrong kind, bias names that do not match `ffn.hasBias`, or
 *   an activation that is not `ffn.activation`
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
  return layerTensors(FEEDFORWARD_IO, ffn, names, "feedForwardTensors", "ffn");
}

/**
 * A layer as a safetensors file, its weights named and laid out as `names` says. Loading it
 * back with {@link feedForwardFromCheckpoint} and the same names gives the same layer, bit
 * for bit.
 *
 * @param ffn - the layer
 * @param names - where to put the weights (see {@link feedForwardTensors})
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
  return serializeSafetensors(
    layerTensors(FEEDFORWARD_IO, ffn, names, "feedForwardToSafetensors", "ffn"),
    metadata,
  );
}

/**
 * Builds a GatedFeedForward layer from a model's tensors, as {@link feedForwardFromCheckpoint}
 * builds a FeedForward one: finds the named tensors, checks that every shape fits, and packs
 * the weights as the file stores them, keeping F16 and BF16 weights as 16 bits (a LLaMA,
 * Mistral, Qwen or Gemma bf16 checkpoint gives a `"bf16"` layer), with the names' activation.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are and the model's activation: {@link llamaFeedForwardNames},
 *   {@link gemmaFeedForwardNames}, {@link t5GatedFeedForwardNames} and their siblings, or your
 *   own {@link GatedFeedForwardTensorNames}
 * @param options - as {@link feedForwardFromCheckpoint}'s: `kernel`, `activation`, `dtype`
 * @returns the layer, with its own copy of the weights
 * @throws as {@link feedForwardFromCheckpoint} does
 * @category Checkpoints
 * @example
 * ```ts
 * import { gatedFeedForwardFromCheckpoint, llamaFeedForwardNames, parseSafetensors, serializeSafetensors } from "tokenwise";
 * const f32 = (shape: number[], ...v: number[]) => ({ dtype: "F32" as const, shape, data: new Float32Array(v) });
 * const file = parseSafetensors(serializeSafetensors({ // dModel 1, dHidden 2, nn.Linear out x in
 *   "model.layers.0.mlp.gate_proj.weight": f32([2, 1], 1, -1),
 *   "model.layers.0.mlp.up_proj.weight": f32([2, 1], 2, 3),
 *   "model.layers.0.mlp.down_proj.weight": f32([1, 2], 1, 1),
 * }));
 * const glu = gatedFeedForwardFromCheckpoint(file, llamaFeedForwardNames(0));
 * console.log(glu.activation, glu.dModel, glu.dHidden, glu.forwardToken(new Float32Array([2])));
 * // silu 1 2 Float32Array(1) [ 5.615941524505615 ]
 * ```
 */
export function gatedFeedForwardFromCheckpoint(
  tensors: CheckpointTensors,
  names: GatedFeedForwardTensorNames,
  options?: GatedFromWeightsOptions,
): GatedFeedForward {
  return loadLayer(GATED_IO, tensors, names, options, "gatedFeedForwardFromCheckpoint");
}

/**
 * As {@link gatedFeedForwardFromCheckpoint}, made as {@link GatedFeedForward.create} makes a
 * layer: the kernel compiled asynchronously first, and threads where asked, the file's 16-bit
 * weights kept as 16 bits (as {@link feedForwardFromCheckpointAsync}).
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are and the model's activation
 * @param options - see {@link CheckpointCreateOptions}
 * @returns a promise of the layer
 * @throws as {@link feedForwardFromCheckpointAsync} does
 * @category Checkpoints
 * @example
 * ```ts
 * import { GatedFeedForward, gatedFeedForwardFromCheckpointAsync, gatedFeedForwardToSafetensors, llamaFeedForwardNames, parseSafetensors } from "tokenwise";
 * const names = llamaFeedForwardNames(0);
 * const a = new GatedFeedForward({ dModel: 32, dHidden: 64, seed: 1, dtype: "bf16" });
 * const file = parseSafetensors(gatedFeedForwardToSafetensors(a, names)); // BF16 tensors
 * const b = await gatedFeedForwardFromCheckpointAsync(file, names, { threads: 2 });
 * const t = new Float32Array(32).fill(0.5);
 * console.log(b.dtype, b.threads, a.forwardToken(t).every((v, i) => Object.is(v, b.forwardToken(t)[i])));
 * // bf16 2 true
 * b.dispose();
 * ```
 */
export function gatedFeedForwardFromCheckpointAsync(
  tensors: CheckpointTensors,
  names: GatedFeedForwardTensorNames,
  options?: CheckpointCreateOptions,
): Promise<GatedFeedForward> {
  const where = "gatedFeedForwardFromCheckpointAsync";
  return loadLayerAsync(GATED_IO, tensors, names, options, where);
}

/**
 * The weights of a GatedFeedForward layer from a model's tensors, in tokenwise's layout: what
 * {@link gatedFeedForwardFromCheckpoint} reads before it builds the layer. Use it to build the
 * layer on threads: `await GatedFeedForward.create({ weights, threads, activation: names.activation })`.
 *
 * @param tensors - a parsed file (`parseSafetensors(bytes)`), a sharded one, or its `tensors` map
 * @param names - where the weights are (see {@link gatedFeedForwardFromCheckpoint})
 * @returns `wGate`, `wUp` (dModel, dHidden) and `wDown` (dHidden, dModel), and the biases if
 *   `names` has them; new arrays that share no memory with the file
 * @throws as {@link gatedFeedForwardFromCheckpoint} does, but never for options
 * @category Checkpoints
 * @example
 * ```ts
 * import { gatedFeedForwardWeightsFromCheckpoint, parseSafetensors, qwen2FeedForwardNames, serializeSafetensors } from "tokenwise";
 * const w = (rows: number, cols: number) => ({ dtype: "F32" as const, shape: [rows, cols], data: new Float32Array(rows * cols) });
 * const file = parseSafetensors(serializeSafetensors({
 *   "model.layers.2.mlp.gate_proj.weight": w(6, 4), "model.layers.2.mlp.up_proj.weight": w(6, 4),
 *   "model.layers.2.mlp.down_proj.weight": w(4, 6),
 * }));
 * const weights = gatedFeedForwardWeightsFromCheckpoint(file, qwen2FeedForwardNames(2));
 * console.log(weights.wGate.rows, weights.wGate.cols, weights.wDown.rows, weights.wDown.cols);
 * // 4 6 6 4
 * ```
 */
export function gatedFeedForwardWeightsFromCheckpoint(
  tensors: CheckpointTensors,
  names: GatedFeedForwardTensorNames,
): GatedFeedForwardWeights {
  const where = "gatedFeedForwardWeightsFromCheckpoint";
  return readWeights(GATED_IO, tensors, names, where).weights as unknown as GatedFeedForwardWeights;
}

/**
 * A gated layer's weights as tensors named and laid out as the checkpoint stores them, of the
 * layer's type: the inverse of {@link gatedFeedForwardFromCheckpoint}, as
 * {@link feedForwardTensors} is for the plain layer.
 *
 * @param glu - the layer
 * @param names - where to put the weights; with biases exactly when the layer has them, and
 *   the layer's own activation
 * @returns the tensors by name, each with its own copy of the data
 * @throws TypeError for names of the wrong kind, bias names that do not match `glu.hasBias`, or
 *   an activation that is not `glu.activation`
 * @category Checkpoints
 * @example
 * ```ts
 * import { GatedFeedForward, gatedFeedForwardTensors, llamaFeedForwardNames } from "tokenwise";
 * const glu = new GatedFeedForward({ dModel: 4, dHidden: 6 }); // silu, no biases: LLaMA's
 * const tensors = gatedFeedForwardTensors(glu, llamaFeedForwardNames(0));
 * console.log([...tensors.keys()].length, tensors.get("model.layers.0.mlp.down_proj.weight")?.shape);
 * // 3 [ 4, 6 ]
 * ```
 */
export function gatedFeedForwardTensors(
  glu: GatedFeedForward,
  names: GatedFeedForwardTensorNames,
): Map<string, SafetensorsTensorInput> {
  return layerTensors(GATED_IO, glu, names, "gatedFeedForwardTensors", "glu");
}

/**
 * A gated layer as a safetensors file, its weights named and laid out as `names` says. Loading
 * it back with {@link gatedFeedForwardFromCheckpoint} and the same names gives the same layer,
 * bit for bit.
 *
 * @param glu - the layer
 * @param names - where to put the weights (see {@link gatedFeedForwardTensors})
 * @param metadata - optional `__metadata__` strings
 * @returns the file's bytes
 * @throws TypeError as {@link gatedFeedForwardTensors} and {@link serializeSafetensors} do
 * @category Checkpoints
 * @example
 * ```ts
 * import { GatedFeedForward, gatedFeedForwardFromCheckpoint, gatedFeedForwardToSafetensors, gemmaFeedForwardNames, parseSafetensors } from "tokenwise";
 * const a = new GatedFeedForward({ dModel: 4, dHidden: 8, seed: 5, activation: "geluTanh" });
 * const bytes = gatedFeedForwardToSafetensors(a, gemmaFeedForwardNames(1));
 * const b = gatedFeedForwardFromCheckpoint(parseSafetensors(bytes), gemmaFeedForwardNames(1));
 * const t = new Float32Array([1, -2, 0.5, 3]);
 * console.log(b.activation, a.forwardToken(t).every((v, i) => Object.is(v, b.forwardToken(t)[i])));
 * // geluTanh true
 * ```
 */
export function gatedFeedForwardToSafetensors(
  glu: GatedFeedForward,
  names: GatedFeedForwardTensorNames,
  metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null,
): Uint8Array {
  return serializeSafetensors(
    layerTensors(GATED_IO, glu, names, "gatedFeedForwardToSafetensors", "glu"),
    metadata,
  );
}

/**
 * The gated weights named by `names`, each matrix given by `get` in the file's layout: the
 * getter's matrices become F32 tensors of their shape and go through the one reader. For the
 * deprecated {@link gatedWeightsFromCheckpoint}.
 */
export function gatedWeightsThrough(
  names: GatedFeedForwardTensorNames,
  get: (name: string) => Matrix,
  where: string,
): GatedFeedForwardWeights {
  const map = new Map<string, SafetensorsTensorInput>();
  for (const key of ["wGate", "wUp", "wDown"] as const) {
    const name = names[key];
    const m = assertMatrix(get(name), where, `get(${quote(name)})`);
    map.set(name, { dtype: "F32", shape: [m.rows, m.cols], data: m.data });
  }
  return readWeights(GATED_IO, map, names, where).weights as unknown as GatedFeedForwardWeights;
}
