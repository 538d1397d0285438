import { describe, expect, it } from "vitest";
import {
  ShapeError,
  type Matrix,
  fromRows,
  isMatrix,
  matmul,
  matrix,
  row,
  toRows,
  zeros,
} from "../src/index";
import { expectThrowsCleanly, type ThrowCase } from "./helpers/throws";

describe("matrix, zeros, fromRows, toRows, row, isMatrix", () => {
  it("matrix adopts its data (a view, no copy) or allocates zeros", () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const m = matrix(2, 3, data);
    expect(m.data).toBe(data);
    expect([m.rows, m.cols]).toEqual([2, 3]);
    expect(matrix(2, 2)).toEqual({ rows: 2, cols: 2, data: new Float32Array(4) });
    expect(matrix(0, 5)).toEqual({ rows: 0, cols: 5, data: new Float32Array(0) });
  });

  it("zeros is +0 everywhere", () => {
    const z = zeros(3, 4);
    expect([z.rows, z.cols, z.data.length]).toEqual([3, 4, 12]);
    expect(Array.from(z.data).every((v) => Object.is(v, 0))).toBe(true);
    expect(zeros(0, 0).data.length).toBe(0);
  });

  it("fromRows copies rows of numbers, rounding them to float32", () => {
    const src = [[1, 0.1], new Float64Array([3, 4]), new Float32Array([5, 6])];
    const m = fromRows(src);
    expect([m.rows, m.cols]).toEqual([3, 2]);
    expect(Array.from(m.data)).toEqual([1, Math.fround(0.1), 3, 4, 5, 6]);
    (src[2] as Float32Array)[0] = 50;
    expect(m.data[4]).toBe(5);
    expect(fromRows([[1, 2]], 2).cols).toBe(2);
  });

  it("fromRows([]) is 0 x 0, and fromRows([], cols) is 0 x cols", () => {
    expect(fromRows([])).toEqual({ rows: 0, cols: 0, data: new Float32Array(0) });
    expect(fromRows([], 7)).toEqual({ rows: 0, cols: 7, data: new Float32Array(0) });
    // An empty batch of 7-wide tokens goes through matmul like any other.
    expect(matmul(fromRows([], 7), zeros(7, 3))).toEqual(zeros(0, 3));
  });

  it("toRows copies out plain arrays; row is a view of one row", () => {
    const m = fromRows([
      [1, 2],
      [3, 4],
    ]);
    const rows = toRows(m);
    expect(rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    (rows[0] as number[])[0] = 9;
    expect(m.data[0]).toBe(1);
    const r = row(m, 1);
    expect(Array.from(r)).toEqual([3, 4]);
    r[0] = 30;
    expect(m.data[2]).toBe(30);
    expect(toRows(zeros(0, 3))).toEqual([]);
    expect(toRows(zeros(2, 0))).toEqual([[], []]);
  });

  it("isMatrix accepts well-formed matrices only, and never throws", () => {
    expect(isMatrix(zeros(2, 3))).toBe(true);
    expect(isMatrix({ rows: 0, cols: 0, data: new Float32Array(0) })).toBe(true);
    for (const bad of [
      null,
      undefined,
      3,
      "m",
      [],
      new Float32Array(4),
      { rows: 2, cols: 2, data: [0, 0, 0, 0] },
      { rows: 2, cols: 2, data: new Float64Array(4) },
      { rows: 2, cols: 2, data: new Float32Array(3) },
      { rows: -1, cols: -1, data: new Float32Array(1) },
      { rows: 0.5, cols: 2, data: new Float32Array(1) },
      { rows: NaN, cols: 2, data: new Float32Array(0) },
      { cols: 2, data: new Float32Array(0) },
    ]) {
      expect(isMatrix(bad), String(JSON.stringify(bad))).toBe(false);
    }
  });
});

