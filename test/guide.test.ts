// docs/guide.md's code runs and prints what the guide says it prints.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, expectedOutput, runBlock, tsBlocks } from "./helpers/run-doc";

const guide = readFileSync(new URL("../docs/guide.md", import.meta.url), "utf8").split("\n");
const blocks = tsBlocks(guide).map((b) => ({
  line: b.start + 1,
  code: b.lines.join("\n"),
  expected: expectedOutput(b.lines),
}));
afterAll(cleanUp);

describe("docs/guide.md", () => {
  it("has the worked example and the independence example", () => {
    expect(blocks.length).toBe(2);
  });

  it.each(blocks)("the block at line $line prints what the guide shows", async (b) => {
    expect(b.expected.length).toBeGreaterThan(0);
    expect(await runBlock(b.code)).toEqual(b.expected);
  });
});
