// What a whole run of test/support/relaxed-check.ts must show, in Node (test/wasm-relaxed.test.ts)
// and in Chromium (test/browser/relaxed.test.ts): no difference, and every case and map run.
import { expect } from "vitest";
import type { RelaxedSummary } from "../support/relaxed-check";

/** Asserts that relaxedCheck ran all its cases and found no output differing from qgemm's. */
export function expectRelaxedCheckPassed(summary: RelaxedSummary): void {
  expect(summary.failures).toEqual([]);
  // Both kernels ran on many layers, and both kinds of output occurred.
  expect(summary.cases).toBe(56);
  // 56 layers of 2 or 3 maps each, built twice: every map packed for its kernel.
  expect(summary.relaxedMaps).toBe(140);
  expect(summary.standardMaps).toBe(140);
  expect(summary.nan).toBeGreaterThan(1000);
  expect(summary.finite).toBeGreaterThan(100000);
}