describe("matrix constructors reject bad input", () => {
  const data = new Float32Array(6);
  const cases: ThrowCase[] = [
    ...(["rows", "cols"] as const).flatMap((name): ThrowCase[] => {
      const at = (v: unknown) =>
        name === "rows" ? () => matrix(v as number, 3) : () => matrix(2, v as number);
      const zat = (v: unknown) =>
        name === "rows" ? () => zeros(v as number, 3) : () => zeros(2, v as number);
      return [
        [1.5, "1.5"],
        [-1, "-1"],
        [NaN, "NaN"],
        [Infinity, "Infinity"],
        ["2", "string 2"],
        [undefined, "undefined"],
        [2 ** 53, String(2 ** 53)],
      ].flatMap(([v, shown]): ThrowCase[] => [
        {
          what: `matrix: ${name} = ${shown}`,
          call: at(v),
          error: TypeError,
          message: `matrix: ${name} must be a non-negative integer, got ${shown}`,
        },
        {
          what: `zeros: ${name} = ${shown}`,
          call: zat(v),
          error: TypeError,
          message: `zeros: ${name} must be a non-negative integer, got ${shown}`,
        },
      ]);
    }),
    {
      what: "matrix: data is a Float64Array",
      call: () => matrix(2, 3, new Float64Array(6) as unknown as Float32Array),
      error: TypeError,
      message: "matrix: data must be a Float32Array, got a Float64Array",
    },
    {
      what: "matrix: data is a plain array",
      call: () => matrix(2, 3, [1, 2, 3, 4, 5, 6] as unknown as Float32Array),
      error: TypeError,
      message: "matrix: data must be a Float32Array, got a plain Array",
    },
    {
      what: "matrix: data is null",
      call: () => matrix(2, 3, null as unknown as Float32Array),
      error: TypeError,
      message: "matrix: data must be a Float32Array, got null",
    },
    {
      what: "matrix: data has the wrong length",
      call: () => matrix(3, 3, data),
      error: ShapeError,
      message: "matrix: data has length 6, expected rows * cols = 3 * 3 = 9",
      buffers: [data],
    },
    {
      what: "fromRows: rows is not an array",
      call: () => fromRows(new Float32Array(2) as unknown as number[][]),
      error: TypeError,
      message: "fromRows: rows must be an array of rows, got a Float32Array",
    },
    {
      what: "fromRows: a row is a number",
      call: () => fromRows([[1, 2], 3] as unknown as number[][]),
      error: TypeError,
      message: "fromRows: rows[1] must be an array of numbers, got number 3",
    },
    {
      what: "fromRows: a row is a DataView",
      call: () => fromRows([new DataView(new ArrayBuffer(8))] as unknown as number[][]),
      error: TypeError,
      message: "fromRows: rows[0] must be an array of numbers, got a DataView",
    },
    {
      what: "fromRows: an element is a string",
      call: () => fromRows([[1, "2"]] as unknown as number[][]),
      error: TypeError,
      message: "fromRows: rows[0][1] must be a number, got string 2",
    },
    {
      what: "fromRows: an element is missing (a hole)",
      // eslint-disable-next-line no-sparse-arrays
      call: () => fromRows([[1, , 3]] as unknown as number[][]),
      error: TypeError,
      message: "fromRows: rows[0][1] must be a number, got undefined",
    },
    {
      what: "fromRows: rows of different lengths",
      call: () =>
        fromRows([
          [1, 2],
          [3, 4, 5],
        ]),
      error: ShapeError,
      message: "fromRows: rows[1] has length 3, expected rows[0].length = 2",
    },
    {
      what: "fromRows: rows differ from cols",
      call: () => fromRows([[1, 2]], 3),
      error: ShapeError,
      message: "fromRows: rows[0] has length 2, expected cols = 3",
    },
    {
      what: "fromRows: cols is not an integer",
      call: () => fromRows([], 2.5),
      error: TypeError,
      message: "fromRows: cols must be a non-negative integer, got 2.5",
    },
    {
      what: "toRows: m is a plain array",
      call: () => toRows([[1]] as unknown as Matrix),
      error: TypeError,
      message: "toRows: m must be a matrix { rows, cols, data: Float32Array }, got a plain Array",
    },
    {
      what: "toRows: m.data has the wrong length",
      call: () => toRows({ rows: 2, cols: 2, data }),
      error: ShapeError,
      message: "toRows: m.data has length 6, expected rows * cols = 2 * 2 = 4",
    },
    {
      what: "row: m is not a matrix",
      call: () => row(data as unknown as Matrix, 0),
      error: TypeError,
      message: "row: m must be a matrix { rows, cols, data: Float32Array }, got a Float32Array",
    },
    {
      what: "row: i is negative",
      call: () => row(matrix(2, 3, data), -1),
      error: TypeError,
      message: "row: i must be a non-negative integer, got -1",
    },
    {
      what: "row: i is not an integer",
      call: () => row(matrix(2, 3, data), 0.5),
      error: TypeError,
      message: "row: i must be a non-negative integer, got 0.5",
    },
    {
      what: "row: i is out of range",
      call: () => row(matrix(2, 3, data), 2),
      error: RangeError,
      message: "row: i = 2 is out of range for a matrix of 2 rows",
    },
  ];
  it.each(cases)("$what", (c) =>
    expectThrowsCleanly({ ...c, buffers: [data, ...(c.buffers ?? [])] }),
  );
});

