// Prints vitest's totals from test-results.json as one plain line: "N passed, N failed" (and
// skipped, if any). Exits non-zero if the file is missing or any test failed.
import { readFileSync } from "node:fs";

let report;
try {
  report = JSON.parse(readFileSync(new URL("../test-results.json", import.meta.url), "utf8"));
} catch {
  console.error("test-results.json is missing: the test suite did not run");
  process.exit(1);
}
const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped } = report;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
