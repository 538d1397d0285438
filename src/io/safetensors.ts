// The safetensors format (https://github.com/huggingface/safetensors), read and written with no
// dependency and no Node built-in, so it runs in browsers too.
//
//   8 bytes   N, the header length, unsigned little-endian 64-bit
//   N bytes   the header: UTF-8 JSON, an object that begins with "{" and may be padded with
//             spaces; {"__metadata__": {string: string}, name: {dtype, shape, data_offsets}, ...}
//   the rest  the data: every tensor's little-endian, row-major bytes, back to back, the
//             offsets relative to the start of the data
//
// A file is untrusted input. The header is read by a small scanner of exactly this grammar
// (not JSON.parse, which keeps the last of two equal keys silently and would let a tensor
// named "__proto__" reach an object's prototype); every check of the reference reader
// (safetensors/src/tensor.rs, read_metadata and Metadata::validate) is made, each before
// anything is sized from the file, and each failure is a SafetensorsError naming the tensor.
import { kindOf } from "../check";
import { bf16ToFloatBits, halfToFloatBits } from "../dtype";
import { ShapeError } from "../errors";
import type { Matrix } from "../matrix";

/** The reference reader's limit on N, the header length. */
const MAX_HEADER_SIZE = 100_000_000;
const N_LEN = 8;

/**
 * An element type of the safetensors format. Every one of them parses and serializes;
 * {@link tensorToFloat32} (and so every weight loader) accepts `F32`, `F16` and `BF16` only.
 *
 * @category Safetensors
 */
export type SafetensorsDtype =
  | "BOOL"
  | "F4"
  | "F6_E2M3"
  | "F6_E3M2"
  | "U8"
  | "I8"
  | "F8_E5M2"
  | "F8_E4M3"
  | "F8_E8M0"
  | "F8_E4M3FNUZ"
  | "F8_E5M2FNUZ"
  | "I16"
  | "U16"
  | "F16"
  | "BF16"
  | "I32"
  | "U32"
  | "F32"
  | "C64"
  | "F64"
  | "I64"
  | "U64";

/**
 * Each dtype's width in bits, in the reference's order of increasing alignment (the order
 * {@link serializeSafetensors} sorts by, widest first).
 */
const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

// The pure annotations let bundlers drop this module from apps that never import it.
const DTYPE_NAMES = /* @__PURE__ */ (() => Object.keys(DTYPE_BITS) as SafetensorsDtype[])();
const DTYPE_RANK = /* @__PURE__ */ (() =>
  new Map<string, number>(DTYPE_NAMES.map((d, i) => [d, i])))();

/** True when `value` is the name of a safetensors dtype (an own key, never `"toString"`). */
function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === "string" && DTYPE_RANK.has(value);
}

/**
 * What is wrong with a safetensors file, an index of shards, or a tensor asked for as weights.
 * Each code is one check; `SafetensorsError.code` says which.
 *
 * @category Safetensors
 */
export type SafetensorsErrorCode =
  /** Fewer than 8 bytes: no header length. */
  | "HeaderTooSmall"
  /** The header length is over 100,000,000 bytes. */
  | "HeaderTooLarge"
  /** The header length runs past the end of the file. */
  | "InvalidHeaderLength"
  /** The header is not valid UTF-8. */
  | "InvalidUtf8"
  /** The header does not begin with `{`. */
  | "InvalidHeaderStart"
  /** The header is not JSON (of the format's shape), or has something after its object. */
  | "InvalidJson"
  /** Two tensors (or two `__metadata__` entries, or two keys in one object) share a name. */
  | "DuplicateName"
  /** `__metadata__` is not an object of strings. */
  | "InvalidMetadata"
  /** A tensor's entry lacks a field, has an unknown one, or one of the wrong type. */
  | "InvalidTensorInfo"
  /** A dtype the format does not define. */
  | "UnknownDtype"
  /** A shape whose element count, or bit count, overflows 2^64 - 1 (the reference's usize). */
  | "ValidationOverflow"
  /** A sub-byte dtype (F4, F6) whose elements do not fill whole bytes. */
  | "MisalignedSlice"
  /** A tensor's data_offsets span differs from its shape times its dtype's size. */
  | "SizeMismatch"
  /** A tensor's data does not start where the previous one ends: a gap, an overlap, or end < start. */
  | "InvalidOffset"
  /** A tensor's data runs past the end of the file. */
  | "DataOutOfBounds"
  /** Bytes after the last tensor's data. */
  | "TrailingBytes"
  /** A tensor asked for as float32 has a dtype other than F32, F16 or BF16. */
  | "UnsupportedDtype"
  /** A tensor asked for is not in the file, or not in the shard the index names. */
  | "TensorNotFound"
  /** An index of shards that is not `{ weight_map: { name: fileName } }` or names a bad file. */
  | "InvalidIndex"
  /** A shard holds a tensor that the index does not map to that shard. */
  | "ShardMismatch";

/**
 * The content of a safetensors file (or of a set of shards) is invalid, or a tensor in it
 * cannot be used as asked. `code` says which check failed and `tensor` names the tensor when
 * one is at fault. A wrong kind of argument is a `TypeError` instead, as everywhere in
 * tokenwise: this error is about the bytes, never about the call.
 *
 * @category Safetensors
 * @example
 * ```ts
 * import { parseSafetensors, SafetensorsError } from "tokenwise";
 * try {
 *   parseSafetensors(new Uint8Array(4));
 * } catch (e) {
 *   console.log(e instanceof SafetensorsError && e.code);
 *   // HeaderTooSmall
 * }
 * ```
 */
export class SafetensorsError extends Error {
  /** Which check failed. */
  readonly code: SafetensorsErrorCode;
  /** The tensor at fault, when there is one. */
  readonly tensor: string | undefined;