describe("ShapeError", () => {
  it("is a RangeError named ShapeError", () => {
    const e = new ShapeError("f: x is 1 x 2, expected 2 x 2");
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ShapeError");
    expect(e.message).toBe("f: x is 1 x 2, expected 2 x 2");
    expect(String(e)).toBe("ShapeError: f: x is 1 x 2, expected 2 x 2");
  });
});

describe("sizes beyond what a matrix or toRows may hold are refused before any allocation", () => {
  // 65,537 rows of one 65,536-float view (256 KiB): 2^32 + 2^16 elements, which fromRows once
  // read one by one (2^32 checks) before allocating.
  const wide = new Float32Array(2 ** 16);
  const tall = Array.from({ length: 2 ** 16 + 1 }, () => wide);
  const over = "is over 2^32, the most elements a matrix may have";
  const tallMessage = `fromRows: 65537 rows of 65536 values are ${over.slice(3)}`;
  const cases: ThrowCase[] = [
    ...(
      [
        [2 ** 40, 1],
        [1, 2 ** 32 + 1],
        [2 ** 16, 2 ** 16 + 1],
        [2 ** 30 + 1, 2 ** 30 + 3], // the product is not even exact
        [2 ** 52, 2 ** 52],
      ] as const
    ).flatMap(([r, c]): ThrowCase[] => [
      {
        what: `zeros(${r}, ${c})`,
        call: () => zeros(r, c),
        error: RangeError,
        message: `zeros: rows * cols = ${r} * ${c} ${over}`,
      },
      {
        what: `matrix(${r}, ${c})`,
        call: () => matrix(r, c),
        error: RangeError,
        message: `matrix: rows * cols = ${r} * ${c} ${over}`,
      },
    ]),
    {
      what: "fromRows: 2^16 + 1 rows of 2^16 values",
      call: () => fromRows(tall),
      error: RangeError,
      message: tallMessage,
      buffers: [wide],
    },
    {
      what: "fromRows: 2^16 + 1 rows of 2^16 values, cols given",
      call: () => fromRows(tall, 2 ** 16),
      error: RangeError,
      message: tallMessage,
      buffers: [wide],
    },
    ...(
      [
        [2 ** 40, 0],
        [2 ** 26 + 1, 0],
        [2 ** 25 + 1, 1], // 2^26 + 2 arrays and numbers
      ] as const
    ).map(([r, c]): ThrowCase => ({
      what: `toRows of a ${r} x ${c} matrix`,
      call: () => toRows({ rows: r, cols: c, data: new Float32Array(r * c) }),
      error: RangeError,
      message: `toRows: m is ${r} x ${c}, over 2^26 arrays and numbers to copy out; read it with row(m, i) or m.data`,
    })),
  ];
  it.each(cases)("$what", (c) => expectThrowsCleanly(c));

  it("takes any shape of no elements, and toRows takes rows without columns", () => {
    expect(zeros(0, 2 ** 52).data.length).toBe(0);
    expect(matrix(2 ** 40, 0).rows).toBe(2 ** 40);
    expect(fromRows([], 2 ** 40)).toEqual({ rows: 0, cols: 2 ** 40, data: new Float32Array(0) });
    expect(toRows(zeros(1000, 0))).toEqual(Array.from({ length: 1000 }, () => []));
  });
});
