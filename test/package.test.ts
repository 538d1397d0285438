// The built package (dist/), as a user gets it: imported by name both as ESM and as CJS in a
// plain Node process, so the `exports` map is what resolves it; then packed with `npm pack` and
// unpacked into a consumer's node_modules, where a strict TypeScript project compiles against
// its types and every link of its README and guides resolves to a file it ships. `npm run
// build` must run first (`npm test` does); a missing or stale dist/ fails here rather than
// testing old code.
import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";
import { FeedForward, matrix } from "../src/index";
import { bitsOf } from "./helpers/bits";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");

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
  beforeAll(() => assertDistFresh("package test"));

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

/** The relative link targets of a markdown text (inline links, images and definitions). */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");
  const targets = [
    ...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
    ...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm),
  ].map((m) => m[1] as string);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** The anchors of a markdown file's headings, as GitHub makes them (lower case, dashes). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, "");
  for (const m of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

// What a strict consumer's tsconfig says: lib without esnext (so without Symbol.dispose of its
// own), every check on, and the libraries' .d.ts files checked too.
const STRICT = {
  target: "ES2022",
  lib: ["ES2022"],
  module: "NodeNext",
  moduleResolution: "NodeNext",
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  noEmit: true,
};

// The consumer's code: ESM (.mts, resolved through exports' "import" to index.d.ts) and CJS
// (.cts, through "require" to index.d.cts); `using` needs the layer's Symbol.dispose typed.
const CONSUMER: Record<string, string> = {
  "esm.mts": `import { FeedForward, GatedFeedForward, matrix, type Matrix } from "tokenwise";
export async function run(): Promise<Matrix> {
  using ffn = await FeedForward.create({ dModel: 4, dHidden: 8, threads: 1 });
  const gated = new GatedFeedForward({ dModel: 4, dHidden: 8, activation: "silu" });
  gated.dispose();
  return ffn.forward(matrix(2, 4));
}
`,
  "cjs.cts": `import { FeedForward, matrix } from "tokenwise";
export function run(): number {
  using ffn = new FeedForward({ dModel: 4, dHidden: 8 });
  return ffn.forward(matrix(1, 4)).rows;
}
`,
  "node.mts": `import { loadSafetensors } from "tokenwise/node";
import { feedForwardFromCheckpoint, optFeedForwardNames } from "tokenwise";
export async function load(path: string) {
  return feedForwardFromCheckpoint(await loadSafetensors(path), optFeedForwardNames(0));
}
`,
  "node.cts": `import { loadSafetensors } from "tokenwise/node";
export const load = (path: string) => loadSafetensors(path);
`,
};

describe("the packed package (npm pack), installed in a consumer's node_modules", () => {
  let work: string;
  let files: string[];
  let consumer: string;
  let installed: string;

  beforeAll(() => {
    assertDistFresh("package test");
    work = mkdtempSync(join(tmpdir(), "tokenwise-pack-"));
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", work], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    files = info!.files.map((f) => f.path);
    consumer = join(work, "consumer");
    installed = join(consumer, "node_modules", "tokenwise");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", [
      "-xzf",
      join(work, info!.filename),
      "-C",
      installed,
      "--strip-components=1",
    ]);
    // tokenwise/node's types speak of Node's (URL): its consumer has @types/node, as ours does.
    mkdirSync(join(consumer, "node_modules", "@types"));
    symlinkSync(
      join(ROOT, "node_modules", "@types", "node"),
      join(consumer, "node_modules", "@types", "node"),
      "dir",
    );
    writeFileSync(
      join(consumer, "package.json"),
      JSON.stringify({ name: "consumer", private: true }),
    );
    for (const [name, code] of Object.entries(CONSUMER)) writeFileSync(join(consumer, name), code);
  });

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it.each([
    ["the main entry, no Node types", ["esm.mts", "cjs.cts"], [] as string[]],
    ["tokenwise/node, with Node's types", ["node.mts", "node.cts"], ["node"]],
  ])(
    "%s: a strict TypeScript project (lib ES2022, skipLibCheck false) compiles as ESM and as CJS",
    (_, sources, types) => {
      const config = join(consumer, `tsconfig.${types.length}.json`);
      writeFileSync(
        config,
        JSON.stringify({ compilerOptions: { ...STRICT, types }, files: sources }),
      );
      const tsc = spawnSync(
        process.execPath,
        [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", config, "--listFiles"],
        { cwd: consumer, encoding: "utf8" },
      );
      expect(tsc.stdout.split("\n").filter((l) => l.includes("error TS"))).toEqual([]);
      expect(tsc.status).toBe(0);
      // Both conditions of the exports map were taken: the ESM and the CJS declarations.
      const listed = tsc.stdout.split("\n").map((l) => l.trim());
      const entry = types.length === 0 ? "index" : "node";
      for (const d of [`${entry}.d.ts`, `${entry}.d.cts`]) {
        expect(listed).toContain(join(installed, "dist", d));
      }
    },
  );

  it("ships the guides (docs/*.md), but not the typedoc output nor the examples that import src/", () => {
    const guides = readdirSync(join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`);
    expect(guides.length).toBeGreaterThan(5);
    expect(guides.filter((g) => !files.includes(g))).toEqual([]);
    expect(files.filter((f) => /^docs\/(api|examples)\//.test(f))).toEqual([]);
  });

  it("resolves every relative link of the README and of each guide it ships to a shipped file", () => {
    const shipped = new Set(files);
    const markdown = files.filter((f) => f.endsWith(".md"));
    expect(markdown).toContain("README.md");
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdown) {
      const text = readFileSync(join(installed, file), "utf8");
      for (const target of relativeLinks(text)) {
        checked++;
        const [path = "", anchor] = target.split("#");
        const to = path === "" ? file : posix.join(posix.dirname(file), decodeURIComponent(path));
        const found = to.endsWith("/") ? files.some((f) => f.startsWith(to)) : shipped.has(to);
        if (!found) broken.push(`${file}: ${target} (${to} is not in the package)`);
        else if (anchor !== undefined && to.endsWith(".md")) {
          const headings = anchors(readFileSync(join(installed, to), "utf8"));
          if (!headings.has(anchor)) broken.push(`${file}: ${target} (no heading #${anchor})`);
        }
      }
    }
    expect(broken).toEqual([]);
    // The README alone links to the guides' index and to each guide.
    expect(checked).toBeGreaterThan(15);
  });
});
