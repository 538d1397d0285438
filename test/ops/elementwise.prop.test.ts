// relu and addBias elementwise, on arbitrary float32 values (NaN, ±Infinity, -0, subnormals).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Matrix, addBias, addBiasInto, relu, reluInto } from "../../src/index";
import { anyFloat32, dim } from "../helpers/arbitraries";
import { expectSameBits, expectSameMatrix } from "../helpers/bits";

const RUNS = { numRuns: 100 };
const anyMatrix = fc
  .record({ rows: fc.oneof(fc.constant(0), dim), cols: fc.oneof(fc.constant(0), dim) })
  .chain(({ rows, cols }) => anyFloat32(rows * cols).map((data): Matrix => ({ rows, cols, data })));

describe("relu properties", () => {
  it("is idempotent, bit for bit", () => {
    fc.assert(
      fc.property(anyMatrix, (x) => expectSameMatrix(relu(relu(x)), relu(x))),
      RUNS,
    );
  });

  it("never gives a negative number: each output is > 0, +0, -0 (from -0) or NaN (from NaN)", () => {
    fc.assert(
      fc.property(anyMatrix, (x) => {
        const y = relu(x).data;
        x.data.forEach((v, i) => {
          const r = y[i] as number;
          if (Number.isNaN(v)) expect(r).toBeNaN();
          else if (Object.is(v, -0)) expect(Object.is(r, -0)).toBe(true);
          else if (v < 0) expect(Object.is(r, 0)).toBe(true);
          else expect(Object.is(r, v)).toBe(true);
          expect(r < 0).toBe(false);
        });
      }),
      RUNS,
    );
  });

  it("reluInto, in place or not, writes what relu returns; x is left as it was", () => {
    fc.assert(
      fc.property(anyMatrix, (x) => {
        const before = x.data.slice();
        const want = relu(x);
        expectSameBits(x.data, before, "x after relu");
        const out: Matrix = { rows: x.rows, cols: x.cols, data: new Float32Array(x.data.length) };
        expectSameMatrix(reluInto(out, x), want);
        expectSameMatrix(reluInto(x, x), want);
      }),
      RUNS,
    );
  });
});

describe("addBias properties", () => {
  it("each element is fl32(x + bias), in place or not", () => {
    fc.assert(
      fc.property(
        anyMatrix.chain((x) => anyFloat32(x.cols).map((b) => ({ x, b }))),
        ({ x, b }) => {
          const want = new Float32Array(x.data.length);
          for (let i = 0; i < x.rows; i++)
            for (let j = 0; j < x.cols; j++)
              want[i * x.cols + j] = Math.fround(
                (x.data[i * x.cols + j] as number) + (b[j] as number),
              );
          expectSameBits(addBias(x, b).data, want);
          expectSameBits(addBiasInto(x, x, b).data, want);
        },
      ),
      RUNS,
    );
  });
});
