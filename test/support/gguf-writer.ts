// A GGUF writer for the tests, written from ggml's docs/gguf.md and independent of
// src/io/gguf.ts (it imports nothing from it). Every field can be set to a wrong value, so the
// malformed-file corpus and the fuzz test can build the files a real writer never would.
//
//   "GGUF", u32 version, u64 tensor_count, u64 kv_count, the key-value pairs, the tensor infos,
//   zero padding to the alignment, then each tensor's data at its offset, padded in turn.

/** The metadata value types by their number in the file. */
export const VALUE_TYPES = [
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "FLOAT32",
  "BOOL",
  "STRING",
  "ARRAY",
  "UINT64",
  "INT64",
  "FLOAT64",
] as const;
export type ValueTypeName = (typeof VALUE_TYPES)[number];

/**
 * Every ggml type of the format: number, weights per block, bytes per block, from the block
 * structs of ggml-common.h (sizeof of each, as its static_asserts spell them out).
 */
export const GGML: Record<string, [id: number, block: number, bytes: number]> = {
  F32: [0, 1, 4],
  F16: [1, 1, 2],
  Q4_0: [2, 32, 2 + 16],
  Q4_1: [3, 32, 2 + 2 + 16],
  Q5_0: [6, 32, 2 + 4 + 16],
  Q5_1: [7, 32, 2 + 2 + 4 + 16],
  Q8_0: [8, 32, 2 + 32],
  Q8_1: [9, 32, 2 + 2 + 32],
  Q2_K: [10, 256, 16 + 64 + 2 + 2],
  Q3_K: [11, 256, 32 + 64 + 12 + 2],
  Q4_K: [12, 256, 2 + 2 + 12 + 128],
  Q5_K: [13, 256, 2 + 2 + 12 + 32 + 128],
  Q6_K: [14, 256, 128 + 64 + 16 + 2],
  Q8_K: [15, 256, 4 + 256 + 32],
  IQ2_XXS: [16, 256, 2 + 64],
  IQ2_XS: [17, 256, 2 + 64 + 8],
  IQ3_XXS: [18, 256, 2 + 96],
  IQ1_S: [19, 256, 2 + 32 + 16],
  IQ4_NL: [20, 32, 2 + 16],
  IQ3_S: [21, 256, 2 + 64 + 8 + 32 + 4],
  IQ2_S: [22, 256, 2 + 64 + 8 + 8],
  IQ4_XS: [23, 256, 2 + 2 + 4 + 128],
  I8: [24, 1, 1],
  I16: [25, 1, 2],
  I32: [26, 1, 4],
  I64: [27, 1, 8],
  F64: [28, 1, 8],
  IQ1_M: [29, 256, 32 + 16 + 8],
  BF16: [30, 1, 2],
  TQ1_0: [34, 256, 48 + 4 + 2],
  TQ2_0: [35, 256, 64 + 2],
  MXFP4: [39, 32, 1 + 16],
  NVFP4: [40, 64, 4 + 32],
  Q1_0: [41, 128, 2 + 16],
  Q2_0: [42, 64, 2 + 16],
};

/**
 * A metadata value as written. `type` may be a raw number (an invalid type, say); a BOOL's
 * value may be a raw byte; a STRING's raw bytes; an ARRAY lists its items as values of their
 * own, whose type is the array's element type (`element`, or the first item's type).
 */
export type MetaValue =
  | { type: Exclude<ValueTypeName, "BOOL" | "STRING" | "ARRAY"> | number; value: number | bigint }
  | { type: "BOOL"; value: boolean | number }
  | { type: "STRING"; value: string | Uint8Array }
  | {
      type: "ARRAY";
      element?: ValueTypeName | number;
      items: MetaValue[];
      count?: number | bigint;
    };

export interface TensorSpec {
  name: string | Uint8Array;
  /** A ggml type name of GGML, or a raw number. */
  type: string | number;
  /** Outermost first, as tokenwise reports shapes; written reversed, as ne. */
  shape: number[];
  data: Uint8Array;
  /** Written in place of the dimensions (ne order), to write wrong ones. */
  ne?: (number | bigint)[];
  /** Written in place of the computed offset. */
  offset?: number | bigint;
}

export interface GgufSpec {
  magic?: string;
  version?: number;
  metadata?: [key: string | Uint8Array, value: MetaValue][];
  tensors?: TensorSpec[];
  /** The alignment the layout uses (default 32); say general.alignment in metadata yourself. */
  alignment?: number;
  /** Written in place of the true counts. */
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
}

/** Little-endian bytes, appended; where each u32 and u64 went is kept, for the fuzz test. */
export class ByteWriter {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  length = 0;
  readonly fields: { at: number; size: 4 | 8 }[] = [];

