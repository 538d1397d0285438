// `npm run bench:web` with the webgpu kernel named: Chromium starts with WebGPU on SwiftShader (a
// CPU adapter: these rows are a sanity check, and the report says so), and tokenwise's webgpu
// kernel is checked in a page of its own before it is timed: the relu FeedForward on the exact
// problem and within the bound (bench/reference-webgpu.ts), the gated layer with silu within the
// bound alone (a GPU need not return silu's exact output). One tiny shape, one repetition; it
// asserts checks and labels, never a speed. The WebGPU peers (tfjs-webgpu, ort-webgpu) live in
// the bench's own install (npm ci --prefix bench), which the test suite does not make; their
// bounds and the exact-check rule are tested in Node (bench-webgpu.test.ts).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContenderResult, Report } from "../bench/api";
import { WEBGPU_ARGS } from "../bench/web/session";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SHAPE = "2x8x16";

let dir: string;
const runs: Record<
  "ffn" | "gated",
  { report: Report; stdout: string; stderr: string; status: number | null }
> = {} as never;

function bench(layer: "ffn" | "gated"): void {
  const out = join(dir, layer);
  const run = spawnSync(
    "npm",
    [
      "run",
      "--silent",
      "bench:web",
      "--",
      "--quick",
      "--layer",
      layer,
      "--shape",
      SHAPE,
      "--no-install",
      "--no-naive",
      "--kernels",
      "wasm,webgpu",
      "--peers",
      "none",
      "--out",
      out,
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 150_000 },
  );
  runs[layer] = {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    report: JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report,
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tokenwise-bench-web-webgpu-test-"));
  bench("ffn");
  bench("gated");
}, 320_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function result(layer: "ffn" | "gated", id: string): ContenderResult {
  const r = runs[layer].report.shapes[0]?.results.find((x) => x.id === id);
  if (r === undefined) throw new Error(`no result for ${id}`);
  return r;
}

describe("npm run bench:web --kernels wasm,webgpu --peers none", () => {
  it("starts Chromium with WebGPU on SwiftShader and records the adapter as software", () => {
    for (const layer of ["ffn", "gated"] as const) {
      const { status, stderr, report } = runs[layer];
      expect(status, stderr).toBe(0);
      const b = report.browser;
      if (b === undefined) throw new Error("no browser in the report");
      expect(b.args).toEqual(expect.arrayContaining(WEBGPU_ARGS));
      expect(b.webgpu).toMatchObject({ software: true });
      expect(report.warnings.join("\n")).toMatch(
        /rows marked \(software GPU\) ran on WebGPU's .*software adapter.*sanity check/,
      );
    }
    expect(runs.ffn.stdout).toMatch(
      /WebGPU adapter: .*a software adapter \(it computes on the CPU\)/,
    );
  });

  it("checks the FeedForward on the exact problem and within the bound, then times it", () => {
    for (const id of ["tokenwise-webgpu"]) {
      const r = result("ffn", id);
      expect(r.status, `${id}: ${r.reason}`).toBe("ok");
      expect(r.label, id).toMatch(/ \(software GPU\)$/);
      expect(r.exact?.ok, id).toBe(true);
      expect(r.exact?.compared, id).toBe(2 * 8);
      expect(r.check?.ok, id).toBe(true);
      expect(r.check?.rowsChecked, id).toBe(2);
      expect(r.library, id).toMatch(/, in Chromium$/);
      expect(r.timing?.reps, id).toBe(1);
    }
    // The wasm row ran beside it, in a page of its own, on the CPU.
    expect(result("ffn", "tokenwise-wasm@1t")).toMatchObject({ status: "ok" });
    expect(result("ffn", "tokenwise-wasm@1t").label).not.toMatch(/software GPU/);
  });

  it("checks the gated layer (silu) within the bound alone, saying why", () => {
    for (const id of ["tokenwise-gated-webgpu"]) {
      const r = result("gated", id);
      expect(r.status, `${id}: ${r.reason}`).toBe("ok");
      expect(r.exact, id).toBeUndefined();
      expect(r.check?.ok, id).toBe(true);
      expect(r.timing?.reps, id).toBe(1);
    }
    expect(runs.gated.stderr).toMatch(
      /tokenwise gated webgpu \(software GPU\): no exact check \(on a GPU silu need not return/,
    );
    const md = readFileSync(join(dir, "gated", "report.md"), "utf8");
    expect(md).toContain(
      "The exact problem was not asked of tokenwise gated webgpu (software GPU):",
    );
    expect(md).toContain("A WebGPU row's bound is that of WebGPU's arithmetic");
    expect(result("gated", "tokenwise-gated-webgpu").webgpu).toBe("kernel");
  });
});
