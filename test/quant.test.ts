// ggml's block formats against numpy implementations written from ggml's reference C
// (scripts/fixtures/make_gguf_fixtures.py, test/fixtures/gguf/quant.json): the Q8_0 and Q4_0
// quantizers byte for byte, the seven dequantizers bit for bit (any NaN equals any NaN: C
// leaves NaN payloads to the hardware). Then what the definitions promise on random input.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quantizeQ4_0, quantizeQ8_0, ShapeError } from "../src/index";
import {
  BLOCK_FORMATS,
  dequantizeBlocks,
  quantizeQ4_0Blocks,
  quantizeQ8_0Blocks,
  type GgmlBlockType,
} from "../src/quant";
import { halfToFloatBits } from "../src/dtype";
import { expectSameBits } from "./helpers/bits";
import { expectThrowsCleanly } from "./helpers/throws";

interface QuantFixture {
  made_by: string;
  quantize: { name: string; x: string; q8_0: string; q4_0: string }[];
  dequantize: Record<GgmlBlockType, { blocks: string; values: string }>;
}

const FIXTURE = JSON.parse(
  readFileSync(new URL("fixtures/gguf/quant.json", import.meta.url), "utf8"),
) as QuantFixture;

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
const floats = (b64: string) => {
  const b = bytes(b64);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function dequantize(type: GgmlBlockType, data: Uint8Array): Float32Array {
  const { weights, bytes: size } = BLOCK_FORMATS[type];
  const blocks = data.length / size;
  const out = new Float32Array(blocks * weights);
  dequantizeBlocks(type, out, 0, data, 0, blocks);
  return out;
}

const halfValue = (data: Uint8Array, at: number) =>
  new Float32Array(
    new Uint32Array([halfToFloatBits((data[at] as number) | ((data[at + 1] as number) << 8))])
      .buffer,
  )[0] as number;

describe("quantizeQ8_0 and quantizeQ4_0 against ggml's reference quantizers (numpy)", () => {
  it("the fixture covers the edge cases", () => {
    const names = FIXTURE.quantize.map((c) => c.name);
    for (const n of ["all zeros", "Q8_0 ties at .5 (d = 1)", "Q4_0 negative max (d > 0)"])
      expect(names).toContain(n);
    expect(names.length).toBeGreaterThanOrEqual(18);
  });

  it.each(FIXTURE.quantize.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const x = floats(c.x);
    expect(hex(quantizeQ8_0(x))).toBe(hex(bytes(c.q8_0)));
    expect(hex(quantizeQ4_0(x))).toBe(hex(bytes(c.q4_0)));
  });

  it("all-zero blocks: Q8_0 d = +0, Q4_0 d = -0 (0 / -8) with nibbles 8", () => {
    const q8 = quantizeQ8_0(new Float32Array(32));
    expect(hex(q8)).toBe("00".repeat(34));
    const q4 = quantizeQ4_0(new Float32Array(32));
    expect(hex(q4)).toBe("0080" + "88".repeat(16));
    // and they decode to zeros: +0 for Q8_0, and 0 · -0 = -0 for Q4_0
    expectSameBits(dequantize("Q8_0", q8), new Float32Array(32));
    expectSameBits(dequantize("Q4_0", q4), new Float32Array(32).fill(-0));
  });

  it("roundf sends halves away from zero (Math.round would not)", () => {
    const x = new Float32Array(32);
    x.set([127, -2.5, 2.5, -0.5, 0.5, 0.49999997]);
    const q = new Int8Array(quantizeQ8_0(x).buffer, 2, 6);
    expect([...q]).toEqual([127, -3, 3, -1, 1, 0]);
  });

  it("Q4_0 takes the first value of largest magnitude as max", () => {
    const x = new Float32Array(32);
    x[3] = -5;
    x[7] = 5;
    expect(halfValue(quantizeQ4_0(x), 0)).toBe(0.625); // -5 / -8
    x[3] = 5;
    x[7] = -5;
    expect(halfValue(quantizeQ4_0(x), 0)).toBe(-0.625);
  });

  it("a block whose 1/d overflows float32 gets the all-zero block's quants, and decodes to zeros", () => {
    const x = new Float32Array(32).fill(1e-39);
    x[4] = -1e-39;
    const q8 = quantizeQ8_0(x);
    const q4 = quantizeQ4_0(x);
    expect(hex(q8)).toBe("00".repeat(34)); // d = 7.9e-42 is 0 in f16
    expect(hex(q4.subarray(2))).toBe("88".repeat(16));
    expect([...dequantize("Q8_0", q8)].every((v) => v === 0)).toBe(true);
    expect([...dequantize("Q4_0", q4)].every((v) => v === 0)).toBe(true);
  });

  it("a scale past f16's range is infinity: its block decodes to ±infinity and NaN (0 · inf)", () => {
    const x = new Float32Array(32).fill(1);
    x[9] = 1e30;
    const q8 = quantizeQ8_0(x);
    expect(hex(q8.subarray(0, 2))).toBe("007c");
    const back = dequantize("Q8_0", q8);
    expect(back[9]).toBe(Infinity);
    expect(back[0]).toBeNaN(); // q = round(1 / 7.9e27) = 0, times infinity
  });
});