  /**
   * @param code - which check failed
   * @param message - what is wrong, naming the tensor and the values found
   * @param tensor - the tensor at fault, if any
   */
  constructor(code: SafetensorsErrorCode, message: string, tensor?: string) {
    super(message);
    this.name = "SafetensorsError";
    this.code = code;
    this.tensor = tensor;
  }
}

/**
 * One tensor of a parsed file. `data` is a view of the bytes given to
 * {@link parseSafetensors}, not a copy: it keeps the whole buffer alive, and changing those
 * bytes changes it. {@link tensorToFloat32} copies it out as float32.
 *
 * @category Safetensors
 */
export interface SafetensorsTensor {
  /** The tensor's name in the file. */
  readonly name: string;
  /** The element type. */
  readonly dtype: SafetensorsDtype;
  /** The dimensions, outermost first; `[]` is a scalar. */
  readonly shape: readonly number[];
  /** The tensor's little-endian, row-major bytes. */
  readonly data: Uint8Array;
}

/**
 * A parsed safetensors file.
 *
 * @category Safetensors
 */
export interface SafetensorsFile {
  /**
   * The tensors by name, in the order of their data in the file. A `Map`, so any name is safe,
   * `"__proto__"` and `"constructor"` included.
   */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** The `__metadata__` strings, or `null` when the header has none. */
  readonly metadata: ReadonlyMap<string, string> | null;
}

/**
 * A tensor to write with {@link serializeSafetensors}. A {@link SafetensorsTensor} is one.
 *
 * @category Safetensors
 */
export interface SafetensorsTensorInput {
  /** The element type. */
  readonly dtype: SafetensorsDtype;
  /** The dimensions, outermost first. */
  readonly shape: readonly number[];
  /**
   * The elements, row-major: a `Uint8Array` of little-endian bytes, or a typed array of the
   * dtype's width (a `Float32Array` for F32, say), whose elements are written little-endian.
   */
  readonly data: ArrayBufferView;
}

const LITTLE_ENDIAN = /* @__PURE__ */ (() =>
  new Uint8Array(new Uint32Array([1]).buffer)[0] === 1)();

/** Reverses the bytes of each `width`-byte element of `bytes`, in place. */
export function swapBytes(bytes: Uint8Array, width: number): Uint8Array {
  if (width <= 1) return bytes;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
  return bytes;
}

/**
 * The format's rule for a shape, which the reader and the writer both apply: the reference
 * reader's (`Metadata::validate`). Its dimensions are multiplied in order, and each partial
 * product, then the bit count (elements x the dtype's bits), must stay at most 2^64 - 1, its
 * `usize`; so `[0, 2^40, 2^40]` is empty and valid, `[2^40, 2^40, 0]` overflows before its 0
 * is reached. The bits must then make whole bytes (F4 and F6 pack several elements a byte).
 *
 * Returns the byte count, or what breaks the rule. Exact up to 2^53 - 1; above, the count is
 * at least 2^53, more bytes than any file or typed array here can hold, so it matches none.
 */
function shapeBytes(
  shape: readonly number[],
  dtype: SafetensorsDtype,
):
  | { ok: true; bytes: number; elements: number }
  | { ok: false; code: "ValidationOverflow" | "MisalignedSlice"; what: string } {
  const text = `shape [${shape.join(", ")}]`;
  let count = 1n;
  for (const dim of shape) {
    count *= BigInt(dim);
    if (count > U64_MAX) {
      return { ok: false, code: "ValidationOverflow", what: `${text} has over 2^64 - 1 elements` };
    }
  }
  const bits = count * BigInt(DTYPE_BITS[dtype]);
  if (bits > U64_MAX) {
    return {
      ok: false,
      code: "ValidationOverflow",
      what: `${text} x ${dtype} overflows 2^64 - 1 bits`,
    };
  }
  if (bits % 8n !== 0n) {
    return {
      ok: false,
      code: "MisalignedSlice",
      what: `${text} x ${dtype} is ${bits} bits, not a whole number of bytes`,
    };
  }
  return { ok: true, bytes: Number(bits / 8n), elements: Number(count) };
}

const U64_MAX = 2n ** 64n - 1n;

function quote(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
}

// ---------------------------------------------------------------------------------------------
// The header scanner. The grammar, with JSON's own whitespace, strings and integers:
//   header  = "{" ws [ entry *( ws "," ws entry ) ] ws "}" ws
//   entry   = string ws ":" ws ( meta | info )      ; meta when the key is "__metadata__"
//   meta    = "{" ws [ string ws ":" ws string *( ws "," ws string ws ":" ws string ) ] ws "}"
//   info    = "{" the three members "dtype": string, "shape": [ integers ],
//                 "data_offsets": [ integer, integer ], each once, in any order "}"
// An integer is a JSON number without sign, fraction or exponent, at most 2^53 - 1.
// Nothing nests deeper than that, so the scanner needs no recursion and no depth limit.

interface RawInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: number;
  start: number;
  end: number;
}

const WHERE = "parseSafetensors";

