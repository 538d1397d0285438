// Checks at the public boundary. Each one throws before anything is written, and returns its
// value so the success path reads as an expression. Kernels below this layer trust their input.
import { ShapeError } from "./errors";
import type { Matrix } from "./matrix";

/** A short description of a value's kind for error messages. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "a plain Array";
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no prototype"})`;
  return `${typeof value} ${String(value)}`;
}

export function assertFloat32Array(value: unknown, where: string, name: string): Float32Array {
  if (value instanceof Float32Array) return value;
  throw new TypeError(`${where}: ${name} must be a Float32Array, got ${kindOf(value)}`);
}

function isSize(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A dimension: a non-negative safe integer. */
export function assertSize(value: unknown, where: string, name: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  throw new TypeError(
    `${where}: ${name} must be a non-negative integer, got ${typeof value === "number" ? value : kindOf(value)}`,
  );
}

/** A dimension that must be at least 1. */
export function assertPositiveSize(value: unknown, where: string, name: string): number {
  const n = assertSize(value, where, name);
  if (n >= 1) return n;
  throw new RangeError(`${where}: ${name} must be at least 1, got 0`);
}

/** True when `value` has the shape of a {@link Matrix}: integer sizes and matching data. */
export function isMatrixShaped(value: unknown): value is Matrix {
  if (typeof value !== "object" || value === null) return false;
  const { rows, cols, data } = value as Partial<Matrix>;
  return (
    typeof rows === "number" &&
    Number.isSafeInteger(rows) &&
    rows >= 0 &&
    typeof cols === "number" &&
    Number.isSafeInteger(cols) &&
    cols >= 0 &&
    data instanceof Float32Array &&
    data.length === rows * cols
  );
}

