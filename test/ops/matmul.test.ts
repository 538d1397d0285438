import { describe, expect, it } from "vitest";
import {
  ShapeError,
  type Matrix,
  fromRows,
  matmul,
  matmulInto,
  toRows,
  zeros,
} from "../../src/index";
import { expectThrowsCleanly, type ThrowCase } from "../helpers/throws";

const a23 = () =>
  fromRows([
    [1, 2, 3],
    [4, 5, 6],
  ]);
const b32 = () =>
  fromRows([
    [1, 0],
    [0, 1],
    [1, 1],
  ]);

describe("matmul", () => {
  it("multiplies small matrices", () => {
    expect(toRows(matmul(a23(), b32()))).toEqual([
      [4, 5],
      [10, 11],
    ]);
    expect(
      toRows(
        matmul(
          a23(),
          fromRows([
            [1, 0, 1],
            [0, 1, 1],
          ]),
          { transposeB: true },
        ),
      ),
    ).toEqual([
      [4, 5],
      [10, 11],
    ]);
    expect(toRows(matmul(a23(), b32(), { transposeB: false }))).toEqual([
      [4, 5],
      [10, 11],
    ]);
    expect(toRows(matmul(a23(), b32(), {}))).toEqual([
      [4, 5],
      [10, 11],
    ]);
  });

  it("handles empty dimensions: 0 rows, 0 inner (a sum of nothing is +0), 0 columns", () => {
    expect(matmul(zeros(0, 3), b32())).toEqual({ rows: 0, cols: 2, data: new Float32Array(0) });
    const inner0 = matmul(zeros(2, 0), zeros(0, 3));
    expect([inner0.rows, inner0.cols]).toEqual([2, 3]);
    expect(Array.from(inner0.data).every((v) => Object.is(v, 0))).toBe(true);
    expect(matmul(a23(), zeros(3, 0))).toEqual({ rows: 2, cols: 0, data: new Float32Array(0) });
  });

  it("rounds each element once: 1 + 2^-30 - 1 is 2^-30, not 0 as float32 accumulation gives", () => {
    const c = matmul(fromRows([[1, 2 ** -30, -1]]), fromRows([[1], [1], [1]]));
    expect(c.data[0]).toBe(2 ** -30);
  });

  it("matmulInto writes into out and returns it, with a fresh result from matmul", () => {
    const out = zeros(2, 2);
    expect(matmulInto(out, a23(), b32())).toBe(out);
    expect(toRows(out)).toEqual([
      [4, 5],
      [10, 11],
    ]);
    // out may share a buffer with the inputs when it does not overlap them.
    const buf = new Float32Array(6 + 6 + 4);
    const a: Matrix = { rows: 2, cols: 3, data: buf.subarray(0, 6) };
    const b: Matrix = { rows: 3, cols: 2, data: buf.subarray(6, 12) };
    a.data.set(a23().data);
    b.data.set(b32().data);
    const shared: Matrix = { rows: 2, cols: 2, data: buf.subarray(12) };
    matmulInto(shared, a, b);
    expect(toRows(shared)).toEqual([
      [4, 5],
      [10, 11],
    ]);
  });
});

