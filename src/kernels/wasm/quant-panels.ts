// Quantized maps in the wasm kernel's memory: ggml blocks (src/kernels/quant.ts) rearranged
// into gemm.wat's qgemm panels and back, and a block of input rows quantized to Q8_0 for it.
import { QUANT_BLOCK, type QuantDtype, blockBytes } from "../../dtype";
import { quantizeActivations } from "../quant";
import { PANEL, quantRowBytes } from "./layout";

/**
 * Bytes of one block of a panel (16 columns x 32 inputs): 16 f16 scales, then the quants (512
 * bytes of Q8_0, 256 of Q4_0): the same bytes as the columns' 16 ggml blocks.
 */
export function panelBlockBytes(dtype: QuantDtype): number {
  return PANEL * blockBytes(dtype);
}

/**
 * Writes a map's ggml blocks (N rows of K / 32 blocks, N a multiple of 16) into qgemm's panels
 * at u8[at]: panel p, block b at at + (p · K/32 + b) · panelBlockBytes, as gemm.wat lays it out.
 */
export function packQuantPanels(
  blocks: Uint8Array,
  dtype: QuantDtype,
  K: number,
  N: number,
  u8: Uint8Array,
  at: number,
): void {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  const pb = panelBlockBytes(dtype);
  for (let j = 0; j < N; j++) {
    const p = Math.floor(j / PANEL);
    const c = j % PANEL;
    const half = c >> 3; // columns 0-7 or 8-15
    const cc = c & 7;
    for (let b = 0; b < nb; b++) {
      const src = (j * nb + b) * bytes;
      const dst = at + (p * nb + b) * pb;
      u8[dst + 2 * c] = blocks[src] as number;
      u8[dst + 2 * c + 1] = blocks[src + 1] as number;
      if (dtype === "q8_0") {
        // Inputs 2t and 2t + 1 at 32 + 32t + 16·half + 2cc and the byte after.
        for (let k = 0; k < QUANT_BLOCK; k++) {
          const t = k >> 1;
          u8[dst + 32 + 32 * t + 16 * half + 2 * cc + (k & 1)] = blocks[src + 2 + k] as number;
        }
      } else {
        // ggml keeps input k < 16 in the low nibble of byte k and 16 + k in its high one; the
        // panel keeps inputs 2t + e and 16 + 2t + e (t < 8, e < 2) in one byte the same way.
        for (let k = 0; k < 16; k++) {
          const t = k >> 1;
          u8[dst + 32 + 32 * t + 16 * half + 2 * cc + (k & 1)] = blocks[src + 2 + k] as number;
        }
      }
    }
  }
}

/** The inverse of {@link packQuantPanels}: a map's ggml blocks, in a new array. */
export function unpackQuantPanels(
  u8: Uint8Array,
  at: number,
  dtype: QuantDtype,
  K: number,
  N: number,
): Uint8Array {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  const pb = panelBlockBytes(dtype);
  const quants = dtype === "q8_0" ? QUANT_BLOCK : 16;
  const blocks = new Uint8Array(N * nb * bytes);
  for (let j = 0; j < N; j++) {
    const p = Math.floor(j / PANEL);
    const c = j % PANEL;
    const half = c >> 3;
    const cc = c & 7;
    for (let b = 0; b < nb; b++) {
      const dst = (j * nb + b) * bytes;
      const src = at + (p * nb + b) * pb;
      blocks[dst] = u8[src + 2 * c] as number;
      blocks[dst + 1] = u8[src + 2 * c + 1] as number;
      for (let k = 0; k < quants; k++) {
        const t = k >> 1;
        blocks[dst + 2 + k] = u8[src + 32 + 32 * t + 16 * half + 2 * cc + (k & 1)] as number;
      }
    }
  }
  return blocks;
}

/**
 * Quantizes `rows` input rows of K floats in the kernel's pair layout (copyPairsIn: rows 2i
 * and 2i+1 interleaved from byte x + 2i · lda, an odd last row plain) to Q8_0 rows at byte `xq`,
 * quantRowBytes(K) apart: K quants as i16, then K / 32 float32 scales.
 */
export function quantizeRowsIn(
  f32: Float32Array,
  i16: Int16Array,
  x: number,
  lda: number,
  rows: number,
  K: number,
  xq: number,
): void {
  const ldq = quantRowBytes(K);
  for (let r = 0; r < rows; r++) {
    const paired = (r | 1) < rows;
    const from = paired ? (x + (r & ~1) * lda) / 4 + (r & 1) : (x + r * lda) / 4;
    const q = xq + r * ldq;
    quantizeActivations(f32, from, paired ? 2 : 1, K, i16, q / 2, f32, (q + 2 * K) / 4);
  }
}
