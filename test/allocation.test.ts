// With an out argument, forward and forwardToken allocate nothing in steady state, on every
// kernel, of both layers, with every activation: a child Node process with a 1 MiB young
// generation empties it (a full collection), then runs 200,000 calls under --trace-gc (which
// reports the worker threads' heaps too), and not one garbage collection may happen while
// they run: calls that allocated 6 bytes each, on average, would fill it. (Emptying it first
// keeps a one-off allocation, such as a function being compiled again on a busy machine,
// from tipping a young generation the warm-up left nearly full.)
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
): { activation: string; ran: number; gcs: string[] }[] {
  assertDistFresh("allocation test");
  // Inputs of both signs and up to about 5 in size: the activations' every branch (gelu's series
  // and its continued fraction, exp's reduction) runs.
  const script = `
    import { ${layer}, matrix } from ${JSON.stringify(DIST)};
    for (const activation of ${JSON.stringify(ACTIVATIONS)}) {
      const ffn = await ${layer}.create({ dModel: 8, dHidden: 24, seed: 1, activation, ...${JSON.stringify(options)} });
      const D = ffn.dModel;
      const x = matrix(5, D, Float32Array.from({ length: 5 * D }, (_, i) => ((i % 7) - 3) * 1.5));
      const out = matrix(5, D);
      const token = Float32Array.from({ length: D }, (_, i) => ((i % 8) - 4) * 1.3);
      const tokenOut = new Float32Array(D);
      const run = (n) => { for (let i = 0; i < n; i++) { ffn.forward(x, out); ffn.forwardToken(token, tokenOut); } };
      // Warm up, then give the optimizing compiler (a background thread, slow on a busy
      // machine) time to install its code, and warm up again: steady state, then measure.
      run(20000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      run(5000);
      gc();
      console.log("BEGIN " + activation);
      run(${calls});
      console.log("END ${calls}");
      ffn.dispose();
    }
  `;
  const output = execFileSync(
    process.execPath,
    ["--expose-gc", "--trace-gc", "--max-semi-space-size=1", "--input-type=module", "-e", script],
    // Two threads meet at a barrier per call: on a busy machine 400,000 calls take minutes.
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
      gcs: lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Mark-sweep/.test(l)),
    });
    begin = end;
  }
  return runs;
}

describe.each(CASES)("$layer, $name kernel", ({ options, layer }) => {
  it("forward(x, out) and forwardToken(t, out) allocate nothing, every activation", () => {
    const runs = gcLinesWhile(layer, options, 100_000);
    expect(runs.map((r) => r.activation)).toEqual(ACTIVATIONS);
    for (const r of runs) {
      expect(r.ran).toBe(100_000);
      expect(r.gcs, r.activation).toEqual([]);
    }
  }, 240_000);
});

it("the check can fail: a loop that allocates shows collections", () => {
  // The same harness around calls without out arguments, which allocate their results.
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
