// With an out argument, forward and forwardToken allocate nothing in steady state, on every
// kernel, of both layers, with every activation, every other pair of calls with a stats object:
// a child Node process (a 1 MiB young generation, under --trace-gc, which reports the worker
// threads' heaps too) warms a layer up, empties the young generation (a full collection), then
// runs 10,000 forward and forwardToken pairs and reads how many bytes the young generation
// holds (V8's new space, where every object a call made would sit). 20,000 calls that each made
// the smallest object (a 12-byte heap number) would add 240 KiB; the check allows 64 KiB (3.2
// bytes a call on average: room for a one-off, such as a function being compiled again on a
// busy machine) and no collection at all while they run (a collection would empty the space
// being read).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";
import { ACTIVATIONS } from "../src/kernels/activation";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

const KERNELS = [
  { name: "js", options: { kernel: "js", threads: 1 } },
  { name: "wasm", options: { kernel: "wasm", threads: 1 } },
  { name: "wasm-2t", options: { kernel: "wasm", threads: 2 } },
] as const;
// 16-bit and quantized weights take other paths (one token widens in registers, a batch widens
// panels into scratch, and the js kernel widens a panel at a time): a few cases run them too.
// (Threads run the very same function, linearOn, as the calling thread.)
const CASES = [
  ...(["FeedForward", "GatedFeedForward"] as const).flatMap((layer) =>
    KERNELS.map((k) => ({ ...k, layer })),
  ),
  {
    layer: "FeedForward",
    name: "wasm bf16",
    options: { kernel: "wasm", threads: 1, dtype: "bf16" },
  },
  { layer: "FeedForward", name: "wasm f16", options: { kernel: "wasm", threads: 1, dtype: "f16" } },
  { layer: "FeedForward", name: "js f16", options: { kernel: "js", threads: 1, dtype: "f16" } },
  {
    layer: "GatedFeedForward",
    name: "wasm f16",
    options: { kernel: "wasm", threads: 1, dtype: "f16" },
  },
  // Quantized weights quantize each token's rows into scratch (widths: multiples of 32); on
  // threads the workers run the same linearOn path (a 2-thread case took over the child's
  // 230 s timeout on a busy machine).
  ...(["q8_0", "q4_0"] as const).flatMap((dtype) =>
    (["js", "wasm"] as const).map((kernel) => ({
      layer: "GatedFeedForward",
      name: `${kernel} ${dtype}`,
      options: { kernel, threads: 1, dtype, dModel: 32, dHidden: 64 },
    })),
  ),
] as const;

/**
 * Runs `calls` forward and forwardToken calls with out arguments on a layer of each activation
 * in turn, in one child process (so the activations also meet at the same call sites), and
 * returns the collections seen while each ran.
 */
