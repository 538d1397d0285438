// Runs code blocks from the documentation (TSDoc @example blocks, docs/*.md) and collects what
// they print, so a test can hold each block to the output its `// ...` lines promise.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { vi } from "vitest";

const INDEX = fileURLToPath(new URL("../../src/index.ts", import.meta.url));
const NODE = fileURLToPath(new URL("../../src/node.ts", import.meta.url));
// Examples of the webgpu kernel in Node import Dawn's WebGPU, the "webgpu" devDependency.
const WEBGPU = fileURLToPath(new URL("../../node_modules/webgpu/index.js", import.meta.url));

/**
 * The comment-only lines right under each console.log(...) line, without their `// `: the
 * output the block promises, line for line.
 */
export function expectedOutput(lines: readonly string[]): string[] {
  const out: string[] = [];
  let afterLog = false;
  for (const l of lines) {
    const t = l.trim();
    if (afterLog && t.startsWith("//")) out.push(t.replace(/^\/\/ ?/, ""));
    else afterLog = /^console\.log\(/.test(t);
  }
  return out;
}

/** ```ts fenced blocks of a text (lines already stripped of any comment prefix). */
export function tsBlocks(lines: readonly string[]): { start: number; lines: string[] }[] {
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i] as string)) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`unclosed code block at line ${i + 1}`);
    blocks.push({ start: i, lines: lines.slice(i + 1, end) });
    i = end;
  }
  return blocks;
}

let dir: string | undefined;
let count = 0;

/** Removes the temporary modules; call it in afterAll. */
export function cleanUp(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

/**
 * Runs a block as a module, with `from "tokenwise"` pointing at src/index.ts (and
 * `from "tokenwise/node"` at src/node.ts, `from "webgpu"` at the devDependency), and returns the lines it printed with console.log.
 */
export async function runBlock(code: string): Promise<string[]> {
  dir ??= mkdtempSync(join(tmpdir(), "tokenwise-docs-"));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `block-${count++}.ts`);
  const source = code
    .replaceAll(`from "tokenwise"`, `from ${JSON.stringify(INDEX)}`)
    .replaceAll(`from "tokenwise/node"`, `from ${JSON.stringify(NODE)}`)
    .replaceAll(`from "webgpu"`, `from ${JSON.stringify(WEBGPU)}`);
  writeFileSync(file, `${source}\nexport {};\n`);
  const printed: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    printed.push(...format(...args).split("\n"));
  });
  try {
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    spy.mockRestore();
  }
  return printed;
}
