// Runs the code samples of a guide and checks their output against the `// ...` lines that
// follow each console.log, so a guide never shows a sample that was not run.
//
//   node scripts/docs/run-samples.mjs docs/weights.md
//
// A ```js block runs in Node as an ES module, a ```js browser block in a page of Debian's
// Chromium (/usr/bin/chromium, through playwright-core) served from 127.0.0.1. Both import
// the built package ("tokenwise", "tokenwise/node"): run `npm run build` first. They run in a
// temporary folder holding the checkpoint fixtures (test/fixtures/checkpoints/), which the
// browser sees under /models/.
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { distProblem } from "../built.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "test", "fixtures", "checkpoints");
const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/docs/run-samples.mjs <guide.md>...");
  process.exit(2);
}
const problem = distProblem();
if (problem !== null) {
  console.error(`run-samples: ${problem}: run \`npm run build\` first`);
  process.exit(2);
}

/** The ```js blocks of a markdown text, with the output their `// ...` lines expect. */
function samples(text) {
  const found = [];
  const fence = /^```js( browser)?\n([\s\S]*?)^```$/gm;
  for (const m of text.matchAll(fence)) {
    const code = m[2];
    const expected = [];
    let afterLog = false;
    for (const line of code.split("\n")) {
      const output = /^\s*\/\/ (.*)$/.exec(line);
      if (output && afterLog) expected.push(output[1]);
      else afterLog = line.includes("console.log(");
    }
    const line = text.slice(0, m.index).split("\n").length;
    found.push({ browser: m[1] !== undefined, code, expected, line });
  }
  return found;
}

const work = mkdtempSync(join(tmpdir(), "tokenwise-samples-"));
mkdirSync(join(work, "node_modules"));
symlinkSync(root, join(work, "node_modules", "tokenwise"), "dir");
cpSync(fixtures, work, { recursive: true });

const TYPES = { ".js": "text/javascript", ".html": "text/html", ".json": "application/json" };
function serve(pages) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    let file = null;
    if (pages.has(path)) {
      res.writeHead(200, { "content-type": TYPES[extname(path)] });
      res.end(pages.get(path));
      return;
    }
    if (path.startsWith("/dist/")) file = join(root, normalize(path));
    if (path.startsWith("/models/")) file = join(fixtures, normalize(path.slice("/models".length)));
    const inside = file !== null && !relative(root, file).startsWith("..");
    if (!inside || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function runInBrowser(sample, n) {
  const { chromium } = await import("playwright-core");
  const pages = new Map([
    [
      `/sample-${n}.html`,
      `<!doctype html><script type="importmap">{"imports":{"tokenwise":"/dist/index.js"}}</script>` +
        `<script type="module" src="/sample-${n}.js"></script>`,
    ],
    [`/sample-${n}.js`, `${sample.code}\nconsole.log("__done__");\n`],
  ]);
  const server = await serve(pages);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage();
    const lines = [];
    let error = null;
    const done = new Promise((resolve) => {
      page.on("console", (msg) => {
        if (msg.type() !== "log") return; // the browser's own notes, such as a missing favicon
        if (msg.text() === "__done__") resolve();
        else lines.push(msg.text());
      });
      page.on("pageerror", (e) => {
        error = e;
        resolve();
      });
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/sample-${n}.html`);
    await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
    if (error !== null) throw error;
    return lines.join("\n");
  } finally {
    await browser.close();
    server.close();
  }
}

let failed = 0;
let n = 0;
for (const guide of files) {
  for (const sample of samples(readFileSync(guide, "utf8"))) {
    n++;
    const where = `${guide}:${sample.line}${sample.browser ? " (browser)" : ""}`;
    let output;
    try {
      if (sample.browser) {
        output = await runInBrowser(sample, n);
      } else {
        const file = join(work, `sample-${n}.mjs`);
        writeFileSync(file, sample.code);
        output = execFileSync(process.execPath, [file], { cwd: work, encoding: "utf8" });
      }
    } catch (e) {
      failed++;
      console.log(`FAIL ${where}: ${e.stderr ?? e.message}`);
      continue;
    }
    const got = output
      .trimEnd()
      .split("\n")
      .map((l) => l.trimEnd());
    const want = sample.expected;
    if (got.join("\n") === want.join("\n")) {
      console.log(`ok   ${where}`);
    } else {
      failed++;
      console.log(
        `FAIL ${where}\n  expected:\n    ${want.join("\n    ")}\n  got:\n    ${got.join("\n    ")}`,
      );
    }
  }
}
rmSync(work, { recursive: true, force: true });
console.log(`${n - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
