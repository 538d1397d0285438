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
    expect(md).toMatch(/^\| tokenwise js \| [\d.]+ <sub>/m);
    expect(md).toMatch(/^- tfjs-wasm: unavailable: Cannot find package/m);
    expect(md).toMatch(/^- forgets b2 \(test fixture\): wrong: output/m);
    const svg = readFileSync(join(dir, "results", "latest.svg"), "utf8");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain(">tokenwise js</text>");
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    // One bar per timed contender and shape: tokenwise's kernels, the naive loop and the example
    // kernel.
    const timed = report.shapes.flatMap((s) => s.results.filter((r) => r.timing !== undefined));
    expect(timed.length).toBeGreaterThanOrEqual(2 * 3);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(timed.length);
  });
});

/** `npm run bench -- --quick ...args` with no peers, its report, and its exit status. */
function quickRun(args: string[]): {
  status: number | null;
  stdout: string;
  stderr: string;
  report: Report;
  md: string;
} {
  const where = mkdtempSync(join(tmpdir(), "tokenwise-bench-test-"));
  try {
    const out = join(where, "results");
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
        join(where, "no-peers"),
        "--out",
        out,
        ...args,
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 110_000 },
    );
    return {
      status: run.status,
      stdout: run.stdout,
      stderr: run.stderr,
      report: JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as Report,
      md: readFileSync(join(out, "latest.md"), "utf8"),
    };
  } finally {
    rmSync(where, { recursive: true, force: true });
  }
}

function resultIn(r: Report, shape: string, id: string): ContenderResult {
  const found = r.shapes.find((x) => x.name === shape)?.results.find((x) => x.id === id);
  if (found === undefined) throw new Error(`no result for ${id} at ${shape}`);
  return found;
}

function expectCheckedAndTimed(r: ContenderResult, tokens: number, flops: number): void {
  expect(r.status, r.reason).toBe("ok");
  expect(r.check?.ok).toBe(true);
  expect(r.check?.rowsChecked).toBe(tokens);
  expect(r.check?.worstRatio).toBeLessThanOrEqual(1);
  const t = r.timing;
  if (t === undefined) throw new Error(`${r.id} has no timing`);
  expect(t.reps).toBe(1);
  expect(t.gflops).toBeCloseTo(flops / t.medianMs / 1e6, 9);
}

describe("npm run bench -- --quick --activation gelu --threads 1,2", () => {
  let run: ReturnType<typeof quickRun>;
  beforeAll(() => {
    run = quickRun([
      "--activation",
      "gelu",
      "--threads",
      "1,2",
      "--no-memory",
      "--custom",
      "docs/examples/custom-kernel.ts",
    ]);
  }, 120_000);

  it("exits 0 and names the layer in the report, the tables and the chart's title", () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.report.settings.variant).toEqual({ layer: "ffn", activation: "gelu" });
    expect(run.report.shapes.map((s) => [s.name, s.layer, s.activation])).toEqual([
      ["Q1", "ffn", "gelu"],
      ["Q2", "ffn", "gelu"],
    ]);
    expect(run.stdout).toMatch(/^Q2 \(T 5, dModel 24, dHidden 37\), FeedForward, gelu:/m);
    expect(run.stdout).toMatch(/^GFLOP\/s = 4·T·dModel·dHidden/m);
    expect(run.md).toMatch(/^The FeedForward, gelu layer, measured/);
  });

  it("checks tokenwise's js and wasm kernels, the naive loop and a gemm kernel against the gelu reference", () => {
    for (const s of run.report.shapes) {
      const flops = 4 * s.tokens * s.dModel * s.dHidden;
      expect(s.flopsFormula).toBe("4·T·dModel·dHidden");
      for (const id of [
        "tokenwise-js",
        "tokenwise-wasm@1t",
        "naive",
        "custom:four-row-gemm-example",
      ])
        expectCheckedAndTimed(resultIn(run.report, s.name, id), s.tokens, flops);
    }
  });

  it("lists the wasm kernel on 2 threads as unavailable, with the layer's own reason", () => {
    for (const s of run.report.shapes) {
      const r = resultIn(run.report, s.name, "tokenwise-wasm@2t");
      expect(r.status).toBe("unavailable");
      expect(r.reason).toMatch(
        /asked for 2 threads, the layer runs on 1: threads run relu layers only/,
      );
      expect(r.timing).toBeUndefined();
    }
  });
});

describe("npm run bench -- --quick --layer gated", () => {
  let run: ReturnType<typeof quickRun>;
  beforeAll(() => {
    run = quickRun([
      "--layer",
      "gated",
      "--kernels",
      "js,wasm",
      "--custom",
      "docs/examples/custom-kernel.ts",
      "--custom",
      "test/fixtures/bench-wrong-kernel.ts",
    ]);
  }, 120_000);

  it("exits 0 and counts 6·T·dModel·dHidden FLOPs a forward", () => {
    expect(run.status, run.stderr).toBe(0);
    expect(run.report.settings.variant).toEqual({ layer: "gated", activation: "silu" });
    expect(run.stdout).toMatch(/^Q1 \(T 1, dModel 8, dHidden 32\), gated, silu \(SwiGLU\):/m);
    expect(run.stdout).toMatch(/^GFLOP\/s = 6·T·dModel·dHidden/m);
    expect(run.md).toContain("**GFLOP/s** (6·T·dModel·dHidden per forward");
    for (const s of run.report.shapes) {
      expect(s.flopsFormula).toBe("6·T·dModel·dHidden");
      expect(s.gflopPerForward).toBeCloseTo((6 * s.tokens * s.dModel * s.dHidden) / 1e9, 12);
      expect(s.weightBytes).toBe(12 * s.dModel * s.dHidden);
    }
  });

  it("checks GatedFeedForward, the naive gated loop and a gemm kernel, then times them", () => {
    for (const s of run.report.shapes) {
      const flops = 6 * s.tokens * s.dModel * s.dHidden;
      for (const id of ["tokenwise-gated-js", "naive", "custom:four-row-gemm-example"])
        expectCheckedAndTimed(resultIn(run.report, s.name, id), s.tokens, flops);
    }
  });

  it("measures the gated contenders' memory in child processes", () => {
    for (const s of run.report.shapes) {
      for (const id of ["tokenwise-gated-js", "naive"]) {
        const m = resultIn(run.report, s.name, id).memory;
        if (m === undefined || "error" in m)
          throw new Error(`no memory for ${id} at ${s.name}: ${JSON.stringify(m)}`);
        expect(m.peakRss).toBeGreaterThan(10 * 2 ** 20);
      }
    }
  });

  it("says what cannot run the gated layer, and why, instead of timing it", () => {
    const wasm = resultIn(run.report, "Q1", "tokenwise-gated-wasm");
    expect(wasm.status).toBe("unavailable");
    expect(wasm.reason).toBe("tokenwise has no wasm kernel for the gated layer yet");
    // The wrong-kernel fixture is a whole forward function of the relu FeedForward.
    const fixture = resultIn(run.report, "Q1", "custom:forgets-b2-test-fixture");
    expect(fixture.status).toBe("unavailable");
    expect(fixture.reason).toMatch(
      /^a forward kernel of the FeedForward with relu; this run benches the gated, silu \(SwiGLU\) layer/,
    );
    for (const id of PEER_IDS) expect(resultIn(run.report, "Q1", id).status).toBe("unavailable");
  });
});
