// The code in the README and the hand-written guides runs as written, and prints what it says.
// (docs/guide.md and docs/weights.md have runners of their own: guide.test.ts and
// weights-guide.test.ts.)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, expectedOutput, runBlock, tsBlocks } from "./helpers/run-doc";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FILES = ["README.md", "docs/threads.md", "docs/moe.md", "docs/numerics.md"];

afterAll(() => cleanUp());

describe.each(FILES)("%s", (file) => {
  const blocks = tsBlocks(readFileSync(`${ROOT}${file}`, "utf8").split("\n"));
  it("has code to run", () => expect(blocks.length).toBeGreaterThan(0));
  it.each(blocks.map((b) => [b.start + 1, b] as const))("block at line %i", async (_, b) => {
    const printed = await runBlock(b.lines.join("\n"));
    expect(printed).toEqual(expectedOutput(b.lines));
  });
});