/** A matrix's fields, writable: the scratch readMatrix fills. */
interface Parts {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * A matrix argument, its fields read once each (a getter that answers differently the second
 * time changes nothing), checked, into `dst`.
 */
function readMatrix(value: unknown, where: string, name: string, dst: Parts): Matrix {
  if (
    typeof value !== "object" ||
    value === null ||
    ArrayBuffer.isView(value) ||
    Array.isArray(value)
  ) {
    throw new TypeError(
      `${where}: ${name} must be a matrix { rows, cols, data: Float32Array }, got ${kindOf(value)}`,
    );
  }
  const { rows, cols, data } = value as { rows?: unknown; cols?: unknown; data?: unknown };
  // The names are built only on failure: a forward call with an out argument allocates nothing.
  const r = isSize(rows) ? rows : assertSize(rows, where, `${name}.rows`);
  const c = isSize(cols) ? cols : assertSize(cols, where, `${name}.cols`);
  const d = data instanceof Float32Array ? data : assertFloat32Array(data, where, `${name}.data`);
  if (d.length !== r * c) {
    throw new ShapeError(
      `${where}: ${name}.data has length ${d.length}, expected rows * cols = ${r} * ${c} = ${r * c}`,
    );
  }
  dst.rows = r;
  dst.cols = c;
  dst.data = d;
  return dst;
}

/** A matrix argument, checked: a new { rows, cols, data } of the fields read once each. */
export function assertMatrix(value: unknown, where: string, name: string): Matrix {
  return readMatrix(value, where, name, { rows: 0, cols: 0, data: EMPTY });
}

const EMPTY = new Float32Array(0);

/** A matrix whose shape must be exactly (rows, cols). */
export function assertShape(
  m: Matrix,
  rows: number,
  cols: number,
  where: string,
  name: string,
  expected: string,
): Matrix {
  if (m.rows === rows && m.cols === cols) return m;
  throw new ShapeError(
    `${where}: ${name} is ${m.rows} x ${m.cols}, expected ${expected} = ${rows} x ${cols}`,
  );
}

/** True when two typed arrays share at least one byte of memory. */
export function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  if (a.byteLength === 0 || b.byteLength === 0) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

export function assertNoOverlap(
  out: ArrayBufferView,
  input: ArrayBufferView,
  where: string,
  outName: string,
  inName: string,
): void {
  if (overlaps(out, input)) {
    throw new ShapeError(`${where}: ${outName} overlaps ${inName}; pass a separate output buffer`);
  }
}

/** Rejects option keys the function does not know, so a typo is not silently ignored. */
export function assertOptions<T extends object>(
  value: unknown,
  known: readonly string[],
  where: string,
  name = "options",
): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: ${name} must be an object, got ${kindOf(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${where}: unknown option ${name}.${key}; known options are ${known.join(", ")}`,
      );
    }
  }
  return value as Partial<T>;
}

export function assertBoolean(value: unknown, where: string, name: string): boolean {
  if (typeof value === "boolean") return value;
  throw new TypeError(`${where}: ${name} must be a boolean, got ${kindOf(value)}`);
}

// The checks every token-wise layer makes on its inputs: a batch of tokens (and an optional
// output for it), one token (and an optional output), a batch with its output gradient.

/** A batch call's arguments, each field read once: see {@link readBatch}. */
export interface BatchArgs {
  rows: number;
  x: Float32Array;
  out: Float32Array;
  /** What the call returns: the caller's `out` object, or a new matrix. */
  result: Matrix;
}

// readBatch's scratch: reused, so a forward call with an out argument allocates nothing. Its
// fields are copied out by the caller before anything else can run.
const X: Parts = { rows: 0, cols: 0, data: EMPTY };
const O: Parts = { rows: 0, cols: 0, data: EMPTY };
const BATCH: BatchArgs = { rows: 0, x: EMPTY, out: EMPTY, result: X };

/**
 * A batch x of (tokens, dModel) and its output: `out` checked, or a new matrix. Each field of x
 * and out is read once, so the sizes checked are the sizes used. The object returned is
 * reused by the next call: copy its fields at once.
 */
export function readBatch(where: string, x: unknown, out: unknown, dModel: number): BatchArgs {
  const xm = readMatrix(x, where, "x", X);
  if (xm.cols !== dModel) {
    throw new ShapeError(`${where}: x has ${xm.cols} columns, expected dModel = ${dModel}`);
  }
  if (out === undefined) {
    const result = { rows: xm.rows, cols: dModel, data: new Float32Array(xm.rows * dModel) };
    return fill(xm.rows, xm.data, result.data, result);
  }
  const target = readMatrix(out, where, "out", O);
  assertShape(target, xm.rows, dModel, where, "out", "(x.rows, dModel)");
  assertNoOverlap(target.data, xm.data, where, "out", "x");
  return fill(xm.rows, xm.data, target.data, out as Matrix);
}

function fill(rows: number, x: Float32Array, out: Float32Array, result: Matrix): BatchArgs {
  BATCH.rows = rows;
  BATCH.x = x;
  BATCH.out = out;
  BATCH.result = result;
  return BATCH;
}

/** One token of dModel values and its output: `out` checked, or a new array. */
export function assertToken(
  where: string,
  token: unknown,
  out: unknown,
  dModel: number,
): Float32Array {
  const t = assertFloat32Array(token, where, "token");
  if (t.length !== dModel) {
    throw new ShapeError(`${where}: token has length ${t.length}, expected dModel = ${dModel}`);
  }
  if (out === undefined) return new Float32Array(dModel);
  const target = assertFloat32Array(out, where, "out");
  if (target.length !== dModel) {
    throw new ShapeError(`${where}: out has length ${target.length}, expected dModel = ${dModel}`);
  }
  assertNoOverlap(target, t, where, "out", "token");
  return target;
}

/** A backward pass's x (tokens, dModel) and dY of the same shape, each field read once. */
export function assertGradientPair(
  where: string,
  x: unknown,
  dY: unknown,
  dModel: number,
): { x: Matrix; dY: Matrix } {
  const xm = assertMatrix(x, where, "x");
  const dy = assertMatrix(dY, where, "dY");
  if (xm.cols !== dModel) {
    throw new ShapeError(`${where}: x has ${xm.cols} columns, expected dModel = ${dModel}`);
  }
  assertShape(dy, xm.rows, dModel, where, "dY", "(x.rows, dModel)");
  return { x: xm, dY: dy };
}
