import { assertFloat32Array, assertMatrix, assertNoOverlap, assertShape, overlaps } from "../check";
import { ShapeError } from "../errors";
import { reluScalar } from "../kernels/reference";
import type { Matrix } from "../matrix";

// An elementwise op may write in place (out is the input, the same memory exactly), but not
// into memory that overlaps its input at an offset, where it would read what it just wrote.
export function assertInPlaceOrApart(out: Matrix, x: Matrix, where: string): void {
  const same = out.data.buffer === x.data.buffer && out.data.byteOffset === x.data.byteOffset;
  if (!same && overlaps(out.data, x.data)) {
    throw new ShapeError(
      `${where}: out overlaps x at a different offset; pass x itself (in place) or a separate buffer`,
    );
  }
}

function checkBias(where: string, x: unknown, bias: unknown) {
  const xm = assertMatrix(x, where, "x");
  const b = assertFloat32Array(bias, where, "bias");
  if (b.length !== xm.cols) {
    throw new ShapeError(`${where}: bias has length ${b.length}, expected x.cols = ${xm.cols}`);
  }
  return { xm, b };
}

function biasKernel(x: Matrix, b: Float32Array, out: Matrix): void {
  const { rows, cols } = x;
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    for (let j = 0; j < cols; j++) out.data[o + j] = (x.data[o + j] as number) + (b[j] as number);
  }
}

/**
 * `out = x + bias`, the bias row added to every row of `x` (each sum rounded to float32).
 *
 * @param out - (x.rows, x.cols); may be `x` itself, for an in-place add; must not overlap `bias`
 * @param x - (m, n)
 * @param bias - length n
 * @returns `out`
 * @throws TypeError for a non-matrix `x`/`out` or a `bias` that is not a Float32Array
 * @throws {@link ShapeError} for a bias of the wrong length, an `out` of the wrong shape, or an
 *   `out` that partly overlaps `x` or overlaps `bias`; nothing is written then
 * @category Ops
 * @example
 * ```ts
 * import { addBiasInto, fromRows, toRows } from "tokenwise";
 * const x = fromRows([[1, 2], [3, 4]]);
 * addBiasInto(x, x, new Float32Array([10, 20]));
 * console.log(toRows(x));
 * // [ [ 11, 22 ], [ 13, 24 ] ]
 * ```
 */
export function addBiasInto(out: Matrix, x: Matrix, bias: Float32Array): Matrix {
  const { xm, b } = checkBias("addBiasInto", x, bias);
  const om = assertMatrix(out, "addBiasInto", "out");
  assertShape(om, xm.rows, xm.cols, "addBiasInto", "out", "(x.rows, x.cols)");
  assertInPlaceOrApart(om, xm, "addBiasInto");
  assertNoOverlap(om.data, b, "addBiasInto", "out", "bias");
  biasKernel(xm, b, om);
  return out;
}

/**
 * `x + bias` into a new matrix: the bias row added to every row. See {@link addBiasInto}.
 *
 * @param x - (m, n)
 * @param bias - length n
 * @returns a new (m, n) matrix
 * @throws TypeError for a non-matrix `x` or a `bias` that is not a Float32Array
 * @throws {@link ShapeError} for a bias of the wrong length
 * @category Ops
 * @example
 * ```ts
 * import { addBias, fromRows, toRows } from "tokenwise";
 * console.log(toRows(addBias(fromRows([[1, 2]]), new Float32Array([0.5, -2]))));
 * // [ [ 1.5, 0 ] ]
 * ```
 */
export function addBias(x: Matrix, bias: Float32Array): Matrix {
  const { xm, b } = checkBias("addBias", x, bias);
  const out: Matrix = { rows: xm.rows, cols: xm.cols, data: new Float32Array(xm.data.length) };
  biasKernel(xm, b, out);
  return out;
}

function reluKernel(x: Matrix, out: Matrix): void {
  const src = x.data;
  const dst = out.data;
  for (let i = 0; i < src.length; i++) dst[i] = reluScalar(src[i] as number);
}

/**
 * `out = max(0, x)` elementwise, as PyTorch's `torch.relu`: negatives become `+0`, `-0` stays
 * `-0`, NaN stays NaN, `+Infinity` stays `+Infinity` (docs/numerics.md).
 *
 * @param out - same shape as `x`; may be `x` itself
 * @param x - any matrix
 * @returns `out`
 * @throws TypeError for a non-matrix argument
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that partly overlaps `x`
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, reluInto } from "tokenwise";
 * const x = fromRows([[-1, 0, 2, NaN]]);
 * console.log(reluInto(x, x).data);
 * // Float32Array(4) [ 0, 0, 2, NaN ]
 * ```
 */
export function reluInto(out: Matrix, x: Matrix): Matrix {
  const xm = assertMatrix(x, "reluInto", "x");
  const om = assertMatrix(out, "reluInto", "out");
  assertShape(om, xm.rows, xm.cols, "reluInto", "out", "(x.rows, x.cols)");
  assertInPlaceOrApart(om, xm, "reluInto");
  reluKernel(xm, om);
  return out;
}

/**
 * `max(0, x)` elementwise into a new matrix. See {@link reluInto}.
 *
 * @param x - any matrix
 * @returns a new matrix of the same shape
 * @throws TypeError for a non-matrix argument
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, relu } from "tokenwise";
 * console.log(relu(fromRows([[-3, 1.5]])).data);
 * // Float32Array(2) [ 0, 1.5 ]
 * ```
 */
export function relu(x: Matrix): Matrix {
  const xm = assertMatrix(x, "relu", "x");
  const out: Matrix = { rows: xm.rows, cols: xm.cols, data: new Float32Array(xm.data.length) };
  reluKernel(xm, out);
  return out;
}
