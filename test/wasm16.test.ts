// The WebAssembly kernel's 16-bit paths on every 16-bit pattern, called directly: `widen` gives
// each bf16 and f16 value's float32 bits exactly (src/dtype.ts's conversions, which
// test/dtype.test.ts checks against arithmetic), and `gemv16`, which widens in registers, gives
// the bits gemm gives on the widened panels, for every weight code, with and without bias and
// relu, over two panels at a time and one.
import { beforeAll, describe, expect, it } from "vitest";
import { bf16ToFloatBits, halfToFloatBits } from "../src/dtype";
import { packRows } from "../src/kernels/source";
import { F16S_SHIFT, PANEL, SLOTS16, WEIGHT_CODE, panelBytes } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import type { GemmExports } from "../src/kernels/wasm/panels";
import { seededFloats } from "./helpers/arbitraries";
import { expectSameBits } from "./helpers/bits";

const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 }); // 4 MiB
let ex: GemmExports;
const f32 = new Float32Array(memory.buffer);
const u32 = new Uint32Array(memory.buffer);
const u16 = new Uint16Array(memory.buffer);
beforeAll(() => {
  ex = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
    .exports as unknown as GemmExports;
});

// Regions, in bytes.
const W16 = 1 << 16; // 16-bit panels: 128 KiB
const WF = 1 << 18; // their widened float32 panels: 256 KiB
const X = 1 << 19;
const XS = X + (1 << 14);
const BIAS = X + (2 << 14);
const OUT = X + (3 << 14);
const OUT2 = X + (4 << 14);

type Code16 = "bf16" | "f16" | "f16s";
/** The float32 bits a code's 16-bit value stands for: an f16s code c for c's value times 2^-10. */
const EXPECTED: Record<Code16, (h: number) => number> = {
  bf16: bf16ToFloatBits,
  f16: halfToFloatBits,
  f16s: (h) => ((h & 0x7fff) === 0 ? halfToFloatBits(h) : halfToFloatBits(h) - (F16S_SHIFT << 23)),
};
/** The patterns a code is given: every one, but no infinity or NaN for an f16s map. */
const valid = (code: Code16, h: number) => code !== "f16s" || (h & 0x7c00) !== 0x7c00;

/** A (K, N) matrix of 16-bit patterns packed into panels at W16, in the kernel's slot order. */
function pack(K: number, N: number, at: (k: number, j: number) => number): void {
  u16.fill(0, W16 / 2, WF / 2);
  const row = (k: number, dst: Uint16Array) => {
    for (let j = 0; j < N; j++) dst[j] = at(k, j);
  };
  packRows(K, N, PANEL, row, u16, W16 / 2, SLOTS16);
}

