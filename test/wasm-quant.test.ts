// The wasm kernel's activation quantizer (gemm.wat's qrows) against quantizeRowsIn, the same
// Q8_0 rows written by JavaScript from src/kernels/quant.ts's quantizeActivations (which the
// layer tests hold to fixtures from an independent numpy implementation of ggml's reference):
// every byte of the rows, in gemm's pair layout and for an odd last row, on blocks that reach
// each branch (zeros, scales below f16's normal range and rounding across it, f16's top and
// overflow, roundf's ties and the float just below 1/2, NaN and infinities).
import { beforeAll, describe, expect, it } from "vitest";
import { WEIGHT_CODE, quantRowBytes } from "../src/kernels/wasm/layout";
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

// qgemm's one-token tiles (Q8_0 eight panels at a time, an eighth of the caller's panels apart,
// then four a quarter apart, then one) against its two-row tile, which the layer tests hold to
// the js kernel: row 0 of a pair computed alone gives the same bits, over every start panel and
// panel count up to 32, which reaches the tiles' edges (Q8_0: none to four steps of eight
// panels, so 1 to 4 apart, then none or one step of four; Q4_0: none to eight steps of four;
// 0 to 3 panels left over), with and without bias and relu, for finite scales and for infinite
// and NaN ones (code bit 16).
describe("qgemm for one token", () => {
  const K = 64;
  const at = { x: 1024, xq: 4096, bias: 8192, out: 12288, w: 65536 };
  it.each([
    [WEIGHT_CODE.q8_0, 544],
    [WEIGHT_CODE.q4_0, 288],
  ])("weight code %i: the two-row tile's first row, bit for bit", (code, blockBytes) => {
    const panels = 37;
    const ldw = (K / 32) * blockBytes;
    const ldq = quantRowBytes(K);
    const ldo = panels * 64;
    const x = seededFloats(2 * K, 61, 3);
    for (let k = 0; k < K; k++) {
      f32[at.x / 4 + 2 * k] = x[k] as number; // the pair layout: rows 0 and 1 interleaved
      f32[at.x / 4 + 2 * k + 1] = x[K + k] as number;
    }
    f32.set(seededFloats(panels * 16, 62, 2), at.bias / 4);
    for (const special of [false, true]) {
      const bytes = seededFloats(panels * ldw, special ? 63 : 64, 1);
      for (let i = 0; i < bytes.length; i++) {
        u8[at.w + i] = Math.floor(((bytes[i] as number) + 1) * 128) & 255;
      }
      // Each block's 16 scales: finite f16 (exponent below 31), or now and then ±Infinity or NaN.
      for (let p = 0; p < panels; p++) {
        for (let b = 0; b < K / 32; b++) {
          const s = at.w + p * ldw + b * blockBytes;
          for (let c = 0; c < 16; c++) {
            let h = (u8[s + 2 * c] as number) | (((u8[s + 2 * c + 1] as number) & 0xbb) << 8);
            if (special && (p + b + c) % 7 === 3) h = [0x7c00, 0xfc00, 0x7e01][c % 3] as number;
            u8[s + 2 * c] = h & 255;
            u8[s + 2 * c + 1] = h >> 8;
          }
        }
      }
      const qcode = special ? code | 16 : code;
      for (const [bias, relu] of [
        [0, 0],
        [at.bias, 1],
      ] as const) {
        for (let p0 = 0; p0 <= 4; p0++) {
          for (let p1 = p0; p1 <= Math.min(panels, p0 + 32); p1++) {
            u8.fill(0xa5, at.out, at.out + 2 * ldo);
            ex.qrows(at.x, K * 4, 2, K, at.xq);
            ex.qgemm(at.xq, ldq, 2, K, at.w, ldw, p0, p1, bias, relu, 0, at.out, ldo, qcode);
            const two = new Uint32Array(memory.buffer.slice(at.out, at.out + ldo));
            u8.fill(0xa5, at.out, at.out + 2 * ldo);
            // Row 0 alone: plain, and quantized alone (a token's Q8_0 row depends on it alone).
            f32.set(x.subarray(0, K), at.x / 4 + 2 * K);
            ex.qrows(at.x + 8 * K, K * 4, 1, K, at.xq);
            ex.qgemm(at.xq, ldq, 1, K, at.w, ldw, p0, p1, bias, relu, 0, at.out, ldo, qcode);
            const one = new Uint32Array(memory.buffer.slice(at.out, at.out + ldo));
            expect(one, `panels ${p0}..${p1}, bias ${bias}, special ${special}`).toEqual(two);
            expect(u8[at.out + ldo], "nothing written past the row").toBe(0xa5);
          }
        }
      }
    }
  });
});

