// bench:summary (bench/summary.ts): several runs' figures as medians over the runs with their
// range, and ratios formed inside each run (to another contender, or to the same contender at
// another shape), never across runs.
import { describe, expect, it } from "vitest";
import type { Report } from "../bench/report";
import { summarize, summaryMarkdown } from "../bench/summary";

/** A report of shapes whose contenders ran at the given GFLOP/s (null: failed). */
function run(
  shapes: Record<string, Record<string, number | null>>,
  commit = "a".repeat(40),
  dirty = false,
): Report {
  return {
    schema: "tokenwise-bench/2",
    date: "2026-12-04T00:00:00.000Z",
    command: "npm run bench -- --shapes D1",
    machine: { cpu: "x", node: "v20", v8: "11" },
    provenance: {
      git: { commit, dirty, changes: dirty ? ["a.ts"] : [] },
      loadBefore: [0.1, 0.1, 0.1],
      loadAfter: [0.2, 0.2, 0.2],
    },
    settings: { variant: { layer: "ffn", activation: "relu" }, reps: 5 },
    shapes: Object.entries(shapes).map(([name, results]) => ({
      name,
      results: Object.entries(results).map(([id, g]) =>
        g === null
          ? { id, label: id, status: "failed" }
          : { id, label: id, status: "ok", timing: { gflops: g } },
      ),
    })),
  } as unknown as Report;
}

const runs = [
  run({ S: { a: 10, b: 20 }, T: { a: 5, b: 30 } }),
  run({ S: { a: 12, b: 18 }, T: { a: 6, b: 24 } }),
  run({ S: { a: 11, b: 33 }, T: { a: null, b: 40 } }),
];

describe("bench:summary", () => {
  it("medians and ranges of GFLOP/s over runs, and of each run's ratio to another contender", () => {
    const rows = summarize(runs, { against: "a" });
    const b = rows.find((r) => r.shape === "S" && r.id === "b");
    expect(b?.gflops).toEqual({ median: 20, min: 18, max: 33, runs: 3 });
    // Ratios within each run: 20/10, 18/12, 33/11. Not the ratio of the medians (20/11).
    expect(b?.ratio).toEqual({ median: 2, min: 1.5, max: 3, runs: 3 });
    // At T, a failed in the third run: b's ratio has two runs, its GFLOP/s three.
    const t = rows.find((r) => r.shape === "T" && r.id === "b");
    expect(t?.gflops.runs).toBe(3);
    expect(t?.ratio).toEqual({ median: 5, min: 4, max: 6, runs: 2 });
    const ta = rows.find((r) => r.shape === "T" && r.id === "a");
    expect(ta?.missing).toBe(1);
    expect(ta?.gflops.median).toBe(5.5); // two runs: the mean of the two middle values
  });

  it("ratios to the same contender at another shape of the run", () => {
    const rows = summarize(runs, { againstShape: "S" });
    const tb = rows.find((r) => r.shape === "T" && r.id === "b");
    // 30/20, 24/18, 40/33.
    expect(tb?.ratio?.median).toBeCloseTo(24 / 18, 12);
    expect(tb?.ratio?.min).toBeCloseTo(40 / 33, 12);
    expect(tb?.ratio?.max).toBe(1.5);
  });

  it("refuses a baseline no run has, naming it", () => {
    expect(() => summarize(runs, { against: "nope" })).toThrow(/--against nope/);
    expect(() => summarize(runs, { againstShape: "Z" })).toThrow(/--against-shape Z/);
    expect(() => summarize([], {})).toThrow(RangeError);
  });

  it("the markdown lists each run's provenance and warns when runs differ", () => {
    const md = summaryMarkdown(
      [...runs, run({ S: { a: 1, b: 2 } }, "b".repeat(40), true)],
      ["r1", "r2", "r3", "r4"],
      { against: "a" },
    );
    expect(md).toContain("4 runs.");
    expect(md).toContain(
      "`r4`: 2026-12-04T00:00:00.000Z, commit bbbbbbbbbbbb (dirty: 1 changed files)",
    );
    expect(md).toMatch(/⚠ a work tree had uncommitted changes/);
    expect(md).toContain("| S | b | 4 | 19.0 (2.00–33.0) | 2.00x (1.50–3.00x) |");
    expect(md).toContain("| T | a | 2 (2 not timed) | 5.50 (5.00–6.00) | 1.00x (1.00–1.00x) |");
  });
});
