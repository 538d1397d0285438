// The GGUF format (ggml's docs/gguf.md), versions 2 and 3, read with no dependency and no Node
// built-in, so it runs in browsers too. Every number is little-endian:
//
//   "GGUF", u32 version, u64 tensor_count, u64 kv_count
//   kv_count x      string key, u32 value type, the value
//   tensor_count x  string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset
//   zero padding to general.alignment (32 when the key is absent)
//   the tensor data: each tensor at (data start + offset), in the order of the infos, each
//   padded to the alignment
//
// A string is a u64 byte length and that many bytes of UTF-8; an array is a u32 element type,
// a u64 count and the elements. ne[0] is the innermost (fastest-varying) dimension, so an
// nn.Linear weight of shape (out, in) has ne = [in, out]; tokenwise reports shapes outermost
// first, as PyTorch and safetensors do, which is ne reversed. A block type's blocks run along
// ne[0], the row.
//
// A file is untrusted input. Every check of ggml's reader (gguf.cpp, gguf_init_from_reader) is
// made, and llama.cpp's check that each tensor's data lies within the file; each count, length
// and size read from the file is checked against the bytes that remain before anything is
// allocated from it; each failure is a GgufError naming the key or tensor.
import { kindOf } from "../check";
import { bf16ToFloatBits, halfToFloatBits } from "../dtype";
import { ShapeError } from "../errors";
import { BLOCK_FORMATS, dequantizeBlocks, type GgmlBlockType } from "../quant";
import { swapBytes } from "./safetensors";

/**
 * A ggml tensor type, as the GGUF format numbers them (F32 is 0, F16 1, Q4_0 2, ..., BF16 30).
 * Every one of them parses; {@link ggufTensorToFloat32} converts F32, F16, BF16, Q8_0, Q4_0,
 * Q4_1, Q5_0, Q5_1, Q4_K and Q6_K.
 *
 * @category GGUF
 */
export type GgmlType =
  | "F32"
  | "F16"
  | "Q4_0"
  | "Q4_1"
  | "Q5_0"
  | "Q5_1"
  | "Q8_0"
  | "Q8_1"
  | "Q2_K"
  | "Q3_K"
  | "Q4_K"
  | "Q5_K"
  | "Q6_K"
  | "Q8_K"
  | "IQ2_XXS"
  | "IQ2_XS"
  | "IQ3_XXS"
  | "IQ1_S"
  | "IQ4_NL"
  | "IQ3_S"
  | "IQ2_S"
  | "IQ4_XS"
  | "I8"
  | "I16"
  | "I32"
  | "I64"
  | "F64"
  | "IQ1_M"
  | "BF16"
  | "TQ1_0"
  | "TQ2_0"
  | "MXFP4"
  | "NVFP4"
  | "Q1_0"
  | "Q2_0";

/**
 * Each type's number in the file, weights per block and bytes per block (ggml-common.h's
 * block structs; ids 4, 5 and 31 to 33, 36 to 38 were removed from the format).
 */
const GGML_TYPES = {
  F32: [0, 1, 4],
  F16: [1, 1, 2],
  Q4_0: [2, 32, 18],
  Q4_1: [3, 32, 20],
  Q5_0: [6, 32, 22],
  Q5_1: [7, 32, 24],
  Q8_0: [8, 32, 34],
  Q8_1: [9, 32, 36],
  Q2_K: [10, 256, 84],
  Q3_K: [11, 256, 110],
  Q4_K: [12, 256, 144],
  Q5_K: [13, 256, 176],
  Q6_K: [14, 256, 210],
  Q8_K: [15, 256, 292],
  IQ2_XXS: [16, 256, 66],
  IQ2_XS: [17, 256, 74],
  IQ3_XXS: [18, 256, 98],
  IQ1_S: [19, 256, 50],
  IQ4_NL: [20, 32, 18],
  IQ3_S: [21, 256, 110],
  IQ2_S: [22, 256, 82],
  IQ4_XS: [23, 256, 136],
  I8: [24, 1, 1],
  I16: [25, 1, 2],
  I32: [26, 1, 4],
  I64: [27, 1, 8],
  F64: [28, 1, 8],
  IQ1_M: [29, 256, 56],
  BF16: [30, 1, 2],
  TQ1_0: [34, 256, 54],
  TQ2_0: [35, 256, 66],
  MXFP4: [39, 32, 17],
  NVFP4: [40, 64, 36],
  Q1_0: [41, 128, 18],
  Q2_0: [42, 64, 18],
} as const satisfies Readonly<Record<GgmlType, readonly [number, number, number]>>;

