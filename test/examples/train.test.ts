// Runs docs/examples/train.ts briefly, as `npm run example:train -- --steps 100` would, and
// checks that it ran and that the loss it printed fell.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("docs/examples/train.ts", () => {
  it("prints the loss falling, by more than half in 100 steps", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "docs/examples/train.ts", "--steps", "100"],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const losses = [...run.stdout.matchAll(/^step +(\d+) +loss ([\d.]+)$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(losses.length).toBe(11); // every 10 steps, and the last
    expect(losses[0]).toEqual([0, expect.any(Number)]);
    expect(losses.at(-1)![0]).toBe(99);
    const summary = /loss fell from ([\d.]+) to ([\d.]+) in 100 steps/.exec(run.stdout);
    expect(summary).not.toBeNull();
    const [first, last] = [Number(summary![1]), Number(summary![2])];
    expect(first).toBe(losses[0]![1]);
    expect(last).toBe(losses.at(-1)![1]);
    expect(last).toBeLessThan(first / 2);
  });

  it("rejects a bad --steps", () => {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "docs/examples/train.ts", "--steps", "ten"],
      { cwd: root, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("--steps must be a positive integer");
  });
});
