// `npm run bench:web` end to end on one tiny shape, one repetition: the contenders run in headless
// Chromium (Debian's, /usr/bin/chromium), each in a page of its own, and the report has the Node
// run's format with the browser's provenance. As in bench.test.ts the peers are pointed at an
// empty folder (the page's bundle then has none: each is unavailable, with the reason), and a
// deliberately wrong kernel and a near miss, bundled into the page with --custom, must be refused
// there and not timed. It asserts structure and checks, never a speed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContenderResult, Report } from "../bench/api";
import { outputPlan } from "../bench/output";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHAPE = "2x8x16";
const TIMED = [
  "tokenwise-wasm@1t",
  "tokenwise-wasm@2t",
  "tokenwise-js",
  "naive",
  "custom:four-row-gemm-example",
];
const WRONG = "custom:forgets-b2-test-fixture";

let dir: string;
let report: Report;
let stdout: string;
let stderr: string;
let status: number | null;
const file = (ext: string) => readFileSync(join(dir, "results", `report.${ext}`), "utf8");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tokenwise-bench-web-test-"));
  const run = spawnSync(
    "npm",
    [
      "run",
      "--silent",
      "bench:web",
      "--",
      "--quick",
      "--shape",
      SHAPE,
      "--threads",
      "1,2",
      "--no-install",
      "--peers-dir",
      join(dir, "no-peers"),
      "--out",
      join(dir, "results"),
      "--custom",
      "docs/examples/custom-kernel.ts",
      "--custom",
      "test/fixtures/bench-wrong-kernel.ts",
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 110_000 },
  );
  status = run.status;
  stdout = run.stdout;
  stderr = run.stderr;
  report = JSON.parse(file("json")) as Report;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(id: string): ContenderResult {
  const r = report.shapes[0]?.results.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no result for ${id}`);
  return r;
}

describe("npm run bench:web", () => {
  it("exits 0 and prints the shape's table", () => {
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/^2x8x16 \(T 2, dModel 8, dHidden 16\)/m);
    expect(stdout).toMatch(/^contender\s+thr\s+GFLOP\/s/m);
    expect(stdout).toMatch(/^In headless Chromium \d+/m);
    // no memory probes and no roof in a browser run: their legends are left out
    expect(stdout).not.toMatch(/^MiB: |^roof: /m);
    expect(stdout).toMatch(/^checks: exact = /m);
  });

  it("records Chromium's and its V8's versions, relaxed SIMD, isolation and the command", () => {
    const b = report.browser;
    if (b === undefined) throw new Error("no browser in the report");
    expect(b.product).toBe("Chromium");
    expect(b.version).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b.v8).toMatch(/^\d+\.\d+\.\d+/);
    expect(b.v8).not.toBe(process.versions.v8);
    expect(b.userAgent).toContain(`Chrome/${b.version.split(".")[0]}`);
    expect(b.executablePath).toBe("/usr/bin/chromium");
    expect(b.args).toContain("--headless");
    // Chromium has had relaxed SIMD on by default since 114; the page checked it validates.
    expect(b).toMatchObject({
      relaxedSimd: true,
      simd: true,
      crossOriginIsolated: true,
      sharedArrayBuffer: true,
      gc: true,
    });
    expect(report.command).toMatch(/^npm run bench:web -- --quick --shape 2x8x16 /);
    expect(report.command).not.toContain("--browser");
    expect(report.provenance.git?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(report.settings).toMatchObject({ reps: 1, threads: [1, 2], memory: false, roof: false });
    expect(report.shapes.map((s) => [s.name, s.tokens, s.dModel, s.dHidden])).toEqual([
      [SHAPE, 2, 8, 16],
    ]);
  });

  it("checks and times tokenwise (on 1 and 2 threads), the naive loop and a custom kernel in the page", () => {
    for (const id of TIMED) {
      const r = result(id);
      expect(r.status, `${id}: ${r.reason}`).toBe("ok");
      expect(r.exact?.ok, id).toBe(true);
      expect(r.exact?.compared, id).toBe(2 * 8);
      expect(r.check?.ok, id).toBe(true);
      expect(r.library, id).toMatch(/, in Chromium$/);
      const t = r.timing;
      if (t === undefined) throw new Error(`${id} was not timed`);
      expect(t.reps).toBe(1);
      expect(t.callsMs).toHaveLength(1);
      expect(t.callsMs[0]).toHaveLength(t.callsPerRep);
      expect(t.medianMs).toBeGreaterThan(0);
      expect(t.gflops).toBeCloseTo((4 * 2 * 8 * 16) / t.medianMs / 1e6, 6);
      expect(r.memory).toBeUndefined();
    }
    expect(result("tokenwise-wasm@2t").threads).toBe(2);
  });

  it("refuses the wrong kernel by the exact check in the page, and does not time it", () => {
    const r = result(WRONG);
    expect(r.status).toBe("wrong");
    expect(r.exact?.ok).toBe(false);
    expect(r.reason).toMatch(/^exact check: output \(0, \d+\) is /);
    expect(r.timing).toBeUndefined();
    expect(r.check).toBeUndefined();
    expect(stderr).toMatch(/forgets b2 \(test fixture\): WRONG, not timed: exact check/);
  });

  it("lists each peer missing from the page's bundle as unavailable, with the reason", () => {
    expect(report.peers.map((p) => p.name)).toEqual([
      "tfjs-cpu",
      "tfjs-wasm",
      "ort-web",
      "jax",
      "ml-matrix",
    ]);
    for (const p of report.peers) {
      expect(p.loaded).toBe(false);
      expect(p.reason).toMatch(/^Cannot find package '[^']+'/);
    }
    expect(result("ort-web@2t")).toMatchObject({ status: "unavailable" });
  });

  it("writes the markdown, CSV and chart of the Node run, with the browser's line", () => {
    const md = file("md");
    expect(md).toMatch(
      /^In headless Chromium \d+\.[\d.]+ \(V8 [\d.]+; WebAssembly relaxed SIMD on; cross-origin isolated/m,
    );
    expect(md).toContain("**GFLOP/s**");
    expect(md).toMatch(/- forgets b2 \(test fixture\): wrong: exact check/);
    expect(file("csv").split("\n")[0]).toMatch(/^shape,tokens,dModel,dHidden,/);
    expect(file("csv")).toContain(`${SHAPE},2,8,16,1,ffn,relu,tokenwise-wasm@2t,`);
    expect(file("svg")).toMatch(/^<svg /);
  });

  it("writes a run into a folder of its own, marked as Chromium's; --update into web.*", () => {
    const git = { commit: "0123456789abcdef", dirty: false, changes: [] };
    const at = new Date("2026-12-03T09:36:48.123Z");
    expect(outputPlan({ browser: true }, at, git).dir).toMatch(
      /runs\/20261203T093648Z-0123456789-chromium$/,
    );
    expect(outputPlan({ browser: true, update: true }, at, git).name).toBe("web");
    expect(outputPlan({ update: true }, at, git).name).toBe("latest");
  });
});
