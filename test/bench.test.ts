// `npm run bench -- --quick` end to end, so the harness cannot rot. It asserts the report's
// structure, provenance and checks, never a speed. The peers are pointed at an empty folder, so
// they fail to load whether or not bench/node_modules is installed: the test needs none of them,
// and checks that each is reported as unavailable with the reason, not fatal.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContenderResult, Report } from "../bench/api";
import { RESULTS_DIR, RUNS_DIR, outputPlan, runFolderName } from "../bench/output";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PEER_IDS = ["tfjs-cpu", "tfjs-wasm", "ort-node@1t", "ort-web@1t", "jax", "ml-matrix"];
const SHAPES = ["Q1", "Q2", "Q3"];
const TIMED = ["tokenwise-wasm@1t", "tokenwise-js", "naive", "custom:four-row-gemm-example"];
const NEAR_MISSES = [
  "custom:drops-the-last-term-of-x-w1-test-fixture",
  "custom:drops-the-first-term-of-x-w1-test-fixture",
  "custom:drops-the-last-term-of-h-w2-test-fixture",
  "custom:adds-b1-twice-test-fixture",
  "custom:adds-b2-twice-test-fixture",
  "custom:swaps-hidden-columns-0-and-1-of-w1-test-fixture",
  "custom:swaps-the-last-two-columns-of-w2-test-fixture",
];

