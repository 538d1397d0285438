// docs/gguf.md's ```ts blocks run as written (tokenwise and tokenwise/node pointed at src/) and
// print what their `// ...` lines say.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, expectedOutput, runBlock, tsBlocks } from "../helpers/run-doc";

const DOC = new URL("../../docs/gguf.md", import.meta.url);

afterAll(() => cleanUp());

describe("docs/gguf.md", () => {
  const blocks = tsBlocks(readFileSync(DOC, "utf8").split("\n"));
  it("has code to run", () => expect(blocks.length).toBeGreaterThanOrEqual(4));
  it.each(blocks.map((b) => [b.start + 1, b] as const))("block at line %i", async (_, b) => {
    const expected = expectedOutput(b.lines);
    expect(expected.length).toBeGreaterThan(0);
    expect(await runBlock(b.lines.join("\n"))).toEqual(expected);
  });
});
