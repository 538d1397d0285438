// Block N's feedforward layer built from a GGUF file's tensors, keeping the file's types where a
// layer can: Q8_0 and Q4_0 blocks as they are, F16 and BF16 as 16-bit values, F32 as float32.
// GGUF keeps a weight as nn.Linear does, (out, in) with blocks along `in`: exactly a quantized
// layer's own layout (out rows of in / 32 blocks), so blocks go to the kernel with no float32
// step. Other block types (Q4_1, Q5_0, Q5_1, Q4_K, Q6_K) and mixed types are dequantized to
// float32, which holds every one of their values exactly.
import { assertOptions } from "../check";
import { type Dtype16, type QuantDtype, type WeightDtype } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import type { LayerShape } from "../kernels/kernel";
import {
  type MapBlocks,
  type MapTensors16,
  type WeightSource,
  blockSource,
  raw16Source,
  rawSource,
} from "../kernels/source";
import { feedForwardFromSource, type FeedForward } from "../layers/feedforward";
import { gatedFeedForwardFromSource, type GatedFeedForward } from "../layers/gated";
import { type KernelChoice, assertActivation, assertDtype } from "../layers/options";
import {
  type GgmlType,
  GgufError,
  type GgufFile,
  type GgufTensorInfo,
  ggufTensorToFloat32,
} from "./gguf";
import { ggufFeedForward } from "./gguf-feedforward";

/**
 * Options of {@link feedForwardFromGguf}.
 *
 * @category GGUF
 */
export interface GgufLayerOptions {
  /** The activation, instead of the architecture's (see {@link ggufFeedForward}). */
  activation?: ActivationName;
  /** The kernel, as a layer's constructor takes it (default "auto"). */
  kernel?: KernelChoice;
  /**
   * The type the layer keeps its weights in. By default the file's: `"q8_0"`, `"q4_0"`,
   * `"f16"` or `"bf16"` when every weight matrix of the block is of that type, else `"f32"`
   * (other block types, and mixed ones, dequantized exactly).
   */
  dtype?: WeightDtype;
}

const KEPT: Partial<Record<GgmlType, WeightDtype>> = {
  F32: "f32",
  F16: "f16",
  BF16: "bf16",
  Q8_0: "q8_0",
  Q4_0: "q4_0",
};

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A tensor's bytes as 16-bit values (a view when aligned, else a copy). */
function as16(data: Uint8Array): Uint16Array {
  if (LITTLE_ENDIAN && data.byteOffset % 2 === 0) {
    return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
  }
  const out = new Uint16Array(data.byteLength / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = (data[2 * i] as number) | ((data[2 * i + 1] as number) << 8);
  }
  return out;
}

/**
 * Block N's feedforward layer from a GGUF file: a {@link GatedFeedForward} when the file has
 * `blk.N.ffn_gate.weight`, else a {@link FeedForward}, with the architecture's activation (see
 * {@link ggufFeedForward}), on one thread. The weights keep the file's type where a layer has
 * it: Q8_0 and Q4_0 blocks are kept as they are (no float32 copy; the layer computes as
 * llama.cpp's CPU path does, docs/numerics.md), F16 and BF16 as 16-bit values, F32 as float32;
 * other block types and mixed types become float32, exactly. `options.dtype` asks for another
 * type (quantizing, rounding or dequantizing as the layer's factories do).
 *
 * @param file - a parsed file with the block's tensors read (`parseGguf`, or `loadGguf` in
 *   tokenwise/node with those tensors asked for)
 * @param block - the block (layer) index, from 0
 * @param options - `activation`, `kernel`, `dtype`
 * @returns the layer
 * @throws TypeError for a bad option, or if the block has biases for some maps only
 * @throws {@link GgufError} as {@link ggufFeedForward} does, with code `TensorNotFound` if a
 *   tensor of the block was not read, or `UnsupportedType` if its type has no float32
 *   conversion
 * @throws {@link ShapeError} for a quantized dtype and a width not a multiple of 32
 * @category GGUF
 * @example
 * ```ts
 * import { parseGguf, feedForwardFromGguf } from "tokenwise";
 * import { readFileSync } from "node:fs";
 * const file = parseGguf(readFileSync("test/fixtures/gguf/llama-ffn.gguf"));
 * const layer = feedForwardFromGguf(file, 0); // Q8_0 gate and up, Q4_0 down: float32
 * const q = feedForwardFromGguf(file, 0, { dtype: "q8_0" }); // requantized
 * console.log(layer.constructor.name, layer.dtype, q.dtype, layer.dModel, layer.dHidden);
 * // GatedFeedForward f32 q8_0 64 96
 * ```
 */
