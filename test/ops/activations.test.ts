// The activations against the true values and against PyTorch, densely over the whole float32
// range, from test/fixtures/activations*.bin (scripts/fixtures/make_activation_fixtures.py).
// The figures asserted here are the ones docs/activations.md states.
import { describe, expect, it } from "vitest";
import {
  ShapeError,
  fromRows,
  gelu,
  geluInto,
  geluTanh,
  geluTanhInto,
  matrix,
  sigmoid,
  sigmoidInto,
  silu,
  siluInto,
  zeros,
  type Matrix,
} from "../../src/index";
import {
  erf64,
  erfc64,
  erfScalar,
  exp64,
  gelu64,
  geluGrad64,
  geluScalar,
  geluTanh64,
  geluTanhGrad64,
  geluTanhScalar,
  sigmoid64,
  sigmoidScalar,
  silu64,
  siluGrad64,
  siluScalar,
} from "../../src/kernels/activation";
import { loadActivationFixture, loadFloat64Fixture } from "../support/activation-fixture";
import { hex32 } from "../helpers/bits";
import { fromBits, sameFloat, ulpDistance } from "../support/float32";

const fixture = loadActivationFixture();
const fixture64 = loadFloat64Fixture();

type Name = "gelu" | "geluTanh" | "silu" | "sigmoid";
const SCALAR: Record<Name, (v: number) => number> = {
  gelu: geluScalar,
  geluTanh: geluTanhScalar,
  silu: siluScalar,
  sigmoid: sigmoidScalar,
};
const NAMES = Object.keys(SCALAR) as Name[];

describe("the fixture", () => {
  it("holds the points the script describes", () => {
    expect(fixture.n).toBe(fixture.meta.points);
    expect(fixture.n).toBeGreaterThan(37_000);
    // Every sign and exponent appears, NaN and the infinities included.
    const exponents = new Set<number>();
    for (const x of fixture.x)
      exponents.add(Math.sign(x) * 1000 + Math.floor(Math.log2(Math.abs(x))));
    expect(exponents.size).toBeGreaterThan(2 * 250);
    expect(fixture.x.some(Number.isNaN)).toBe(true);
    expect(fixture.x.includes(Infinity) && fixture.x.includes(-Infinity)).toBe(true);
  });
});

describe("against the true value (mpmath, 200 bits, correctly rounded to float32)", () => {
  const cases: [string, (v: number) => number, Float32Array][] = [
    ["gelu", geluScalar, fixture.truth.gelu],
    ["geluTanh", geluTanhScalar, fixture.truth.geluTanh],
    ["silu", siluScalar, fixture.truth.silu],
    ["sigmoid", sigmoidScalar, fixture.truth.sigmoid],
    ["erf", erfScalar, fixture.truth.erf],
  ];
  it.each(cases)("%s is correctly rounded at every finite point (0 ulps)", (_name, f, truth) => {
    const misses: string[] = [];
    let tested = 0;
    for (let i = 0; i < fixture.n; i++) {
      const x = fixture.x[i] as number;
      if (!Number.isFinite(x)) continue;
      tested++;
      const got = f(x);
      const want = truth[i] as number;
      if (!sameFloat(got, want)) {
        misses.push(`x = ${x} (${hex32(x)}): ${got} vs ${want}, ${ulpDistance(got, want)} ulps`);
      }
    }
    expect(tested).toBeGreaterThan(37_000);
    expect(misses.slice(0, 5)).toEqual([]);
  });
});