describe("matmul and matmulInto reject bad input before writing anything", () => {
  const a = a23();
  const b = b32();
  const out = zeros(2, 2);
  const buffers = [a.data, b.data, out.data];
  const f64 = { rows: 2, cols: 3, data: new Float64Array(6) } as unknown as Matrix;
  const plain = [[1, 2, 3]] as unknown as Matrix;
  const cases: ThrowCase[] = [];
  for (const [where, call] of [
    ["matmul", (x: Matrix, y: Matrix, o?: object) => matmul(x, y, o)],
    ["matmulInto", (x: Matrix, y: Matrix, o?: object) => matmulInto(out, x, y, o)],
  ] as const) {
    cases.push(
      {
        what: `${where}: a is a plain array`,
        call: () => call(plain, b),
        error: TypeError,
        message: `${where}: a must be a matrix { rows, cols, data: Float32Array }, got a plain Array`,
      },
      {
        what: `${where}: a is a Float32Array, not a matrix`,
        call: () => call(a.data as unknown as Matrix, b),
        error: TypeError,
        message: `${where}: a must be a matrix { rows, cols, data: Float32Array }, got a Float32Array`,
      },
      {
        what: `${where}: b is null`,
        call: () => call(a, null as unknown as Matrix),
        error: TypeError,
        message: `${where}: b must be a matrix { rows, cols, data: Float32Array }, got null`,
      },
      {
        what: `${where}: a holds a Float64Array`,
        call: () => call(f64, b),
        error: TypeError,
        message: `${where}: a.data must be a Float32Array, got a Float64Array`,
      },
      {
        what: `${where}: b.data is a plain array`,
        call: () => call(a, { rows: 3, cols: 2, data: [1, 2, 3, 4, 5, 6] } as unknown as Matrix),
        error: TypeError,
        message: `${where}: b.data must be a Float32Array, got a plain Array`,
      },
      {
        what: `${where}: a.rows is not an integer`,
        call: () => call({ rows: 1.5, cols: 3, data: a.data }, b),
        error: TypeError,
        message: `${where}: a.rows must be a non-negative integer, got 1.5`,
      },
      {
        what: `${where}: a.cols is negative`,
        call: () => call({ rows: 2, cols: -3, data: a.data }, b),
        error: TypeError,
        message: `${where}: a.cols must be a non-negative integer, got -3`,
      },
      {
        what: `${where}: b.rows is NaN`,
        call: () => call(a, { rows: NaN, cols: 2, data: b.data }),
        error: TypeError,
        message: `${where}: b.rows must be a non-negative integer, got NaN`,
      },
      {
        what: `${where}: b.cols is a string`,
        call: () => call(a, { rows: 3, cols: "2", data: b.data } as unknown as Matrix),
        error: TypeError,
        message: `${where}: b.cols must be a non-negative integer, got string 2`,
      },
      {
        what: `${where}: a.data has the wrong length`,
        call: () => call({ rows: 2, cols: 2, data: a.data }, b),
        error: ShapeError,
        message: `${where}: a.data has length 6, expected rows * cols = 2 * 2 = 4`,
      },
      {
        what: `${where}: b's rows differ from a's columns`,
        call: () => call(a, zeros(4, 2)),
        error: ShapeError,
        message: `${where}: b has 4 rows, expected a.cols = 3`,
      },
      {
        what: `${where}: with transposeB, b's columns differ from a's columns`,
        call: () => call(a, zeros(2, 2), { transposeB: true }),
        error: ShapeError,
        message: `${where}: b has 2 columns (transposeB), expected a.cols = 3`,
      },
      {
        what: `${where}: b stored (out, in), as nn.Linear stores it: the hint names transposeB`,
        call: () => call(a, zeros(2, 3)),
        error: ShapeError,
        message: `${where}: b has 2 rows, expected a.cols = 3; b is 2 x 3, which fits as (n, k): pass { transposeB: true } (nn.Linear stores its weight so, out x in)`,
      },
      {
        what: `${where}: transposeB given for a b that fits without it`,
        call: () => call(a, zeros(3, 5), { transposeB: true }),
        error: ShapeError,
        message: `${where}: b has 5 columns (transposeB), expected a.cols = 3; b is 3 x 5, which fits as (k, n) without transposeB`,
      },
      {
        what: `${where}: a square b of the wrong size: no hint`,
        call: () => call(a, zeros(2, 2)),
        error: ShapeError,
        message: `${where}: b has 2 rows, expected a.cols = 3`,
      },
      {
        what: `${where}: an unknown option`,
        call: () => call(a, b, { transpose: true }),
        error: TypeError,
        message: `${where}: unknown option options.transpose; known options are transposeB`,
      },
      {
        what: `${where}: options is not an object`,
        call: () => call(a, b, true as unknown as object),
        error: TypeError,
        message: `${where}: options must be an object, got boolean true`,
      },
      {
        what: `${where}: options is an array`,
        call: () => call(a, b, [] as unknown as object),
        error: TypeError,
        message: `${where}: options must be an object, got a plain Array`,
      },
      {
        what: `${where}: transposeB is not a boolean`,
        call: () => call(a, b, { transposeB: 1 }),
        error: TypeError,
        message: `${where}: options.transposeB must be a boolean, got number 1`,
      },
    );
  }
  const sharedBuf = new Float32Array(16);
  const sa: Matrix = { rows: 2, cols: 3, data: sharedBuf.subarray(0, 6) };
  const sb: Matrix = { rows: 3, cols: 2, data: sharedBuf.subarray(6, 12) };
  sharedBuf.set([1, 2, 3, 4, 5, 6, 1, 0, 0, 1, 1, 1, 9, 9, 9, 9]);
  const sq = fromRows([
    [1, 2],
    [3, 4],
  ]);
  cases.push(
    {
      what: "matmulInto: out is not a matrix",
      call: () => matmulInto(new Float32Array(4) as unknown as Matrix, a, b),
      error: TypeError,
      message:
        "matmulInto: out must be a matrix { rows, cols, data: Float32Array }, got a Float32Array",
    },
    {
      what: "matmulInto: out has too few rows",
      call: () => matmulInto(zeros(1, 2), a, b),
      error: ShapeError,
      message: "matmulInto: out is 1 x 2, expected (a.rows, n) = 2 x 2",
    },
    {
      what: "matmulInto: out has the right length but the wrong shape",
      call: () => matmulInto(zeros(4, 1), a, b),
      error: ShapeError,
      message: "matmulInto: out is 4 x 1, expected (a.rows, n) = 2 x 2",
    },
    {
      what: "matmulInto: out is a itself",
      call: () =>
        matmulInto(
          sq,
          sq,
          fromRows([
            [1, 0],
            [0, 1],
          ]),
        ),
      error: ShapeError,
      message: "matmulInto: out overlaps a; pass a separate output buffer",
      buffers: [sq.data],
    },
    {
      what: "matmulInto: out is b itself",
      call: () =>
        matmulInto(
          sq,
          fromRows([
            [1, 0],
            [0, 1],
          ]),
          sq,
        ),
      error: ShapeError,
      message: "matmulInto: out overlaps b; pass a separate output buffer",
      buffers: [sq.data],
    },
    {
      what: "matmulInto: out overlaps the tail of a (a subarray of the same buffer)",
      call: () => matmulInto({ rows: 2, cols: 2, data: sharedBuf.subarray(5, 9) }, sa, sb),
      error: ShapeError,
      message: "matmulInto: out overlaps a; pass a separate output buffer",
      buffers: [sharedBuf],
    },
    {
      what: "matmulInto: out overlaps the tail of b (a subarray of the same buffer)",
      call: () => matmulInto({ rows: 2, cols: 2, data: sharedBuf.subarray(11, 15) }, sa, sb),
      error: ShapeError,
      message: "matmulInto: out overlaps b; pass a separate output buffer",
      buffers: [sharedBuf],
    },
  );

  it.each(cases)("$what", (c) =>
    expectThrowsCleanly({ ...c, buffers: [...buffers, ...(c.buffers ?? [])] }),
  );

  it("still computes correctly after all those failures", () => {
    expect(toRows(matmulInto(out, a, b))).toEqual([
      [4, 5],
      [10, 11],
    ]);
  });
});
