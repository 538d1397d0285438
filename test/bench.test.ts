// `npm run bench -- --quick` end to end, so the harness cannot rot. It asserts the report's
// structure and the correctness checks, never a speed. The peers are pointed at an empty folder,
// so they fail to load whether or not bench/node_modules is installed: the test needs none of them,
// and checks that each is reported as unavailable with the reason, not fatal.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContenderResult, Report } from "../bench/api";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PEER_IDS = ["tfjs-cpu", "tfjs-wasm", "ort-node@1t", "ort-web@1t", "jax", "ml-matrix"];

let dir: string;
let report: Report;
let stdout: string;
let stderr: string;
let status: number | null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tokenwise-bench-test-"));
  const emptyPeers = join(dir, "no-peers");
  const out = join(dir, "results");
  const run = spawnSync(
    "npm",
    [
      "run",
      "--silent",
      "bench",
      "--",
      "--quick",
      "--no-install",
      "--peers-dir",
      emptyPeers,
      "--out",
      out,
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
  report = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as Report;
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(shape: string, id: string): ContenderResult {
  const s = report.shapes.find((x) => x.name === shape);
  const r = s?.results.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no result for ${id} at ${shape}`);
  return r;
}

describe("npm run bench -- --quick", () => {
  it("exits 0 and prints a table per shape", () => {
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/^Q1 \(T 1, dModel 8, dHidden 32\)/m);
    expect(stdout).toMatch(/^Q2 \(T 5, dModel 24, dHidden 37\)/m);
    expect(stdout).toMatch(/^contender\s+thr\s+GFLOP\/s/m);
    expect(stderr).toMatch(/\[Q2\] float64 reference: all 5 rows/);
  });

  it("records the machine, the settings and the run", () => {
    expect(report.schema).toBe("tokenwise-bench/1");
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.command).toContain("--quick");
    expect(report.machine.node).toBe(process.versions.node);
    expect(report.machine.v8).toBe(process.versions.v8);
    expect(report.machine.cpu.length).toBeGreaterThan(0);
    expect(report.machine.cores).toBeGreaterThanOrEqual(1);
    expect(report.settings).toMatchObject({ quick: true, reps: 1, threads: [1], memory: true });
    expect(report.shapes.map((s) => s.name)).toEqual(["Q1", "Q2"]);
  });

  it("measures each shape's one-thread roof in its rounds", () => {
    for (const s of report.shapes) {
      const roof = s.roof;
      if (roof === undefined) throw new Error(`no roof at ${s.name}`);
      expect(roof.peak.median).toBeGreaterThan(0);
      expect(roof.stream.median).toBeGreaterThan(0);
      expect(["memory", "compute"]).toContain(roof.bound);
    }
    expect(stdout).toMatch(/^one-thread roof [\d.]+ GFLOP\/s, (memory|compute)-bound/m);
  });

  it("reports every peer that fails to load as unavailable, with the reason", () => {
    expect(report.peers.map((p) => p.name)).toEqual([
      "tfjs-cpu",
      "tfjs-wasm",
      "ort-node",
      "ort-web",
      "jax",
      "ml-matrix",
    ]);
    for (const p of report.peers) {
      expect(p.loaded).toBe(false);
      expect(p.reason).toMatch(/^Cannot find package '[^']+' in .*no-peers/);
      expect(Object.values(p.versions).every((v) => v === null)).toBe(true);
    }
    for (const shape of ["Q1", "Q2"]) {
      for (const id of PEER_IDS) {
        const r = result(shape, id);
        expect(r.status).toBe("unavailable");
        expect(r.reason).toMatch(/Cannot find package/);
        expect(r.timing).toBeUndefined();
      }
    }
  });

  it("checks tokenwise, the naive loop and the example kernel against the reference, then times them", () => {
    for (const s of report.shapes) {
      const flops = 4 * s.tokens * s.dModel * s.dHidden;
      expect(s.gflopPerForward).toBeCloseTo(flops / 1e9, 12);
      expect(s.reference.rowsChecked).toBe(s.tokens);
      for (const id of ["tokenwise-js", "naive", "custom:four-row-gemm-example"]) {
        const r = result(s.name, id);
        expect(r.status, r.reason).toBe("ok");
        expect(r.check?.ok).toBe(true);
        expect(r.check?.rowsChecked).toBe(s.tokens);
        expect(r.check?.worstRatio).toBeLessThanOrEqual(1);
        const t = r.timing;
        if (t === undefined) throw new Error(`${id} has no timing`);
        expect(t.reps).toBe(1);
        expect(t.samplesMs).toHaveLength(1);
        expect(t.medianMs).toBeGreaterThan(0);
        expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
        expect(t.maxMs).toBeGreaterThanOrEqual(t.medianMs);
        expect(t.gflops).toBeCloseTo(flops / t.medianMs / 1e6, 9);
        expect(t.msPerToken).toBeCloseTo(t.medianMs / s.tokens, 12);
        // No peer ran, so there is no peer to compare with.
        expect(r.ratio).toEqual({
          bestPeer: null,
          bestPeerId: null,
          bestPortable: null,
          bestPortableId: null,
          overOneThread: null,
        });
      }
    }
  });

  it("reports a wrong kernel as wrong and does not time it", () => {
    for (const s of report.shapes) {
      const r = result(s.name, "custom:forgets-b2-test-fixture");
      expect(r.status).toBe("wrong");
      expect(r.check?.ok).toBe(false);
      expect(r.check?.worstRatio).toBeGreaterThan(1);
      expect(r.reason).toMatch(/^output \(\d+, \d+\) is .* expected .* within/);
      expect(r.timing).toBeUndefined();
      expect(r.memory).toBeUndefined();
    }
  });

  it("measures peak memory of each timed contender and of Node alone, in child processes", () => {
    for (const s of report.shapes) {
      const base = s.baselineMemory;
      if (base === undefined || "error" in base)
        throw new Error(`no baseline at ${s.name}: ${JSON.stringify(base)}`);
      expect(base.peakRss).toBeGreaterThan(10 * 2 ** 20);
      for (const id of ["tokenwise-js", "naive", "custom:four-row-gemm-example"]) {
        const m = result(s.name, id).memory;
        if (m === undefined || "error" in m)
          throw new Error(`no memory for ${id} at ${s.name}: ${JSON.stringify(m)}`);
        expect(m.peakRss).toBeGreaterThan(10 * 2 ** 20);
        expect(m.rss).toBeGreaterThan(0);
        if (process.platform === "linux") {
          expect(m.runPeakRss).toBeGreaterThan(0);
          expect(m.extra).toBe((m.runPeakRss as number) - (base.runPeakRss as number));
        }
      }
    }
  });

  it("writes the markdown table and the SVG chart", () => {
    const md = readFileSync(join(dir, "results", "latest.md"), "utf8");
    expect(md).toContain("**GFLOP/s**");
    expect(md).toMatch(/^\| \*roof, one thread\* \| [\d.]+ <sub>(memory|compute)<\/sub> \|/m);
    expect(md).toMatch(/^\| tokenwise js \| \d+% \| \d+% \|$/m);
    expect(md).toMatch(/^\| tokenwise js \| [\d.]+ <sub>/m);
    expect(md).toMatch(/^- tfjs-wasm: unavailable: Cannot find package/m);
    expect(md).toMatch(/^- forgets b2 \(test fixture\): wrong: output/m);
    const svg = readFileSync(join(dir, "results", "latest.svg"), "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain(">tokenwise js</text>");
    // One dashed roof line per shape, placed by its GFLOP/s.
    expect(svg.match(/<line class="roof" [^>]*><title>one-thread roof at Q\d: /g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    // One bar per timed contender and shape: tokenwise wasm and js, the naive loop and the
    // example kernel.
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(2 * 4);
  });
});
