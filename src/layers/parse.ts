// A layer's weights and JSON, checked against its spec: shapes, biases all or none, sizes,
// every check made before anything is allocated.
import { decodeBytes, decodeFloat32, decodeUint16 } from "../base64";
import { assertFloat32Array, assertMatrix, assertOptions, assertPositiveSize } from "../check";
import { QUANT_BLOCK, type WeightDtype, blockBytes, dtypeBytes, isQuant } from "../dtype";
import { ShapeError } from "../errors";
import type { ActivationName } from "../kernels/activation";
import { type LayerShape, type MapTensors, type StoredTensors, mapDims } from "../kernels/kernel";
import type { Matrix } from "../matrix";
import { assertActivation, assertDtype } from "./options";
import type { LayerSpec, WeightLayout } from "./spec";

const names = (spec: LayerSpec, both: boolean) =>
  spec.maps.flatMap((m) => (both ? [m.weight, m.bias] : [m.weight]));
const joined = (parts: string[]) =>
  parts.length === 2
    ? `${parts[0]} and ${parts[1]}`
    : `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;

/**
 * A spec's weights, checked (shapes, biases all or none), and read in the layer's layout; the
 * layer keeps them as `dtype`.
 */
export function checkWeights(
  spec: LayerSpec,
  weights: unknown,
  where: string,
  layout: WeightLayout,
  activation: ActivationName,
  dtype: WeightDtype,
): { shape: LayerShape; maps: MapTensors[] } {
  if (weights === undefined) {
    throw new TypeError(`${where}: weights { ${names(spec, true).join(", ")} } are required`);
  }
  const w = assertOptions<Record<string, unknown>>(weights, names(spec, true), where, "weights");
  const ms = spec.maps.map((m) => assertMatrix(w[m.weight], where, `weights.${m.weight}`));
  const linear = layout === "linear";
  const first = ms[0] as Matrix;
  const f = spec.maps[0]?.weight as string;
  const [dModel, dHidden] = linear ? [first.cols, first.rows] : [first.rows, first.cols];
  if (dModel === 0 || dHidden === 0) {
    throw new ShapeError(
      `${where}: weights.${f} is ${first.rows} x ${first.cols}; dModel and dHidden must be at least 1`,
    );
  }
  const biases = spec.maps.map((m) => w[m.bias]);
  const given = biases.filter((b) => b !== undefined).length;
  const shape: LayerShape = {
    dModel,
    dHidden,
    expand: spec.expand,
    hasBias: given > 0,
    activation,
    dtype,
  };
  const hint = `; its transpose would fit (every matrix must be in the same layout, ${linear ? "nn.Linear's (out, in) here" : 'tokenwise\'s (in, out) unless { layout: "linear" } is given'})`;
  ms.forEach((m, i) => {
    if (i === 0) return;
    const d = mapDims(shape, i);
    const [rows, cols] = linear ? [d.cols, d.rows] : [d.rows, d.cols];
    if (m.rows === rows && m.cols === cols) return;
    const rel = i < spec.expand ? `(${f}.rows, ${f}.cols)` : `(${f}.cols, ${f}.rows)`;
    const t = m.rows === cols && m.cols === rows ? hint : "";
    throw new ShapeError(
      `${where}: weights.${spec.maps[i]?.weight} is ${m.rows} x ${m.cols}, expected ${rel} = ${rows} x ${cols}${t}`,
    );
  });
  const bs = biases.map((b, i) =>
    b === undefined ? null : assertFloat32Array(b, where, `weights.${spec.maps[i]?.bias}`),
  );
  if (given !== 0 && given !== spec.maps.length) {
    const all = spec.maps.map((m) => `weights.${m.bias}`);
    const how = all.length === 2 ? "both" : "all";
    throw new TypeError(`${where}: ${joined(all)} must ${how} be given or ${how} be absent`);
  }
  // Every bias one map's input long instead of its output: the weights are nn.Linear's.
  const swapped =
    !linear &&
    dModel !== dHidden &&
    bs.every((b, i) => b !== null && b.length === mapDims(shape, i).rows);
  bs.forEach((b, i) => {
    const n = mapDims(shape, i).cols;
    if (b === null || b.length === n) return;
    const what = i < spec.expand ? "dHidden" : "dModel";
    const t = swapped
      ? `; the weights look transposed: for nn.Linear's (out, in) weights pass { layout: "linear" }`
      : "";
    throw new ShapeError(
      `${where}: weights.${spec.maps[i]?.bias} has length ${b.length}, expected ${what} = ${n}${t}`,
    );
  });
  return { shape, maps: ms.map((m, i) => ({ w: m.data, b: bs[i] ?? null })) };
}

