// A parsed GGUF metadata value in the JSON form that scripts/fixtures/make_gguf_fixtures.py
// writes to files.json: floats as their bits ("f32:3dcccccd"), 64-bit integers as
// "big:<decimal>", arrays as { type: element type, items }. Exact, NaN payloads and -0 kept.
import type { GgufValue } from "../../src/index";

export type JsonValue = number | string | boolean | { type: string; items: JsonValue[] };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

export function f32Json(v: number): string {
  f32[0] = v;
  return `f32:${(u32[0] as number).toString(16).padStart(8, "0")}`;
}

export function f64Json(v: number): string {
  f64[0] = v;
  return `f64:${(u64[0] as bigint).toString(16).padStart(16, "0")}`;
}

/** The element type of an array value, as far as its JavaScript form shows it. */
export function elementType(a: readonly unknown[] | ArrayBufferView): string {
  if (a instanceof Uint8Array) return "UINT8";
  if (a instanceof Int8Array) return "INT8";
  if (a instanceof Uint16Array) return "UINT16";
  if (a instanceof Int16Array) return "INT16";
  if (a instanceof Uint32Array) return "UINT32";
  if (a instanceof Int32Array) return "INT32";
  if (a instanceof Float32Array) return "FLOAT32";
  if (a instanceof Float64Array) return "FLOAT64";
  if (a instanceof BigUint64Array) return "UINT64";
  if (a instanceof BigInt64Array) return "INT64";
  const list = a as readonly unknown[];
  if (list.length === 0) return "EMPTY";
  if (typeof list[0] === "string") return "STRING";
  if (typeof list[0] === "boolean") return "BOOL";
  return "ARRAY";
}

/** `value` of declared `type` (a GgufMetadataType, or an element type) as JSON. */
export function toJson(value: GgufValue, type: string): JsonValue {
  const array = /^ARRAY<(\w+)>$/.exec(type);
  if (array !== null || type === "ARRAY") {
    const element = array?.[1] ?? elementType(value as readonly unknown[]);
    const items = [...(value as Iterable<GgufValue>)].map((v) =>
      toJson(v, element === "ARRAY" ? "ARRAY" : element),
    );
    return { type: element, items };
  }
  if (type === "FLOAT32") return f32Json(value as number);
  if (type === "FLOAT64") return f64Json(value as number);
  if (type === "UINT64" || type === "INT64") return `big:${(value as bigint).toString()}`;
  return value as number | string | boolean;
}
