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
  const m = value as Partial<Matrix>;
  return (
    typeof m.rows === "number" &&
    Number.isSafeInteger(m.rows) &&
    m.rows >= 0 &&
    typeof m.cols === "number" &&
    Number.isSafeInteger(m.cols) &&
    m.cols >= 0 &&
    m.data instanceof Float32Array &&
    m.data.length === m.rows * m.cols
  );
}

export function assertMatrix(value: unknown, where: string, name: string): Matrix {
  if (isMatrixShaped(value)) return value;
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
  const m = value as { rows?: unknown; cols?: unknown; data?: unknown };
  assertSize(m.rows, where, `${name}.rows`);
  assertSize(m.cols, where, `${name}.cols`);
  const data = assertFloat32Array(m.data, where, `${name}.data`);
  throw new ShapeError(
    `${where}: ${name}.data has length ${data.length}, expected rows * cols = ${m.rows as number} * ${m.cols as number} = ${(m.rows as number) * (m.cols as number)}`,
  );
}

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

/** A batch x of (tokens, dModel) and its output: `out` checked, or a new matrix. */
export function assertBatch(where: string, x: unknown, out: unknown, dModel: number): Matrix {
  const xm = assertMatrix(x, where, "x");
  if (xm.cols !== dModel) {
    throw new ShapeError(`${where}: x has ${xm.cols} columns, expected dModel = ${dModel}`);
  }
  if (out === undefined) {
    return { rows: xm.rows, cols: dModel, data: new Float32Array(xm.rows * dModel) };
  }
  const target = assertMatrix(out, where, "out");
  assertShape(target, xm.rows, dModel, where, "out", "(x.rows, dModel)");
  assertNoOverlap(target.data, xm.data, where, "out", "x");
  return target;
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

/** A backward pass's x (tokens, dModel) and dY of the same shape. */
export function assertGradientPair(where: string, x: unknown, dY: unknown, dModel: number): Matrix {
  const xm = assertMatrix(x, where, "x");
  const dy = assertMatrix(dY, where, "dY");
  if (xm.cols !== dModel) {
    throw new ShapeError(`${where}: x has ${xm.cols} columns, expected dModel = ${dModel}`);
  }
  assertShape(dy, xm.rows, dModel, where, "dY", "(x.rows, dModel)");
  return xm;
}
