// Bitwise comparison of float32 data. `===` says NaN !== NaN and -0 === +0, so it can neither
// prove two results identical nor tell -0 from +0; comparing the 32-bit patterns does both.
// "Same bits" here means equal bit patterns, except that any NaN equals any NaN (what Object.is
// says): IEEE 754 and WebAssembly leave NaN payloads unspecified, and no caller can rely on them.
import { expect } from "vitest";
import type { Matrix } from "../../src/index";

/** The bit patterns of float32 values (a view, no copy). */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** A float32 value's bit pattern as 8 hex digits, e.g. `3f800000` for 1. */
export function hex32(v: number): string {
  return (new Uint32Array(new Float32Array([v]).buffer)[0] as number).toString(16).padStart(8, "0");
}

/** Index of the first element whose bits differ (NaNs aside), -1 when none; -1 never for unequal lengths. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = bitsOf(a);
  const y = bitsOf(b);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== y[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}

/** Asserts two float32 arrays are the same bits, reporting the first difference in hex. */
export function expectSameBits(actual: Float32Array, expected: Float32Array, what = ""): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  const i = firstBitDifference(actual, expected);
  if (i >= 0) {
    expect.fail(
      `${what} differs at element ${i}: ${actual[i]} (0x${hex32(actual[i] as number)}) vs ` +
        `${expected[i]} (0x${hex32(expected[i] as number)})`,
    );
  }
}

export function expectSameMatrix(actual: Matrix, expected: Matrix, what = ""): void {
  expect([actual.rows, actual.cols], `${what} shape`).toEqual([expected.rows, expected.cols]);
  expectSameBits(actual.data, expected.data, what);
}

/**
 * Saves the bytes of every given array; the returned function asserts none of them changed
 * since, so a test can check that a failed call wrote nothing.
 */
export function snapshot(...arrays: ArrayBufferView[]): () => void {
  const saved = arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice());
  return () => {
    arrays.forEach((a, n) => {
      const before = saved[n] as Uint8Array;
      const now = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      let i = 0;
      while (i < now.length && now[i] === before[i]) i++;
      expect(
        i === now.length && now.length === before.length,
        `buffer ${n} changed at byte ${i}`,
      ).toBe(true);
    });
  };
}
