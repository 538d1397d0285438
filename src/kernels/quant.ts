// Quantized weights (ggml's Q8_0 and Q4_0) in the kernels: a map's blocks from a weight source,
// each token's activations quantized to Q8_0, and the numerics every kernel computes with them.
//
// A quantized map of K inputs and N outputs is kept as ggml keeps a matrix: N rows, one per
// output column, each of K / 32 blocks along the input dimension, in ggml's bytes (GGUF's data
// for a tensor of shape [K, N]). Its weights are the blocks' dequantized values.
//
// Numerics, as llama.cpp's CPU path for these types (ggml_vec_dot_q8_0_q8_0 and
// ggml_vec_dot_q4_0_q8_0 in their reference form, docs/numerics.md): a token's input row is
// quantized to Q8_0 blocks as quantize_row_q8_0_ref does (d = amax / 127 as f16, q = roundf(x /
// d), halves away from zero); for output j,
//
//   sum = +0; for each block b in increasing order: sum = sum + sumi_b · (d_w · d_x)
//
// in float32, where sumi_b is the exact integer dot product of the block's quants (at most
// 32 · 127 · 127 in magnitude, so exact in float32 too) and each · and + is rounded to float32.
// The bias is added after, then the activation. Nothing here depends on other tokens.
import { QUANT_BLOCK, type QuantDtype, blockBytes, floatBitsToHalf, halfTable } from "../dtype";
import { dequantizeBlocks, quantizeQ4_0Blocks, quantizeQ8_0Blocks } from "../quant";
import { type LayerShape, mapDims } from "./kernel";
import type { WeightSource } from "./source";

const fround = Math.fround;
const F = /* @__PURE__ */ new Float32Array(1);
const U = /* @__PURE__ */ new Uint32Array(F.buffer);

/** The float32 value of the f16 nearest a float32 value (ties to even), as GGML_FP32_TO_FP16 and back. */
function throughHalf(v: number): number {
  F[0] = v;
  U[0] = halfTable()[floatBitsToHalf(U[0] as number)] as number;
  return F[0] as number;
}

/**
 * Quantizes K activations (a multiple of 32), src[at + k · stride] for k < K, to Q8_0 blocks as
 * quantize_row_q8_0_ref does: for each block, d = amax / 127 (float32), q = roundf(x · (1/d)),
 * halves away from zero (the reference's rounding; ggml's x86 SIMD path rounds halves to even
 * instead). The quants go to qs[qAt + k] (16-bit, as the kernels widen them for their dot
 * products) and each block's f16 scale, as a float32 value, to ds[dAt + b]. A block holding a
 * NaN or an infinity gets the scale NaN and quants 0, so every output it reaches is NaN (C's
 * conversion of those products to integers is undefined behaviour).
 */
export function quantizeActivations(
  src: Float32Array,
  at: number,
  stride: number,
  K: number,
  qs: Int16Array,
  qAt: number,
  ds: Float32Array,
  dAt: number,
): void {
  for (let b = 0; b * QUANT_BLOCK < K; b++) {
    const from = at + b * QUANT_BLOCK * stride;
    let amax = 0;
    let finite = true;
    for (let t = 0, s = from; t < QUANT_BLOCK; t++, s += stride) {
      const a = Math.abs(src[s] as number);
      if (a > amax) amax = a;
      else if (!(a <= amax)) finite = false; // NaN
    }
    const q = qAt + b * QUANT_BLOCK;
    if (!finite || amax === Infinity) {
      ds[dAt + b] = NaN;
      for (let t = 0; t < QUANT_BLOCK; t++) qs[q + t] = 0;
      continue;
    }
    const d = fround(amax / 127);
    const r = fround(1 / d);
    const id = d !== 0 && Number.isFinite(r) ? r : 0;
    ds[dAt + b] = throughHalf(d);
    for (let t = 0, s = from; t < QUANT_BLOCK; t++, s += stride) {
      const v = fround((src[s] as number) * id);
      // C's roundf; |v| <= 127.5 here, so v + 0.5 is exact in a double.
      qs[q + t] = v < 0 ? -Math.floor(0.5 - v) : Math.floor(v + 0.5);
    }
  }
}

/**
 * Map i of a quantized layer as ggml blocks of the shape's dtype (N rows of K / 32 blocks): the
 * source's own blocks of that type as they are, else its float32 rows (read in the source's
 * order, 32 at a time) quantized with ggml's reference quantizer. The caller checked that the
 * float32 weights are finite and K is a multiple of 32.
 */