/**
 * The encoding field of a layer's JSON: every tensor as its elements' little-endian bytes in
 * base64, float32 before version 3 (`dtypeSince`); from it, weights of the JSON's dtype.
 */
export const ENCODING = { float32: "float32-le-base64", typed: "le-base64" } as const;

/**
 * A spec's layer from its JSON, checked: its shape (with the JSON's dtype) and each map's
 * weights as kept (float32, or 16-bit bits for a bf16 or f16 layer).
 */
export function readJSON(
  spec: LayerSpec,
  json: unknown,
  where: string,
): { shape: LayerShape; maps: StoredTensors[] } {
  const j = json as Record<string, unknown> | null;
  const { format, version, oldest, activationSince, dtypeSince } = spec.json;
  if (typeof j !== "object" || j === null || j.format !== format) {
    throw new TypeError(`${where}: json is not a ${format} (format field missing)`);
  }
  const v = j.version;
  if (
    typeof v !== "number" ||
    !Number.isInteger(v) ||
    v < oldest ||
    v > version ||
    j.encoding !== (v >= dtypeSince ? ENCODING.typed : ENCODING.float32)
  ) {
    throw new TypeError(
      `${where}: unsupported version ${String(v)} or encoding ${String(j.encoding)}`,
    );
  }
  let dtype: WeightDtype = "f32";
  if (v >= dtypeSince) {
    dtype = assertDtype(j.dtype ?? null, where, "f32", "json.dtype");
  } else if (j.dtype !== undefined) {
    throw new TypeError(
      `${where}: json.dtype is not part of version ${v}, whose weights are all float32; a layer with a dtype is version ${dtypeSince} or later`,
    );
  }
  let activation: ActivationName = "relu";
  if (v >= activationSince) {
    activation = assertActivation(
      j.activation ?? null,
      where,
      "json.activation",
      spec.defaults.activation,
    );
  } else if (j.activation !== undefined) {
    throw new TypeError(
      `${where}: json.activation is not part of version ${v}, whose layers are all relu; a layer with an activation is version ${activationSince} or later`,
    );
  }
  const dModel = assertPositiveSize(j.dModel, where, "json.dModel");
  const dHidden = assertPositiveSize(j.dHidden, where, "json.dHidden");
  const probe: LayerShape = {
    dModel,
    dHidden,
    expand: spec.expand,
    hasBias: true,
    activation,
    dtype,
  };
  if (isQuant(dtype)) {
    // Blocks run along each matrix's input: dModel, then dHidden for the last map.
    for (const [name, n] of [
      ["json.dModel", dModel],
      ["json.dHidden", dHidden],
    ] as const) {
      if (n % QUANT_BLOCK !== 0) {
        throw new ShapeError(
          `${where}: ${name} = ${n} is not a multiple of 32, the block size of json.dtype "${dtype}"`,
        );
      }
    }
  }
  const decode = (key: string, length: number, type: WeightDtype) => {
    const text = j[key];
    let data: Float32Array | Uint16Array | Uint8Array | null = null;
    if (typeof text === "string") {
      if (isQuant(type)) {
        const bytes = decodeBytes(text);
        data =
          bytes !== null && bytes.length === (length / QUANT_BLOCK) * blockBytes(type)
            ? bytes
            : null;
      } else
        data = dtypeBytes(type) === 4 ? decodeFloat32(text, length) : decodeUint16(text, length);
    }
    if (data === null) {
      const what =
        type === "f32"
          ? "float32 values"
          : isQuant(type)
            ? `weights as ${type} blocks`
            : `${type} values`;
      throw new TypeError(`${where}: json.${key} is not base64 of ${length} ${what}`);
    }
    return data;
  };
  const maps = spec.maps.map((m, i) => {
    const { rows, cols } = mapDims(probe, i);
    return {
      w: decode(m.weight, rows * cols, dtype),
      b: j[m.bias] === null ? null : (decode(m.bias, cols, "f32") as Float32Array),
    };
  });
  const nulls = maps.filter((m) => m.b === null).length;
  if (nulls !== 0 && nulls !== maps.length) {
    const all = spec.maps.map((m) => `json.${m.bias}`);
    const how = all.length === 2 ? "both" : "all";
    throw new TypeError(`${where}: ${joined(all)} must ${how} be present or ${how} be null`);
  }
  return { shape: { ...probe, hasBias: nulls === 0 }, maps };
}
