import { assertFloat32Array, assertMatrix, assertSize, isMatrixShaped, kindOf } from "./check";
import { ShapeError } from "./errors";

// The most elements a matrix tokenwise allocates may have: 2^32 (16 GiB), the longest
// Float32Array of Node 20's V8 (Chromium 156 takes 2^33 but fails to allocate 2^32 + 1). A larger
// one is refused by name before anything is allocated; a product rows * cols past 2^53 is not
// even exact, and is over the limit too.
const MAX_ELEMENTS = 2 ** 32;
// toRows copies into plain Arrays: a V8 array longer than about 2^27 is a fatal error, not an
// exception, and 2^26 numbers already take 512 MiB as float64. Larger matrices are read in place
// (row, or data).
const MAX_TO_ROWS = 2 ** 26;

/** rows * cols, or a RangeError naming both when no Float32Array can hold that many. */
function elements(rows: number, cols: number, where: string): number {
  const n = rows * cols;
  if (n <= MAX_ELEMENTS) return n;
  throw new RangeError(
    `${where}: rows * cols = ${rows} * ${cols} is over 2^32, the most elements a matrix may have`,
  );
}

/**
 * A row-major float32 matrix: element (i, j) is `data[i * cols + j]`. In tokenwise a matrix of
 * activations holds one token per row.
 *
 * @category Matrix
 */
export interface Matrix {
  /** Number of rows (tokens, for activations). */
  readonly rows: number;
  /** Number of columns (features). */
  readonly cols: number;
  /** The `rows * cols` elements, row after row. */
  readonly data: Float32Array;
}

/**
 * Makes a `rows` x `cols` matrix. With `data`, the matrix is a view of it (no copy); without,
 * it is filled with zeros.
 *
 * @param rows - number of rows, a non-negative integer
 * @param cols - number of columns, a non-negative integer
 * @param data - `rows * cols` values, row-major; adopted, not copied
 * @returns the matrix
 * @throws TypeError if a size is not a non-negative integer or `data` is not a Float32Array
 * @throws {@link ShapeError} if `data.length` is not `rows * cols`
 * @throws RangeError if, without `data`, `rows * cols` is over 2^32 (16 GiB), before anything is
 *   allocated
 * @category Matrix
 * @example
 * ```ts
 * import { matrix } from "tokenwise";
 * const m = matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]));
 * console.log(m.rows, m.cols, m.data[1 * 3 + 2]);
 * // 2 3 6
 * ```
 */
export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  assertSize(rows, "matrix", "rows");
  assertSize(cols, "matrix", "cols");
  if (data === undefined)
    return { rows, cols, data: new Float32Array(elements(rows, cols, "matrix")) };
  assertFloat32Array(data, "matrix", "data");
  if (data.length !== rows * cols) {
    throw new ShapeError(
      `matrix: data has length ${data.length}, expected rows * cols = ${rows} * ${cols} = ${rows * cols}`,
    );
  }
  return { rows, cols, data };
}

/**
 * Makes a `rows` x `cols` matrix of zeros.
 *
 * @param rows - number of rows, a non-negative integer
 * @param cols - number of columns, a non-negative integer
 * @returns a new matrix filled with `+0`
 * @throws TypeError if a size is not a non-negative integer
 * @throws RangeError if `rows * cols` is over 2^32 (16 GiB), before anything is allocated
 * @category Matrix
 * @example
 * ```ts
 * import { zeros } from "tokenwise";
 * console.log(zeros(2, 2).data);
 * // Float32Array(4) [ 0, 0, 0, 0 ]
 * ```
 */
export function zeros(rows: number, cols: number): Matrix {
  assertSize(rows, "zeros", "rows");
  assertSize(cols, "zeros", "cols");
  return { rows, cols, data: new Float32Array(elements(rows, cols, "zeros")) };
}

/**
 * Builds a matrix from rows of numbers, copying them (each value rounded to float32).
 *
 * @param rows - the rows, each an array (or typed array) of numbers, all of one length
 * @param cols - the number of columns; needed only when `rows` is empty, checked otherwise
 * @returns a new matrix
 * @throws TypeError if `rows` is not an array of arrays of numbers
 * @throws {@link ShapeError} if the rows differ in length, or differ from `cols`
 * @throws RangeError if the matrix would have over 2^32 elements (16 GiB), before its elements
 *   are read or anything is allocated
 * @category Matrix
 * @example
 * ```ts
 * import { fromRows } from "tokenwise";
 * const m = fromRows([[1, 2], [3, 4], [5, 6]]);
 * console.log(m.rows, m.cols, Array.from(m.data));
 * // 3 2 [ 1, 2, 3, 4, 5, 6 ]
 * ```
 */
