// Whether dist/ is a build of the sources as they are now. Everything that runs the built
// package (the package, browser and allocation tests, the guides' samples, the demo) asks
// here first, so that running it after an edit without `npm run build` fails with a clear
// message instead of quietly testing the old code.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The files tsup writes for the two entries (each with its chunks beside it). */
export const DIST_ENTRIES = [
  "index.js",
  "index.cjs",
  "index.d.ts",
  "index.d.cts",
  "node.js",
  "node.cjs",
  "node.d.ts",
  "node.d.cts",
];

/** What the build reads: the sources and the build's configuration. */
const INPUTS = ["src", "tsup.config.ts"];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs };
  let best = { path, mtimeMs: 0 };
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const mtimeMs = statSync(file).mtimeMs;
    if (mtimeMs > best.mtimeMs) best = { path: file, mtimeMs };
  }
  return best;
}

/**
 * Why dist/ cannot be trusted (missing entries, or a source newer than the build), or null
 * when it is a build of the current sources.
 */
export function distProblem() {
  const dist = join(root, "dist");
  const missing = DIST_ENTRIES.filter((f) => !existsSync(join(dist, f)));
  if (missing.length > 0) return `dist/ lacks ${missing.join(", ")}`;
  const built = Math.min(...DIST_ENTRIES.map((f) => statSync(join(dist, f)).mtimeMs));
  const changed = INPUTS.map((p) => newest(join(root, p))).reduce((a, b) =>
    b.mtimeMs > a.mtimeMs ? b : a,
  );
  if (changed.mtimeMs > built) {
    return `dist/ is older than ${relative(root, changed.path)}, so it would run old code`;
  }
  return null;
}

/** Throws, saying what to do, unless dist/ is a build of the current sources. */
export function assertDistFresh(who) {
  const problem = distProblem();
  if (problem !== null) {
    throw new Error(`${who}: ${problem}: run \`npm run build\` first (\`npm test\` does)`);
  }
}
