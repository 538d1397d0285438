// quantizeRowsIn: the reference the wasm kernel's activation quantizer (gemm.wat's qrows) is
// held to, byte for byte, in test/wasm-quant.test.ts.
import { QUANT_BLOCK } from "../../src/dtype";
import { quantizeActivations } from "../../src/kernels/quant";
import { quantRowBytes } from "../../src/kernels/wasm/layout";

/** 2^112: qgemm reads the f16 weight scales as float32 values times 2^-112. */
const SCALE_UP = 2 ** 112;

/**
 * The JavaScript twin of gemm.wat's `qrows`, built on the js kernel's quantizeActivations:
 * quantizes `rows` input rows of K floats in the kernel's pair layout (copyPairsIn: rows 2i and
 * 2i+1 interleaved from byte x + 2i · lda, an odd last row plain) to Q8_0 rows at byte `xq`,
 * quantRowBytes(K) apart: K quants as i16, then for each block its scale d times 2^112 (a
 * float32 value, exact: d is an f16 value, below 2^16) and 8 times the sum of its quants (an
 * i32), as gemm.wat's qgemm reads them.
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
  const nb = K / QUANT_BLOCK;
  const i32 = new Int32Array(f32.buffer, f32.byteOffset, f32.length);
  for (let r = 0; r < rows; r++) {
    const paired = (r | 1) < rows;
    const from = paired ? (x + (r & ~1) * lda) / 4 + (r & 1) : (x + r * lda) / 4;
    const q = xq + r * ldq;
    const d = (q + 2 * K) / 4;
    quantizeActivations(f32, from, paired ? 2 : 1, K, i16, q / 2, f32, d);
    // The scales came one after another: spread them to every other float, from the last down.
    for (let b = nb - 1; b >= 0; b--) {
      let sum = 0;
      for (let t = q / 2 + b * QUANT_BLOCK, end = t + QUANT_BLOCK; t < end; t++)
        sum += i16[t] as number;
      f32[d + 2 * b] = (f32[d + b] as number) * SCALE_UP;
      i32[d + 2 * b + 1] = 8 * sum;
    }
  }
}
