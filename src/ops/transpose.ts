import { assertMatrix, assertNoOverlap, assertShape } from "../check";
import type { Matrix } from "../matrix";

// Tiles of TILE x TILE elements: the reads of a tile's rows and the writes of its columns both
// stay within a few cache lines, where a plain double loop strides the output by `rows` floats
// per element. The order of copying changes no value: a transpose moves bits, it computes nothing.
const TILE = 32;

/**
 * The unchecked transpose: `out` (cols x rows) from `src` (rows x cols), both row-major, and
 * apart. Every element is copied as its bits (NaN payloads and -0 kept).
 */
export function transposeKernel<T extends Float32Array | Uint16Array>(
  src: T,
  rows: number,
  cols: number,
  out: T,
): void {
  // Integer views: a float32 read into a JavaScript number may be quieted if it is a
  // signalling NaN (depending on which tier of the engine runs the loop); its bits are not.
  // 16-bit weights' bits are integers already.
  const from =
    src instanceof Float32Array ? new Uint32Array(src.buffer, src.byteOffset, src.length) : src;
  const to =
    out instanceof Float32Array ? new Uint32Array(out.buffer, out.byteOffset, out.length) : out;
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, rows);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, cols);
      for (let i = i0; i < i1; i++) {
        const s = i * cols;
        for (let j = j0; j < j1; j++) to[j * rows + i] = from[s + j] as number;
      }
    }
  }
}

/**
 * Reads a matrix's fields once, so that a getter cannot show the checks one shape and the
 * kernel another.
 */
function readMatrix(value: unknown, where: string, name: string): Matrix {
  const plain =
    typeof value === "object" &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    !Array.isArray(value);
  if (!plain) return assertMatrix(value, where, name); // its error names the kind
  const { rows, cols, data } = value as Partial<Matrix>;
  return assertMatrix({ rows, cols, data }, where, name);
}

/**
 * `out = mᵀ`: element (i, j) of `m` becomes element (j, i) of `out`, written into `out` and
 * returned. Values are copied as they are (NaN payloads and -0 kept).
 *
 * PyTorch's `nn.Linear` stores its weight (out, in); tokenwise's layers take (in, out): the
 * transpose turns one into the other. For a product alone, `matmul(x, w, { transposeB: true })`
 * reads the stored layout without a copy.
 *
 * @param out - (m.cols, m.rows); must not overlap `m` (no in-place transpose)
 * @param m - (rows, cols)
 * @returns `out`
 * @throws TypeError if `m` or `out` is not a matrix
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that overlaps `m`; nothing
 *   is written then
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, toRows, transposeInto, zeros } from "tokenwise";
 * const out = zeros(3, 2);
 * transposeInto(out, fromRows([[1, 2, 3], [4, 5, 6]]));
 * console.log(toRows(out));
 * // [ [ 1, 4 ], [ 2, 5 ], [ 3, 6 ] ]
 * ```
 */
export function transposeInto(out: Matrix, m: Matrix): Matrix {
  const where = "transposeInto";
  const src = readMatrix(m, where, "m");
  const dst = readMatrix(out, where, "out");
  assertShape(dst, src.cols, src.rows, where, "out", "(m.cols, m.rows)");
  assertNoOverlap(dst.data, src.data, where, "out", "m");
  transposeKernel(src.data, src.rows, src.cols, dst.data);
  return out;
}

/**
 * `mᵀ` into a new matrix. See {@link transposeInto}.
 *
 * @param m - (rows, cols)
 * @returns a new (cols, rows) matrix
 * @throws TypeError if `m` is not a matrix
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, toRows, transpose } from "tokenwise";
 * const w = fromRows([[1, 2, 3], [4, 5, 6]]); // nn.Linear(3, 2).weight: (out, in)
 * console.log(toRows(transpose(w))); // (in, out), as FeedForward.fromWeights takes it
 * // [ [ 1, 4 ], [ 2, 5 ], [ 3, 6 ] ]
 * ```
 */
export function transpose(m: Matrix): Matrix {
  const src = readMatrix(m, "transpose", "m");
  const out: Matrix = {
    rows: src.cols,
    cols: src.rows,
    data: new Float32Array(src.data.length),
  };
  transposeKernel(src.data, src.rows, src.cols, out.data);
  return out;
}