  #grow(n: number): number {
    const at = this.length;
    if (at + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(2 * this.#buf.length, at + n));
      bigger.set(this.#buf);
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.length += n;
    return at;
  }

  u8(v: number): this {
    const at = this.#grow(1);
    this.#view.setUint8(at, v);
    return this;
  }
  i8(v: number): this {
    const at = this.#grow(1);
    this.#view.setInt8(at, v);
    return this;
  }
  u16(v: number): this {
    const at = this.#grow(2);
    this.#view.setUint16(at, v, true);
    return this;
  }
  i16(v: number): this {
    const at = this.#grow(2);
    this.#view.setInt16(at, v, true);
    return this;
  }
  u32(v: number): this {
    const at = this.#grow(4);
    this.fields.push({ at, size: 4 });
    this.#view.setUint32(at, v, true);
    return this;
  }
  i32(v: number): this {
    const at = this.#grow(4);
    this.#view.setInt32(at, v, true);
    return this;
  }
  f32(v: number): this {
    const at = this.#grow(4);
    this.#view.setFloat32(at, v, true);
    return this;
  }
  f64(v: number): this {
    const at = this.#grow(8);
    this.#view.setFloat64(at, v, true);
    return this;
  }
  u64(v: number | bigint): this {
    const at = this.#grow(8);
    this.fields.push({ at, size: 8 });
    this.#view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
    return this;
  }
  i64(v: number | bigint): this {
    const at = this.#grow(8);
    this.#view.setBigInt64(at, BigInt.asIntN(64, BigInt(v)), true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const at = this.#grow(b.length);
    this.#buf.set(b, at);
    return this;
  }
  string(s: string | Uint8Array): this {
    const b = typeof s === "string" ? new TextEncoder().encode(s) : s;
    return this.u64(b.length).bytes(b);
  }
  zeros(n: number): this {
    this.#grow(n); // the buffer is zero where nothing was written
    return this;
  }
  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

function typeNumber(type: ValueTypeName | number): number {
  return typeof type === "number" ? type : VALUE_TYPES.indexOf(type);
}

/** Writes a value's payload (not its type). */
export function writeValue(w: ByteWriter, v: MetaValue): void {
  const type = typeof v.type === "number" ? (VALUE_TYPES[v.type] ?? "INVALID") : v.type;
  switch (type) {
    case "UINT8":
      w.u8(Number((v as { value: number }).value));
      return;
    case "INT8":
      w.i8(Number((v as { value: number }).value));
      return;
    case "UINT16":
      w.u16(Number((v as { value: number }).value));
      return;
    case "INT16":
      w.i16(Number((v as { value: number }).value));
      return;
    case "UINT32":
      w.u32(Number((v as { value: number }).value));
      return;
    case "INT32":
      w.i32(Number((v as { value: number }).value));
      return;
    case "FLOAT32":
      w.f32(Number((v as { value: number }).value));
      return;
    case "FLOAT64":
      w.f64(Number((v as { value: number }).value));
      return;
    case "UINT64":
      w.u64((v as { value: bigint }).value);
      return;
    case "INT64":
      w.i64((v as { value: bigint }).value);
      return;
    case "BOOL": {
      const b = (v as { value: boolean | number }).value;
      w.u8(typeof b === "number" ? b : b ? 1 : 0);
      return;
    }
    case "STRING":
      w.string((v as { value: string | Uint8Array }).value);
      return;
    case "ARRAY": {
      const a = v as Extract<MetaValue, { type: "ARRAY" }>;
      const element =
        a.element ?? (a.items[0]?.type as ValueTypeName | number | undefined) ?? "UINT8";
      w.u32(typeNumber(element));
      w.u64(a.count ?? a.items.length);
      for (const item of a.items) writeValue(w, item);
      return;
    }
    default:
      return; // an invalid type: no payload we could know
  }
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** The bytes of a tensor's data: its elements or blocks, per GGML. */
export function tensorBytes(type: string, shape: number[]): number {
  const [, block, size] = GGML[type] as [number, number, number];
  const count = shape.reduce((a, b) => a * b, 1);
  return (count / block) * size;
}

/** A GGUF file from a spec; with nothing overridden, a valid file. */
export function ggufBytes(spec: GgufSpec): Uint8Array {
  return ggufLayout(spec).bytes;
}

/** A GGUF file from a spec, and where each of its u32 and u64 fields is. */
export function ggufLayout(spec: GgufSpec): { bytes: Uint8Array; fields: ByteWriter["fields"] } {
  const alignment = spec.alignment ?? 32;
  const metadata = spec.metadata ?? [];
  const tensors = spec.tensors ?? [];
  const w = new ByteWriter();
  w.bytes(new TextEncoder().encode(spec.magic ?? "GGUF"));
  w.u32(spec.version ?? 3);
  w.u64(spec.tensorCount ?? tensors.length);
  w.u64(spec.kvCount ?? metadata.length);
  for (const [key, value] of metadata) {
    w.string(key);
    w.u32(typeNumber(value.type as ValueTypeName | number));
    writeValue(w, value);
  }
  let offset = 0;
  const places: number[] = [];
  for (const t of tensors) {
    w.string(t.name);
    const ne = t.ne ?? [...t.shape].reverse();
    w.u32(ne.length);
    for (const n of ne) w.u64(n);
    w.u32(typeof t.type === "number" ? t.type : (GGML[t.type] as [number, number, number])[0]);
    w.u64(t.offset ?? offset);
    places.push(offset);
    offset += alignUp(t.data.length, alignment);
  }
  if (tensors.length > 0) w.zeros(alignUp(w.length, alignment) - w.length);
  const start = w.length;
  tensors.forEach((t, i) => {
    w.zeros(start + (places[i] as number) - w.length);
    w.bytes(t.data);
    w.zeros(alignUp(t.data.length, alignment) - t.data.length);
  });
  return { bytes: w.result(), fields: w.fields };
}