const TYPE_BY_ID = /* @__PURE__ */ (() => {
  const byId: (GgmlType | undefined)[] = [];
  for (const [name, [id]] of Object.entries(GGML_TYPES)) byId[id] = name as GgmlType;
  return byId;
})();

/** The weights per block and bytes per block of a ggml type. */
export function ggmlTypeLayout(type: GgmlType): { weights: number; bytes: number } {
  const [, weights, bytes] = GGML_TYPES[type];
  return { weights, bytes };
}

function isGgmlType(value: unknown): value is GgmlType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(GGML_TYPES, value);
}

/**
 * The type of a metadata value, as the GGUF format names them.
 *
 * @category GGUF
 */
export type GgufValueType =
  | "UINT8"
  | "INT8"
  | "UINT16"
  | "INT16"
  | "UINT32"
  | "INT32"
  | "FLOAT32"
  | "BOOL"
  | "STRING"
  | "ARRAY"
  | "UINT64"
  | "INT64"
  | "FLOAT64";

/** The value types in the order of their numbers in the file (UINT8 is 0, FLOAT64 12). */
const VALUE_TYPES: readonly GgufValueType[] = [
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
];

/** The fewest bytes a value of each type takes in the file (a string: its length; an array: its header). */
const MIN_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8] as const;

/**
 * A metadata key's type as the file declares it: the value type, and for an array its element
 * type too, `"ARRAY<STRING>"`. An array of arrays is `"ARRAY<ARRAY>"`: each inner array then
 * has its own element type, which its value shows (a typed array's class, or the kind of its
 * elements; an empty inner array of strings, booleans or arrays reads as `[]` whichever it was).
 *
 * @category GGUF
 */
export type GgufMetadataType = Exclude<GgufValueType, "ARRAY"> | `ARRAY<${GgufValueType}>`;

/**
 * An array in GGUF metadata. Numbers come as the typed array of their type (UINT8 as a
 * Uint8Array, FLOAT32 as a Float32Array, UINT64 as a BigUint64Array, ...); booleans, strings
 * and arrays as plain arrays.
 *
 * @category GGUF
 */
export type GgufArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | readonly boolean[]
  | readonly string[]
  | readonly GgufArray[];

/**
 * A GGUF metadata value: 8-, 16- and 32-bit integers and floats as numbers, 64-bit integers
 * as bigints (exact), BOOL as a boolean, STRING as a string, ARRAY as a {@link GgufArray}.
 *
 * @category GGUF
 */
export type GgufValue = number | bigint | boolean | string | GgufArray;

/**
 * What is wrong with a GGUF file, or with a tensor asked of it. Each code is one check.
 *
 * @category GGUF
 */
export type GgufErrorCode =
  /** The file ends inside its header: in a count, a key, a value, a tensor's info. */
  | "UnexpectedEnd"
  /** The file does not begin with the bytes "GGUF". */
  | "InvalidMagic"
  /** A version other than 2 and 3: 1 (no longer read by ggml), a later one, or a big-endian file. */
  | "UnsupportedVersion"
  /** More tensors or key-value pairs than the rest of the file could hold. */
  | "InvalidCount"
  /** A key or a tensor name that is not valid UTF-8. */
  | "InvalidUtf8"
  /** An empty key. */
  | "InvalidKey"
  /** Two key-value pairs with the same key. */
  | "DuplicateKey"
  /** A metadata value (or array element) type the format does not define. */
  | "InvalidValueType"
  /** A BOOL other than 0 or 1, a string over 2^28 bytes, or arrays nested over 32 deep. */
  | "InvalidValue"
  /** `general.alignment` is not a UINT32 power of two. */
  | "InvalidAlignment"
  /** Two tensors with the same name. */
  | "DuplicateName"
  /** A tensor name of 64 bytes or more, or more than 4 dimensions. */
  | "InvalidTensorInfo"
  /** A ggml type number the format does not define (or no longer does). */
  | "UnknownType"
  /** A dimension, element count or byte count over 2^53 - 1. */
  | "SizeOverflow"
  /** A row (ne[0]) that is not a whole number of its type's blocks. */
  | "BlockMismatch"
  /** A tensor's offset is not where the data before it ends (padded): a gap, an overlap, disorder. */
  | "InvalidOffset"
  /** A tensor's data (or the data section) runs past the end of the file. */
  | "DataOutOfBounds"
  /** A tensor asked for as float32 has a type {@link ggufTensorToFloat32} does not convert. */
  | "UnsupportedType"
  /** A tensor asked for is not in the file. */
  | "TensorNotFound"
  /** The architecture in `general.architecture` is missing, or one whose feedforward tokenwise does not know. */
  | "UnknownArchitecture"
  /** A feedforward tensor whose shape does not fit the others. */
  | "ShapeMismatch";

