// The built package (dist/), as a user gets it: imported by name both as ESM and as CJS in a
// plain Node process, so the `exports` map is what resolves it. `npm run build` must run first
// (`npm test` does); a missing or stale dist/ fails here rather than testing old code.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { FeedForward, matrix } from "../src/index";
import { bitsOf } from "./helpers/bits";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const ENTRIES = ["index.js", "index.cjs", "index.d.ts", "index.d.cts"];

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestSource(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

// One tiny forward, printed as the hex bit patterns of the output.
const BODY = `
const ffn = new t.FeedForward({ dModel: 8, dHidden: 32, seed: 7 });
const x = t.matrix(3, 8, Float32Array.from({ length: 24 }, (_, i) => (i - 11) / 7));
const y = ffn.forward(x);
console.log(JSON.stringify({ rows: y.rows, cols: y.cols, bits: Array.from(new Uint32Array(y.data.buffer), (b) => b.toString(16)) }));
`;

function runNode(args: string[]): { rows: number; cols: number; bits: string[] } {
  const out = execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(out) as { rows: number; cols: number; bits: string[] };
}

describe("the built package", () => {
  beforeAll(() => {
    const missing = ENTRIES.filter((f) => !existsSync(join(DIST, f)));
    if (missing.length > 0) {
      throw new Error(`dist/ lacks ${missing.join(", ")}: run \`npm run build\` before the tests`);
    }
    if (statSync(join(DIST, "index.js")).mtimeMs < newestSource(join(ROOT, "src"))) {
      throw new Error("dist/ is older than src/: run `npm run build` before the tests");
    }
  });

  it("imports as ESM and as CJS by its name, and both compute what src/ computes, bit for bit", () => {
    const esm = runNode(["--input-type=module", "-e", `import * as t from "tokenwise";${BODY}`]);
    const cjs = runNode(["--input-type=commonjs", "-e", `const t = require("tokenwise");${BODY}`]);
    const ffn = new FeedForward({ dModel: 8, dHidden: 32, seed: 7 });
    const y = ffn.forward(
      matrix(
        3,
        8,
        Float32Array.from({ length: 24 }, (_, i) => (i - 11) / 7),
      ),
    );
    const want = { rows: 3, cols: 8, bits: Array.from(bitsOf(y.data), (b) => b.toString(16)) };
    expect(esm).toEqual(want);
    expect(cjs).toEqual(want);
  });

  it("has a main entry that imports no Node built-in, so it loads in a browser", () => {
    const builtins = new Set(builtinModules);
    // The entries and the chunks they share with tokenwise/node (which may use Node freely).
    const chunks = readdirSync(DIST).filter((f) => /^chunk-.*\.c?js$/.test(f));
    for (const file of ["index.js", "index.cjs", ...chunks]) {
      // Without comments: the TSDoc examples kept in the bundle say `from "tokenwise"`. Without
      // the Node worker's prelude either: it is text that only a Node worker thread runs (started
      // from worker_threads, itself reached through a dynamic import whose name is not a
      // literal), and the browser tests load this entry in Chromium.
      const code = readFileSync(join(DIST, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "")
        .replace(/NODE_WORKER_PRELUDE = `[\s\S]*?\n`;/, "NODE_WORKER_PRELUDE = ``;");
      const specifiers = [
        ...code.matchAll(/\bfrom\s*["']([^"']+)["']/g),
        ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
        ...code.matchAll(/\bimport\s*["']([^"']+)["']/g),
        ...code.matchAll(/\brequire\s*\(\s*["']([^"']+)["']\s*\)/g),
      ].map((m) => m[1] as string);
      const node = specifiers.filter((s) => s.startsWith("node:") || builtins.has(s));
      expect(node, `${file} imports Node built-ins`).toEqual([]);
      // and, with no runtime dependencies, no other package either (only its own chunks)
      expect(
        specifiers.filter((s) => !s.startsWith("./chunk-")),
        `${file} imports`,
      ).toEqual([]);
    }
  });
});
