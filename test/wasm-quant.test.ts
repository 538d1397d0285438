// The wasm kernel's activation quantizer (gemm.wat's qrows) against quantizeRowsIn, the same
// Q8_0 rows written by JavaScript from src/kernels/quant.ts's quantizeActivations (which the
// layer tests hold to fixtures from an independent numpy implementation of ggml's reference):
// every byte of the rows, in gemm's pair layout and for an odd last row, on blocks that reach
// each branch (zeros, scales below f16's normal range and rounding across it, f16's top and
// overflow, roundf's ties and the float just below 1/2, NaN and infinities).
import { beforeAll, describe, expect, it } from "vitest";
import { quantRowBytes } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import type { GemmExports } from "../src/kernels/wasm/panels";
import { quantizeRowsIn } from "./support/quant-rows";
import { seededFloats } from "./helpers/arbitraries";

const memory = new WebAssembly.Memory({ initial: 16, maximum: 16 }); // 1 MiB
const f32 = new Float32Array(memory.buffer);
const i16 = new Int16Array(memory.buffer);
const u8 = new Uint8Array(memory.buffer);
let ex: GemmExports;
beforeAll(() => {
  ex = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
    .exports as unknown as GemmExports;
});

/** One block of 32 values of each kind, then seeded ones. */
function blocks(K: number, seed: number): Float32Array {
  const x = seededFloats(K, seed, 3);
  const kinds: ((b: Float32Array) => void)[] = [
    (b) => b.fill(0),
    (b) => b.forEach((v, i) => (b[i] = v * 1e-7)), // scale below 2^-14: f16 subnormal
    (b) => b.forEach((v, i) => (b[i] = v * 1e-30)), // scale 0 after f16 rounding
    (b) => b.fill(0).set([127 * 2 ** -14 * (1 - 2 ** -12), 1e-3]), // a scale just below 2^-14
    (b) => b.fill(0).set([127 * 3.3e-5, 1e-4]), // a scale of f16's subnormals, above 2^-15
    (b) => b.fill(0).set([127 * 4.1e-5, -2e-3]), // another
    (b) => b.set([65519 * 127, 3]), // scale below 65520: f16's 65504
    (b) => b.set([65520 * 127, 3]), // scale at 65520: f16 infinity
    (b) => b.set([127, 2.5, -2.5, 0.5, -0.5, 1.5, 0.49999997, -0.49999997, 126.5]),
    (b) => b.set([1, Number.NaN]),
    (b) => b.set([Number.POSITIVE_INFINITY]),
    (b) => b.set([-3, Number.NEGATIVE_INFINITY]),
    (b) => b.set([3e38, -3e38, 1e-45]),
  ];
  kinds.forEach((k, i) => {
    if (32 * (i + 1) <= K) k(x.subarray(32 * i, 32 * (i + 1)));
  });
  return x;
}

describe("qrows", () => {
  it.each([1, 2, 3, 5])("writes quantizeRowsIn's bytes for %i rows, paired and plain", (rows) => {
    const K = 480; // 15 blocks: every kind above, then seeded ones
    const lda = 4 * K + 64;
    const x = 1024;
    const ldq = quantRowBytes(K);
    const xqJs = 65536;
    const xqWasm = 131072;
    u8.fill(0xa5, 0, 262144);
    // Rows in gemm's pair layout: rows 2i and 2i+1 interleaved from x + 2i · lda.
    for (let r = 0; r < rows; r++) {
      const v = blocks(K, 17 + r);
      const paired = (r | 1) < rows;
      for (let k = 0; k < K; k++) {
        const at = paired ? (x + (r & ~1) * lda) / 4 + 2 * k + (r & 1) : (x + r * lda) / 4 + k;
        f32[at] = v[k] as number;
      }
    }
    quantizeRowsIn(f32, i16, x, lda, rows, K, xqJs);
    ex.qrows(x, lda, rows, K, xqWasm);
    const js = u8.slice(xqJs, xqJs + rows * ldq);
    const wasm = u8.slice(xqWasm, xqWasm + rows * ldq);
    // NaN scales are compared as NaN (their payload is unspecified).
    const f = (b: Uint8Array) => new Float32Array(b.buffer);
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < K / 32; b++) {
        const at = (r * ldq + 2 * K + 8 * b) / 4;
        if (Number.isNaN(f(js)[at]) && Number.isNaN(f(wasm)[at])) f(js)[at] = f(wasm)[at] = 0;
      }
    }
    const first = js.findIndex((v, i) => v !== wasm[i]);
    expect(first, `first differing byte ${first}`).toBe(-1);
    expect(u8[xqWasm + rows * ldq], "nothing written past the rows").toBe(0xa5);
  });
});