let dir: string;
let report: Report;
let stdout: string;
let stderr: string;
let status: number | null;
const file = (ext: string) => readFileSync(join(dir, "results", `report.${ext}`), "utf8");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tokenwise-bench-test-"));
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
      join(dir, "no-peers"),
      "--out",
      join(dir, "results"),
      "--custom",
      "docs/examples/custom-kernel.ts",
      "--custom",
      "test/fixtures/bench-wrong-kernel.ts",
      "--custom",
      "test/fixtures/bench-near-miss-kernels.ts",
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 170_000 },
  );
  status = run.status;
  stdout = run.stdout;
  stderr = run.stderr;
  report = JSON.parse(file("json")) as Report;
}, 180_000);

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
    expect(stdout).toMatch(/^Q3 \(T 1, dModel 12, dHidden 20, 3 layers in turn\)/m);
    expect(stdout).toMatch(/^contender\s+thr\s+GFLOP\/s/m);
    expect(stderr).toMatch(/\[Q2\] float64 reference: all 5 rows/);
    expect(stderr).toMatch(/\[Q3\] exact problem: all 1 rows of each of 3 layers/);
  });

  it("records the machine, the code, the load and the command", () => {
    expect(report.schema).toBe("tokenwise-bench/2");
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.command).toMatch(/^npm run bench -- --quick --no-install /);
    expect(report.machine.node).toBe(process.versions.node);
    expect(report.machine.v8).toBe(process.versions.v8);
    expect(report.machine.cpu.length).toBeGreaterThan(0);
    expect(report.machine.cores).toBeGreaterThanOrEqual(1);
    const p = report.provenance;
    expect(p.git?.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(typeof p.git?.dirty).toBe("boolean");
    for (const l of [p.loadBefore, p.loadAfter]) {
      expect(l).toHaveLength(3);
      for (const v of l) expect(v).toBeGreaterThanOrEqual(0);
    }
    expect(p.argv.slice(0, 2)).toEqual(["--quick", "--no-install"]);
    expect(p.execArgv).toContain("--expose-gc");
    expect(report.settings).toMatchObject({ quick: true, reps: 1, threads: [1], memory: true });
    expect(report.shapes.map((s) => s.name)).toEqual(SHAPES);
    expect(report.shapes.map((s) => s.layers)).toEqual([1, 1, 3]);
  });

  it("measures each shape's one-thread roof in its rounds", () => {
    for (const s of report.shapes) {
      const roof = s.roof;
      if (roof === undefined) throw new Error(`no roof at ${s.name}`);
      expect(roof.peak.median).toBeGreaterThan(0);
      expect(roof.memory.rate.median).toBeGreaterThan(0);
      expect(roof.memory.bytes).toBe(16 * 2 ** 20);
      expect(roof.weights?.bytes).toBeGreaterThanOrEqual(s.weightBytes);
      expect(["memory", "cache", "compute"]).toContain(roof.bound);
    }
    expect(stdout).toMatch(/^one-thread roof [\d.]+ GFLOP\/s, (compute|weights from \w+) \(/m);
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
    for (const shape of SHAPES) {
      for (const id of PEER_IDS) {
        const r = result(shape, id);
        expect(r.status).toBe("unavailable");
        expect(r.reason).toMatch(/Cannot find package/);
        expect(r.timing).toBeUndefined();
      }
    }
  });

  it("checks tokenwise, the naive loop and the example kernel exactly and within the bound, then times them", () => {
    for (const s of report.shapes) {
      const flops = 4 * s.tokens * s.dModel * s.dHidden * s.layers;
      expect(s.gflopPerForward).toBeCloseTo(flops / 1e9, 12);
      expect(s.reference.rowsChecked).toBe(s.tokens);
      for (const id of [
        ...TIMED,
        "custom:correct-control-test-fixture",
        "custom:correct-again-control-after-the-faults-test-fixture",
      ]) {
        const r = result(s.name, id);
        expect(r.status, r.reason).toBe("ok");
        expect(r.exact).toMatchObject({ ok: true, mismatches: 0 });
        expect(r.exact?.compared).toBe(s.tokens * s.dModel * s.layers);
        expect(r.check?.ok).toBe(true);
        expect(r.check?.rowsChecked).toBe(s.tokens);
        expect(r.check?.worstRatio).toBeLessThanOrEqual(1);
        const t = r.timing;
        if (t === undefined) throw new Error(`${id} has no timing`);
        expect(t.reps).toBe(1);
        expect(t.samplesMs).toHaveLength(1);
        expect(t.callsMs).toHaveLength(1);
        expect(t.callsMs[0]).toHaveLength(t.callsPerRep);
        expect(t.medianMs).toBeGreaterThan(0);
        expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
        expect(t.maxMs).toBeGreaterThanOrEqual(t.medianMs);
        expect(t.gflops).toBeCloseTo(flops / t.medianMs / 1e6, 9);
        expect(t.msPerToken).toBeCloseTo(t.medianMs / s.tokens, 12);
        expect(r.firstCallOverMedian).toBeCloseTo((r.firstCallMs as number) / t.medianMs, 9);
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

  it("refuses a wrong kernel and every near miss by the exact check, and does not time them", () => {
    for (const s of report.shapes) {
      for (const id of ["custom:forgets-b2-test-fixture", ...NEAR_MISSES]) {
        const r = result(s.name, id);
        expect(r.status, `${id} at ${s.name}`).toBe("wrong");
        expect(r.exact?.ok).toBe(false);
        expect(r.reason).toMatch(
          /^exact check: output \(\d+, \d+\)( of layer \d)? is .* expected exactly/,
        );
        expect(r.check).toBeUndefined();
        expect(r.timing).toBeUndefined();
        expect(r.memory).toBeUndefined();
      }
    }
  });

  it("measures peak memory of each timed contender and of Node alone, in child processes", () => {
    for (const s of report.shapes) {
      const base = s.baselineMemory;
      if (base === undefined || "error" in base)
        throw new Error(`no baseline at ${s.name}: ${JSON.stringify(base)}`);
      expect(base.peakRss).toBeGreaterThan(10 * 2 ** 20);
      for (const id of TIMED) {
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

  it("writes the markdown with provenance, first calls, roof shares and the refused kernels", () => {
    const md = file("md");
    expect(md).toMatch(
      /^Code: tokenwise [\d.]+, commit [0-9a-f]{12} \((clean|dirty: \d+\+? changed files)\)\. Load average \(1, 5, 15 min\) [\d.]+, [\d.]+, [\d.]+ before the run and [\d.]+, [\d.]+, [\d.]+ after it, on \d+ cores\. Command: `npm run bench -- --quick/m,
    );
    expect(md).toContain("**GFLOP/s**");
    expect(md).toMatch(
      /^\| \*roof, one thread\* \| [\d.]+ <sub>(compute|weights from \w+)<\/sub> \|/m,
    );
    expect(md).toMatch(/^\| tokenwise js \| [\d.]+x \| [\d.]+x \| [\d.]+x \|$/m); // first call
    expect(md).toMatch(
      /^\| tokenwise js \| (\*\*)?\d+%( ⚠\*\*)? \| (\*\*)?\d+%( ⚠\*\*)? \| (\*\*)?\d+%( ⚠\*\*)? \|$/m,
    );
    expect(md).toMatch(/^\| main memory, GB\/s \| [\d.]+ <sub>/m);
    expect(md).toMatch(/^- tfjs-wasm: unavailable: Cannot find package/m);
    expect(md).toMatch(/^- forgets b2 \(test fixture\): wrong: exact check: output/m);
    expect(md).toMatch(/^- adds b1 twice \(test fixture\): wrong: exact check: output/m);
    expect(md).toContain("bit for bit");
  });

  it("writes a CSV row per contender and shape", () => {
    const lines = file("csv").trimEnd().split("\n");
    const head = (lines[0] as string).split(",");
    expect(head.slice(0, 5)).toEqual(["shape", "tokens", "dModel", "dHidden", "layers"]);
    expect(lines).toHaveLength(1 + report.shapes.reduce((n, s) => n + s.results.length, 0));
    const row = lines.find((l) => l.startsWith("Q3,") && l.includes(",tokenwise-js,"));
    if (row === undefined) throw new Error("no Q3 tokenwise-js row");
    const cells = row.split(",");
    const at = (name: string) => cells[head.indexOf(name)];
    expect(at("layers")).toBe("3");
    expect(at("status")).toBe("ok");
    expect(Number(at("gflops"))).toBe(result("Q3", "tokenwise-js").timing?.gflops);
    expect(Number(at("exact_outputs"))).toBe(36);
  });

  it("writes the JSON with each array of per-call times on one line", () => {
    expect(file("json")).toMatch(/"callsMs": \[\n\s+\[[\d.]+(,[\d.]+)*\]\n\s+\]/);
  });

  it("writes the SVG chart: bars, labelled roofs, a legend, and the contenders not timed", () => {
    const svg = file("svg");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain(">tokenwise js</text>");
    // One dashed roof line per shape, with its value and kind written beside it.
    expect(svg.match(/<line class="roof" [^>]*><title>one-thread roof at Q\d: /g)).toHaveLength(3);
    expect(
      svg.match(/<text class="roof-label" [^>]*>roof [\d.]+, (compute|cache|memory)<\/text>/g),
    ).toHaveLength(3);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    // One bar per timed contender and shape: tokenwise wasm and js, the example kernel, the
    // two controls of the near misses (before and after the faults) and the naive loop.
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3 * 6);
    const untimed = svg.match(/<text class="untimed" [^>]*>[^<]*<\/text>/g) ?? [];
    expect(
      untimed.some((l) =>
        /forgets b2 \(test fixture\) \(every shape\): wrong: (at Q1: )?exact check/.test(l),
      ),
    ).toBe(true);
    expect(untimed.some((l) => l.includes("tfjs-cpu (every shape): unavailable"))).toBe(true);
  });
});

describe("npm run bench -- --tokens (a token sweep)", () => {
  it("runs the shape at each token count and draws GFLOP/s against tokens", () => {
    const out = join(dir, "sweep");
    const run = spawnSync(
      "npm",
      [
        "run",
        "--silent",
        "bench",
        "--",
        "--quick",
        "--tokens",
        "1,2,4",
        "--shape",
        "1x16x40",
        "--kernels",
        "js",
        "--peers",
        "none",
        "--no-naive",
        "--no-memory",
        "--out",
        out,
        "--name",
        "sweep",
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 110_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(readFileSync(join(out, "sweep.json"), "utf8")) as Report;
    expect(r.settings.tokens).toEqual([1, 2, 4]);
    expect(r.shapes.map((s) => [s.name, s.tokens, s.base])).toEqual([
      ["1x16x40@T1", 1, "1x16x40"],
      ["1x16x40@T2", 2, "1x16x40"],
      ["1x16x40@T4", 4, "1x16x40"],
    ]);
    const svg = readFileSync(join(out, "sweep.sweep.svg"), "utf8");
    expect(svg).toMatch(
      /<polyline class="series" points="([\d.]+,[\d.]+ ?){3}"[^>]*><title>tokenwise js<\/title>/,
    );
    expect(svg).toMatch(/<polyline class="roof" points="([\d.]+,[\d.]+ ?){3}"/);
    expect(svg).toMatch(/<text class="roof-label" [^>]*>roof [\d.]+, /);
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  }, 120_000);
});

describe("where a run's report goes", () => {
  const git = { commit: "0123456789abcdef0123456789abcdef01234567", dirty: false, changes: [] };
  const date = new Date("2026-12-03T09:36:48.123Z");

  it("by default: a folder of its own under bench/results/runs/, named by time and commit", () => {
    expect(runFolderName(date, git)).toBe("20261203T093648Z-0123456789");
    expect(runFolderName(date, { ...git, dirty: true })).toBe("20261203T093648Z-0123456789-dirty");
    expect(runFolderName(date, null)).toBe("20261203T093648Z-nogit");
    expect(outputPlan({}, date, git)).toEqual({
      dir: join(RUNS_DIR, "20261203T093648Z-0123456789"),
      name: "report",
    });
  });

  it("bench/results/ and latest.* only with --update; --out and --name as given", () => {
    expect(outputPlan({ update: true }, date, git)).toEqual({ dir: RESULTS_DIR, name: "latest" });
    expect(outputPlan({ update: true, name: "gated" }, date, git)).toEqual({
      dir: RESULTS_DIR,
      name: "gated",
    });
    expect(outputPlan({ out: "/x/y" }, date, git)).toEqual({ dir: "/x/y", name: "report" });
    expect(() => outputPlan({ update: true, out: "/x" }, date, git)).toThrow(/--update .* --out/);
    expect(() => outputPlan({ name: "../up" }, date, git)).toThrow(/--name: "..\/up"/);
  });

  it("keeps run folders out of git", () => {
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8")).toMatch(/^bench\/results\/runs\/$/m);
  });
});
