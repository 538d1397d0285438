// ggml's block formats (llama.cpp's ggml-common.h), the reference quantizers of Q8_0 and Q4_0
// (quantize_row_q8_0_ref, quantize_row_q4_0_ref in ggml-quants.c) and the dequantizers of
// seven formats (dequantize_row_*), with ggml's numerics.
//
// ggml computes these in C `float`. Every operation that C does in float is rounded here with
// Math.fround: a JavaScript double operation on two float32 values, rounded to float32, is
// the float32 operation (a double has more than twice float's precision, so the double
// rounding is innocuous for +, -, * and /). The f16 scales round to nearest even, as
// GGML_FP32_TO_FP16 does.
//
// In decoding, every product is exact in float32: an f16 scale has an 11-bit significand, and
// it is multiplied by integers of at most 8 bits (and Q6_K's (d · scale) · q stays under 2^24),
// so the only rounding is the final `+ m` of Q4_1, Q5_1 and Q4_K. A C build that contracts
// `d * q + m` into one fused multiply-add therefore gives the same bits.
//
// A block of n weights along a row (n = 32, or 256 for the K formats), little-endian:
//
//   Q8_0  34 bytes   f16 d, int8 qs[32]                          w = qs[j]·d
//   Q4_0  18 bytes   f16 d, uint8 qs[16]                         w = (nibble − 8)·d
//   Q4_1  20 bytes   f16 d, f16 m, uint8 qs[16]                  w = nibble·d + m
//   Q5_0  22 bytes   f16 d, uint32 qh, uint8 qs[16]              w = (nibble | bit·16 − 16)·d
//   Q5_1  24 bytes   f16 d, f16 m, uint32 qh, uint8 qs[16]       w = (nibble | bit·16)·d + m
//   Q4_K 144 bytes   f16 d, f16 dmin, uint8 scales[12], qs[128]  8 sub-blocks of 32, 6-bit scale
//                    and min each: w = (d·sc)·nibble − (dmin·m)
//   Q6_K 210 bytes   uint8 ql[128], qh[64], int8 scales[16], f16 d
//                    16 sub-blocks of 16: w = (d·scale)·(6-bit q − 32)
//
// In the 32-weight formats weight j < 16 is the low nibble of qs[j] and weight j + 16 its high
// nibble; the fifth bit of weight j is bit j of qh. docs/gguf.md draws each layout.
import { floatBitsToHalf, halfToFloatBits } from "./dtype";
import { kindOf } from "./check";
import { ShapeError } from "./errors";

/**
 * A ggml block format that tokenwise decodes: the 32-weight formats Q8_0, Q4_0, Q4_1, Q5_0,
 * Q5_1 and the 256-weight K formats Q4_K and Q6_K.
 *
 * @category GGUF
 */
export type GgmlBlockType = "Q8_0" | "Q4_0" | "Q4_1" | "Q5_0" | "Q5_1" | "Q4_K" | "Q6_K";

/** Weights per block and bytes per block of each block format (ggml-common.h). */
export const BLOCK_FORMATS = {
  Q8_0: { weights: 32, bytes: 34 },
  Q4_0: { weights: 32, bytes: 18 },
  Q4_1: { weights: 32, bytes: 20 },
  Q5_0: { weights: 32, bytes: 22 },
  Q5_1: { weights: 32, bytes: 24 },
  Q4_K: { weights: 256, bytes: 144 },
  Q6_K: { weights: 256, bytes: 210 },
} as const satisfies Readonly<Record<GgmlBlockType, { weights: number; bytes: number }>>;

// One float32 register seen as its bits, for the f16 conversions of dtype.ts.
const F = /* @__PURE__ */ new Float32Array(1);
const U = /* @__PURE__ */ new Uint32Array(F.buffer);

/** The binary16 bits nearest a float32 value, ties to even (GGML_FP32_TO_FP16). */
function toHalf(v: number): number {
  F[0] = v;
  return floatBitsToHalf(U[0] as number);
}

/** The float32 value of binary16 bits at `data[at]` (little-endian), exact (GGML_FP16_TO_FP32). */
function half(data: Uint8Array, at: number): number {
  U[0] = halfToFloatBits((data[at] as number) | ((data[at + 1] as number) << 8));
  return F[0] as number;
}

const fround = Math.fround;