class HeaderScanner {
  #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  fail(code: SafetensorsErrorCode, what: string, tensor?: string): never {
    const at = tensor === undefined ? "" : `tensor ${quote(tensor)}: `;
    throw new SafetensorsError(
      code,
      `${WHERE}: ${at}${what} (header character ${this.#pos})`,
      tensor,
    );
  }

  #syntax(expected: string, tensor?: string): never {
    const c = this.#text[this.#pos];
    const found = c === undefined ? "the end of the header" : JSON.stringify(c);
    return this.fail("InvalidJson", `expected ${expected}, found ${found}`, tensor);
  }

  ws(): void {
    const t = this.#text;
    let p = this.#pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.#pos = p;
  }

  /** Skips whitespace, then consumes `ch` if it is next. */
  eat(ch: string): boolean {
    this.ws();
    if (this.#text[this.#pos] === ch) {
      this.#pos++;
      return true;
    }
    return false;
  }

  expect(ch: string, tensor?: string): void {
    if (!this.eat(ch)) this.#syntax(`"${ch}"`, tensor);
  }

  atEnd(): boolean {
    this.ws();
    return this.#pos === this.#text.length;
  }

  /** A JSON string; a lone surrogate escape is refused, as serde_json refuses it. */
  string(what: string, tensor?: string): string {
    this.ws();
    const t = this.#text;
    if (t[this.#pos] !== '"') this.#syntax(what, tensor);
    let p = this.#pos + 1;
    let out = "";
    let run = p;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) {
        this.#pos = p;
        this.fail("InvalidJson", `unterminated string in ${what}`, tensor);
      }
      if (c === 0x22) break;
      if (c < 0x20) {
        this.#pos = p;
        this.fail("InvalidJson", `control character U+${hex4(c)} in a string`, tensor);
      }
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += t.slice(run, p);
      const e = t[p + 1];
      this.#pos = p;
      switch (e) {
        case '"':
        case "\\":
        case "/":
          out += e;
          p += 2;
          break;
        case "b":
          out += "\b";
          p += 2;
          break;
        case "f":
          out += "\f";
          p += 2;
          break;
        case "n":
          out += "\n";
          p += 2;
          break;
        case "r":
          out += "\r";
          p += 2;
          break;
        case "t":
          out += "\t";
          p += 2;
          break;
        case "u": {
          const u = this.#hex(p + 2, tensor);
          p += 6;
          if (u >= 0xdc00 && u <= 0xdfff) {
            this.fail("InvalidJson", `lone low surrogate \\u${hex4(u)} in a string`, tensor);
          }
          if (u >= 0xd800 && u <= 0xdbff) {
            const low = t[p] === "\\" && t[p + 1] === "u" ? this.#hex(p + 2, tensor) : -1;
            if (low < 0xdc00 || low > 0xdfff) {
              this.fail("InvalidJson", `lone high surrogate \\u${hex4(u)} in a string`, tensor);
            }
            out += String.fromCharCode(u, low);
            p += 6;
          } else {
            out += String.fromCharCode(u);
          }
          break;
        }
        default:
          this.fail("InvalidJson", `invalid escape in a string`, tensor);
      }
      run = p;
    }
    out += t.slice(run, p);
    this.#pos = p + 1;
    return out;
  }

  #hex(p: number, tensor: string | undefined): number {
    const digits = this.#text.slice(p, p + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) {
      this.fail("InvalidJson", `invalid \\u escape in a string`, tensor);
    }
    return parseInt(digits, 16);
  }

  /** A non-negative integer of at most 2^53 - 1, written as JSON writes integers. */
  integer(what: string, tensor: string): number {
    this.ws();
    const t = this.#text;
    const start = this.#pos;
    let p = start;
    if (t[p] === "-") this.fail("InvalidTensorInfo", `${what} is negative`, tensor);
    let value = 0;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c < 0x30 || c > 0x39) break;
      value = value * 10 + (c - 0x30);
      p++;
      if (value > Number.MAX_SAFE_INTEGER) {
        this.fail("ValidationOverflow", `${what} is over 2^53 - 1`, tensor);
      }
    }
    if (p === start) this.#syntax(`an integer for ${what}`, tensor);
    if (t[start] === "0" && p - start > 1) {
      this.fail("InvalidJson", `${what} has a leading zero`, tensor);
    }
    const next = t[p];
    if (next === "." || next === "e" || next === "E") {
      this.#pos = p;
      this.fail(
        "InvalidTensorInfo",
        `${what} must be an integer, found a fraction or exponent`,
        tensor,
      );
    }
    this.#pos = p;
    return value;
  }

  /** `[ integer, ... ]` */
  integers(what: string, tensor: string): number[] {
    this.expect("[", tensor);
    const values: number[] = [];
    if (this.eat("]")) return values;
    do {
      values.push(this.integer(`${what}[${values.length}]`, tensor));
    } while (this.eat(","));
    this.expect("]", tensor);
    return values;
  }

  /** The value of `"__metadata__"`: an object of strings. */
  metadata(): Map<string, string> {
    const map = new Map<string, string>();
    this.ws();
    if (this.#text[this.#pos] !== "{") {
      this.fail("InvalidMetadata", "__metadata__ must be an object of strings");
    }
    this.#pos++;
    if (this.eat("}")) return map;
    do {
      const key = this.string("a metadata key");
      this.expect(":");
      this.ws();
      if (this.#text[this.#pos] !== '"') {
        this.fail("InvalidMetadata", `__metadata__[${quote(key)}] must be a string`);
      }
      const value = this.string("a metadata value");
      if (map.has(key)) this.fail("DuplicateName", `__metadata__ has the key ${quote(key)} twice`);
      map.set(key, value);
    } while (this.eat(","));
    this.expect("}");
    return map;
  }

  /** The value of a tensor's entry. */
  info(name: string): RawInfo {
    this.ws();
    if (this.#text[this.#pos] !== "{") {
      this.fail(
        "InvalidTensorInfo",
        "the entry must be an object { dtype, shape, data_offsets }",
        name,
      );
    }
    this.#pos++;
    let dtype: string | undefined;
    let shape: number[] | undefined;
    let offsets: number[] | undefined;
    if (!this.eat("}")) {
      do {
        const key = this.string("a field name", name);
        this.expect(":", name);
        const seen =
          key === "dtype" ? dtype : key === "shape" ? shape : key === "data_offsets" ? offsets : 0;
        if (seen === 0) {
          this.fail(
            "InvalidTensorInfo",
            `unknown field ${quote(key)}; the fields are dtype, shape, data_offsets`,
            name,
          );
        }
        if (seen !== undefined) this.fail("DuplicateName", `field ${key} appears twice`, name);
        if (key === "dtype") {
          this.ws();
          if (this.#text[this.#pos] !== '"')
            this.fail("InvalidTensorInfo", "dtype must be a string", name);
          dtype = this.string("dtype", name);
          if (!isDtype(dtype)) {
            this.fail(
              "UnknownDtype",
              `unknown dtype ${quote(dtype)}; the format's dtypes are ${DTYPE_NAMES.join(", ")}`,
              name,
            );
          }
        } else if (key === "shape") {
          this.ws();
          if (this.#text[this.#pos] !== "[")
            this.fail("InvalidTensorInfo", "shape must be an array", name);
          shape = this.integers("shape", name);
        } else {
          this.ws();
          if (this.#text[this.#pos] !== "[") {
            this.fail("InvalidTensorInfo", "data_offsets must be an array [begin, end]", name);
          }
          offsets = this.integers("data_offsets", name);
          if (offsets.length !== 2) {
            this.fail(
              "InvalidTensorInfo",
              `data_offsets must be [begin, end], found ${offsets.length} numbers`,
              name,
            );
          }
        }
      } while (this.eat(","));
      this.expect("}", name);
    }
    if (dtype === undefined || shape === undefined || offsets === undefined) {
      const missing = [
        dtype === undefined ? "dtype" : "",
        shape === undefined ? "shape" : "",
        offsets === undefined ? "data_offsets" : "",
      ].filter(Boolean);
      this.fail("InvalidTensorInfo", `missing ${missing.join(", ")}`, name);
    }
    const d = dtype as SafetensorsDtype;
    const size = shapeBytes(shape, d);
    if (!size.ok) this.fail(size.code, size.what, name);
    const [start, end] = offsets as [number, number];
    return { name, dtype: d, shape, bytes: size.bytes, start, end };
  }
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, "0");
}

