// matmul against the float64 model (docs/numerics.md, "matmul"), against the oracle bit for
// bit, and its transposeB form against the plain one bit for bit.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Matrix, matmul, matmulInto, row } from "../../src/index";
import { linearReference } from "../../src/kernels/reference";
import { anyFloat32, dim, finite } from "../helpers/arbitraries";
import { expectSameBits, expectSameMatrix } from "../helpers/bits";
import { matmul64, outsideBound } from "../helpers/reference64";

const RUNS = { numRuns: 80 };
const size = fc.oneof(fc.constant(0), dim);

const product = (values: (n: number) => fc.Arbitrary<Float32Array>) =>
  fc.record({ m: size, k: size, n: size }).chain(({ m, k, n }) =>
    fc.record({
      a: values(m * k).map((data): Matrix => ({ rows: m, cols: k, data })),
      b: values(k * n).map((data): Matrix => ({ rows: k, cols: n, data })),
    }),
  );

function transpose(b: Matrix): Matrix {
  const t = new Float32Array(b.data.length);
  for (let i = 0; i < b.rows; i++)
    for (let j = 0; j < b.cols; j++) t[j * b.rows + i] = b.data[i * b.cols + j] as number;
  return { rows: b.cols, cols: b.rows, data: t };
}

describe("matmul properties", () => {
  it("agrees with the float64 model within γ_K·|A||B| (any float32 kernel)", () => {
    fc.assert(
      fc.property(
        product((n) => finite(n, 64)),
        ({ a, b }) => {
          const ref = matmul64(a.data, b.data, a.rows, a.cols, b.cols);
          expect(outsideBound(matmul(a, b).data, ref.c, ref.bound)).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it("is within one float32 rounding of the exact product (it sums in float64)", () => {
    fc.assert(
      fc.property(
        product((n) => finite(n, 64)),
        ({ a, b }) => {
          const ref = matmul64(a.data, b.data, a.rows, a.cols, b.cols);
          expect(outsideBound(matmul(a, b).data, ref.c, ref.boundFloat64Sum)).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it("is the oracle, bit for bit, NaN and ±Infinity included", () => {
    fc.assert(
      fc.property(product(anyFloat32), ({ a, b }) => {
        const want = new Float32Array(a.rows * b.cols);
        linearReference(a.data, a.rows, a.cols, b.data, b.cols, null, "none", want);
        expectSameBits(matmul(a, b).data, want);
      }),
      RUNS,
    );
  });

  it("matmul(a, bᵀ, { transposeB: true }) is matmul(a, b), bit for bit", () => {
    fc.assert(
      fc.property(product(anyFloat32), ({ a, b }) => {
        expectSameMatrix(matmul(a, transpose(b), { transposeB: true }), matmul(a, b));
      }),
      RUNS,
    );
  });

  it("matmulInto writes what matmul returns; row i of a·b is (row i of a)·b", () => {
    fc.assert(
      fc.property(product(anyFloat32), ({ a, b }) => {
        const c = matmul(a, b);
        const out: Matrix = { rows: a.rows, cols: b.cols, data: new Float32Array(c.data.length) };
        expect(matmulInto(out, a, b)).toBe(out);
        expectSameMatrix(out, c);
        for (let i = 0; i < a.rows; i++) {
          const ai: Matrix = { rows: 1, cols: a.cols, data: row(a, i).slice() };
          expectSameBits(matmul(ai, b).data, row(c, i), `row ${i}`);
        }
      }),
      RUNS,
    );
  });
});