/** C's roundf: to nearest, halves away from zero (Math.round sends -2.5 to -2, roundf to -3). */
function roundHalfAway(v: number): number {
  // |v| + 0.5 is exact in double for a float32 |v| < 2^29, so the floor is the true one.
  return v < 0 ? -Math.floor(0.5 - v) : Math.floor(v + 0.5);
}

/** `1 / d` in float32 as ggml's quantizers take it, with 0 where the reciprocal is not finite. */
function reciprocal(d: number): number {
  // ggml writes `d ? 1.0f/d : 0.0f`. When |d| < 2^-128 the reciprocal overflows to infinity and
  // C's conversion of the products to integers is undefined; d is 0 in f16 there anyway, so
  // every weight of the block decodes to zero whatever the quants. Taking 0, as for an all-zero
  // block, gives every such block the same quants: 0 in Q8_0, 8 in Q4_0.
  const r = fround(1 / d);
  return d !== 0 && Number.isFinite(r) ? r : 0;
}

// ---------------------------------------------------------------------------------------------
// The unchecked base. Offsets are in elements of x and out, in bytes of blocks; callers check.

/**
 * Quantizes `blocks` blocks of 32 float32 values, `x[xAt...]`, to Q8_0 at `out[outAt...]`, as
 * quantize_row_q8_0_ref: d = amax / 127, q = roundf(x · (1/d)). Finite input only.
 */
export function quantizeQ8_0Blocks(
  out: Uint8Array,
  outAt: number,
  x: Float32Array,
  xAt: number,
  blocks: number,
): void {
  for (let b = 0; b < blocks; b++) {
    const base = xAt + 32 * b;
    const o = outAt + 34 * b;
    let amax = 0;
    for (let j = 0; j < 32; j++) {
      const a = Math.abs(x[base + j] as number);
      if (a > amax) amax = a;
    }
    const d = fround(amax / 127);
    const id = reciprocal(d);
    const h = toHalf(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < 32; j++) {
      out[o + 2 + j] = roundHalfAway(fround((x[base + j] as number) * id)) & 0xff;
    }
  }
}

/**
 * Quantizes `blocks` blocks of 32 float32 values to Q4_0, as quantize_row_q4_0_ref: max is the
 * first value of largest magnitude, d = max / −8, nibble = min(15, trunc(x · (1/d) + 8.5)).
 * Finite input only.
 */
export function quantizeQ4_0Blocks(
  out: Uint8Array,
  outAt: number,
  x: Float32Array,
  xAt: number,
  blocks: number,
): void {
  for (let b = 0; b < blocks; b++) {
    const base = xAt + 32 * b;
    const o = outAt + 18 * b;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[base + j] as number;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8); // -0 for an all-zero block, as in C
    const id = reciprocal(d);
    const h = toHalf(d);
    out[o] = h & 0xff;
    out[o + 1] = h >>> 8;
    for (let j = 0; j < 16; j++) {
      // The sums lie in [0, 16.5], where C's (int8_t) truncation is Math.trunc.
      const lo = Math.trunc(fround(fround((x[base + j] as number) * id) + 8.5));
      const hi = Math.trunc(fround(fround((x[base + 16 + j] as number) * id) + 8.5));
      out[o + 2 + j] = Math.min(15, lo) | (Math.min(15, hi) << 4);
    }
  }
}

/** The two 6-bit values (scale, min) of sub-block j of a Q4_K block's 12 scale bytes. */
function scaleMinK4(data: Uint8Array, at: number, j: number, pair: Uint8Array): void {
  if (j < 4) {
    pair[0] = (data[at + j] as number) & 63;
    pair[1] = (data[at + j + 4] as number) & 63;
  } else {
    const lo = data[at + j + 4] as number;
    pair[0] = (lo & 0xf) | (((data[at + j - 4] as number) >> 6) << 4);
    pair[1] = (lo >> 4) | (((data[at + j] as number) >> 6) << 4);
  }
}

const PAIR = /* @__PURE__ */ new Uint8Array(2);

/**
 * Decodes `blocks` blocks of `type` from `data[at...]` into `out[outAt...]`, as ggml's
 * dequantize_row_* do, in float32.
 */