describe("the dequantizers against ggml's dequantize_row_* (numpy)", () => {
  it.each(Object.keys(BLOCK_FORMATS) as GgmlBlockType[])("%s, bit for bit", (type) => {
    const { blocks, values } = FIXTURE.dequantize[type];
    const data = bytes(blocks);
    expect(data.length % BLOCK_FORMATS[type].bytes).toBe(0);
    expect(data.length / BLOCK_FORMATS[type].bytes).toBeGreaterThanOrEqual(16);
    expectSameBits(dequantize(type, data), floats(values), type);
  });

  it.each(Object.keys(BLOCK_FORMATS) as GgmlBlockType[])(
    "%s writes only its blocks, at the offsets given",
    (type) => {
      const { weights, bytes: size } = BLOCK_FORMATS[type];
      const data = bytes(FIXTURE.dequantize[type].blocks);
      const padded = new Uint8Array(data.length + 7);
      padded.set(data, 7);
      const out = new Float32Array(3 * weights + 5).fill(42);
      dequantizeBlocks(type, out, 5, padded, 7 + 10 * size, 3);
      expectSameBits(out.subarray(5), dequantize(type, data.subarray(10 * size, 13 * size)));
      expect([...out.subarray(0, 5)]).toEqual([42, 42, 42, 42, 42]);
    },
  );
});

describe("the unchecked quantizers write at the offsets given, and nowhere else", () => {
  it.each([
    ["Q8_0", quantizeQ8_0Blocks, quantizeQ8_0, 34],
    ["Q4_0", quantizeQ4_0Blocks, quantizeQ4_0, 18],
  ] as const)("%s", (_, blocksFn, whole, size) => {
    const x = floats(FIXTURE.quantize[0]!.x); // 8 blocks
    const out = new Uint8Array(3 + 2 * size + 4).fill(0xee);
    blocksFn(out, 3, x, 64, 2);
    expect(hex(out.subarray(3, 3 + 2 * size))).toBe(hex(whole(x).subarray(2 * size, 4 * size)));
    expect(hex(out.subarray(0, 3))).toBe("eeeeee");
    expect(hex(out.subarray(3 + 2 * size))).toBe("eeeeeeee");
  });
});

describe("what the definitions promise, on random finite input", () => {
  // Magnitudes below 1e-30 are taken as 0: they would make d subnormal, where its rounding
  // error (up to 2^-21 relative, not 2^-24) needs a bound of its own (the fixtures test them).
  const value = fc
    .float({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 })
    .map((v) => (Math.abs(v) < 1e-30 ? 0 : v));
  const block = fc.array(value, { minLength: 32, maxLength: 32 }).map((v) => new Float32Array(v));

  it("Q8_0: q in [-127, 127], the value of largest magnitude at ±127, each q within 1/2 of x/d", () => {
    fc.assert(
      fc.property(block, (x) => {
        const q8 = quantizeQ8_0(x);
        const q = new Int8Array(q8.buffer, 2, 32);
        let amax = 0;
        for (const v of x) amax = Math.max(amax, Math.abs(v));
        const d = Math.fround(amax / 127);
        if (d === 0 || !Number.isFinite(Math.fround(1 / d))) {
          expect([...q].every((v) => v === 0)).toBe(true);
          return;
        }
        for (let j = 0; j < 32; j++) {
          const v = x[j] as number;
          // x·(1/d) carries three float32 roundings (d, 1/d, the product): relative 2^-22 at most
          expect(Math.abs(v / d - (q[j] as number))).toBeLessThanOrEqual(0.5 + 127 * 2 ** -22);
          if (Math.abs(v) === amax) expect(Math.abs(q[j] as number)).toBe(127);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("Q4_0: nibbles decode to within d/2 of x, except -max, clamped from 16 to 15", () => {
    fc.assert(
      fc.property(block, (x) => {
        const q4 = quantizeQ4_0(x);
        let max = 0;
        for (const v of x) if (Math.abs(v) > Math.abs(max)) max = v;
        const d = Math.fround(max / -8);
        if (d === 0 || !Number.isFinite(Math.fround(1 / d))) return;
        for (let j = 0; j < 32; j++) {
          const byte = q4[2 + (j % 16)] as number;
          const nibble = j < 16 ? byte & 15 : byte >> 4;
          const t = (x[j] as number) / d + 8; // the exact position, in units of d
          if (t >= 15.5) expect(nibble).toBe(15);
          else expect(Math.abs(t - nibble)).toBeLessThanOrEqual(0.5 + 16 * 2 ** -22);
          if (x[j] === max) expect(nibble).toBe(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("bad input", () => {
  it.each([
    {
      what: "x is not a Float32Array (Q8_0)",
      call: () => quantizeQ8_0([1, 2] as unknown as Float32Array),
      error: TypeError,
      message: "quantizeQ8_0: x must be a Float32Array, got a plain Array",
    },
    {
      what: "x is a Float64Array (Q4_0)",
      call: () => quantizeQ4_0(new Float64Array(32) as unknown as Float32Array),
      error: TypeError,
      message: "quantizeQ4_0: x must be a Float32Array, got a Float64Array",
    },
    {
      what: "a length that is not a multiple of 32",
      call: () => quantizeQ8_0(new Float32Array(33)),
      error: ShapeError,
      message: "quantizeQ8_0: x has 33 values, not a multiple of the block size 32",
    },
    {
      what: "NaN",
      call: () => quantizeQ4_0(new Float32Array(64).fill(NaN, 37, 38)),
      error: RangeError,
      message:
        "quantizeQ4_0: x[37] is NaN; only finite values quantize (ggml's result for NaN and infinity is undefined behaviour in C)",
    },
    {
      what: "-Infinity",
      call: () => quantizeQ8_0(new Float32Array(32).fill(-Infinity, 3, 4)),
      error: RangeError,
      message: /^quantizeQ8_0: x\[3\] is -Infinity; only finite values quantize/,
    },
  ])("$what", (c) => expectThrowsCleanly(c));
});