/**
 * A GGUF file is invalid, or a tensor in it cannot be used as asked. `code` says which check
 * failed; `tensor` or `key` names what is at fault. A wrong kind of argument is a `TypeError`
 * instead: this error is about the file, never about the call.
 *
 * @category GGUF
 * @example
 * ```ts
 * import { parseGguf, GgufError } from "tokenwise";
 * try {
 *   parseGguf(new TextEncoder().encode("GGML, not GGUF"));
 * } catch (e) {
 *   console.log(e instanceof GgufError && e.code);
 *   // InvalidMagic
 * }
 * ```
 */
export class GgufError extends Error {
  /** Which check failed. */
  readonly code: GgufErrorCode;
  /** The tensor at fault, when there is one. */
  readonly tensor: string | undefined;
  /** The metadata key at fault, when there is one. */
  readonly key: string | undefined;

  /**
   * @param code - which check failed
   * @param message - what is wrong, naming the tensor or key and the values found
   * @param at - the tensor or the metadata key at fault, if any
   */
  constructor(
    code: GgufErrorCode,
    message: string,
    at: { tensor?: string | undefined; key?: string | undefined } = {},
  ) {
    super(message);
    this.name = "GgufError";
    this.code = code;
    this.tensor = at.tensor;
    this.key = at.key;
  }
}

/**
 * Where a tensor is in a GGUF file, and what it is. Its data is `byteLength` bytes at byte
 * `offset` of the file.
 *
 * @category GGUF
 */
export interface GgufTensorInfo {
  /** The tensor's name in the file. */
  readonly name: string;
  /** Its ggml type. */
  readonly type: GgmlType;
  /**
   * The dimensions outermost first, as PyTorch and safetensors give them: GGUF's `ne`
   * reversed. An `nn.Linear` weight of (out, in) features is `[out, in]` here (its `ne` is
   * `[in, out]`); a block type's blocks run along the last dimension.
   */
  readonly shape: readonly number[];
  /** The byte offset of its data in the file (not in the data section). */
  readonly offset: number;
  /** The bytes of its data. */
  readonly byteLength: number;
}

/**
 * A tensor of a GGUF file with its data. From {@link parseGguf}, `data` is a view of the
 * bytes given to it, not a copy.
 *
 * @category GGUF
 */
export interface GgufTensor extends GgufTensorInfo {
  /** The tensor's bytes, as stored: little-endian elements or ggml blocks. */
  readonly data: Uint8Array;
}

/**
 * A parsed GGUF file.
 *
 * @category GGUF
 */
export interface GgufFile {
  /** The format version, 2 or 3 (they are laid out alike). */
  readonly version: 2 | 3;
  /** The alignment of the tensor data: `general.alignment`, or 32 without it. */
  readonly alignment: number;
  /** The byte offset of the tensor data section in the file. */
  readonly dataOffset: number;
  /** The key-value pairs in file order. A `Map`, so any key is safe, `"__proto__"` too. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Each key's type as the file declares it. */
  readonly metadataTypes: ReadonlyMap<string, GgufMetadataType>;
  /**
   * Every tensor of the file, in file order: its info (from {@link parseGguf}, the very
   * objects of `tensors`, data included).
   */
  readonly tensorInfos: ReadonlyMap<string, GgufTensorInfo>;
  /**
   * The tensors with their data, in file order: all of them from {@link parseGguf}, those
   * asked for from `loadGguf` (in tokenwise/node).
   */
  readonly tensors: ReadonlyMap<string, GgufTensor>;
}

/**
 * A tensor to convert with {@link ggufTensorToFloat32}: a {@link GgufTensor}, or any
 * `{ type, shape, data }`.
 *
 * @category GGUF
 */
