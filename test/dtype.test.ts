// The element-type conversions against a reference computed another way: by float64 arithmetic
// on values (scale to units of the target's ulp, round half to even, scale back), never by the
// bit manipulation under test. Every 16-bit pattern is checked, and float32 inputs are drawn
// from every exponent, from each type's rounding boundaries and ties, and at random.
import { describe, expect, it } from "vitest";
import { bf16ToFloatBits, floatBitsToBf16, floatBitsToHalf, halfToFloatBits } from "../src/dtype";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const valueOf = (bits: number) => ((u32[0] = bits), f32[0] as number);
const bitsOf = (v: number) => ((f32[0] = v), u32[0] as number);

/** Rounds q (a float64 holding an exact rational) to the nearest integer, ties to even. */
function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * A float32 value rounded to a binary format with `mant` stored mantissa bits, minimum normal
 * exponent `emin` and largest finite `max`, by arithmetic: the value in float64 (exact), the
 * ulp of its binade (or of the subnormals), the quotient rounded half to even, then overflow.
 */
function roundTo(v: number, mant: number, emin: number, max: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const a = Math.abs(v);
  const e = Math.max(Math.floor(Math.log2(a)), emin);
  // log2 may land one off near a power of two: fix e so that 2^e <= a < 2^(e+1) (or e = emin).
  let ex = e;
  if (ex > emin && 2 ** ex > a) ex--;
  if (2 ** (ex + 1) <= a) ex++;
  const ulp = 2 ** (ex - mant);
  const r = roundHalfEven(a / ulp) * ulp;
  // IEEE: overflow to infinity when the rounded value (with unbounded exponent) exceeds max.
  const out = r > max ? Infinity : r;
  return v < 0 ? -out : out;
}

const HALF_MAX = 65504;
const BF16_MAX = valueOf(0x7f7f0000);
const halfRef = (v: number) => roundTo(v, 10, -14, HALF_MAX);
const bf16Ref = (v: number) => roundTo(v, 7, -126, BF16_MAX);
const halfValue = (h: number) => valueOf(halfToFloatBits(h));
const bf16Value = (h: number) => valueOf(bf16ToFloatBits(h));

/** float32 bit patterns to test: every exponent with edge mantissas, ties, and random ones. */
function samples(): number[] {
  const out: number[] = [];
  for (let e = 0; e < 256; e++) {
    for (const m of [
      0, 1, 0x1000, 0xfff, 0x1fff, 0x2000, 0x3000, 0x7fff, 0x8000, 0x18000, 0x7fffff,
    ]) {
      out.push((e << 23) | m, ((1 << 31) | (e << 23) | m) >>> 0);
    }
  }
  let s = 12345;
  for (let i = 0; i < 200_000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(s);
  }
  return out;
}

describe("halfToFloatBits", () => {
  it("gives each of the 65536 binary16 patterns its value (sign · 2^e · 1.m)", () => {
    for (let h = 0; h < 0x10000; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const v = valueOf(halfToFloatBits(h));
      if (e === 0x1f) {
        if (m === 0) expect(v).toBe(sign * Infinity);
        else expect(Number.isNaN(v)).toBe(true);
      } else {
        const want = e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
        expect(Object.is(v, want)).toBe(true);
      }
    }
  });
});

describe("floatBitsToHalf", () => {
  it("inverts halfToFloatBits on every binary16 pattern (NaNs stay NaN with their sign)", () => {
    for (let h = 0; h < 0x10000; h++) {
      const back = floatBitsToHalf(halfToFloatBits(h));
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
        expect(back & 0x7c00).toBe(0x7c00);
        expect(back & 0x3ff).not.toBe(0);
        expect(back & 0x8000).toBe(h & 0x8000);
      } else expect(back).toBe(h);
    }
  });

  it("rounds float32 to nearest, ties to even, overflowing to infinity past 65504", () => {
    let checked = 0;
    for (const bits of samples()) {
      const v = valueOf(bits);
      const got = halfValue(floatBitsToHalf(bits));
      if (Number.isNaN(v)) {
        expect(Number.isNaN(got)).toBe(true);
        continue;
      }
      const want = halfRef(v);
      if (!Object.is(got, want)) {
        throw new Error(`0x${bits.toString(16)} (${v}): got ${got}, want ${want}`);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(200_000);
  });

  it("rounds the named boundary cases as IEEE says", () => {
    const h = (v: number) => floatBitsToHalf(bitsOf(v));
    expect(h(65504)).toBe(0x7bff);
    expect(h(65519)).toBe(0x7bff); // just below the midpoint to 65536
    expect(h(65520)).toBe(0x7c00); // the midpoint: ties to even, which is "infinity"
    expect(h(-1e10)).toBe(0xfc00);
    expect(h(2 ** -24)).toBe(0x0001);
    expect(h(2 ** -25)).toBe(0x0000); // a tie between 0 and 2^-24: to even, 0
    expect(h(-(2 ** -25))).toBe(0x8000);
    expect(h(1.5 * 2 ** -25)).toBe(0x0001);
    expect(h(1 + 2 ** -11)).toBe(0x3c00); // tie, to even (1.0)
    expect(h(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, to even (1 + 2^-9)
    expect(h(-0)).toBe(0x8000);
  });
});

describe("floatBitsToBf16", () => {
  it("inverts bf16ToFloatBits on every bfloat16 pattern (NaNs stay NaN with their sign)", () => {
    for (let h = 0; h < 0x10000; h++) {
      const back = floatBitsToBf16(bf16ToFloatBits(h));
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) {
        expect(Number.isNaN(bf16Value(back))).toBe(true);
        expect(back & 0x8000).toBe(h & 0x8000);
      } else expect(back).toBe(h);
    }
  });

  it("rounds float32 to nearest, ties to even (subnormals and overflow included)", () => {
    for (const bits of samples()) {
      const v = valueOf(bits);
      const got = bf16Value(floatBitsToBf16(bits));
      if (Number.isNaN(v)) {
        expect(Number.isNaN(got)).toBe(true);
        continue;
      }
      const want = bf16Ref(v);
      if (!Object.is(got, want)) {
        throw new Error(`0x${bits.toString(16)} (${v}): got ${got}, want ${want}`);
      }
    }
  });

  it("keeps a NaN whose payload lies only in the low half a NaN", () => {
    expect(Number.isNaN(bf16Value(floatBitsToBf16(0x7f800001)))).toBe(true);
    expect(Number.isNaN(bf16Value(floatBitsToBf16(0xff800001)))).toBe(true);
  });
});
