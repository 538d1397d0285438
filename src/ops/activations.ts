import { assertMatrix, assertShape } from "../check";
import { geluScalar, geluTanhScalar, sigmoidScalar, siluScalar } from "../kernels/activation";
import type { Matrix } from "../matrix";
import { assertInPlaceOrApart } from "./elementwise";

// Each activation is evaluated in float64 from the float32 input and rounded once, so each
// result is the true value correctly rounded at every point tested (docs/activations.md), and
// the same bits on every JavaScript engine. One loop per function keeps each call site
// monomorphic.

/** x and out, each field read once, checked: the source and destination arrays. */
function checkInto(where: string, out: unknown, x: unknown): [Float32Array, Float32Array] {
  const xm = assertMatrix(x, where, "x");
  const om = assertMatrix(out, where, "out");
  assertShape(om, xm.rows, xm.cols, where, "out", "(x.rows, x.cols)");
  assertInPlaceOrApart(om, xm, where);
  return [xm.data, om.data];
}

function like(x: Matrix): Matrix {
  return { rows: x.rows, cols: x.cols, data: new Float32Array(x.data.length) };
}

function geluKernel(src: Float32Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = geluScalar(src[i] as number);
}

function geluTanhKernel(src: Float32Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = geluTanhScalar(src[i] as number);
}

function siluKernel(src: Float32Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = siluScalar(src[i] as number);
}

function sigmoidKernel(src: Float32Array, dst: Float32Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = sigmoidScalar(src[i] as number);
}

/**
 * `out = gelu(x)` elementwise, the Gaussian error linear unit `x Φ(x) = x/2 (1 + erf(x/√2))`
 * of BERT and GPT-2, PyTorch's `gelu` with its default `approximate="none"`.
 *
 * Each value is the true gelu of the float32 input, correctly rounded to float32 at every one
 * of 37k tested points spread over the whole float32 range, and within 1 ulp everywhere by the
 * method's float64 error bound. PyTorch differs by up to 8 ulps for x ≥ -1 and, where its
 * `1 + erf` cancels (x < -1), by up to 2.6e-7 absolute: its error, not ours
 * (docs/activations.md). NaN stays NaN, `gelu(+∞) = +∞`, `gelu(-∞)` is NaN as in PyTorch
 * (`-∞ · 0`), and `gelu(-0) = -0`.
 *
 * @param out - same shape as `x`; may be `x` itself
 * @param x - any matrix
 * @returns `out`
 * @throws TypeError for a non-matrix argument
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that partly overlaps `x`;
 *   nothing is written then
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, geluInto } from "tokenwise";
 * const x = fromRows([[-1, 3]]);
 * console.log(geluInto(x, x).data);
 * // Float32Array(2) [ -0.15865525603294373, 2.995950222015381 ]
 * ```
 */
export function geluInto(out: Matrix, x: Matrix): Matrix {
  geluKernel(...checkInto("geluInto", out, x));
  return out;
}

/**
 * `gelu(x)` elementwise into a new matrix. See {@link geluInto}.
 *
 * @param x - any matrix
 * @returns a new matrix of the same shape
 * @throws TypeError for a non-matrix argument
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, gelu } from "tokenwise";
 * console.log(gelu(fromRows([[-10, 2]])).data);
 * // Float32Array(2) [ -7.619852977043458e-23, 1.9544997215270996 ]
 * ```
 */
export function gelu(x: Matrix): Matrix {
  const xm = assertMatrix(x, "gelu", "x");
  const out = like(xm);
  geluKernel(xm.data, out.data);
  return out;
}

/**
 * `out = geluTanh(x)` elementwise: GELU's tanh approximation
 * `x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))`, PyTorch's `gelu(x, approximate="tanh")` and
 * GPT-2's `gelu_new`.
 *
 * Each value is this formula (with exact √(2/π) and 0.044715) of the float32 input, correctly
 * rounded to float32 at every tested point and within 1 ulp everywhere. PyTorch differs by up
 * to 2 ulps for x ≥ -1 and, in its cancelling tail, by up to 1.6e-7 absolute
 * (docs/activations.md). NaN stays NaN, `+∞` gives `+∞`, `-∞` gives NaN as in PyTorch, `-0`
 * gives `-0`.
 *
 * @param out - same shape as `x`; may be `x` itself
 * @param x - any matrix
 * @returns `out`
 * @throws TypeError for a non-matrix argument
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that partly overlaps `x`;
 *   nothing is written then
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, geluTanhInto, zeros } from "tokenwise";
 * const out = zeros(1, 2);
 * console.log(geluTanhInto(out, fromRows([[-1, 3]])).data);
 * // Float32Array(2) [ -0.15880800783634186, 2.9963626861572266 ]
 * ```
 */