function asBytes(bytes: unknown, where: string, name: string): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new TypeError(
    `${where}: ${name} must be a Uint8Array or an ArrayBuffer, got ${kindOf(bytes)}`,
  );
}

/**
 * Reads a safetensors file. Every check of the reference implementation is made, and a few
 * more (docs/weights.md lists them); a file that fails one is refused whole with a
 * {@link SafetensorsError}. No tensor data is copied: each tensor's `data` is a view of `bytes`.
 *
 * @param bytes - the whole file
 * @returns the tensors, in file order, and the `__metadata__` strings
 * @throws TypeError if `bytes` is not a Uint8Array or an ArrayBuffer
 * @throws {@link SafetensorsError} if the file is not a valid safetensors file; its `code`
 *   says which check failed and `tensor` which tensor
 * @category Safetensors
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors } from "tokenwise";
 * const bytes = serializeSafetensors({
 *   "fc1.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
 * });
 * const file = parseSafetensors(bytes);
 * const t = file.tensors.get("fc1.weight");
 * console.log(t?.dtype, t?.shape, t?.data.byteLength);
 * // F32 [ 2, 3 ] 24
 * ```
 */
export function parseSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  const buffer = asBytes(bytes, WHERE, "bytes");
  if (buffer.length < N_LEN) {
    throw new SafetensorsError(
      "HeaderTooSmall",
      `${WHERE}: the file has ${buffer.length} bytes, fewer than the 8 of the header length`,
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, N_LEN);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const n = high * 2 ** 32 + low; // exact below 2^53, and over the limit whenever high > 0
  if (high !== 0 || n > MAX_HEADER_SIZE) {
    throw new SafetensorsError(
      "HeaderTooLarge",
      `${WHERE}: the header length is ${high === 0 ? n : `${n} or more`}, over the limit of ${MAX_HEADER_SIZE} bytes`,
    );
  }
  if (N_LEN + n > buffer.length) {
    throw new SafetensorsError(
      "InvalidHeaderLength",
      `${WHERE}: the header length is ${n}, past the end of the file (${buffer.length - N_LEN} bytes after the length)`,
    );
  }
  let headerBytes = buffer.subarray(N_LEN, N_LEN + n);
  if (typeof SharedArrayBuffer !== "undefined" && headerBytes.buffer instanceof SharedArrayBuffer) {
    headerBytes = headerBytes.slice(); // TextDecoder refuses views of shared memory
  }
  let text: string;
  try {
    // ignoreBOM keeps a leading U+FEFF in the text, where the "{" check refuses it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError("InvalidUtf8", `${WHERE}: the header is not valid UTF-8`);
  }
  if (text[0] !== "{") {
    throw new SafetensorsError(
      "InvalidHeaderStart",
      `${WHERE}: the header must begin with "{", found ${text.length === 0 ? "an empty header" : JSON.stringify(text[0])}`,
    );
  }

  const scan = new HeaderScanner(text);
  scan.expect("{");
  const infos: RawInfo[] = [];
  const names = new Set<string>();
  let metadata: Map<string, string> | null = null;
  if (!scan.eat("}")) {
    do {
      const name = scan.string("a tensor name");
      scan.expect(":", name);
      if (names.has(name)) {
        scan.fail("DuplicateName", "the name appears twice in the header", name);
      }
      names.add(name);
      if (name === "__metadata__") metadata = scan.metadata();
      else infos.push(scan.info(name));
    } while (scan.eat(","));
    scan.expect("}");
  }
  if (!scan.atEnd()) {
    scan.fail(
      "InvalidJson",
      "unexpected text after the header's object; only whitespace may follow it",
    );
  }

  // The reference sorts by (begin, end), then requires each tensor to begin where the one
  // before it ends: no gap, no overlap, and data that covers the buffer exactly.
  infos.sort((a, b) => a.start - b.start || a.end - b.end);
  const dataStart = N_LEN + n;
  const dataLength = buffer.length - dataStart;
  const tensors = new Map<string, SafetensorsTensor>();
  let expected = 0;
  let previous: string | null = null;
  for (const info of infos) {
    const offsets = `data_offsets [${info.start}, ${info.end}]`;
    const after = previous === null ? "the start of the data" : `the end of ${quote(previous)}`;
    if (info.end < info.start) {
      throw new SafetensorsError(
        "InvalidOffset",
        `${WHERE}: tensor ${quote(info.name)}: ${offsets} end before they begin`,
        info.name,
      );
    }
    if (info.start !== expected) {
      const problem = info.start > expected ? "leave a gap" : "overlap the data before them";
      throw new SafetensorsError(
        "InvalidOffset",
        `${WHERE}: tensor ${quote(info.name)}: ${offsets} ${problem}; they must begin at ${expected}, ${after}`,
        info.name,
      );
    }
    if (info.end - info.start !== info.bytes) {
      throw new SafetensorsError(
        "SizeMismatch",
        `${WHERE}: tensor ${quote(info.name)}: ${offsets} hold ${info.end - info.start} bytes, but shape [${info.shape.join(", ")}] x ${info.dtype} is ${byteCount(info.bytes)} bytes`,
        info.name,
      );
    }
    if (info.end > dataLength) {
      throw new SafetensorsError(
        "DataOutOfBounds",
        `${WHERE}: tensor ${quote(info.name)}: ${offsets} run past the end of the data (${dataLength} bytes)`,
        info.name,
      );
    }
    tensors.set(info.name, {
      name: info.name,
      dtype: info.dtype,
      shape: info.shape,
      data: buffer.subarray(dataStart + info.start, dataStart + info.end),
    });
    expected = info.end;
    previous = info.name;
  }
  if (expected !== dataLength) {
    throw new SafetensorsError(
      "TrailingBytes",
      `${WHERE}: ${dataLength - expected} bytes follow the last tensor's data; the data must end with the file`,
    );
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------

function compareCodePoints(a: string, b: string): number {
  // UTF-8 byte order, which the reference's Rust string order is; UTF-16 order differs for
  // code points above U+FFFF against U+E000..U+FFFF.
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true || y.done === true)
      return (x.done === true ? 0 : 1) - (y.done === true ? 0 : 1);
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

/** True when `s` has no lone surrogate, so it has a UTF-8 encoding. */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

function entriesOf<T>(value: unknown, where: string, name: string): [string, T][] {
  if (value instanceof Map)
    return [...(value as Map<unknown, T>)].map(([k, v]) => [assertName(k, where, name), v]);
  if (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value)
  ) {
    return Object.entries(value as Record<string, T>);
  }
  throw new TypeError(`${where}: ${name} must be a Map or a plain object, got ${kindOf(value)}`);
}

function assertName(key: unknown, where: string, name: string): string {
  if (typeof key === "string") return key;
  throw new TypeError(`${where}: the keys of ${name} must be strings, got ${kindOf(key)}`);
}

/** A tensor checked by {@link checkTensor}: what it holds, read once. */
export interface CheckedTensor {
  readonly dtype: SafetensorsDtype;
  /** A copy of the shape. */
  readonly shape: readonly number[];
  /** The element count. */
  readonly count: number;
  /** A view of the data's bytes, little-endian on this machine's order of the typed array. */
  readonly bytes: Uint8Array;
  /** The data's element width in bytes (1 for a Uint8Array of bytes). */
  readonly width: number;
}

/**
 * A tensor given by a caller (to write, or to convert), checked: the kind of each field, the
 * format's shape rule ({@link shapeBytes}, as the reader applies it) and the data's byte
 * count. Each field is read once, so a getter cannot pass the checks with one value and be
 * used with another.
 */
export function checkTensor(value: unknown, where: string, name: string): CheckedTensor {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(
      `${where}: ${name} must be a tensor { dtype, shape, data }, got ${kindOf(value)}`,
    );
  }
  const {
    dtype,
    shape: dims,
    data,
  } = value as { dtype?: unknown; shape?: unknown; data?: unknown };
  if (!isDtype(dtype)) {
    throw new TypeError(
      `${where}: ${name}.dtype must be one of ${DTYPE_NAMES.join(", ")}, got ${typeof dtype === "string" ? quote(dtype) : kindOf(dtype)}`,
    );
  }
  if (!Array.isArray(dims)) {
    throw new TypeError(`${where}: ${name}.shape must be an array of sizes, got ${kindOf(dims)}`);
  }
  const shape: number[] = [];
  for (let i = 0, n = dims.length; i < n; i++) {
    const dim: unknown = dims[i];
    if (typeof dim !== "number" || !Number.isSafeInteger(dim) || dim < 0) {
      throw new TypeError(
        `${where}: ${name}.shape[${i}] must be a non-negative integer, got ${kindOf(dim)}`,
      );
    }
    shape.push(dim);
  }
  if (!ArrayBuffer.isView(data)) {
    throw new TypeError(`${where}: ${name}.data must be a typed array, got ${kindOf(data)}`);
  }
  const size = shapeBytes(shape, dtype);
  if (!size.ok) throw new ShapeError(`${where}: ${name}: ${size.what}`);
  const { buffer, byteOffset, byteLength } = data;
  const width = "BYTES_PER_ELEMENT" in data ? (data.BYTES_PER_ELEMENT as number) : 1;
  if (byteLength !== size.bytes) {
    throw new ShapeError(
      `${where}: ${name}.data has ${byteLength} bytes, expected shape [${shape.join(", ")}] x ${dtype} = ${byteCount(size.bytes)}`,
    );
  }
  if (width > 1 && width * 8 !== DTYPE_BITS[dtype] && !(dtype === "C64" && width === 4)) {
    throw new TypeError(
      `${where}: ${name}.data is a ${data.constructor.name} for dtype ${dtype}; pass a Uint8Array of its bytes or a typed array of its width`,
    );
  }
  const bytes = new Uint8Array(buffer, byteOffset, byteLength);
  return { dtype, shape, count: size.elements, bytes, width };
}

