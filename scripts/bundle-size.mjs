// Reports what the package's main entry costs a page, minified and gzipped, and checks it
// against the budget in package.json:
//
//   "sizeBudget": { "gzip": 20000 }      bytes, after minifying and gzip -9
//
// The entry is the ESM build that `import "tokenwise"` resolves to (exports["."].import.default,
// dist/index.js). esbuild bundles everything it reaches, chunks and dynamic imports included,
// then minifies it; WebAssembly embedded in the code is counted with it, and any .wasm file in
// dist/ is added as well, so the number holds however the kernel ships. node: built-ins stay
// external: a page never loads them.
//
//   node scripts/bundle-size.mjs                 report and check (exit 1 over budget)
//   node scripts/bundle-size.mjs --json          the same as one JSON object
//   node scripts/bundle-size.mjs --budget 5000   check against another budget (bytes gzip)
//
// Run `npm run build` first (`npm run size` does).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const json = args.includes("--json");

function fail(message, code = 2) {
  console.error(`bundle-size: ${message}`);
  process.exit(code);
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const entry = pkg.exports?.["."]?.import?.default;
if (typeof entry !== "string") fail('package.json has no exports["."].import.default');
const at = args.indexOf("--budget");
const budget = at >= 0 ? Number(args[at + 1]) : pkg.sizeBudget?.gzip;
if (!Number.isSafeInteger(budget) || budget <= 0) {
  fail(
    'set a budget in package.json: "sizeBudget": { "gzip": <bytes> } (or pass --budget <bytes>)',
  );
}
const file = join(root, entry);
if (!existsSync(file)) fail(`${entry} is missing: run \`npm run build\` first`);

const result = await build({
  entryPoints: [file],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["node:*"],
  write: false,
  logLevel: "silent",
});
const code = result.outputFiles[0].contents;
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

const dist = dirname(file);
const wasmFiles = readdirSync(dist, { recursive: true })
  .map(String)
  .filter((name) => name.endsWith(".wasm"))
  .map((name) => {
    const bytes = readFileSync(join(dist, name));
    return { file: relative(root, join(dist, name)), raw: bytes.length, gzip: gzip(bytes) };
  });

const report = {
  entry: relative(root, file),
  raw: readFileSync(file).length,
  minified: code.length,
  gzip: gzip(code) + wasmFiles.reduce((sum, w) => sum + w.gzip, 0),
  wasmFiles,
  budget,
};
report.ok = report.gzip <= budget;

if (json) {
  console.log(JSON.stringify(report));
} else {
  const kb = (n) => `${n} B (${(n / 1024).toFixed(1)} KiB)`;
  console.log(`${report.entry}, everything it imports, bundled:`);
  console.log(`  entry file   ${kb(report.raw)}`);
  console.log(`  minified     ${kb(report.minified)}`);
  for (const w of wasmFiles) console.log(`  + ${w.file}  ${kb(w.raw)}, gzip ${kb(w.gzip)}`);
  console.log(`  gzip -9      ${kb(report.gzip)}`);
  console.log(
    `  budget       ${kb(budget)}: ${report.ok ? "ok" : "OVER"} (${((100 * report.gzip) / budget).toFixed(0)}% used)`,
  );
}
if (!report.ok) {
  console.error(
    `bundle-size: ${report.entry} is ${report.gzip} B gzip, over the budget of ${budget} B`,
  );
  process.exit(1);
}