export function geluTanhInto(out: Matrix, x: Matrix): Matrix {
  geluTanhKernel(...checkInto("geluTanhInto", out, x));
  return out;
}

/**
 * `geluTanh(x)` elementwise into a new matrix. See {@link geluTanhInto}.
 *
 * @param x - any matrix
 * @returns a new matrix of the same shape
 * @throws TypeError for a non-matrix argument
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, geluTanh } from "tokenwise";
 * console.log(geluTanh(fromRows([[-3, 0]])).data);
 * // Float32Array(2) [ -0.003637392073869705, 0 ]
 * ```
 */
export function geluTanh(x: Matrix): Matrix {
  const xm = assertMatrix(x, "geluTanh", "x");
  const out = like(xm);
  geluTanhKernel(xm.data, out.data);
  return out;
}

/**
 * `out = silu(x)` elementwise, the sigmoid linear unit (swish) `x σ(x) = x / (1 + e^-x)` of
 * LLaMA's SwiGLU, PyTorch's `silu`.
 *
 * Each value is correctly rounded to float32 at every tested point and within 1 ulp
 * everywhere. PyTorch agrees within 2 ulps down to x = -88; below -88.7 its `e^-x` overflows
 * float32 and it returns -0 where the true value is still as large as -2e-37
 * (docs/activations.md). NaN stays NaN, `+∞` gives `+∞`, `-∞` gives NaN as in PyTorch, `-0`
 * gives `-0`.
 *
 * @param out - same shape as `x`; may be `x` itself
 * @param x - any matrix
 * @returns `out`
 * @throws TypeError for a non-matrix argument
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that partly overlaps `x`;
 *   nothing is written then
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, siluInto } from "tokenwise";
 * const x = fromRows([[-1, 3]]);
 * console.log(siluInto(x, x).data);
 * // Float32Array(2) [ -0.2689414322376251, 2.857722282409668 ]
 * ```
 */
export function siluInto(out: Matrix, x: Matrix): Matrix {
  siluKernel(...checkInto("siluInto", out, x));
  return out;
}

/**
 * `silu(x)` elementwise into a new matrix. See {@link siluInto}.
 *
 * @param x - any matrix
 * @returns a new matrix of the same shape
 * @throws TypeError for a non-matrix argument
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, silu } from "tokenwise";
 * console.log(silu(fromRows([[0.5, -2]])).data);
 * // Float32Array(2) [ 0.3112296760082245, -0.23840583860874176 ]
 * ```
 */
export function silu(x: Matrix): Matrix {
  const xm = assertMatrix(x, "silu", "x");
  const out = like(xm);
  siluKernel(xm.data, out.data);
  return out;
}

/**
 * `out = σ(x) = 1 / (1 + e^-x)` elementwise, the logistic sigmoid, PyTorch's `sigmoid`.
 *
 * Each value is correctly rounded to float32 at every tested point and within 1 ulp
 * everywhere. PyTorch agrees within 2 ulps down to x = -88; below -88.7 it returns 0 where
 * the true value is a float32 subnormal (docs/activations.md). `σ(NaN)` is NaN, `σ(+∞) = 1`,
 * `σ(-∞) = 0`, `σ(±0) = 0.5`.
 *
 * @param out - same shape as `x`; may be `x` itself
 * @param x - any matrix
 * @returns `out`
 * @throws TypeError for a non-matrix argument
 * @throws {@link ShapeError} for an `out` of the wrong shape or one that partly overlaps `x`;
 *   nothing is written then
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, sigmoidInto } from "tokenwise";
 * const x = fromRows([[-3, 0, 3]]);
 * console.log(sigmoidInto(x, x).data);
 * // Float32Array(3) [ 0.04742587357759476, 0.5, 0.9525741338729858 ]
 * ```
 */
export function sigmoidInto(out: Matrix, x: Matrix): Matrix {
  sigmoidKernel(...checkInto("sigmoidInto", out, x));
  return out;
}

/**
 * `σ(x)` elementwise into a new matrix. See {@link sigmoidInto}.
 *
 * @param x - any matrix
 * @returns a new matrix of the same shape
 * @throws TypeError for a non-matrix argument
 * @category Activations
 * @example
 * ```ts
 * import { fromRows, sigmoid } from "tokenwise";
 * console.log(sigmoid(fromRows([[-200, Infinity]])).data);
 * // Float32Array(2) [ 0, 1 ]
 * ```
 */
export function sigmoid(x: Matrix): Matrix {
  const xm = assertMatrix(x, "sigmoid", "x");
  const out = like(xm);
  sigmoidKernel(xm.data, out.data);
  return out;
}
