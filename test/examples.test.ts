// Every ```ts block under an @example in src/ runs, and prints what its `// ...` lines say.
//
// Each block is written to a temporary module, with `from "tokenwise"` pointing at src/index.ts,
// and imported with console.log captured. Under each console.log(...) line, the comment lines
// that follow it are its expected output, line for line; a block without any is an error, since
// an example must show its result.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterAll, describe, expect, it, vi } from "vitest";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));
const INDEX = join(SRC, "index.ts");

interface Example {
  /** file:line of the block's first line, and the symbol it documents */
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
    const start = comment.indexOf("@example");
    if (start < 0) continue;
    // The example runs to the next block tag (or the end of the comment).
    const rest = comment.slice(start + "@example".length);
    const next = rest.search(/\n\s*\*\s*@\w+/);
    const body = (next < 0 ? rest : rest.slice(0, next))
      .split("\n")
      .map((l) => l.replace(/^\s*\*( |$)/, "").replace(/\s*\*\/$/, ""));
    const after = text.slice(
      (m.index ?? 0) + comment.length,
      (m.index ?? 0) + comment.length + 200,
    );
    const symbol =
      /^\s*(?:export\s+)?(?:static\s+)?(?:async\s+)?(?:function|class|get|interface)?\s*(\w+)/.exec(
        after,
      )?.[1];
    const line = text.slice(0, (m.index ?? 0) + start).split("\n").length;
    for (let i = 0; i < body.length; i++) {
      if (!/^```ts\s*$/.test(body[i] as string)) continue;
      const end = body.indexOf("```", i + 1);
      if (end < 0) throw new Error(`${file}: unclosed code block in an @example`);
      const lines = body.slice(i + 1, end);
      found.push({
        where: `${relative(SRC, file)}:${line + i} (${symbol ?? "?"})`,
        symbol,
        code: lines.join("\n"),
        expected: expectedOutput(lines),
      });
      i = end;
    }
  }
  return found;
}

/** The comment-only lines right under each console.log line, without their `// `. */
function expectedOutput(lines: string[]): string[] {
  const out: string[] = [];
  let afterLog = false;
  for (const l of lines) {
    const t = l.trim();
    if (afterLog && t.startsWith("//")) out.push(t.replace(/^\/\/ ?/, ""));
    else afterLog = /^console\.log\(/.test(t);
  }
  return out;
}

const examples = sourceFiles(SRC).flatMap(examplesOf);
const dir = mkdtempSync(join(tmpdir(), "tokenwise-examples-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
    expect(ex.code).toMatch(/from "tokenwise"/);
    const code = ex.code.replaceAll(`from "tokenwise"`, `from ${JSON.stringify(INDEX)}`);
    const file = join(dir, `example-${examples.indexOf(ex)}.ts`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${code}\nexport {};\n`);
    const printed: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      printed.push(...format(...args).split("\n"));
    });
    try {
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toEqual(ex.expected);
  });
});
