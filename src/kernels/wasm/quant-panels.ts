// Quantized maps in the wasm kernel's memory: ggml blocks (src/kernels/quant.ts) rearranged
// into gemm.wat's qgemm panels and back, and a block of input rows quantized to Q8_0 for it.
import { QUANT_BLOCK, type QuantDtype, blockBytes } from "../../dtype";
import { PANEL } from "./layout";

/**
 * Bytes of one block of a panel (16 columns x 32 inputs): 16 f16 scales, then the quants (512
 * bytes of Q8_0, 256 of Q4_0): the same bytes as the columns' 16 ggml blocks.
 */
export function panelBlockBytes(dtype: QuantDtype): number {
  return PANEL * blockBytes(dtype);
}

/**
 * Where a quant of a panel's block sits: column c (0..15), input k (0..31) of the block; the
 * byte, and how the quant sits there: Q4_0's nibble shift (0 or 4), or what Q8_0's byte is
 * xored with.
 */
export type QuantPlace = (dtype: QuantDtype, c: number, k: number) => [byte: number, how: number];

/**
 * qgemm's {@link QuantPlace} (see gemm.wat): Q8_0's byte is xored with 0, or with 128 (a signed
 * quant q stored as q + 128, 0..255).
 */
function quantAt(dtype: QuantDtype, c: number, k: number): [byte: number, how: number] {
  const t = k >> 1;
  const e = k & 1;
  // 16-bit lane 2m + e of pair t's 16 bytes g holds input 2t+e of column 8g + m in its high
  // byte and of column 8g + 4 + m, offset by 128, in its low byte.
  if (dtype === "q8_0") {
    const low = (c & 4) !== 0;
    return [32 + 32 * t + 16 * (c >> 3) + 2 * (2 * (c & 3) + e) + (low ? 0 : 1), low ? 128 : 0];
  }
  // 16-bit lane 2m + e of pair t's 16 bytes holds columns m, 4 + m, 8 + m, 12 + m from its low
  // nibble up.
  const g = c >> 2;
  return [32 + 16 * t + 2 * (2 * (c & 3) + e) + (g >> 1), 4 * (g & 1)];
}

/** Input k's quant in a ggml block's quants at `at`: Q8_0's byte (as 0..255), Q4_0's nibble. */
function ggmlQuant(dtype: QuantDtype, blocks: Uint8Array, at: number, k: number): number {
  if (dtype === "q8_0") return blocks[at + k] as number;
  const v = blocks[at + (k & 15)] as number;
  return k < 16 ? v & 15 : v >> 4;
}

/**
 * Writes a map's ggml blocks (N rows of K / 32 blocks, N a multiple of 16) into qgemm's panels
 * at u8[at]: panel p, block b at at + (p · K/32 + b) · panelBlockBytes, as gemm.wat lays it out
 * (or, with another `place`, another kernel's panels of the same bytes).
 */
export function packQuantPanels(
  blocks: Uint8Array,
  dtype: QuantDtype,
  K: number,
  N: number,
  u8: Uint8Array,
  at: number,
  place: QuantPlace = quantAt,
): void {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  for (let j = 0; j < N; j++)
    for (let b = 0; b < nb; b++)
      placeBlock(blocks, (j * nb + b) * bytes, dtype, j, b, nb, u8, at, place);
}

/**
 * {@link packQuantPanels} one block row at a time: block b of every column j, from
 * blocks[j · blockBytes ..] (quantizeRowBlocks' order), into the panels of a map of nb block
 * rows at `at`. The same bytes, block by block.
 */
export function packQuantBlockRow(
  blocks: Uint8Array,
  dtype: QuantDtype,
  b: number,
  nb: number,
  N: number,
  u8: Uint8Array,
  at: number,
  place: QuantPlace = quantAt,
): void {
  const bytes = blockBytes(dtype);
  for (let j = 0; j < N; j++) placeBlock(blocks, j * bytes, dtype, j, b, nb, u8, at, place);
}

/**
 * Column j's block b (ggml's bytes from blocks[src]) into its panel's place; the panel's first
 * column clears the panel's block first (Q4_0's nibbles are or-ed in), so the columns of a
 * panel must come in order, as both packers bring them.
 */
function placeBlock(
  blocks: Uint8Array,
  src: number,
  dtype: QuantDtype,
  j: number,
  b: number,
  nb: number,
  u8: Uint8Array,
  at: number,
  place: QuantPlace,
): void {
  const p = Math.floor(j / PANEL);
  const c = j % PANEL;
  const pb = panelBlockBytes(dtype);
  const dst = at + (p * nb + b) * pb;
  if (c === 0) u8.fill(0, dst, dst + pb);
  u8[dst + 2 * c] = blocks[src] as number;
  u8[dst + 2 * c + 1] = blocks[src + 1] as number;
  for (let k = 0; k < QUANT_BLOCK; k++) {
    const [byte, how] = place(dtype, c, k);
    const q = ggmlQuant(dtype, blocks, src + 2, k);
    u8[dst + byte] = dtype === "q8_0" ? q ^ how : (u8[dst + byte] as number) | (q << how);
  }
}

/** The inverse of {@link packQuantPanels}: a map's ggml blocks, in a new array. */
export function unpackQuantPanels(
  u8: Uint8Array,
  at: number,
  dtype: QuantDtype,
  K: number,
  N: number,
  place: QuantPlace = quantAt,
): Uint8Array {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  const pb = panelBlockBytes(dtype);
  const blocks = new Uint8Array(N * nb * bytes);
  for (let j = 0; j < N; j++) {
    const p = Math.floor(j / PANEL);
    const c = j % PANEL;
    for (let b = 0; b < nb; b++) {
      const dst = (j * nb + b) * bytes;
      const src = at + (p * nb + b) * pb;
      blocks[dst] = u8[src + 2 * c] as number;
      blocks[dst + 1] = u8[src + 2 * c + 1] as number;
      for (let k = 0; k < QUANT_BLOCK; k++) {
        const [byte, how] = place(dtype, c, k);
        if (dtype === "q8_0") blocks[dst + 2 + k] = (u8[src + byte] as number) ^ how;
        else {
          const q = ((u8[src + byte] as number) >> how) & 15;
          blocks[dst + 2 + (k & 15)] =
            (blocks[dst + 2 + (k & 15)] as number) | (k < 16 ? q : q << 4);
        }
      }
    }
  }
  return blocks;
}

/** Whether some block scale of a map's ggml blocks is an infinity or a NaN (f16 exponent 31). */
export function hasNonFiniteScale(blocks: Uint8Array, dtype: QuantDtype): boolean {
  const bytes = blockBytes(dtype);
  for (let at = 0; at < blocks.length; at += bytes) {
    if (((blocks[at + 1] as number) & 0x7c) === 0x7c) return true;
  }
  return false;
}