describe.each<Code16>(["bf16", "f16", "f16s"])("%s", (code) => {
  it("widen gives every pattern's float32 bits, exactly (NaN payloads too)", () => {
    // All 65536 patterns as one panel of K = 4096 rows: pattern 16k + c in row k, column c.
    pack(4096, PANEL, (k, c) => (valid(code, 16 * k + c) ? 16 * k + c : 0));
    ex.widen(W16, WF, 4096, WEIGHT_CODE[code]);
    let checked = 0;
    for (let h = 0; h < 65536; h++) {
      if (!valid(code, h)) continue;
      const got = u32[WF / 4 + h] as number; // row k = h >> 4 at 16k floats, column h & 15
      const want = EXPECTED[code](h) >>> 0;
      if (got !== want) {
        expect.fail(
          `pattern 0x${h.toString(16)}: 0x${got.toString(16)}, expected 0x${want.toString(16)}`,
        );
      }
      checked++;
    }
    expect(checked).toBe(code === "f16s" ? 65536 - 2048 : 65536);
  });

  it.each([
    { bias: false, relu: false },
    { bias: true, relu: true },
  ])("gemv16 is gemm on the widened panels, every pattern (bias $bias, relu $relu)", (o) => {
    // Column j holds patterns 256j .. 256j + 255, so only the columns of exponent 31 (f16's
    // infinities and NaN, bf16's few large ones and theirs) meet them.
    const K = 256;
    const N = 256;
    const panels = N / PANEL;
    pack(K, N, (k, j) => (valid(code, 256 * j + k) ? 256 * j + k : 0));
    ex.widen(W16, WF, K * panels, WEIGHT_CODE[code]); // the panels are contiguous: one call
    f32.set(seededFloats(K, 7, 4), X / 4);
    f32[X / 4 + 3] = 0; // a zero input, which makes an infinite weight's product NaN
    const bias = o.bias ? BIAS : 0;
    f32.set(seededFloats(N, 8, 1), BIAS / 4);
    const relu = o.relu ? 1 : 0;
    // Two panels at a time (p1 - p0 even), then an odd count (a last panel alone).
    for (const [p0, p1] of [
      [0, panels],
      [1, panels],
      [5, 6],
    ] as const) {
      f32.fill(-1, OUT / 4, OUT / 4 + N);
      f32.fill(-2, OUT2 / 4, OUT2 / 4 + N);
      const did = ex.gemv16(
        X,
        K,
        W16,
        panelBytes(K, 2),
        p0,
        p1,
        bias,
        relu,
        OUT,
        WEIGHT_CODE[code],
        XS,
      );
      expect(did).toBe(1);
      ex.gemm(X, K * 4, 1, K, WF, panelBytes(K), p0, p1, bias, relu, 0, OUT2, 0);
      const got = f32.slice(OUT / 4 + PANEL * p0, OUT / 4 + PANEL * p1);
      expectSameBits(
        got,
        f32.slice(OUT2 / 4 + PANEL * p0, OUT2 / 4 + PANEL * p1),
        `panels ${p0}..${p1}`,
      );
      expect(f32[OUT / 4 + PANEL * p1 - 1], "writes its panels").not.toBe(-1);
      if (p0 > 0) expect(f32[OUT / 4 + PANEL * p0 - 1], "and no others").toBe(-1);
    }
  });
});

describe("gemv16 on a scaled f16 map (f16s)", () => {
  it("takes a token with infinities and NaN, and finite values up to 2^26, by scaling it", () => {
    const K = 64;
    pack(K, 32, (k, j) => 0x3c00 + ((k * 37 + j * 11) & 0x13ff)); // 1 .. about 64, scaled codes
    ex.widen(W16, WF, 2 * K, WEIGHT_CODE.f16s);
    const x = seededFloats(K, 9, 1);
    x[0] = Infinity;
    x[1] = NaN;
    x[2] = Math.fround(2 ** 26 - 4); // the largest float32 below 2^26
    x[3] = -0;
    f32.set(x, X / 4);
    expect(ex.gemv16(X, K, W16, panelBytes(K, 2), 0, 2, 0, 0, OUT, WEIGHT_CODE.f16s, XS)).toBe(1);
    ex.gemm(X, K * 4, 1, K, WF, panelBytes(K), 0, 2, 0, 0, 0, OUT2, 0);
    expectSameBits(f32.slice(OUT / 4, OUT / 4 + 32), f32.slice(OUT2 / 4, OUT2 / 4 + 32));
  });

  it("declines a token with a finite value of 2^26 or more, writing nothing", () => {
    const K = 64;
    for (const big of [2 ** 26, -(2 ** 26), 3e38]) {
      f32.set(seededFloats(K, 10, 1), X / 4);
      f32[X / 4 + K - 1] = big;
      f32.fill(-1, OUT / 4, OUT / 4 + 32);
      expect(ex.gemv16(X, K, W16, panelBytes(K, 2), 0, 2, 0, 0, OUT, WEIGHT_CODE.f16s, XS)).toBe(0);
      expect([...f32.slice(OUT / 4, OUT / 4 + 32)].every((v) => v === -1)).toBe(true);
    }
  });
});
