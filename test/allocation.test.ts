// With an out argument, forward and forwardToken allocate nothing in steady state, on every
// kernel: a child Node process with a 1 MiB young generation runs many calls under --trace-gc,
// and not one garbage collection may happen while they run (a call that allocated even a few
// bytes would fill the young generation several times over).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

const CASES = [
  { name: "js", options: { kernel: "js", threads: 1 } },
  { name: "wasm", options: { kernel: "wasm", threads: 1 } },
  { name: "wasm-2t", options: { kernel: "wasm", threads: 2 } },
] as const;

function gcLinesWhile(options: object, calls: number): { gcs: string[]; ran: number } {
  if (!existsSync(DIST)) throw new Error("dist/index.js is missing: run `npm run build` first");
  const script = `
    import { FeedForward, matrix } from ${JSON.stringify(DIST)};
    const ffn = await FeedForward.create({ dModel: 8, dHidden: 24, seed: 1, ...${JSON.stringify(options)} });
    const x = matrix(5, 8, new Float32Array(40).fill(0.25));
    const out = matrix(5, 8);
    const token = new Float32Array(8).fill(0.5);
    const tokenOut = new Float32Array(8);
    const run = (n) => { for (let i = 0; i < n; i++) { ffn.forward(x, out); ffn.forwardToken(token, tokenOut); } };
    run(20000); // warm up: compile, settle
    console.log("BEGIN");
    run(${calls});
    console.log("END ${calls}");
    ffn.dispose();
  `;
  const output = execFileSync(
    process.execPath,
    ["--trace-gc", "--max-semi-space-size=1", "--input-type=module", "-e", script],
    { encoding: "utf8", timeout: 60_000 },
  );
  const lines = output.split("\n");
  const begin = lines.indexOf("BEGIN");
  const end = lines.findIndex((l) => l.startsWith("END"));
  expect(begin, output).toBeGreaterThanOrEqual(0);
  expect(end, output).toBeGreaterThan(begin);
  return {
    gcs: lines.slice(begin + 1, end).filter((l) => /Scavenge|Mark-Compact|Mark-sweep/.test(l)),
    ran: Number(lines[end]?.split(" ")[1]),
  };
}

describe.each(CASES)("$name kernel", ({ options }) => {
  it("forward(x, out) and forwardToken(t, out) allocate nothing", () => {
    const { gcs, ran } = gcLinesWhile(options, 50_000);
    expect(ran).toBe(50_000);
    expect(gcs).toEqual([]);
  });
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
