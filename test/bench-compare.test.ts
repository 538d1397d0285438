// `npm run bench:compare`: the ratio per contender and shape, noise marked where the two runs'
// repetitions overlap, and the two runs' provenance and differences stated first.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compareCell, compareReports, differences } from "../bench/compare";
import type { ContenderResult, ShapeReport } from "../bench/harness";
import type { Report } from "../bench/report";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tokenwise-compare-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A timed result whose repetitions ran at `slow`..`fast` GFLOP/s, median `median`. */
function timed(id: string, median: number, slow: number, fast: number): ContenderResult {
  return {
    id,
    label: id,
    group: "tokenwise",
    threads: 1,
    native: false,
    library: null,
    status: "ok",
    timing: {
      reps: 3,
      callsPerRep: 1,
      samplesMs: [1, 1, 1],
      callsMs: [[1], [1], [1]],
      medianMs: 1,
      minMs: 1,
      maxMs: 1,
      q1Ms: 1,
      q3Ms: 1,
      gflops: median,
      gflopsSlowest: slow,
      gflopsFastest: fast,
      msPerToken: 1,
      warmupCalls: 1,
    },
  };
}

function report(results: ContenderResult[], cpu = "CPU X"): Report {
  const shape = {
    name: "S1",
    tokens: 1,
    dModel: 768,
    dHidden: 3072,
    layers: 1,
    results,
  } as unknown as ShapeReport;
  return {
    schema: "tokenwise-bench/2",
    date: "2026-12-03T00:00:00.000Z",
    command: "npm run bench",
    durationMs: 1,
    machine: { cpu, node: "20.20.2", v8: "11.3", cores: 2, simd: [], memoryBytes: 2 ** 30 },
    provenance: {
      git: { commit: "a".repeat(40), dirty: false, changes: [] },
      loadBefore: [0.1, 0.2, 0.3],
      loadAfter: [0.4, 0.5, 0.6],
      command: "npm run bench",
      argv: [],
      execArgv: [],
      cwd: "/",
    },
    settings: { reps: 3, variant: { layer: "ffn", activation: "relu" } },
    shapes: [shape],
    peers: [],
    warnings: [],
  } as unknown as Report;
}

describe("bench:compare", () => {
  it("gives b over a, within the noise where the ranges overlap", () => {
    expect(compareCell(timed("t", 10, 9, 11), timed("t", 12, 10.5, 13))).toEqual({
      ratio: 1.2,
      noise: true,
    });
    expect(compareCell(timed("t", 10, 9, 11), timed("t", 15, 12, 16))).toEqual({
      ratio: 1.5,
      noise: false,
    });
    const untimed = { ...timed("t", 1, 1, 1), status: "wrong" as const, timing: undefined };
    expect(compareCell(timed("t", 10, 9, 11), untimed)).toBeNull();
  });

  it("writes a table with ~ for noise, bold for a change, and says why a cell is empty", () => {
    const a = report([timed("tokenwise", 10, 9, 11), timed("peer", 10, 9.5, 10.5)]);
    const b = report([
      timed("tokenwise", 12, 10.5, 13),
      { ...timed("peer", 1, 1, 1), status: "wrong", timing: undefined },
    ]);
    const md = compareReports(a, b, ["a.json", "b.json"]);
    expect(md).toContain("| tokenwise | ~1.20x |");
    expect(md).toContain("| peer | b: wrong |");
    expect(md).toMatch(
      /^- \*\*a\*\*: `a\.json`, 2026-12-03T00:00:00\.000Z, commit aaaaaaaaaaaa \(clean\), load 0\.10, 0\.20, 0\.30 → 0\.40, 0\.50, 0\.60;/m,
    );
    expect(md).not.toContain("⚠");
  });

  it("states what differs between the runs", () => {
    const a = report([timed("t", 10, 9, 11)]);
    const b = report([timed("t", 10, 9, 11)], "CPU Y");
    expect(differences(a, b)).toEqual(['different CPUs: "CPU X" and "CPU Y"']);
    expect(compareReports(a, b, ["a", "b"])).toContain('- ⚠ different CPUs: "CPU X" and "CPU Y"');
  });

  it("says when one run's contenders ran in a browser (its V8 is not Node's)", () => {
    const a = report([timed("t", 10, 9, 11)]);
    const b = report([timed("t", 10, 9, 11)]);
    const browser = { product: "Chromium", version: "156.0.1.2", v8: "15.6.1" };
    b.browser = browser as Report["browser"];
    expect(differences(a, b)).toEqual([
      'different engines (Node, or the browser of npm run bench:web): "Node" and "Chromium 156.0.1.2"',
    ]);
    expect(compareReports(a, b, ["a", "b"])).toMatch(
      /; in Chromium 156\.0\.1\.2 \(V8 15\.6\.1\); `/,
    );
    const c = report([timed("t", 10, 9, 11)]);
    c.browser = { ...browser, v8: "15.7.0" } as Report["browser"];
    expect(differences(b, c)).toEqual(['different browser V8 versions: "15.6.1" and "15.7.0"']);
  });

  it("runs from npm, and refuses a file that is not a report", () => {
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    writeFileSync(a, JSON.stringify(report([timed("t", 10, 9, 11)])));
    writeFileSync(b, JSON.stringify(report([timed("t", 20, 19, 21)])));
    const run = spawnSync("npm", ["run", "--silent", "bench:compare", "--", a, b], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("| t | **2.00x** |");
    writeFileSync(b, "{}");
    const bad = spawnSync("npm", ["run", "--silent", "bench:compare", "--", a, b], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/b\.json: not a bench report/);
  });
});