/** A byte count from {@link shapeBytes} for a message: exact, or "over 2^53 - 1". */
function byteCount(bytes: number): string {
  return bytes > Number.MAX_SAFE_INTEGER ? "over 2^53 - 1" : String(bytes);
}

/**
 * Writes tensors as a safetensors file, as the reference writer lays it out: tensors sorted
 * by dtype, widest first, then by name, so each one's data is aligned to its element size;
 * the header compact JSON padded with spaces to a multiple of 8 bytes. Parsing the result
 * gives back every name, dtype, shape, byte and metadata string.
 *
 * @param tensors - the tensors by name, a `Map` or a plain object; a parsed file's `tensors`
 *   will do
 * @param metadata - optional `__metadata__` strings, a `Map` or a plain object (`null` is none)
 * @returns the file's bytes
 * @throws TypeError for a tensor or metadata value of the wrong kind, an unknown dtype, the
 *   name `"__metadata__"`, or a name with a lone surrogate (it has no UTF-8)
 * @throws {@link ShapeError} if a tensor's data has the wrong number of bytes for its shape
 * @throws RangeError if the header would pass the format's 100,000,000-byte limit
 * @category Safetensors
 * @example
 * ```ts
 * import { serializeSafetensors } from "tokenwise";
 * const bytes = serializeSafetensors(
 *   { bias: { dtype: "F32", shape: [2], data: new Float32Array([0.5, -1]) } },
 *   { format: "pt" },
 * );
 * console.log(bytes.length, new TextDecoder().decode(bytes.subarray(8, 96)).trimEnd());
 * // 104 {"__metadata__":{"format":"pt"},"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}
 * ```
 */