export function quantizeMap(source: WeightSource, shape: LayerShape, i: number): Uint8Array {
  const dtype = shape.dtype as QuantDtype;
  const { rows: K, cols: N } = mapDims(shape, i);
  const given = source.blocks;
  if (given !== undefined && given.dtype === dtype) return given.map(i).slice();
  const bytes = blockBytes(dtype);
  const nb = K / QUANT_BLOCK;
  const out = new Uint8Array(N * nb * bytes);
  quantizeRowBlocks(source, shape, i, (b, blocks) => {
    for (let j = 0; j < N; j++) {
      const to = (j * nb + b) * bytes;
      for (let t = 0; t < bytes; t++) out[to + t] = blocks[j * bytes + t] as number;
    }
  });
  return out;
}

/**
 * Map i's float32 rows quantized with ggml's reference rounding, one block row at a time: for
 * each b, `each(b, blocks)` gets block b (inputs 32b .. 32b + 31) of every column j at
 * blocks[j · blockBytes ..], in a buffer reused for the next b. A layer packs them as they come,
 * so that no copy of the whole map is ever made (a G1 map's Q4_0 blocks are 25 MB).
 */
export function quantizeRowBlocks(
  source: WeightSource,
  shape: LayerShape,
  i: number,
  each: (b: number, blocks: Uint8Array) => void,
): void {
  const dtype = shape.dtype as QuantDtype;
  const { rows: K, cols: N } = mapDims(shape, i);
  const bytes = blockBytes(dtype);
  const nb = K / QUANT_BLOCK;
  const blocks = new Uint8Array(N * bytes);
  const rows = new Float32Array(QUANT_BLOCK * N);
  const col = new Float32Array(QUANT_BLOCK);
  const quantize = dtype === "q8_0" ? quantizeQ8_0Blocks : quantizeQ4_0Blocks;
  for (let b = 0; b < nb; b++) {
    for (let t = 0; t < QUANT_BLOCK; t++) {
      source.row(i, b * QUANT_BLOCK + t, rows.subarray(t * N, (t + 1) * N));
    }
    for (let j = 0; j < N; j++) {
      for (let t = 0; t < QUANT_BLOCK; t++) col[t] = rows[t * N + j] as number;
      quantize(blocks, j * bytes, col, 0, 1);
    }
    each(b, blocks);
  }
}

/** A quantized map's weights dequantized, in tokenwise's (K, N) layout. */
export function dequantizeMap(
  blocks: Uint8Array,
  dtype: QuantDtype,
  K: number,
  N: number,
): Float32Array {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  const type = dtype === "q8_0" ? "Q8_0" : "Q4_0";
  const col = new Float32Array(K);
  const w = new Float32Array(K * N);
  for (let j = 0; j < N; j++) {
    dequantizeBlocks(type, col, 0, blocks, j * nb * bytes, nb);
    for (let k = 0; k < K; k++) w[k * N + j] = col[k] as number;
  }
  return w;
}

/** Each block's scale, as float32 values (exact), of a map's N · K/32 blocks, in their order. */
export function blockScales(blocks: Uint8Array, dtype: QuantDtype): Float32Array {
  const bytes = blockBytes(dtype);
  const n = blocks.length / bytes;
  const half = halfTable();
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const at = i * bytes;
    bits[i] = half[(blocks[at] as number) | ((blocks[at + 1] as number) << 8)] as number;
  }
  return out;
}

/**
 * out[j] = the quantized map's sum for one token and columns j0 <= j < j1 (see the top of this
 * file), + bias[j], rounded to float32 at each step: xq and xd are the token's Q8_0 quants and
 * scales (quantizeActivations), `scales` the map's block scales (blockScales).
 */
export function quantDotRow(
  dtype: QuantDtype,
  blocks: Uint8Array,
  q8: Int8Array,
  scales: Float32Array,
  K: number,
  xq: Int16Array,
  xd: Float32Array,
  bias: Float32Array | null,
  out: Float32Array,
  outOff: number,
  j0: number,
  j1: number,
): void {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  for (let j = j0; j < j1; j++) {
    let sum = 0;
    for (let b = 0; b < nb; b++) {
      const o = (j * nb + b) * bytes + 2;
      const x = b * QUANT_BLOCK;
      let sumi = 0;
      if (dtype === "q8_0") {
        for (let t = 0; t < QUANT_BLOCK; t++) sumi += (q8[o + t] as number) * (xq[x + t] as number);
      } else {
        for (let t = 0; t < 16; t++) {
          const v = blocks[o + t] as number;
          sumi +=
            ((v & 15) - 8) * (xq[x + t] as number) + ((v >> 4) - 8) * (xq[x + 16 + t] as number);
        }
      }
      const d = fround((scales[j * nb + b] as number) * (xd[b] as number));
      sum = fround(sum + fround(sumi * d));
    }
    // No bias adds +0, which changes no sum: a sum that starts at +0 is never -0.
    out[outOff + j] = fround(sum + (bias === null ? 0 : (bias[j] as number)));
  }
}