export function feedForwardFromGguf(
  file: GgufFile,
  block: number,
  options: GgufLayerOptions = {},
): FeedForward | GatedFeedForward {
  const where = "feedForwardFromGguf";
  const opts = assertOptions<GgufLayerOptions>(options, ["activation", "kernel", "dtype"], where);
  const activation =
    opts.activation === undefined
      ? undefined
      : assertActivation(opts.activation, where, "options.activation", "relu");
  const asked = opts.dtype === undefined ? null : assertDtype(opts.dtype, where);
  const info = ggufFeedForward(file, block, activation === undefined ? {} : { activation });
  const weights = info.gate === null ? [info.up, info.down] : [info.gate, info.up, info.down];
  const biases =
    info.gate === null ? [info.upBias, info.downBias] : [info.gateBias, info.upBias, info.downBias];
  const given = biases.filter((b) => b !== null).length;
  if (given !== 0 && given !== biases.length) {
    throw new TypeError(
      `${where}: block ${block} has biases for some of its maps only (${biases
        .filter((b) => b !== null)
        .map((b) => (b as GgufTensorInfo).name)
        .join(", ")}); a layer's biases are all present or all absent`,
    );
  }
  const data = (t: GgufTensorInfo) => {
    const tensor = file.tensors.get(t.name);
    if (tensor === undefined) {
      throw new GgufError(
        "TensorNotFound",
        `${where}: tensor ${JSON.stringify(t.name)} was not read (ask loadGguf for it)`,
        { tensor: t.name },
      );
    }
    return tensor;
  };
  const types = new Set(weights.map((t) => t.type));
  const only = types.size === 1 ? (weights[0] as GgufTensorInfo).type : null;
  const from: WeightDtype = (only === null ? undefined : KEPT[only]) ?? "f32";
  const shape: LayerShape = {
    dModel: info.dModel,
    dHidden: info.dHidden,
    expand: info.gate === null ? 1 : 2,
    hasBias: given > 0,
    activation: info.activation,
    dtype: asked ?? from,
  };
  const bias = (b: GgufTensorInfo | null) => (b === null ? null : ggufTensorToFloat32(data(b)));
  let source: WeightSource;
  if (from === "q8_0" || from === "q4_0") {
    const maps: MapBlocks[] = weights.map((t, i) => ({
      w: data(t).data,
      b: bias(biases[i] ?? null),
    }));
    source = blockSource(shape, maps, from as QuantDtype);
  } else if (from === "f16" || from === "bf16") {
    const maps: MapTensors16[] = weights.map((t, i) => ({
      w: as16(data(t).data),
      b: bias(biases[i] ?? null),
    }));
    source = raw16Source(shape, maps, from as Dtype16, true);
  } else {
    const maps = weights.map((t, i) => ({
      w: ggufTensorToFloat32(data(t)),
      b: bias(biases[i] ?? null),
    }));
    if (shape.dtype === "q8_0" || shape.dtype === "q4_0") {
      maps.forEach((m, i) => {
        const at = m.w.findIndex((v) => !Number.isFinite(v));
        if (at < 0) return;
        const t = weights[i] as GgufTensorInfo;
        const cols = t.shape[1] as number;
        throw new RangeError(
          `${where}: ${t.name}[${Math.floor(at / cols)}, ${at % cols}] is ${m.w[at]}; only finite weights quantize to dtype "${shape.dtype}"`,
        );
      });
    }
    source = rawSource(shape, maps, true);
  }
  return info.gate === null
    ? feedForwardFromSource(shape, source, opts.kernel, where)
    : gatedFeedForwardFromSource(shape, source, opts.kernel, where);
}