export interface GgufTensorInput {
  /** Its name, for error messages. */
  readonly name?: string;
  /** Its ggml type. */
  readonly type: GgmlType;
  /** Its dimensions, outermost first; the last one is the row, a whole number of blocks. */
  readonly shape: readonly number[];
  /** Its bytes, as stored in a GGUF file. */
  readonly data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------

const DEFAULT_ALIGNMENT = 32;
/** GGML_MAX_NAME: a name and its terminating NUL fit in 64 bytes. */
const MAX_NAME_BYTES = 63;
/** GGML_MAX_DIMS */
const MAX_DIMS = 4;
/**
 * ggml allows strings of up to 1 GiB. A JavaScript string holds at most 2^29 - 24 UTF-16 code
 * units in V8 (and a UTF-8 byte decodes to at most one), so tokenwise stops at 2^28 bytes,
 * which no real key, token or chat template comes near.
 */
const MAX_STRING_BYTES = 2 ** 28;
/** ggml's reader allows no array of arrays; the format sets no limit. Recursion needs one. */
const MAX_ARRAY_DEPTH = 32;
/** The fewest bytes a key-value pair takes (an empty key, refused later, and a 1-byte value) and a tensor info. */
const MIN_KV_BYTES = 8 + 4 + 1;
const MIN_INFO_BYTES = 8 + 4 + 4 + 8;

const LITTLE_ENDIAN = /* @__PURE__ */ (() =>
  new Uint8Array(new Uint32Array([1]).buffer)[0] === 1)();

function quote(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
}

function at(where: { tensor?: string | undefined; key?: string | undefined }): string {
  if (where.tensor !== undefined) return `tensor ${quote(where.tensor)}: `;
  if (where.key !== undefined) return `key ${quote(where.key)}: `;
  return "";
}

/**
 * Thrown (internally, never out of tokenwise) when a header read from a prefix of a file needs
 * bytes past the prefix: `end` is how far it must reach. loadGguf reads more and parses again.
 */
export class NeedMoreBytes {
  constructor(readonly end: number) {}
}

let strictDecoder: TextDecoder | undefined;
let looseDecoder: TextDecoder | undefined;

/** A cursor over the header, in `bytes` (a prefix of a file of `fileLength` bytes). */
class Reader {
  pos = 0;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #fileLength: number;
  readonly #where: string;
  /** What is being read, for messages and for the error's key or tensor. */
  context: { tensor?: string; key?: string } = {};

  constructor(bytes: Uint8Array, fileLength: number, where: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#fileLength = fileLength;
    this.#where = where;
  }

  get remaining(): number {
    return this.#fileLength - this.pos;
  }

  fail(code: GgufErrorCode, message: string): never {
    throw new GgufError(code, `${this.#where}: ${at(this.context)}${message}`, this.context);
  }