function gcLinesWhile(
  layer: string,
  options: object,
  calls: number,
  /** A statement run with each pair of calls (a test of the check itself), in a loop over i. */
  extra = "",
): { activation: string; ran: number; grew: number; gcs: string[] }[] {
  assertDistFresh("allocation test");
  // Inputs of both signs and up to about 5 in size: the activations' every branch (gelu's series
  // and its continued fraction, exp's reduction) runs.
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { ${layer}, matrix } from ${JSON.stringify(DIST)};
    const young = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_used_size;
    for (const activation of ${JSON.stringify(ACTIVATIONS)}) {
      const ffn = await ${layer}.create({ dModel: 8, dHidden: 24, seed: 1, activation, ...${JSON.stringify(options)} });
      const D = ffn.dModel;
      const x = matrix(5, D, Float32Array.from({ length: 5 * D }, (_, i) => ((i % 7) - 3) * 1.5));
      const out = matrix(5, D);
      const token = Float32Array.from({ length: D }, (_, i) => ((i % 8) - 4) * 1.3);
      const tokenOut = new Float32Array(D);
      const stats = { hidden: 0, zeros: 0, zeroShare: 0 };
      const run = (n) => { for (let i = 0; i < n; i++) { const s = i & 1 ? stats : undefined; ffn.forward(x, out, s); ffn.forwardToken(token, tokenOut, s); ${extra} } };
      // Warm up, then give the optimizing compiler (a background thread, slow on a busy
      // machine) time to install its code, and warm up again: steady state, then measure.
      run(5000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      run(2000);
      gc();
      console.log("BEGIN " + activation);
      const before = young();
      run(${calls});
      const grew = young() - before;
      console.log("END ${calls} " + grew);
      ffn.dispose();
    }
  `;
  const output = execFileSync(
    process.execPath,
    ["--expose-gc", "--trace-gc", "--max-semi-space-size=1", "--input-type=module", "-e", script],
    { encoding: "utf8", timeout: 230_000 },
  );
  const lines = output.split("\n");
  const runs = [];
  for (let begin = 0; ;) {
    begin = lines.findIndex((l, i) => i >= begin && l.startsWith("BEGIN "));
    if (begin < 0) break;
    const end = lines.findIndex((l, i) => i > begin && l.startsWith("END"));
    expect(end, output).toBeGreaterThan(begin);
    runs.push({
      activation: (lines[begin] as string).slice("BEGIN ".length),
      ran: Number(lines[end]?.split(" ")[1]),
      grew: Number(lines[end]?.split(" ")[2]),
      gcs: lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Mark-sweep/.test(l)),
    });
    begin = end;
  }
  return runs;
}

/** Why a run fails the check, or null if it passes. */
function fault(r: { ran: number; grew: number; gcs: string[] }, calls: number): string | null {
  if (r.ran !== calls) return `ran ${r.ran} of ${calls} pairs`;
  if (r.gcs.length > 0) return `${r.gcs.length} collections`;
  if (!(r.grew < 64 * 1024)) return `the young generation grew by ${r.grew} bytes`;
  return null;
}

describe.each(CASES)("$layer, $name kernel", ({ options, layer }) => {
  it("forward(x, out) and forwardToken(t, out) allocate nothing, with stats or not, every activation", () => {
    const runs = gcLinesWhile(layer, options, 10_000);
    expect(runs.map((r) => r.activation)).toEqual(ACTIVATIONS);
    for (const r of runs) expect(fault(r, 10_000), r.activation).toBe(null);
  }, 240_000);
});

describe("the check can fail", () => {
  it("one heap number a pair of calls (16 bytes) fails it, every activation", () => {
    const runs = gcLinesWhile(
      "FeedForward",
      { kernel: "wasm", threads: 1 },
      10_000,
      "globalThis.sink = i + 0.5;",
    );
    expect(runs.map((r) => r.activation)).toEqual(ACTIVATIONS);
    for (const r of runs) expect(fault(r, 10_000), r.activation).toMatch(/collections|grew/);
  }, 60_000);

  it("a loop that allocates its results shows collections", () => {
    // Calls without out arguments, which allocate their results.
    const script = `
      import { FeedForward, matrix } from ${JSON.stringify(DIST)};
      const ffn = new FeedForward({ dModel: 8, dHidden: 24, kernel: "js" });
      const x = matrix(5, 8, new Float32Array(40).fill(0.25));
      for (let i = 0; i < 20000; i++) ffn.forward(x);
      console.log("BEGIN");
      for (let i = 0; i < 50000; i++) ffn.forward(x);
      console.log("END 50000");
    `;
    const output = execFileSync(
      process.execPath,
      ["--trace-gc", "--max-semi-space-size=1", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 60_000 },
    );
    const lines = output.split("\n");
    const inside = lines.slice(lines.indexOf("BEGIN") + 1, lines.indexOf("END 50000"));
    expect(inside.filter((l) => /Scavenge/.test(l)).length).toBeGreaterThan(0);
  });
});