// qgemm's Q8_0 batch tile (four rows over half a panel, the rows taken in groups that fit a
// core's cache) against one row at a time, which the test above holds to the two-row tile: at
// K = 2048 a group is 112 rows, so 118 rows make two groups (112 and 4) and a pair left to the
// two-row tile; plain and paired outputs, with bias and relu, finite and special scales.
describe("qgemm for a batch", () => {
  const K = 2048;
  const rows = 118;
  const panels = 3;
  const blockBytes = 544;
  const ldw = (K / 32) * blockBytes;
  const ldq = quantRowBytes(K);
  const ldo = panels * 64;
  const mem = new WebAssembly.Memory({ initial: 64, maximum: 64 }); // 4 MiB
  const m32 = new Float32Array(mem.buffer);
  const m8 = new Uint8Array(mem.buffer);
  const at = { x: 1024, bias: 1024 + rows * K * 4, w: 1 << 20, xq: 2 << 20, out: 3 << 20 };
  let qx: GemmExports;
  beforeAll(() => {
    qx = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory: mem } })
      .exports as unknown as GemmExports;
  });

  it.each([false, true])("each row's bits are its own alone (special scales: %s)", (special) => {
    const x = seededFloats(rows * K, 71, 3);
    m32.set(seededFloats(panels * 16, 72, 2), at.bias / 4);
    const bytes = seededFloats(panels * ldw, special ? 73 : 74, 1);
    for (let i = 0; i < bytes.length; i++)
      m8[at.w + i] = Math.floor(((bytes[i] as number) + 1) * 128) & 255;
    for (let p = 0; p < panels; p++) {
      for (let b = 0; b < K / 32; b++) {
        const s = at.w + p * ldw + b * blockBytes;
        for (let c = 0; c < 16; c++) {
          let h = (m8[s + 2 * c] as number) | (((m8[s + 2 * c + 1] as number) & 0xbb) << 8);
          if (special && (p + b + c) % 7 === 3) h = [0x7c00, 0xfc00, 0x7e01][c % 3] as number;
          m8[s + 2 * c] = h & 255;
          m8[s + 2 * c + 1] = h >> 8;
        }
      }
    }
    const qcode = special ? WEIGHT_CODE.q8_0 | 16 : WEIGHT_CODE.q8_0;
    // Each row alone, plain.
    const alone: Uint32Array[] = [];
    for (let r = 0; r < rows; r++) {
      m32.set(x.subarray(r * K, (r + 1) * K), at.x / 4);
      qx.qrows(at.x, K * 4, 1, K, at.xq);
      qx.qgemm(at.xq, ldq, 1, K, at.w, ldw, 0, panels, at.bias, 1, 0, at.out, ldo, qcode);
      alone.push(new Uint32Array(mem.buffer.slice(at.out, at.out + ldo)));
    }
    // The batch in the pair layout (rows 2i and 2i+1 interleaved from x + 2i · K · 4).
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < K; k++)
        m32[at.x / 4 + (r & ~1) * K + 2 * k + (r & 1)] = x[r * K + k] as number;
    }
    qx.qrows(at.x, K * 4, rows, K, at.xq);
    for (const pair of [0, 1]) {
      m8.fill(0xa5, at.out, at.out + rows * ldo + 64);
      qx.qgemm(at.xq, ldq, rows, K, at.w, ldw, 0, panels, at.bias, 1, pair, at.out, ldo, qcode);
      const out = new Uint32Array(mem.buffer.slice(at.out, at.out + rows * ldo));
      for (let r = 0; r < rows; r++) {
        const row = new Uint32Array(ldo / 4);
        for (let j = 0; j < ldo / 4; j++) {
          row[j] = (
            pair ? out[(r & ~1) * (ldo / 4) + 2 * j + (r & 1)] : out[r * (ldo / 4) + j]
          ) as number;
        }
        expect(row, `row ${r}, pair ${pair}`).toEqual(alone[r]);
      }
      expect(m8[at.out + rows * ldo], "nothing written past the rows").toBe(0xa5);
    }
  });
});