  /** Ensures `n` bytes from pos are in the prefix (or says the file ends first). */
  need(n: number, what: string): void {
    const end = this.pos + n;
    if (end <= this.#bytes.length) return;
    if (end <= this.#fileLength) throw new NeedMoreBytes(end);
    this.fail(
      "UnexpectedEnd",
      `the file ends inside ${what} (${n} bytes at byte ${this.pos}; the file has ${this.#fileLength})`,
    );
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#bytes[this.pos++] as number;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A u64 as a number, or `Infinity` when it is over 2^53 - 1 (the caller says why that is wrong). */
  u64(what: string): number {
    this.need(8, what);
    const low = this.#view.getUint32(this.pos, true);
    const high = this.#view.getUint32(this.pos + 4, true);
    this.pos += 8;
    return high >= 2 ** 21 ? Infinity : high * 2 ** 32 + low;
  }

  /** A scalar value of one of the fixed-size types (0 to 6, 10 to 12). */
  scalar(type: number, what: string): number | bigint {
    const size = MIN_SIZE[type] as number;
    this.need(size, what);
    const v = this.#view;
    const p = this.pos;
    this.pos += size;
    switch (type) {
      case 0:
        return v.getUint8(p);
      case 1:
        return v.getInt8(p);
      case 2:
        return v.getUint16(p, true);
      case 3:
        return v.getInt16(p, true);
      case 4:
        return v.getUint32(p, true);
      case 5:
        return v.getInt32(p, true);
      case 6:
        return v.getFloat32(p, true);
      case 10:
        return v.getBigUint64(p, true);
      case 11:
        return v.getBigInt64(p, true);
      default:
        return v.getFloat64(p, true);
    }
  }

  bool(what: string): boolean {
    const b = this.u8(what);
    if (b > 1)
      this.fail("InvalidValue", `a BOOL must be 0 or 1, found ${b} (byte ${this.pos - 1})`);
    return b === 1;
  }

  /**
   * A string. Keys and tensor names must be UTF-8 (`strict`); in values, a byte sequence that
   * is not UTF-8 becomes U+FFFD, as TextDecoder does, so that an odd token cannot make a whole
   * model unreadable.
   */
  string(what: string, strict: boolean): string {
    const start = this.pos;
    const n = this.u64(`the length of ${what}`);
    if (n > this.remaining) {
      this.pos = start;
      this.fail(
        "UnexpectedEnd",
        `${what} of ${n === Infinity ? "2^53 or more" : n} bytes runs past the end of the file (byte ${start})`,
      );
    }
    if (n > MAX_STRING_BYTES) {
      this.pos = start;
      this.fail("InvalidValue", `${what} has ${n} bytes, over tokenwise's limit of 2^28`);
    }
    this.need(n, what);
    let bytes = this.#bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    if (n <= 64) {
      let ascii = true;
      for (let i = 0; i < n; i++) if ((bytes[i] as number) >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode(...bytes);
    }
    if (typeof SharedArrayBuffer !== "undefined" && bytes.buffer instanceof SharedArrayBuffer) {
      bytes = new Uint8Array(bytes); // TextDecoder refuses views of shared memory
    }
    if (!strict) {
      looseDecoder ??= new TextDecoder("utf-8", { ignoreBOM: true });
      return looseDecoder.decode(bytes);
    }
    strictDecoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    try {
      return strictDecoder.decode(bytes);
    } catch {
      this.pos = start;
      return this.fail("InvalidUtf8", `${what} is not valid UTF-8 (byte ${start + 8})`);
    }
  }

  /** The value of one type (its number from the file), arrays nested `depth` deep so far. */
  value(type: number, depth: number): GgufValue {
    if (type === 7) return this.bool("a BOOL");
    if (type === 8) return this.string("a STRING", false);
    if (type === 9) return this.array(depth + 1);
    return this.scalar(type, `a ${VALUE_TYPES[type]}`);
  }

  /** An array's element type, checked (the type of a key's value is checked by the caller). */
  valueType(what: string): number {
    const start = this.pos;
    const type = this.u32(what);
    if (type >= VALUE_TYPES.length) {
      this.pos = start;
      this.fail(
        "InvalidValueType",
        `${what} is ${type}; the format's value types are 0 (UINT8) to 12 (FLOAT64)`,
      );
    }
    return type;
  }

  array(depth: number): GgufArray {
    if (depth > MAX_ARRAY_DEPTH) {
      this.fail("InvalidValue", `arrays nest more than ${MAX_ARRAY_DEPTH} deep (byte ${this.pos})`);
    }
    const type = this.valueType("an array's element type");
    const start = this.pos;
    const count = this.u64("an array's length");
    const min = MIN_SIZE[type] as number;
    // Checked before anything is sized from the count: every element takes `min` bytes at least.
    if (count > this.remaining / min) {
      this.pos = start;
      this.fail(
        "UnexpectedEnd",
        `an array of ${count === Infinity ? "2^53 or more" : count} ${VALUE_TYPES[type]} runs past the end of the file (byte ${start})`,
      );
    }
    if (type === 7 || type === 8 || type === 9) {
      const list: GgufValue[] = [];
      for (let i = 0; i < count; i++) list.push(this.value(type, depth));
      return list as GgufArray;
    }
    this.need(count * min, `an array of ${count} ${VALUE_TYPES[type]}`);
    // A copy, so that the typed array is aligned and independent of the file's buffer (made
    // with set, not slice: a Node Buffer's slice is a view).
    const copy = new Uint8Array(count * min);
    copy.set(this.#bytes.subarray(this.pos, this.pos + count * min));
    this.pos += count * min;
    if (!LITTLE_ENDIAN) swapBytes(copy, min);
    const b = copy.buffer;
    switch (type) {
      case 0:
        return copy;
      case 1:
        return new Int8Array(b);
      case 2:
        return new Uint16Array(b);
      case 3:
        return new Int16Array(b);
      case 4:
        return new Uint32Array(b);
      case 5:
        return new Int32Array(b);
      case 6:
        return new Float32Array(b);
      case 10:
        return new BigUint64Array(b);
      case 11:
        return new BigInt64Array(b);
      default:
        return new Float64Array(b);
    }
  }
}

/** The header of a GGUF file: everything but the tensors' data. */
export interface GgufHeader {
  version: 2 | 3;
  alignment: number;
  dataOffset: number;
  metadata: Map<string, GgufValue>;
  metadataTypes: Map<string, GgufMetadataType>;
  tensorInfos: Map<string, GgufTensorInfo>;
}

/**
 * Reads the header of a GGUF file of `fileLength` bytes from its first bytes, `bytes`, with
 * every check; the tensors' places are checked against `fileLength`. Throws NeedMoreBytes when
 * `bytes` ends before the header does but the file does not.
 */
export function parseGgufHeader(bytes: Uint8Array, fileLength: number, where: string): GgufHeader {
  const r: Reader = new Reader(bytes, fileLength, where);
  r.need(4, "the magic");
  if (bytes[0] !== 0x47 || bytes[1] !== 0x47 || bytes[2] !== 0x55 || bytes[3] !== 0x46) {
    const shown = [...bytes.subarray(0, 4)]
      .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "?"))
      .join("");
    r.fail("InvalidMagic", `the file begins with "${shown}", not "GGUF"`);
  }
  r.pos = 4;
  const version = r.u32("the version");
  if (version !== 2 && version !== 3) {
    r.fail(
      "UnsupportedVersion",
      (version & 0xffff) === 0 && version !== 0
        ? `the version reads as ${version} (0x${version.toString(16)}): a big-endian file, which tokenwise does not read`
        : version === 1
          ? "version 1 files (before 64-bit counts) are no longer read, by ggml or tokenwise"
          : `version ${version}; tokenwise reads versions 2 and 3`,
    );
  }
  const tensorCount = r.u64("the tensor count");
  const kvCount = r.u64("the metadata count");
  // Each pair takes 14 bytes at least and each tensor info 24: a count that the rest of the
  // file cannot hold is refused before anything is read or sized from it.
  if (
    kvCount > r.remaining / MIN_KV_BYTES ||
    tensorCount > r.remaining / MIN_INFO_BYTES ||
    kvCount * MIN_KV_BYTES + tensorCount * MIN_INFO_BYTES > r.remaining
  ) {
    const shown = (n: number) => (n === Infinity ? "2^53 or more" : String(n));
    r.fail(
      "InvalidCount",
      `${shown(tensorCount)} tensors and ${shown(kvCount)} key-value pairs cannot fit in the ${r.remaining} bytes after the counts`,
    );
  }

  const metadata = new Map<string, GgufValue>();
  const metadataTypes = new Map<string, GgufMetadataType>();
  for (let i = 0; i < kvCount; i++) {
    r.context = {};
    const key = r.string(`key ${i}`, true);
    if (key === "") r.fail("InvalidKey", `key ${i} is empty`);
    r.context = { key };
    if (metadata.has(key)) r.fail("DuplicateKey", "the key appears twice");
    const type = r.valueType("the value type");
    let declared: GgufMetadataType;
    let value: GgufValue;
    if (type === 9) {
      const before = r.pos;
      const element = r.valueType("an array's element type");
      r.pos = before;
      declared = `ARRAY<${VALUE_TYPES[element] as GgufValueType}>`;
      value = r.array(1);
    } else {
      declared = VALUE_TYPES[type] as Exclude<GgufValueType, "ARRAY">;
      value = r.value(type, 0);
    }
    metadata.set(key, value);
    metadataTypes.set(key, declared);
  }

  r.context = { key: "general.alignment" };
  let alignment = DEFAULT_ALIGNMENT;
  if (metadata.has("general.alignment")) {
    const a = metadata.get("general.alignment");
    const t = metadataTypes.get("general.alignment");
    if (t !== "UINT32") r.fail("InvalidAlignment", `the alignment must be a UINT32, found ${t}`);
    alignment = a as number;
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
      r.fail("InvalidAlignment", `the alignment ${alignment} is not a power of two`);
    }
  }

  const tensorInfos = new Map<string, GgufTensorInfo>();
  const relative: number[] = [];
  for (let i = 0; i < tensorCount; i++) {
    r.context = {};
    const nameAt = r.pos;
    const name = r.string(`the name of tensor ${i}`, true);
    r.context = { tensor: name };
    const nameBytes = r.pos - nameAt - 8;
    if (nameBytes > MAX_NAME_BYTES) {
      r.fail("InvalidTensorInfo", `the name has ${nameBytes} bytes; ggml allows ${MAX_NAME_BYTES}`);
    }
    if (tensorInfos.has(name)) r.fail("DuplicateName", "two tensors have this name");
    const nDims = r.u32("the number of dimensions");
    if (nDims > MAX_DIMS) {
      r.fail("InvalidTensorInfo", `${nDims} dimensions; ggml allows ${MAX_DIMS}`);
    }
    const ne: number[] = [];
    let count = 1;
    for (let d = 0; d < nDims; d++) {
      const n = r.u64(`dimension ${d}`);
      if (n === Infinity) r.fail("SizeOverflow", `dimension ${d} (ne[${d}]) is 2^53 or more`);
      ne.push(n);
      count *= n;
    }
    const shown = () => `ne [${ne.join(", ")}]`;
    // A true product over 2^53 - 1 of safe integers rounds to at least 2^53.
    if (count > Number.MAX_SAFE_INTEGER) {
      r.fail("SizeOverflow", `${shown()} has 2^53 or more elements`);
    }
    const typeAt = r.pos;
    const typeId = r.u32("the type");
    const found = TYPE_BY_ID[typeId];
    if (found === undefined) {
      r.pos = typeAt;
      r.fail(
        "UnknownType",
        `ggml type ${typeId} is not one the format defines${typeId === 4 || typeId === 5 || (typeId >= 31 && typeId <= 38) ? " (it was removed)" : ""}`,
      );
    }
    const type = found;
    const [, block, size] = GGML_TYPES[type];
    const row = nDims === 0 ? 1 : (ne[0] as number);
    if (row % block !== 0) {
      r.fail(
        "BlockMismatch",
        `${shown()} x ${type}: a row of ${row} is not a whole number of blocks of ${block}`,
      );
    }
    const byteLength = (count / block) * size;
    if (byteLength > Number.MAX_SAFE_INTEGER) {
      r.fail("SizeOverflow", `${shown()} x ${type} is 2^53 or more bytes`);
    }
    const offsetAt = r.pos;
    const offset = r.u64("the data offset");
    relative.push(offset);
    if (offset === Infinity) {
      r.pos = offsetAt;
      r.fail("InvalidOffset", "the data offset is 2^53 or more");
    }
    tensorInfos.set(name, { name, type, shape: ne.reverse(), offset, byteLength });
  }

  r.context = {};
  const dataOffset = tensorCount > 0 ? alignUp(r.pos, alignment) : r.pos;
  if (tensorCount > 0 && dataOffset > fileLength) {
    r.fail(
      "DataOutOfBounds",
      `the tensor data would begin at byte ${dataOffset} (the header, aligned to ${alignment}), past the end of the file (${fileLength} bytes)`,
    );
  }
  // ggml's reader: the tensors' data follow each other in the order of their infos, each
  // padded to the alignment, from offset 0. llama.cpp's loader: each lies within the file.
  let expected = 0;
  let previous: string | null = null;
  let i = 0;
  for (const [name, info] of tensorInfos) {
    r.context = { tensor: name };
    const offset = relative[i++] as number;
    if (offset !== expected) {
      const after =
        previous === null
          ? "the start of the data section"
          : `the end of ${quote(previous)}'s data, padded to ${alignment}`;
      r.fail(
        "InvalidOffset",
        `the data offset is ${offset}, expected ${expected}: ${after} (offsets follow the order of the tensors, with no gap or overlap)`,
      );
    }
    const end = dataOffset + offset + info.byteLength;
    if (end > fileLength) {
      r.fail(
        "DataOutOfBounds",
        `its ${info.byteLength} bytes of data at byte ${dataOffset + offset} run past the end of the file (${fileLength} bytes)`,
      );
    }
    (info as { offset: number }).offset = dataOffset + offset;
    expected = offset + alignUp(info.byteLength, alignment);
    previous = name;
  }
  return { version: version as 2 | 3, alignment, dataOffset, metadata, metadataTypes, tensorInfos };
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function asBytes(bytes: unknown, where: string, name: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(
    `${where}: ${name} must be a Uint8Array or an ArrayBuffer, got ${kindOf(bytes)}`,
  );
}

/**
 * Reads a GGUF file (versions 2 and 3, as llama.cpp writes them): its metadata, every
 * tensor's info, and a view of every tensor's data. Every check of ggml's own reader is made,
 * and more (docs/gguf.md lists them); a file that fails one is refused whole with a
 * {@link GgufError}. Nothing is allocated from a size the file states before that size is
 * checked against the bytes that remain. No tensor data is copied.
 *
 * @param bytes - the whole file
 * @returns the version, metadata (with each key's type), and the tensors in file order
 * @throws TypeError if `bytes` is not a Uint8Array or an ArrayBuffer
 * @throws {@link GgufError} if the file is not a valid GGUF file; its `code` says which check
 *   failed, and `key` or `tensor` what is at fault
 * @category GGUF
 * @example
 * ```ts
 * import { parseGguf } from "tokenwise";
 * import { readFileSync } from "node:fs";
 * const file = parseGguf(readFileSync("test/fixtures/gguf/llama-ffn.gguf"));
 * console.log(file.version, file.metadata.get("general.architecture"));
 * // 3 llama
 * const up = file.tensors.get("blk.0.ffn_up.weight");
 * console.log(up?.type, up?.shape, up?.data.byteLength); // (dHidden, dModel), rows of Q8_0 blocks
 * // Q8_0 [ 96, 64 ] 6528
 * ```
 */
export function parseGguf(bytes: Uint8Array | ArrayBuffer): GgufFile {
  const buffer = asBytes(bytes, "parseGguf", "bytes");
  const header = parseGgufHeader(buffer, buffer.length, "parseGguf");
  const tensors = new Map<string, GgufTensor>();
  for (const [name, info] of header.tensorInfos) {
    tensors.set(name, {
      ...info,
      data: buffer.subarray(info.offset, info.offset + info.byteLength),
    });
  }
  return { ...header, tensorInfos: tensors, tensors };
}

// ---------------------------------------------------------------------------------------------

/**
 * A tensor of a GGUF file as float32 values, row-major, in a new Float32Array: F32 copied bit
 * for bit; F16 and BF16 converted exactly; Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q6_K decoded
 * as ggml's `dequantize_row_*` functions decode them, bit for bit (docs/gguf.md gives each
 * format's formula). A scale that is infinite or NaN in the file gives infinities and NaNs, as
 * in ggml. Other types are refused, naming the tensor and the type.
 *
 * @param tensor - a tensor from {@link parseGguf} or `loadGguf`, or any `{ type, shape, data }`
 * @returns the values, `shape`'s product of them
 * @throws TypeError if `tensor` is not a tensor (an unknown `type` included)
 * @throws {@link ShapeError} if its last dimension is not a whole number of blocks, or its
 *   data has the wrong byte count for its shape
 * @throws {@link GgufError} with code `UnsupportedType` for a type other than those above
 * @category GGUF
 * @example
 * ```ts
 * import { ggufTensorToFloat32 } from "tokenwise";
 * // One Q8_0 block: the f16 scale 0.5 (0x3800), then 32 signed quants.
 * const block = new Uint8Array(34);
 * block.set([0x00, 0x38, 2, 0xff, 127]);
 * const values = ggufTensorToFloat32({ type: "Q8_0", shape: [32], data: block });
 * console.log(values.length, values.subarray(0, 4));
 * // 32 Float32Array(4) [ 1, -0.5, 63.5, 0 ]
 * ```
 */
export function ggufTensorToFloat32(tensor: GgufTensor | GgufTensorInput): Float32Array {
  const where = "ggufTensorToFloat32";
  if (typeof tensor !== "object" || tensor === null) {
    throw new TypeError(
      `${where}: tensor must be a tensor { type, shape, data }, got ${kindOf(tensor)}`,
    );
  }
  const name = typeof tensor.name === "string" ? tensor.name : undefined;
  const label = name === undefined ? "tensor" : `tensor ${quote(name)}`;
  const { type, shape, data } = tensor;
  if (!isGgmlType(type)) {
    throw new TypeError(
      `${where}: ${label}.type must be a ggml type name such as "F32" or "Q4_K", got ${typeof type === "string" ? quote(type) : kindOf(type)}`,
    );
  }
  if (!Array.isArray(shape)) {
    throw new TypeError(`${where}: ${label}.shape must be an array of sizes, got ${kindOf(shape)}`);
  }
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const dim: unknown = shape[i];
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) {
      throw new TypeError(
        `${where}: ${label}.shape[${i}] must be a non-negative integer, got ${kindOf(dim)}`,
      );
    }
    count *= dim;
  }
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${where}: ${label}.data must be a Uint8Array, got ${kindOf(data)}`);
  }
  const [, block, size] = GGML_TYPES[type];
  const row = shape.length === 0 ? 1 : (shape[shape.length - 1] as number);
  if (row % block !== 0) {
    throw new ShapeError(
      `${where}: ${label} has rows of ${row} values (its last dimension), not a whole number of ${type} blocks of ${block}`,
    );
  }
  const expected = (count / block) * size;
  if (data.byteLength !== expected) {
    throw new ShapeError(
      `${where}: ${label}.data has ${data.byteLength} bytes, expected shape [${shape.join(", ")}] x ${type} = ${expected}`,
    );
  }
  if (!(type === "F32" || type === "F16" || type === "BF16" || type in BLOCK_FORMATS)) {
    throw new GgufError(
      "UnsupportedType",
      `${where}: ${label} has type ${type}; tokenwise converts F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q6_K`,
      { tensor: name },
    );
  }
  const out = new Float32Array(count);
  if (type === "F32") {
    const raw = new Uint8Array(out.buffer);
    raw.set(data);
    if (!LITTLE_ENDIAN) swapBytes(raw, 4);
  } else if (type === "F16" || type === "BF16") {
    const bits = new Uint32Array(out.buffer);
    const convert = type === "F16" ? halfToFloatBits : bf16ToFloatBits;
    for (let i = 0; i < count; i++) {
      bits[i] = convert((data[2 * i] as number) | ((data[2 * i + 1] as number) << 8));
    }
  } else {
    dequantizeBlocks(type as GgmlBlockType, out, 0, data, 0, count / block);
  }
  return out;
}