// PyTorch 1.13, float32 CPU (oneDNN's gelu, ATen's AVX2 kernels). Where PyTorch's formula is
// accurate we agree within a few ulps; where it cancels (1 + erf(x/√2) and 1 + tanh(z) as
// they approach 0) or overflows (e^-x beyond x = -88.7), the difference is PyTorch's error,
// bounded in absolute terms. Each bound is the measured maximum: ulps exactly, absolute values
// rounded up to two significant digits.
interface Band {
  what: string;
  lo: number;
  hi: number;
  ulps?: number;
  abs?: number;
}
const BANDS: Record<Name, Band[]> = {
  gelu: [
    { what: "x >= 0", lo: 0, hi: Infinity, ulps: 8 },
    { what: "-1 <= x < 0", lo: -1, hi: 0, ulps: 7 },
    { what: "-3 <= x < -1", lo: -3, hi: -1, ulps: 534, abs: 2.5e-7 },
    { what: "-88 <= x < -3", lo: -88, hi: -3, abs: 2.6e-7 },
    { what: "x < -88", lo: -Infinity, hi: -88, ulps: 0 },
  ],
  geluTanh: [
    { what: "x >= 0", lo: 0, hi: Infinity, ulps: 1 },
    { what: "-1 <= x < 0", lo: -1, hi: 0, ulps: 2 },
    { what: "-3 <= x < -1", lo: -3, hi: -1, ulps: 91, abs: 4.5e-8 },
    { what: "-88 <= x < -3", lo: -88, hi: -3, abs: 1.6e-7 },
    { what: "x < -88", lo: -Infinity, hi: -88, ulps: 0 },
  ],
  silu: [
    { what: "x >= 0", lo: 0, hi: Infinity, ulps: 1 },
    { what: "-1 <= x < 0", lo: -1, hi: 0, ulps: 2 },
    { what: "-3 <= x < -1", lo: -3, hi: -1, ulps: 1 },
    { what: "-88 <= x < -3", lo: -88, hi: -3, ulps: 1 },
    { what: "x < -88", lo: -Infinity, hi: -88, abs: 2e-37 },
  ],
  sigmoid: [
    { what: "x >= 0", lo: 0, hi: Infinity, ulps: 1 },
    { what: "-1 <= x < 0", lo: -1, hi: 0, ulps: 2 },
    { what: "-3 <= x < -1", lo: -3, hi: -1, ulps: 2 },
    { what: "-88 <= x < -3", lo: -88, hi: -3, ulps: 1 },
    { what: "x < -88", lo: -Infinity, hi: -88, abs: 2.2e-39 },
  ],
};

function inBand(x: number, b: Band): boolean {
  if (b.lo === 0) return x > 0 || Object.is(x, 0);
  if (b.hi === 0) return (x >= b.lo && x < 0) || Object.is(x, -0);
  return x >= b.lo && x < b.hi;
}

describe("against PyTorch", () => {
  const rows = NAMES.flatMap((name) => BANDS[name].map((band) => [name, band.what, band] as const));
  it.each(rows)("%s, %s: within the stated bound", (name, _what, band) => {
    const f = SCALAR[name];
    const torch = fixture.torch[name];
    let count = 0;
    let maxUlps = 0;
    let maxAbs = 0;
    for (let i = 0; i < fixture.n; i++) {
      const x = fixture.x[i] as number;
      if (!Number.isFinite(x) || !inBand(x, band)) continue;
      count++;
      const ours = f(x);
      const theirs = torch[i] as number;
      maxUlps = Math.max(maxUlps, ulpDistance(ours, theirs));
      maxAbs = Math.max(maxAbs, Math.abs(ours - theirs));
    }
    expect(count).toBeGreaterThan(400);
    if (band.ulps !== undefined) expect(maxUlps).toBeLessThanOrEqual(band.ulps);
    if (band.abs !== undefined) expect(maxAbs).toBeLessThanOrEqual(band.abs);
  });

  it("differs from PyTorch only by PyTorch's own error: where they differ, ours is the truth", () => {
    const worse: string[] = [];
    for (const name of NAMES) {
      const f = SCALAR[name];
      for (let i = 0; i < fixture.n; i++) {
        const x = fixture.x[i] as number;
        if (!Number.isFinite(x)) continue;
        const truth = fixture.truth[name][i] as number;
        const ours = ulpDistance(f(x), truth);
        if (ours > ulpDistance(fixture.torch[name][i] as number, truth))
          worse.push(`${name}(${x})`);
      }
    }
    expect(worse).toEqual([]);
  });
});