export function dequantizeBlocks(
  type: GgmlBlockType,
  out: Float32Array,
  outAt: number,
  data: Uint8Array,
  at: number,
  blocks: number,
): void {
  const { weights, bytes } = BLOCK_FORMATS[type];
  for (let b = 0; b < blocks; b++) {
    const o = at + bytes * b;
    const y = outAt + weights * b;
    switch (type) {
      case "Q8_0": {
        const d = half(data, o);
        for (let j = 0; j < 32; j++) {
          out[y + j] = fround((((data[o + 2 + j] as number) << 24) >> 24) * d);
        }
        break;
      }
      case "Q4_0": {
        const d = half(data, o);
        for (let j = 0; j < 16; j++) {
          const q = data[o + 2 + j] as number;
          out[y + j] = fround(((q & 0xf) - 8) * d);
          out[y + j + 16] = fround(((q >> 4) - 8) * d);
        }
        break;
      }
      case "Q4_1": {
        const d = half(data, o);
        const m = half(data, o + 2);
        for (let j = 0; j < 16; j++) {
          const q = data[o + 4 + j] as number;
          out[y + j] = fround(fround((q & 0xf) * d) + m);
          out[y + j + 16] = fround(fround((q >> 4) * d) + m);
        }
        break;
      }
      case "Q5_0":
      case "Q5_1": {
        const one = type === "Q5_1";
        const d = half(data, o);
        const m = one ? half(data, o + 2) : 0;
        const h = o + (one ? 4 : 2);
        const qh =
          ((data[h] as number) |
            ((data[h + 1] as number) << 8) |
            ((data[h + 2] as number) << 16) |
            ((data[h + 3] as number) << 24)) >>>
          0;
        for (let j = 0; j < 16; j++) {
          const q = data[h + 4 + j] as number;
          const q0 = (q & 0xf) | (((qh >>> j) << 4) & 0x10);
          const q1 = (q >> 4) | ((qh >>> (j + 12)) & 0x10);
          if (one) {
            out[y + j] = fround(fround(q0 * d) + m);
            out[y + j + 16] = fround(fround(q1 * d) + m);
          } else {
            out[y + j] = fround((q0 - 16) * d);
            out[y + j + 16] = fround((q1 - 16) * d);
          }
        }
        break;
      }
      case "Q4_K": {
        const d = half(data, o);
        const dmin = half(data, o + 2);
        let q = o + 16;
        let w = y;
        for (let is = 0; is < 8; is += 2) {
          scaleMinK4(data, o + 4, is, PAIR);
          const d1 = fround(d * (PAIR[0] as number));
          const m1 = fround(dmin * (PAIR[1] as number));
          scaleMinK4(data, o + 4, is + 1, PAIR);
          const d2 = fround(d * (PAIR[0] as number));
          const m2 = fround(dmin * (PAIR[1] as number));
          for (let l = 0; l < 32; l++) {
            out[w + l] = fround(fround(d1 * ((data[q + l] as number) & 0xf)) - m1);
          }
          for (let l = 0; l < 32; l++) {
            out[w + 32 + l] = fround(fround(d2 * ((data[q + l] as number) >> 4)) - m2);
          }
          q += 32;
          w += 64;
        }
        break;
      }
      case "Q6_K": {
        const d = half(data, o + 208);
        for (let n = 0; n < 2; n++) {
          const ql = o + 64 * n;
          const qh = o + 128 + 32 * n;
          const sc = o + 192 + 8 * n;
          const w = y + 128 * n;
          for (let l = 0; l < 32; l++) {
            const is = sc + (l >> 4);
            const lo = data[ql + l] as number;
            const lo2 = data[ql + l + 32] as number;
            const hi = data[qh + l] as number;
            // C's d * sc[k] * q: the scale product first, each rounded to float32.
            const s0 = fround(d * (((data[is] as number) << 24) >> 24));
            const s2 = fround(d * (((data[is + 2] as number) << 24) >> 24));
            const s4 = fround(d * (((data[is + 4] as number) << 24) >> 24));
            const s6 = fround(d * (((data[is + 6] as number) << 24) >> 24));
            out[w + l] = fround(s0 * (((lo & 0xf) | ((hi & 3) << 4)) - 32));
            out[w + l + 32] = fround(s2 * (((lo2 & 0xf) | (((hi >> 2) & 3) << 4)) - 32));
            out[w + l + 64] = fround(s4 * (((lo >> 4) | (((hi >> 4) & 3) << 4)) - 32));
            out[w + l + 96] = fround(s6 * (((lo2 >> 4) | (((hi >> 6) & 3) << 4)) - 32));
          }
        }
        break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The checked public layer.

function checkQuantizeInput(x: unknown, where: string): Float32Array {
  if (!(x instanceof Float32Array)) {
    throw new TypeError(`${where}: x must be a Float32Array, got ${kindOf(x)}`);
  }
  if (x.length % 32 !== 0) {
    throw new ShapeError(`${where}: x has ${x.length} values, not a multiple of the block size 32`);
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (!Number.isFinite(v)) {
      throw new RangeError(
        `${where}: x[${i}] is ${v}; only finite values quantize (ggml's result for NaN and infinity is undefined behaviour in C)`,
      );
    }
  }
  return x;
}

/**
 * Quantizes float32 values to ggml's Q8_0 blocks exactly as llama.cpp's reference quantizer
 * (`quantize_row_q8_0_ref`) does, bit for bit: for each block of 32 values, d = amax / 127 in
 * float32, stored as f16 (nearest even), and q = roundf(x · (1/d)), halves away from zero.
 * A block of zeros gets d = 0 and q = 0.
 *
 * @param x - the values, a multiple of 32 of them (a row of a weight matrix is quantized along
 *   its length, so its length must be a multiple of 32)
 * @returns the blocks, 34 bytes each: the f16 scale (little-endian), then 32 signed bytes
 * @throws TypeError if `x` is not a Float32Array
 * @throws {@link ShapeError} if its length is not a multiple of 32
 * @throws RangeError if a value is NaN or infinite, naming its index
 * @category GGUF
 * @example
 * ```ts
 * import { quantizeQ8_0 } from "tokenwise";
 * const x = new Float32Array(32);
 * x.set([127, -2.5, 2.5, 0.49999997]); // amax 127: d = 1, so q = roundf(x)
 * const block = quantizeQ8_0(x);
 * console.log(block.length, block[0], block[1]); // 34 bytes; d = 1 is f16 0x3c00
 * // 34 0 60
 * console.log(new Int8Array(block.buffer, 2, 4)); // halves away from zero
 * // Int8Array(4) [ 127, -3, 3, 0 ]
 * ```
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  checkQuantizeInput(x, "quantizeQ8_0");
  const out = new Uint8Array((x.length / 32) * 34);
  quantizeQ8_0Blocks(out, 0, x, 0, x.length / 32);
  return out;
}

/**
 * Quantizes float32 values to ggml's Q4_0 blocks exactly as llama.cpp's reference quantizer
 * (`quantize_row_q4_0_ref`) does, bit for bit: for each block of 32 values, max is the first
 * value of largest magnitude, d = max / −8 (so max itself lands on nibble 0, and −max would be
 * 16, clamped to 15), stored as f16, and nibble = min(15, trunc(x · (1/d) + 8.5)). Weight j
 * goes to the low nibble of byte j, weight j + 16 to its high nibble. A block of zeros gets
 * d = −0 (the sign of 0 / −8) and nibbles 8.
 *
 * @param x - the values, a multiple of 32 of them
 * @returns the blocks, 18 bytes each: the f16 scale (little-endian), then 16 bytes of nibbles
 * @throws TypeError if `x` is not a Float32Array
 * @throws {@link ShapeError} if its length is not a multiple of 32
 * @throws RangeError if a value is NaN or infinite, naming its index
 * @category GGUF
 * @example
 * ```ts
 * import { quantizeQ4_0, ggufTensorToFloat32 } from "tokenwise";
 * const x = new Float32Array(32).fill(1);
 * x[0] = -8; // the value of largest magnitude: d = -8 / -8 = 1
 * const block = quantizeQ4_0(x);
 * console.log(block[2] & 15, block[3] & 15); // nibbles of x[0] and x[1]
 * // 0 9
 * const back = ggufTensorToFloat32({ type: "Q4_0", shape: [32], data: block });
 * console.log(back[0], back[1]);
 * // -8 1
 * ```
 */
export function quantizeQ4_0(x: Float32Array): Uint8Array {
  checkQuantizeInput(x, "quantizeQ4_0");
  const out = new Uint8Array((x.length / 32) * 18);
  quantizeQ4_0Blocks(out, 0, x, 0, x.length / 32);
  return out;
}
