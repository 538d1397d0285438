// Every ```ts block under an @example in src/ runs, and prints what its `// ...` lines say.
// Each block becomes a temporary module importing src/index.ts in place of "tokenwise"
// (test/helpers/run-doc.ts); the comment lines under each console.log line are its expected
// output. A block that shows no result fails: an example must show its result.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, expectedOutput, runBlock, tsBlocks } from "./helpers/run-doc";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

interface Example {
  /** file:line of the block, and the symbol it documents */
  where: string;
  symbol: string | undefined;
  code: string;
  expected: string[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

/** The ```ts blocks of every @example in one file. */
function examplesOf(file: string): Example[] {
  const text = readFileSync(file, "utf8");
  const found: Example[] = [];
  for (const m of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const comment = m[0];
    const at = m.index ?? 0;
    const start = comment.indexOf("@example");
    if (start < 0) continue;
    // The example runs to the next block tag, or to the end of the comment.
    const rest = comment.slice(start + "@example".length);
    const next = rest.search(/\n\s*\*\s*@\w+/);
    const body = (next < 0 ? rest : rest.slice(0, next))
      .split("\n")
      .map((l) => l.replace(/^\s*\*( |$)/, "").replace(/\s*\*\/$/, ""));
    const after = text.slice(at + comment.length, at + comment.length + 200);
    const symbol =
      /^\s*(?:export\s+)?(?:abstract\s+)?(?:static\s+)?(?:async\s+)?(?:function|class|get|interface|const)?\s*(\w+)/.exec(
        after,
      )?.[1];
    const line = text.slice(0, at + start).split("\n").length;
    for (const block of tsBlocks(body)) {
      found.push({
        where: `${relative(SRC, file)}:${line + block.start} (${symbol ?? "?"})`,
        symbol,
        code: block.lines.join("\n"),
        expected: expectedOutput(block.lines),
      });
    }
  }
  return found;
}

const examples = sourceFiles(SRC).flatMap(examplesOf);
afterAll(cleanUp);

describe("@example blocks in src/", () => {
  it("cover every function and class that src/index.ts exports", async () => {
    const exported = Object.keys(await import("../src/index"));
    const documented = new Set(examples.map((e) => e.symbol));
    expect(exported.filter((name) => !documented.has(name))).toEqual([]);
  });

  it.each(examples)("$where prints what it says", async (ex) => {
    expect(ex.expected.length, "the example shows no result under a console.log").toBeGreaterThan(
      0,
    );
    expect(ex.code).toMatch(/from "tokenwise(\/node)?"/);
    expect(await runBlock(ex.code)).toEqual(ex.expected);
  });
});
