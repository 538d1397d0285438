// Element types of weights and their conversions to and from float32, on bit patterns.
//
// Widening (bf16 or f16 to float32) is exact: every 16-bit value, NaN payloads included, has a
// float32 that equals it. Narrowing (float32 to bf16 or f16) rounds to nearest, ties to even,
// as IEEE 754's default rounding and PyTorch's `tensor.to(torch.bfloat16 / torch.float16)` do.
// Kernels read these functions' results; io/ uses them for checkpoint tensors.

/** The float32 bit pattern of an IEEE binary16 value, exact: NaN payloads move up with it. */
export function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // infinity, NaN
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // 127 - 15 = 112
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal: mant · 2^-24. Shift its leading 1 up to bit 10, counting the exponent down.
  let e = 113; // the biased float32 exponent of 2^-14, the weight of bit 10
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** The float32 bit pattern of a bfloat16 value: its 16 bits are a float32's high half. */
export function bf16ToFloatBits(h: number): number {
  return (h << 16) >>> 0;
}

/**
 * The bfloat16 nearest a float32 (given as bits), ties to even. A NaN stays a NaN of the same
 * sign with its payload's high bits (the quiet bit set, so a payload that lived only in the low
 * half cannot turn it into an infinity); values above bfloat16's largest finite value round to
 * infinity exactly as IEEE rounding says.
 */
export function floatBitsToBf16(f: number): number {
  f >>>= 0;
  if ((f & 0x7fffffff) > 0x7f800000) return ((f >>> 16) | 0x0040) & 0xffff; // NaN, quieted
  const rounded = f + 0x7fff + ((f >>> 16) & 1); // round to nearest, ties to even
  return (rounded >>> 16) & 0xffff;
}

/**
 * The IEEE binary16 nearest a float32 (given as bits), ties to even. Magnitudes of 65520 and
 * above (65504 plus half an ulp) become infinity, as IEEE rounding says; below 2^-24 · 1/2 they
 * become a signed zero; in between, subnormals round correctly. A NaN keeps its sign and the
 * high bits of its payload, quieted.
 */
export function floatBitsToHalf(f: number): number {
  f >>>= 0;
  const sign = (f >>> 16) & 0x8000;
  const abs = f & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00 | ((abs >>> 13) & 0x3ff); // NaN, quieted
  if (abs >= 0x477ff000) return sign | 0x7c00; // >= 65520: infinity (or it was one)
  const exp = abs >>> 23;
  if (exp >= 113) {
    // Normal in binary16: drop 13 mantissa bits, rounding to nearest even; a carry into the
    // exponent is the right result (and stays below infinity, checked above).
    const m = abs - (112 << 23); // rebias the exponent from 127 to 15
    const r = m + 0xfff + ((m >>> 13) & 1);
    return sign | (r >>> 13);
  }
  if (exp < 102) return sign; // below 2^-25: rounds to zero (2^-25 itself is a tie, to even 0)
  // Subnormal in binary16: the value is mant · 2^(exp - 150) with the implicit bit; in units of
  // 2^-24 that is mant >> (126 - exp), rounded to nearest even.
  const mant = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - exp; // 14 .. 24
  const q = mant >>> shift;
  const rest = mant - (q << shift);
  const half = 1 << (shift - 1);
  const up = rest > half || (rest === half && (q & 1) === 1) ? 1 : 0;
  return sign | (q + up); // q + up may reach 0x400, the smallest normal: the right bits
}

/**
 * The element type a layer keeps its weight matrices in: `"f32"` (float32, the default),
 * `"bf16"` (bfloat16: float32's exponent, 8 significant bits) or `"f16"` (IEEE binary16: 11
 * significant bits, finite up to 65504). A 16-bit layer holds half the bytes and computes exactly
 * what a float32 layer computes on the same (rounded) weights: every kernel widens each weight to
 * float32, which is exact, before it multiplies. Biases stay float32.
 *
 * `"q8_0"` and `"q4_0"` are ggml's block formats (34 and 18 bytes for 32 weights along a
 * matrix's input dimension), and the layer computes as llama.cpp's CPU path does: each token's
 * input to each matrix is itself quantized to Q8_0 blocks, block dot products are exact integer
 * sums, and their scaled float32 sum is taken in one fixed order. See docs/numerics.md.
 *
 * @category Layers
 * @example
 * ```ts
 * import { FeedForward } from "tokenwise";
 * const f = new FeedForward({ dModel: 32, dHidden: 32, seed: 7 });
 * const q = FeedForward.fromWeights(f.weights, { dtype: "q4_0" });
 * // One block: inputs 0..31 of output 0, at most 16 levels of one f16 scale.
 * const block = Array.from({ length: 32 }, (_, k) => q.weights.w1.data[k * 32]);
 * console.log(q.dtype, new Set(block).size <= 16, JSON.stringify(q).includes('"dtype":"q4_0"'));
 * // q4_0 true true
 * ```
 */
