// transpose and transposeInto: element (i, j) to (j, i), bits kept, every shape (empty, one
// row, one column, sizes across the 32-element tiles), and one test per throw path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ShapeError,
  type Matrix,
  fromRows,
  matmul,
  matrix,
  toRows,
  transpose,
  transposeInto,
  zeros,
} from "../../src/index";
import { anyFloat32 } from "../helpers/arbitraries";
import { bitsOf, expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly, type ThrowCase } from "../helpers/throws";

// Sizes around the tile edge (32) and two tiles (64), and the small and prime ones.
const size = fc.oneof(
  fc.integer({ min: 0, max: 9 }),
  fc.constantFrom(17, 31, 32, 33, 63, 64, 65, 97),
);
const anyMatrix = fc
  .record({ rows: size, cols: size })
  .chain(({ rows, cols }) => anyFloat32(rows * cols).map((data) => matrix(rows, cols, data)));

describe("transpose", () => {
  it("moves (i, j) to (j, i)", () => {
    const m = fromRows([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(toRows(transpose(m))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    const out = zeros(3, 2);
    expect(transposeInto(out, m)).toBe(out);
    expect(toRows(out)).toEqual(toRows(transpose(m)));
  });

  it("keeps every element's bits (NaN payloads, -0, infinities), for every shape", () => {
    fc.assert(
      fc.property(anyMatrix, (m) => {
        const t = transpose(m);
        expect([t.rows, t.cols]).toEqual([m.cols, m.rows]);
        const tb = bitsOf(t.data);
        const mb = bitsOf(m.data);
        for (let i = 0; i < m.rows; i++)
          for (let j = 0; j < m.cols; j++)
            if (tb[j * m.rows + i] !== mb[i * m.cols + j]) expect.fail(`(${i}, ${j})`);
        expectSameBits(transpose(t).data, m.data); // an involution
        const out = matrix(m.cols, m.rows, new Float32Array(m.data.length).fill(7));
        transposeInto(out, m);
        expect(Array.from(bitsOf(out.data))).toEqual(Array.from(tb));
      }),
      { numRuns: 120 },
    );
  });

  it("handles empty matrices", () => {
    expect(transpose(zeros(0, 5))).toEqual({ rows: 5, cols: 0, data: new Float32Array(0) });
    expect(transpose(zeros(4, 0))).toEqual({ rows: 0, cols: 4, data: new Float32Array(0) });
  });

  it("turns nn.Linear's (out, in) weight into the (in, out) that matmul takes", () => {
    const w = fromRows([
      [1, 2, 3],
      [4, 5, 6],
    ]); // nn.Linear(3, 2)
    const x = fromRows([[1, -1, 2]]);
    expect(toRows(matmul(x, transpose(w)))).toEqual(toRows(matmul(x, w, { transposeB: true })));
  });

  it("reads m's fields once: a getter cannot show the check one shape and the copy another", () => {
    let reads = 0;
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const m = {
      data,
      cols: 3,
      get rows() {
        return reads++ === 0 ? 2 : 1000;
      },
    };
    expect(toRows(transpose(m as Matrix))).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(reads).toBe(1);
  });

  const m23 = () =>
    fromRows([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  const shared = new Float32Array(12);
  const cases: ThrowCase[] = [
    {
      what: "m is not a matrix",
      call: () => transpose(null as never),
      error: TypeError,
      message: "transpose: m must be a matrix { rows, cols, data: Float32Array }, got null",
    },
    {
      what: "m is a plain Array",
      call: () => transpose([[1, 2]] as never),
      error: TypeError,
      message:
        "transpose: m must be a matrix { rows, cols, data: Float32Array }, got a plain Array",
    },
    {
      what: "m's data has the wrong length",
      call: () => transpose({ rows: 2, cols: 2, data: new Float32Array(3) }),
      error: ShapeError,
      message: "transpose: m.data has length 3, expected rows * cols = 2 * 2 = 4",
    },
    {
      what: "transposeInto: m.rows is not a size",
      call: () => transposeInto(zeros(3, 2), { rows: -1, cols: 3, data: new Float32Array(0) }),
      error: TypeError,
      message: "transposeInto: m.rows must be a non-negative integer, got -1",
    },
    {
      what: "transposeInto: out is not a matrix",
      call: () => transposeInto(new Float32Array(6) as never, m23()),
      error: TypeError,
      message:
        "transposeInto: out must be a matrix { rows, cols, data: Float32Array }, got a Float32Array",
    },
    {
      what: "transposeInto: out has m's shape, not its transpose's",
      call: () => transposeInto(zeros(2, 3), m23()),
      error: ShapeError,
      message: "transposeInto: out is 2 x 3, expected (m.cols, m.rows) = 3 x 2",
    },
    {
      what: "transposeInto: out overlaps m",
      call: () =>
        transposeInto(
          { rows: 3, cols: 2, data: shared.subarray(3, 9) },
          { rows: 2, cols: 3, data: shared.subarray(0, 6) },
        ),
      error: ShapeError,
      message: "transposeInto: out overlaps m; pass a separate output buffer",
      buffers: [shared],
    },
    {
      what: "transposeInto: out is m itself (no in-place transpose)",
      call: () => {
        const sq = { rows: 2, cols: 2, data: shared.subarray(0, 4) };
        return transposeInto(sq, sq);
      },
      error: ShapeError,
      message: "transposeInto: out overlaps m; pass a separate output buffer",
      buffers: [shared],
    },
  ];
  it.each(cases)("$what", (c) => {
    shared.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expectThrowsCleanly(c);
  });
});
