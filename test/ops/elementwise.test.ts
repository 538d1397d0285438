import { describe, expect, it } from "vitest";
import {
  ShapeError,
  type Matrix,
  addBias,
  addBiasInto,
  fromRows,
  relu,
  reluInto,
  toRows,
  zeros,
} from "../../src/index";
import { expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly, type ThrowCase } from "../helpers/throws";

describe("addBias", () => {
  it("adds the bias row to every row, into a new matrix or into out", () => {
    const x = fromRows([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const b = new Float32Array([10, -1]);
    expect(toRows(addBias(x, b))).toEqual([
      [11, 1],
      [13, 3],
      [15, 5],
    ]);
    const out = zeros(3, 2);
    expect(addBiasInto(out, x, b)).toBe(out);
    expect(toRows(out)).toEqual([
      [11, 1],
      [13, 3],
      [15, 5],
    ]);
    expect(toRows(x)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it("rounds each sum to float32 and follows IEEE for the special values", () => {
    const x = fromRows([[1, Infinity, -0, NaN, 3e38]]);
    const b = new Float32Array([2 ** -30, -Infinity, -0, 1, 3e38]);
    const y = addBias(x, b);
    expectSameBits(y.data, new Float32Array([1, NaN, -0, NaN, Infinity]));
  });

  it("adds in place when out is x, or another matrix over the same memory", () => {
    const x = fromRows([
      [1, 2],
      [3, 4],
    ]);
    addBiasInto(x, x, new Float32Array([1, 1]));
    expect(toRows(x)).toEqual([
      [2, 3],
      [4, 5],
    ]);
    addBiasInto({ rows: 2, cols: 2, data: x.data }, x, new Float32Array([1, 1]));
    expect(toRows(x)).toEqual([
      [3, 4],
      [5, 6],
    ]);
  });

  it("handles zero rows and zero columns", () => {
    expect(addBias(zeros(0, 3), new Float32Array(3))).toEqual(zeros(0, 3));
    expect(addBias(zeros(2, 0), new Float32Array(0))).toEqual(zeros(2, 0));
  });
});

describe("relu", () => {
  it("is max(0, v) with torch.relu's special values: -0 stays -0, NaN stays NaN", () => {
    const x = fromRows([[-2, -0, 0, 3, NaN, Infinity, -Infinity, -1e-45, 1e-45]]);
    const want = new Float32Array([0, -0, 0, 3, NaN, Infinity, 0, 0, 1e-45]);
    expectSameBits(relu(x).data, want);
    const out = zeros(1, 9);
    expect(reluInto(out, x)).toBe(out);
    expectSameBits(out.data, want);
    expect(Object.is(relu(x).data[1], -0)).toBe(true);
    expect(Object.is(relu(x).data[0], 0)).toBe(true);
  });

  it("works in place and on empty matrices", () => {
    const x = fromRows([[-1, 1]]);
    expect(reluInto(x, x)).toBe(x);
    expect(toRows(x)).toEqual([[0, 1]]);
    expect(relu(zeros(0, 4))).toEqual(zeros(0, 4));
  });
});

describe("addBias, addBiasInto, relu and reluInto reject bad input before writing anything", () => {
  const x = fromRows([
    [1, 2],
    [3, 4],
  ]);
  const b = new Float32Array([1, 2]);
  const out = zeros(2, 2);
  const shared = new Float32Array(8).fill(1);
  const sx: Matrix = { rows: 2, cols: 2, data: shared.subarray(0, 4) };
  const plain = [[1, 2]] as unknown as Matrix;
  const f64 = { rows: 2, cols: 2, data: new Float64Array(4) } as unknown as Matrix;
  const matrixMsg = (where: string, name: string, got: string) =>
    `${where}: ${name} must be a matrix { rows, cols, data: Float32Array }, got ${got}`;
  const cases: ThrowCase[] = [
    {
      what: "addBias: x is a plain array",
      call: () => addBias(plain, b),
      error: TypeError,
      message: matrixMsg("addBias", "x", "a plain Array"),
    },
    {
      what: "addBias: x holds a Float64Array",
      call: () => addBias(f64, b),
      error: TypeError,
      message: "addBias: x.data must be a Float32Array, got a Float64Array",
    },
    {
      what: "addBias: x.rows is negative",
      call: () => addBias({ rows: -1, cols: 2, data: x.data }, b),
      error: TypeError,
      message: "addBias: x.rows must be a non-negative integer, got -1",
    },
    {
      what: "addBias: bias is a Float64Array",
      call: () => addBias(x, new Float64Array(2) as unknown as Float32Array),
      error: TypeError,
      message: "addBias: bias must be a Float32Array, got a Float64Array",
    },
    {
      what: "addBias: bias is a plain array",
      call: () => addBias(x, [1, 2] as unknown as Float32Array),
      error: TypeError,
      message: "addBias: bias must be a Float32Array, got a plain Array",
    },
    {
      what: "addBias: bias has the wrong length",
      call: () => addBias(x, new Float32Array(3)),
      error: ShapeError,
      message: "addBias: bias has length 3, expected x.cols = 2",
    },
    {
      what: "addBiasInto: x is undefined",
      call: () => addBiasInto(out, undefined as unknown as Matrix, b),
      error: TypeError,
      message: matrixMsg("addBiasInto", "x", "undefined"),
    },
    {
      what: "addBiasInto: bias is missing",
      call: () => addBiasInto(out, x, undefined as unknown as Float32Array),
      error: TypeError,
      message: "addBiasInto: bias must be a Float32Array, got undefined",
    },
    {
      what: "addBiasInto: bias has the wrong length",
      call: () => addBiasInto(out, x, new Float32Array(1)),
      error: ShapeError,
      message: "addBiasInto: bias has length 1, expected x.cols = 2",
    },
    {
      what: "addBiasInto: out is a plain array",
      call: () => addBiasInto(plain, x, b),
      error: TypeError,
      message: matrixMsg("addBiasInto", "out", "a plain Array"),
    },
    {
      what: "addBiasInto: out has the wrong shape",
      call: () => addBiasInto(zeros(4, 1), x, b),
      error: ShapeError,
      message: "addBiasInto: out is 4 x 1, expected (x.rows, x.cols) = 2 x 2",
    },
    {
      what: "addBiasInto: out overlaps x at an offset",
      call: () => addBiasInto({ rows: 2, cols: 2, data: shared.subarray(1, 5) }, sx, b),
      error: ShapeError,
      message:
        "addBiasInto: out overlaps x at a different offset; pass x itself (in place) or a separate buffer",
      buffers: [shared],
    },
    {
      what: "addBiasInto: out overlaps bias",
      call: () =>
        addBiasInto(
          { rows: 1, cols: 2, data: shared.subarray(4, 6) },
          fromRows([[1, 2]]),
          shared.subarray(5, 7),
        ),
      error: ShapeError,
      message: "addBiasInto: out overlaps bias; pass a separate output buffer",
      buffers: [shared],
    },
    {
      what: "relu: x is a plain array",
      call: () => relu(plain),
      error: TypeError,
      message: matrixMsg("relu", "x", "a plain Array"),
    },
    {
      what: "relu: x.cols is not an integer",
      call: () => relu({ rows: 2, cols: 2.5, data: x.data }),
      error: TypeError,
      message: "relu: x.cols must be a non-negative integer, got 2.5",
    },
    {
      what: "relu: x.data has the wrong length",
      call: () => relu({ rows: 3, cols: 2, data: x.data }),
      error: ShapeError,
      message: "relu: x.data has length 4, expected rows * cols = 3 * 2 = 6",
    },
    {
      what: "reluInto: x holds a Float64Array",
      call: () => reluInto(out, f64),
      error: TypeError,
      message: "reluInto: x.data must be a Float32Array, got a Float64Array",
    },
    {
      what: "reluInto: out is a Float32Array, not a matrix",
      call: () => reluInto(new Float32Array(4) as unknown as Matrix, x),
      error: TypeError,
      message: matrixMsg("reluInto", "out", "a Float32Array"),
    },
    {
      what: "reluInto: out has the wrong shape",
      call: () => reluInto(zeros(1, 4), x),
      error: ShapeError,
      message: "reluInto: out is 1 x 4, expected (x.rows, x.cols) = 2 x 2",
    },
    {
      what: "reluInto: out overlaps x at an offset",
      call: () => reluInto({ rows: 2, cols: 2, data: shared.subarray(3, 7) }, sx),
      error: ShapeError,
      message:
        "reluInto: out overlaps x at a different offset; pass x itself (in place) or a separate buffer",
      buffers: [shared],
    },
  ];

  it.each(cases)("$what", (c) =>
    expectThrowsCleanly({ ...c, buffers: [x.data, b, out.data, ...(c.buffers ?? [])] }),
  );
});
