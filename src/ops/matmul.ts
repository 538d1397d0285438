import { assertBoolean, assertMatrix, assertNoOverlap, assertOptions, assertShape } from "../check";
import { ShapeError } from "../errors";
import { NR, linearJs } from "../kernels/js";
import type { Matrix } from "../matrix";

/**
 * Options of {@link matmul} and {@link matmulInto}.
 *
 * @category Ops
 */
export interface MatmulOptions {
  /**
   * Read `b` as transposed: `b` is (n, k) and the product is `a · bᵀ`. PyTorch's
   * `nn.Linear.weight` is stored this way (out x in). Default `false`.
   */
  transposeB?: boolean;
}

const MATMUL_OPTIONS = ["transposeB"] as const;

// One panel of b, packed on the fly; grown on demand and reused, so matmulInto allocates
// nothing in steady state.
let panel = new Float32Array(0);

/** When `b` read the other way would fit `a`, what to pass instead; else nothing. */
function transposedHint(k: number, b: Matrix, transposeB: boolean): string {
  const other = transposeB ? b.rows : b.cols;
  if (other !== k) return "";
  return transposeB
    ? `; b is ${b.rows} x ${b.cols}, which fits as (k, n) without transposeB`
    : `; b is ${b.rows} x ${b.cols}, which fits as (n, k): pass { transposeB: true } (nn.Linear stores its weight so, out x in)`;
}

function checkMatmul(where: string, a: unknown, b: unknown, options: unknown) {
  const opts = assertOptions<MatmulOptions>(options, MATMUL_OPTIONS, where);
  const transposeB =
    opts.transposeB === undefined
      ? false
      : assertBoolean(opts.transposeB, where, "options.transposeB");
  const am = assertMatrix(a, where, "a");
  const bm = assertMatrix(b, where, "b");
  const inner = transposeB ? bm.cols : bm.rows;
  if (inner !== am.cols) {
    throw new ShapeError(
      `${where}: b has ${inner} ${transposeB ? "columns (transposeB)" : "rows"}, expected a.cols = ${am.cols}${transposedHint(am.cols, bm, transposeB)}`,
    );
  }
  return { am, bm, transposeB, n: transposeB ? bm.rows : bm.cols };
}

/**
 * `out = a · b` (or `a · bᵀ` with `transposeB`), written into `out` and returned.
 *
 * Each element is the float64 sum over the inner dimension in increasing order, rounded once
 * to float32 (docs/numerics.md), so row i of the result depends on row i of `a` alone.
 *
 * @param out - (a.rows, n); must not overlap `a` or `b`
 * @param a - (m, k)
 * @param b - (k, n), or (n, k) with `transposeB`
 * @param options - see {@link MatmulOptions}
 * @returns `out`
 * @throws TypeError for a non-matrix argument or an unknown option
 * @throws {@link ShapeError} for mismatched dimensions, an `out` of the wrong shape, or an `out`
 *   that overlaps an input; nothing is written then
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, matmulInto, zeros } from "tokenwise";
 * const out = zeros(1, 2);
 * matmulInto(out, fromRows([[1, 2]]), fromRows([[3, 4], [5, 6]]));
 * console.log(out.data);
 * // Float32Array(2) [ 13, 16 ]
 * ```
 */
export function matmulInto(out: Matrix, a: Matrix, b: Matrix, options?: MatmulOptions): Matrix {
  const { am, bm, transposeB, n } = checkMatmul("matmulInto", a, b, options);
  const om = assertMatrix(out, "matmulInto", "out");
  assertShape(om, am.rows, n, "matmulInto", "out", "(a.rows, n)");
  assertNoOverlap(om.data, am.data, "matmulInto", "out", "a");
  assertNoOverlap(om.data, bm.data, "matmulInto", "out", "b");
  gemm(am, bm, transposeB, n, om);
  return out;
}

/**
 * `a · b` (or `a · bᵀ` with `transposeB`) into a new matrix. See {@link matmulInto}.
 *
 * @param a - (m, k)
 * @param b - (k, n), or (n, k) with `transposeB`
 * @param options - see {@link MatmulOptions}
 * @returns a new (m, n) matrix
 * @throws TypeError for a non-matrix argument or an unknown option
 * @throws {@link ShapeError} for mismatched dimensions
 * @category Ops
 * @example
 * ```ts
 * import { fromRows, matmul, toRows } from "tokenwise";
 * const w = fromRows([[3, 5], [4, 6]]); // (out, in), as nn.Linear stores it
 * console.log(toRows(matmul(fromRows([[1, 2]]), w, { transposeB: true })));
 * // [ [ 13, 16 ] ]
 * ```
 */
export function matmul(a: Matrix, b: Matrix, options?: MatmulOptions): Matrix {
  const { am, bm, transposeB, n } = checkMatmul("matmul", a, b, options);
  const out: Matrix = { rows: am.rows, cols: n, data: new Float32Array(am.rows * n) };
  gemm(am, bm, transposeB, n, out);
  return out;
}

function gemm(a: Matrix, b: Matrix, transposeB: boolean, n: number, out: Matrix): void {
  const k = a.cols;
  if (panel.length < k * NR) panel = new Float32Array(k * NR);
  for (let p = 0; p * NR < n; p++) {
    const width = Math.min(NR, n - p * NR);
    if (width < NR) panel.fill(0, 0, k * NR);
    for (let c = 0; c < width; c++) {
      const j = p * NR + c;
      if (transposeB) for (let i = 0; i < k; i++) panel[i * NR + c] = b.data[j * k + i] as number;
      else for (let i = 0; i < k; i++) panel[i * NR + c] = b.data[i * n + j] as number;
    }
    linearJs(a.data, 0, a.rows, k, panel, 0, n, null, "none", out.data, 0, p, p + 1);
  }
}