export function serializeSafetensors(
  tensors:
    ReadonlyMap<string, SafetensorsTensorInput> | Readonly<Record<string, SafetensorsTensorInput>>,
  metadata?: ReadonlyMap<string, string> | Readonly<Record<string, string>> | null,
): Uint8Array {
  const where = "serializeSafetensors";
  const list = entriesOf<unknown>(tensors, where, "tensors").map(([name, value]) => {
    const label = `tensors[${quote(name)}]`;
    if (name === "__metadata__") {
      throw new TypeError(
        `${where}: a tensor cannot be named "__metadata__"; pass metadata instead`,
      );
    }
    if (!isWellFormed(name))
      throw new TypeError(`${where}: the name ${label} has a lone surrogate`);
    return { name, ...checkTensor(value, where, label) };
  });
  list.sort(
    (a, b) =>
      (DTYPE_RANK.get(b.dtype) as number) - (DTYPE_RANK.get(a.dtype) as number) ||
      compareCodePoints(a.name, b.name),
  );

  let header = "{";
  if (metadata !== undefined && metadata !== null) {
    const parts = entriesOf<unknown>(metadata, where, "metadata").map(([key, value]) => {
      if (typeof value !== "string") {
        throw new TypeError(
          `${where}: metadata[${quote(key)}] must be a string, got ${kindOf(value)}`,
        );
      }
      if (!isWellFormed(key) || !isWellFormed(value)) {
        throw new TypeError(`${where}: metadata[${quote(key)}] has a lone surrogate`);
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    header += `"__metadata__":{${parts.join(",")}}`;
    if (list.length > 0) header += ",";
  }
  let offset = 0;
  header += list
    .map((t) => {
      const begin = offset;
      offset += t.bytes.byteLength;
      return `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${begin},${offset}]}`;
    })
    .join(",");
  header += "}";

  const encoded = new TextEncoder().encode(header);
  const n = Math.ceil(encoded.length / 8) * 8;
  if (n > MAX_HEADER_SIZE) {
    throw new RangeError(
      `${where}: the header would be ${n} bytes, over the format's limit of ${MAX_HEADER_SIZE}`,
    );
  }
  const out = new Uint8Array(N_LEN + n + offset);
  new DataView(out.buffer).setUint32(0, n, true);
  out.set(encoded, N_LEN);
  out.fill(0x20, N_LEN + encoded.length, N_LEN + n);
  let at = N_LEN + n;
  for (const t of list) {
    out.set(t.bytes, at);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(at, at + t.bytes.length), t.width);
    at += t.bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * A tensor's elements as a new Float32Array: F32 copied bit for bit (NaN payloads and -0
 * kept), F16 and BF16 converted exactly (every one of their values, subnormals, infinities and
 * NaNs included, is a float32). The copy never shares memory with the file, whose buffer may
 * then be dropped or reused. Other dtypes are refused: tokenwise computes in float32 and would
 * not guess how to scale integers or 8-bit floats.
 *
 * @param tensor - a tensor from {@link parseSafetensors}, or any {@link SafetensorsTensorInput}
 *   whose data is its little-endian bytes
 * @returns the elements, row-major
 * @throws TypeError if `tensor` is not a tensor
 * @throws {@link ShapeError} if its data has the wrong byte count for its shape
 * @throws {@link SafetensorsError} with code `UnsupportedDtype` for a dtype other than F32,
 *   F16, BF16, naming the tensor
 * @category Safetensors
 * @example
 * ```ts
 * import { tensorToFloat32 } from "tokenwise";
 * const half = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00]); // F16 1, -2, 2^-24
 * console.log(tensorToFloat32({ dtype: "F16", shape: [3], data: half }));
 * // Float32Array(3) [ 1, -2, 5.960464477539063e-8 ]
 * ```
 */
export function tensorToFloat32(tensor: SafetensorsTensor | SafetensorsTensorInput): Float32Array {
  const where = "tensorToFloat32";
  const name = nameOf(tensor);
  return float32Of(checkTensor(tensor, where, labelOf(name)), where, name);
}

/**
 * A 2-dimensional tensor as a new {@link Matrix}: `shape[0]` rows of `shape[1]` columns, its
 * elements converted as {@link tensorToFloat32} converts them. The matrix is the tensor as
 * stored: an `nn.Linear` weight is (out, in), which {@link transpose} (or `matmul`'s
 * `transposeB`) turns into tokenwise's (in, out).
 *
 * @param tensor - a tensor from {@link parseSafetensors}, or any {@link SafetensorsTensorInput}
 *   whose data is its little-endian bytes
 * @returns the matrix, with its own copy of the data
 * @throws TypeError if `tensor` is not a tensor
 * @throws {@link ShapeError} if it does not have exactly 2 dimensions (naming it and its
 *   shape), or its data has the wrong byte count for its shape
 * @throws {@link SafetensorsError} with code `UnsupportedDtype` for a dtype other than F32,
 *   F16, BF16, naming the tensor
 * @category Safetensors
 * @example
 * ```ts
 * import { parseSafetensors, serializeSafetensors, tensorToMatrix } from "tokenwise";
 * const file = parseSafetensors(serializeSafetensors({
 *   "fc1.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
 * }));
 * const w = tensorToMatrix(file.tensors.get("fc1.weight")!);
 * console.log(w.rows, w.cols, w.data);
 * // 2 3 Float32Array(6) [ 1, 2, 3, 4, 5, 6 ]
 * ```
 */
export function tensorToMatrix(tensor: SafetensorsTensor | SafetensorsTensorInput): Matrix {
  const where = "tensorToMatrix";
  const name = nameOf(tensor);
  const label = labelOf(name);
  const t = checkTensor(tensor, where, label);
  if (t.shape.length !== 2) {
    throw new ShapeError(
      `${where}: ${label} has shape [${t.shape.join(", ")}], expected a matrix (2 dimensions)`,
    );
  }
  const [rows, cols] = t.shape as [number, number];
  return { rows, cols, data: float32Of(t, where, name) };
}

/** The name of a parsed tensor; undefined for a tensor given without one. */
function nameOf(tensor: unknown): string | undefined {
  if (typeof tensor !== "object" || tensor === null) return undefined;
  const name = (tensor as { name?: unknown }).name;
  return typeof name === "string" ? name : undefined;
}

function labelOf(name: string | undefined): string {
  return name === undefined ? "tensor" : `tensor ${quote(name)}`;
}

/** Refuses, with `UnsupportedDtype`, a dtype other than F32, F16 and BF16. */
export function assertFloatDtype(
  dtype: SafetensorsDtype,
  where: string,
  name: string | undefined,
): void {
  if (dtype === "F32" || dtype === "F16" || dtype === "BF16") return;
  throw new SafetensorsError(
    "UnsupportedDtype",
    `${where}: ${name === undefined ? "the tensor" : `tensor ${quote(name)}`} has dtype ${dtype}; weights must be F32, F16 or BF16`,
    name,
  );
}

/**
 * A checked tensor's elements as a new Float32Array (see {@link tensorToFloat32}); any dtype
 * but F32, F16 and BF16 is refused before anything is allocated.
 */
export function float32Of(t: CheckedTensor, where: string, name: string | undefined): Float32Array {
  assertFloatDtype(t.dtype, where, name);
  const out = new Float32Array(t.count);
  const bits = new Uint32Array(out.buffer);
  const src = t.bytes;
  if (t.dtype === "F32") {
    new Uint8Array(out.buffer).set(src);
    if (!LITTLE_ENDIAN) swapBytes(new Uint8Array(out.buffer), 4);
  } else if (t.dtype === "BF16") {
    // Two loops, not one through a function variable: each call site stays monomorphic (2^23
    // elements took about 90 ms each way, against 110 to 155 ms through one variable).
    for (let i = 0; i < t.count; i++) {
      bits[i] = bf16ToFloatBits((src[2 * i] as number) | ((src[2 * i + 1] as number) << 8));
    }
  } else {
    for (let i = 0; i < t.count; i++) {
      bits[i] = halfToFloatBits((src[2 * i] as number) | ((src[2 * i + 1] as number) << 8));
    }
  }
  return out;
}

/**
 * A checked F16 or BF16 tensor's elements as their 16-bit patterns: a view of the data when it
 * is little-endian on this machine and 2-byte aligned, else a copy. No float32 step.
 */
export function bits16Of(t: CheckedTensor): Uint16Array {
  const src = t.bytes;
  if (LITTLE_ENDIAN && src.byteOffset % 2 === 0) {
    return new Uint16Array(src.buffer, src.byteOffset, t.count);
  }
  const out = new Uint16Array(t.count);
  for (let i = 0; i < t.count; i++) {
    out[i] = (src[2 * i] as number) | ((src[2 * i + 1] as number) << 8);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * The parsed `model.safetensors.index.json` of a sharded checkpoint: which file holds each
 * tensor. Other fields (such as `metadata.total_size`) are allowed and ignored.
 *
 * @category Safetensors
 */
export interface SafetensorsIndex {
  /** Tensor name to shard file name, such as `"model-00001-of-00002.safetensors"`. */
  readonly weight_map: Readonly<Record<string, string>>;
}

/**
 * The tensors of a sharded checkpoint, merged, with each shard's own parse.
 *
 * @category Safetensors
 */
export interface ShardedSafetensors {
  /** Every tensor of every shard by name, shard after shard in the index's order. */
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /** Each shard's parse, by file name. */
  readonly shards: ReadonlyMap<string, SafetensorsFile>;
}

/** A shard's file name: a plain name in the index's folder, never a path. */
function checkShardName(file: unknown, tensor: string): string {
  const where = "parseShardedSafetensors";
  if (typeof file !== "string") {
    throw new SafetensorsError(
      "InvalidIndex",
      `${where}: weight_map[${quote(tensor)}] must be a file name, got ${kindOf(file)}`,
      tensor,
    );
  }
  if (
    file === "" ||
    file === "." ||
    file === ".." ||
    /[/\\\0]/.test(file) ||
    /^[a-zA-Z]:/.test(file)
  ) {
    throw new SafetensorsError(
      "InvalidIndex",
      `${where}: weight_map[${quote(tensor)}] is ${quote(file)}, not a plain file name; shards must sit beside the index`,
      tensor,
    );
  }
  return file;
}

/**
 * Loads a sharded checkpoint: reads each shard the index names once, through `readShard`,
 * parses it with every check of {@link parseSafetensors}, and merges the tensors. Every name
 * in `weight_map` must be in the shard it names, and every tensor of a shard must be mapped to
 * that shard. Shard names must be plain file names (no `/`, `\`, `..`), so an index cannot
 * send `readShard` outside the checkpoint's folder.
 *
 * @param index - the parsed `model.safetensors.index.json`
 * @param readShard - gives the bytes of a shard from its file name, directly or as a promise
 *   (a `fetch` in a browser, a file read in Node); called once per shard, in index order
 * @returns the merged tensors and each shard's parse
 * @throws TypeError if `readShard` is not a function, or gives something other than bytes
 * @throws {@link SafetensorsError} for an invalid index (`InvalidIndex`), a shard that is not a
 *   valid file (its parse's code, the message naming the shard), a mapped tensor missing from
 *   its shard (`TensorNotFound`), or a shard tensor mapped elsewhere or not at all
 *   (`ShardMismatch`)
 * @category Safetensors
 * @example
 * ```ts
 * import { parseShardedSafetensors, serializeSafetensors } from "tokenwise";
 * const f32 = (...v: number[]) => ({ dtype: "F32" as const, shape: [v.length], data: new Float32Array(v) });
 * const files: Record<string, Uint8Array> = {
 *   "a.safetensors": serializeSafetensors({ x: f32(1, 2) }),
 *   "b.safetensors": serializeSafetensors({ y: f32(3) }),
 * };
 * const index = { weight_map: { x: "a.safetensors", y: "b.safetensors" } };
 * const { tensors } = await parseShardedSafetensors(index, (file) => files[file] as Uint8Array);
 * console.log([...tensors.keys()]);
 * // [ 'x', 'y' ]
 * ```
 */
export async function parseShardedSafetensors(
  index: SafetensorsIndex,
  readShard: (fileName: string) => Uint8Array | ArrayBuffer | PromiseLike<Uint8Array | ArrayBuffer>,
): Promise<ShardedSafetensors> {
  const where = "parseShardedSafetensors";
  if (typeof readShard !== "function") {
    throw new TypeError(`${where}: readShard must be a function, got ${kindOf(readShard)}`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (
    typeof index !== "object" ||
    index === null ||
    typeof map !== "object" ||
    map === null ||
    Array.isArray(map)
  ) {
    throw new SafetensorsError(
      "InvalidIndex",
      `${where}: the index must be an object with a weight_map object`,
    );
  }
  const wanted = new Map<string, string>(); // tensor name -> shard file
  const byShard = new Map<string, string[]>();
  for (const [tensor, file] of Object.entries(map as Record<string, unknown>)) {
    const shard = checkShardName(file, tensor);
    wanted.set(tensor, shard);
    const list = byShard.get(shard);
    if (list === undefined) byShard.set(shard, [tensor]);
    else list.push(tensor);
  }

  const tensors = new Map<string, SafetensorsTensor>();
  const shards = new Map<string, SafetensorsFile>();
  for (const [shard, names] of byShard) {
    const bytes: unknown = await readShard(shard);
    let file: SafetensorsFile;
    try {
      file = parseSafetensors(asBytes(bytes, where, `readShard(${quote(shard)})`));
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      throw new SafetensorsError(e.code, `${where}: shard ${quote(shard)}: ${e.message}`, e.tensor);
    }
    for (const name of names) {
      if (!file.tensors.has(name)) {
        throw new SafetensorsError(
          "TensorNotFound",
          `${where}: tensor ${quote(name)} is not in shard ${quote(shard)}, where the index maps it`,
          name,
        );
      }
    }
    for (const [name, tensor] of file.tensors) {
      const mapped = wanted.get(name);
      if (mapped !== shard) {
        throw new SafetensorsError(
          "ShardMismatch",
          `${where}: shard ${quote(shard)} holds tensor ${quote(name)}, which the index ${mapped === undefined ? "does not list" : `maps to ${quote(mapped)}`}`,
          name,
        );
      }
      tensors.set(name, tensor);
    }
    shards.set(shard, file);
  }
  return { tensors, shards };
}