export type WeightDtype = "f32" | "bf16" | "f16" | "q8_0" | "q4_0";

/** The 16-bit weight types. */
export type Dtype16 = "bf16" | "f16";

/** The quantized (ggml block) weight types. */
export type QuantDtype = "q8_0" | "q4_0";

interface DtypeTraits {
  /** Bytes of one element (of a block type: its block's bytes over its 32 weights). */
  bytes: number;
  /** A 16-bit type's conversions, on bit patterns. */
  widen?: (h: number) => number;
  narrow?: (f: number) => number;
}

/** Each weight type's traits: bytes an element, and (16-bit ones) their conversions. */
const DTYPE_TABLE = {
  f32: { bytes: 4 },
  bf16: { bytes: 2, widen: bf16ToFloatBits, narrow: floatBitsToBf16 },
  f16: { bytes: 2, widen: halfToFloatBits, narrow: floatBitsToHalf },
  q8_0: { bytes: 34 / 32 },
  q4_0: { bytes: 18 / 32 },
} as const satisfies Record<WeightDtype, DtypeTraits>;

/** The weight types, in the order error messages list them. */
export const WEIGHT_DTYPES = Object.keys(DTYPE_TABLE) as readonly WeightDtype[];

/** Bytes of one weight element of a type. */
export function dtypeBytes(dtype: WeightDtype): number {
  return DTYPE_TABLE[dtype].bytes;
}

/** Whether a weight type is one of the 16-bit ones. */
export function is16(dtype: WeightDtype): dtype is Dtype16 {
  return dtype === "bf16" || dtype === "f16";
}

/** Whether a weight type is one of ggml's block formats. */
export function isQuant(dtype: WeightDtype): dtype is QuantDtype {
  return dtype === "q8_0" || dtype === "q4_0";
}

/** Weights in one block of a quantized type: blocks run along a matrix's input dimension. */
export const QUANT_BLOCK = 32;

/** Bytes of one block of a quantized type (ggml-common.h: an f16 scale, then the quants). */
export function blockBytes(dtype: QuantDtype): number {
  return dtype === "q8_0" ? 34 : 18;
}

/** f16's largest finite value; float32 values of magnitude 65520 (its half ulp above) or more round to infinity. */
export const HALF_MAX = 65504;

/**
 * Narrows float32 values to a 16-bit type, nearest even (floatBitsToBf16, floatBitsToHalf), into
 * `dst` from `dstOff`.
 */
export function narrowInto(
  dtype: Dtype16,
  src: Float32Array,
  dst: Uint16Array,
  dstOff = 0,
): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const narrow = DTYPE_TABLE[dtype].narrow;
  for (let i = 0; i < bits.length; i++) dst[dstOff + i] = narrow(bits[i] as number);
  return dst;
}

/** Widens 16-bit values of a type to float32, exactly (NaN payloads too), into `dst`. */
export function widenInto(dtype: Dtype16, src: Uint16Array, dst: Float32Array): Float32Array {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  if (dtype === "bf16") {
    for (let i = 0; i < src.length; i++) bits[i] = (src[i] as number) << 16;
    return dst;
  }
  const table = halfTable();
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i] as number] as number;
  return dst;
}

let halfBits: Uint32Array | null = null;

/** The float32 bits of every binary16 pattern (256 KiB, made on first use). */
export function halfTable(): Uint32Array {
  if (halfBits === null) {
    halfBits = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) halfBits[h] = halfToFloatBits(h);
  }
  return halfBits;
}

/**
 * The index of the first finite value that f16 cannot hold (magnitude 65520 or more, which
 * rounds to infinity), or -1: in float32 values, or in 16-bit values of `from` (f16 holds every
 * f16 value; bf16 values are widened first, exactly).
 */
export function halfOverflowAt(w: Float32Array | Uint16Array, from: WeightDtype): number {
  if (w instanceof Float32Array) {
    for (let i = 0; i < w.length; i++) {
      const a = Math.abs(w[i] as number);
      if (a >= 65520 && a !== Infinity) return i;
    }
    return -1;
  }
  if (from !== "bf16") return -1;
  // bf16 bits 0x4780 is 65536, the first bf16 magnitude at or above 65520; 0x7f80 is infinity.
  for (let i = 0; i < w.length; i++) {
    const a = (w[i] as number) & 0x7fff;
    if (a >= 0x4780 && a < 0x7f80) return i;
  }
  return -1;
}