describe("NaN, infinities, zeros, subnormals", () => {
  const MIN_SUB = fromBits(0x00000001);
  const MAX = fromBits(0x7f7fffff);
  // gelu(-∞), geluTanh(-∞), silu(-∞) are -∞ · 0: NaN, as in PyTorch and IEEE arithmetic.
  const SPECIALS: [number, Record<Name, number>][] = [
    [NaN, { gelu: NaN, geluTanh: NaN, silu: NaN, sigmoid: NaN }],
    [Infinity, { gelu: Infinity, geluTanh: Infinity, silu: Infinity, sigmoid: 1 }],
    [-Infinity, { gelu: NaN, geluTanh: NaN, silu: NaN, sigmoid: 0 }],
    [0, { gelu: 0, geluTanh: 0, silu: 0, sigmoid: 0.5 }],
    [-0, { gelu: -0, geluTanh: -0, silu: -0, sigmoid: 0.5 }],
    [MAX, { gelu: MAX, geluTanh: MAX, silu: MAX, sigmoid: 1 }],
    [-MAX, { gelu: -0, geluTanh: -0, silu: -0, sigmoid: 0 }],
    // x/2 + x²/√(2π) (x²/4 for silu) lies just above the midpoint x/2: round up.
    [MIN_SUB, { gelu: MIN_SUB, geluTanh: MIN_SUB, silu: MIN_SUB, sigmoid: 0.5 }],
    [-MIN_SUB, { gelu: -0, geluTanh: -0, silu: -0, sigmoid: 0.5 }],
  ];
  it.each(SPECIALS)("at %s", (x, want) => {
    for (const name of NAMES) {
      expect(sameFloat(SCALAR[name](x), want[name]), `${name}(${x})`).toBe(true);
    }
  });

  it("agree with PyTorch's bits there, but for the sign of gelu's zeros and the subnormal ties", () => {
    // PyTorch's oneDNN gelu returns +0 where x/2 (1 + erf) is -0 (its own ATen kernel, used for
    // one-element tensors, returns -0); PyTorch rounds x/2 to even at subnormal ties.
    const specials = [NaN, Infinity, -Infinity, 0, -0, MAX, -MAX];
    for (const x of specials) {
      const i = fixture.x.findIndex((v) => Object.is(v, x));
      expect(i, `fixture has ${x}`).toBeGreaterThanOrEqual(0);
      for (const name of NAMES) {
        const theirs = fixture.torch[name][i] as number;
        const ours = SCALAR[name](x);
        if (name === "gelu" && ours === 0 && x <= 0) expect(sameFloat(theirs, 0)).toBe(true);
        else expect(sameFloat(ours, theirs), `${name}(${x}): ${ours} vs ${theirs}`).toBe(true);
      }
    }
  });
});

describe("the float64 building blocks (against mpmath, 2048 points)", () => {
  // Relative errors in units of 2^-53, measured maximum rounded up to an integer. Rounding to
  // float32 then stays within 1 ulp of the truth anywhere: that needs a float64 error below
  // 2^-25 relative, and the largest here, 1027 · 2^-53, is below 2^-42.
  const U64 = 2 ** -53;
  const RELATIVE: [string, number, (x: number) => number, Float64Array][] = [
    ["erf64", 5, erf64, fixture64.erf],
    ["erfc64", 730, erfc64, fixture64.erfc],
    ["gelu64", 1027, gelu64, fixture64.gelu],
    ["geluTanh64", 403, geluTanh64, fixture64.geluTanh],
    ["silu64", 3, silu64, fixture64.silu],
    ["sigmoid64", 3, sigmoid64, fixture64.sigmoid],
  ];
  it.each(RELATIVE)("%s: relative error <= %s·2^-53", (_n, units, f, truth) => {
    let worst = 0;
    for (let i = 0; i < fixture64.n; i++) {
      const want = truth[i] as number;
      const got = f(fixture64.x[i] as number);
      if (want === 0) expect(got === 0, `${got} for 0`).toBe(true);
      else worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
    }
    expect(worst).toBeLessThanOrEqual(units * U64);
  });

  // The derivatives, for the backward pass: absolute errors (silu' has a root, where a
  // relative error means nothing).
  const ABSOLUTE: [string, (x: number) => number, Float64Array][] = [
    ["geluGrad64", geluGrad64, fixture64.geluGrad],
    ["geluTanhGrad64", geluTanhGrad64, fixture64.geluTanhGrad],
    ["siluGrad64", siluGrad64, fixture64.siluGrad],
  ];
  it.each(ABSOLUTE)("%s: absolute error <= 2·2^-53", (_n, f, truth) => {
    for (let i = 0; i < fixture64.n; i++) {
      const x = fixture64.x[i] as number;
      expect(Math.abs(f(x) - (truth[i] as number)), `at ${x}`).toBeLessThanOrEqual(2 * U64);
    }
  });

  it("exp64 is within 2·2^-53 of Math.exp over its whole range, and exact at 0", () => {
    expect(exp64(0)).toBe(1);
    let worst = 0;
    for (let x = -708; x < 709.7; x += 0.00713) {
      const e = Math.exp(x);
      worst = Math.max(worst, Math.abs(exp64(x) - e) / e);
    }
    expect(worst).toBeLessThanOrEqual(2 * U64);
  });

  it("exp64 at its ends: overflow, underflow, NaN", () => {
    expect(exp64(710.5)).toBe(Infinity);
    expect(exp64(709.78)).toBeCloseTo(Math.exp(709.78), -300);
    expect(exp64(Infinity)).toBe(Infinity);
    expect(exp64(-Infinity)).toBe(0);
    expect(exp64(-746)).toBe(0);
    expect(exp64(-740)).toBeGreaterThan(0); // a float64 subnormal
    expect(exp64(NaN)).toBeNaN();
  });

  it("erf64 and erfc64 at their ends", () => {
    expect(erf64(Infinity)).toBe(1);
    expect(erf64(-Infinity)).toBe(-1);
    expect(Object.is(erf64(-0), -0)).toBe(true);
    expect(erfc64(Infinity)).toBe(0);
    expect(erfc64(-Infinity)).toBe(2);
    expect(erfc64(30)).toBe(0);
    expect(erf64(NaN)).toBeNaN();
    expect(erfc64(NaN)).toBeNaN();
  });
});