export function fromRows(rows: readonly ArrayLike<number>[], cols?: number): Matrix {
  if (!Array.isArray(rows)) {
    throw new TypeError(`fromRows: rows must be an array of rows, got ${kindOf(rows)}`);
  }
  if (cols !== undefined) assertSize(cols, "fromRows", "cols");
  const first = rows[0];
  const width = cols ?? (first === undefined ? 0 : rowLength(first, 0));
  for (let i = 0; i < rows.length; i++) {
    const n = rowLength(rows[i], i);
    if (n !== width) {
      throw new ShapeError(
        `fromRows: rows[${i}] has length ${n}, expected ${cols === undefined ? "rows[0].length" : "cols"} = ${width}`,
      );
    }
  }
  if (rows.length * width > MAX_ELEMENTS) {
    throw new RangeError(
      `fromRows: ${rows.length} rows of ${width} values are over 2^32, the most elements a matrix may have`,
    );
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ArrayLike<number>;
    for (let j = 0; j < width; j++) {
      if (typeof row[j] !== "number") {
        throw new TypeError(`fromRows: rows[${i}][${j}] must be a number, got ${kindOf(row[j])}`);
      }
    }
  }
  const data = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ArrayLike<number>;
    for (let j = 0; j < width; j++) data[i * width + j] = row[j] as number;
  }
  return { rows: rows.length, cols: width, data };
}

function rowLength(row: unknown, i: number): number {
  if (Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView))) {
    return (row as ArrayLike<number>).length;
  }
  throw new TypeError(`fromRows: rows[${i}] must be an array of numbers, got ${kindOf(row)}`);
}

/**
 * Copies a matrix out into plain arrays, one per row.
 *
 * @param m - the matrix
 * @returns `m.rows` arrays of `m.cols` numbers
 * @throws TypeError if `m` is not a matrix
 * @throws RangeError if `m.rows + m.rows * m.cols` is over 2^26 (67,108,864): so many arrays and
 *   numbers are refused before any is made (read a large matrix with {@link row} or `m.data`)
 * @category Matrix
 * @example
 * ```ts
 * import { matrix, toRows } from "tokenwise";
 * console.log(toRows(matrix(2, 2, new Float32Array([1, 2, 3, 4]))));
 * // [ [ 1, 2 ], [ 3, 4 ] ]
 * ```
 */
export function toRows(m: Matrix): number[][] {
  assertMatrix(m, "toRows", "m");
  if (m.rows + m.rows * m.cols > MAX_TO_ROWS) {
    throw new RangeError(
      `toRows: m is ${m.rows} x ${m.cols}, over 2^26 arrays and numbers to copy out; read it with row(m, i) or m.data`,
    );
  }
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++)
    out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/**
 * Row `i` of a matrix as a view (no copy).
 *
 * @param m - the matrix
 * @param i - the row index, `0 <= i < m.rows`
 * @returns a Float32Array of length `m.cols` that shares `m.data`'s memory
 * @throws TypeError if `m` is not a matrix or `i` not an integer
 * @throws RangeError if `i` is out of range
 * @category Matrix
 * @example
 * ```ts
 * import { fromRows, row } from "tokenwise";
 * console.log(row(fromRows([[1, 2], [3, 4]]), 1));
 * // Float32Array(2) [ 3, 4 ]
 * ```
 */
export function row(m: Matrix, i: number): Float32Array {
  assertMatrix(m, "row", "m");
  assertSize(i, "row", "i");
  if (i >= m.rows)
    throw new RangeError(`row: i = ${i} is out of range for a matrix of ${m.rows} rows`);
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/**
 * True when `value` is a well-formed {@link Matrix}: non-negative integer `rows` and `cols`, and
 * a Float32Array `data` of length `rows * cols`.
 *
 * @param value - anything
 * @returns whether it can be passed where a Matrix is expected
 * @category Matrix
 * @example
 * ```ts
 * import { isMatrix, zeros } from "tokenwise";
 * console.log(isMatrix(zeros(2, 3)), isMatrix({ rows: 2, cols: 3, data: [0, 0, 0, 0, 0, 0] }));
 * // true false
 * ```
 */
export function isMatrix(value: unknown): value is Matrix {
  return isMatrixShaped(value);
}