describe.each([
  ["gelu", gelu, geluInto, geluScalar],
  ["geluTanh", geluTanh, geluTanhInto, geluTanhScalar],
  ["silu", silu, siluInto, siluScalar],
  ["sigmoid", sigmoid, sigmoidInto, sigmoidScalar],
] as const)("%s and its Into form", (name, alloc, into, scalar) => {
  const x = matrix(
    3,
    5,
    Float32Array.from({ length: 15 }, (_, i) => (i - 7) * 0.9),
  );
  const expected = x.data.map(scalar);

  it("apply the scalar function to every element", () => {
    const out = alloc(x);
    expect(out).not.toBe(x);
    expect([out.rows, out.cols]).toEqual([3, 5]);
    expect(Array.from(out.data)).toEqual(Array.from(expected));
    const target = zeros(3, 5);
    expect(into(target, x)).toBe(target);
    expect(Array.from(target.data)).toEqual(Array.from(expected));
  });

  it("work in place", () => {
    const y = matrix(3, 5, x.data.slice());
    expect(into(y, y)).toBe(y);
    expect(Array.from(y.data)).toEqual(Array.from(expected));
  });

  it("take empty matrices", () => {
    expect(alloc(zeros(0, 4)).data.length).toBe(0);
    expect(into(zeros(3, 0), zeros(3, 0)).data.length).toBe(0);
  });

  it("reject a non-matrix", () => {
    expect(() => alloc([[1]] as unknown as Matrix)).toThrow(
      new TypeError(
        `${name}: x must be a matrix { rows, cols, data: Float32Array }, got a plain Array`,
      ),
    );
    expect(() => into(zeros(1, 1), { rows: 1, cols: 1, data: [1] } as unknown as Matrix)).toThrow(
      new TypeError(`${name}Into: x.data must be a Float32Array, got a plain Array`),
    );
    expect(() => into(new Float32Array(1) as unknown as Matrix, zeros(1, 1))).toThrow(
      new TypeError(
        `${name}Into: out must be a matrix { rows, cols, data: Float32Array }, got a Float32Array`,
      ),
    );
  });

  it("reject an out of the wrong shape and write nothing", () => {
    const out = matrix(5, 3, new Float32Array(15).fill(7));
    expect(() => into(out, x)).toThrow(ShapeError);
    expect(() => into(out, x)).toThrow(
      `${name}Into: out is 5 x 3, expected (x.rows, x.cols) = 3 x 5`,
    );
    expect(out.data.every((v) => v === 7)).toBe(true);
  });

  it("reject an out that overlaps x at an offset and write nothing", () => {
    const buffer = new Float32Array(16).fill(0.5);
    const a = matrix(3, 5, buffer.subarray(0, 15));
    const b = matrix(3, 5, buffer.subarray(1, 16));
    expect(() => into(b, a)).toThrow(
      new ShapeError(
        `${name}Into: out overlaps x at a different offset; pass x itself (in place) or a separate buffer`,
      ),
    );
    expect(buffer.every((v) => v === 0.5)).toBe(true);
  });

  it("agree with the scalar on a row built by fromRows", () => {
    const r = fromRows([[-2.5, -0.5, 0.25, 4]]);
    expect(Array.from(alloc(r).data)).toEqual(Array.from(r.data.map(scalar)));
  });
});
