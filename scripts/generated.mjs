// A generated source file: written by its script, or, with --check on the command line,
// compared with what the script would write (CI fails on a stale one).
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Writes `text` to `path`, or checks that `path` holds it already; `what` describes it. */
export function writeGenerated(path, text, script, what) {
  const name = relative(root, path);
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(path, "utf8");
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${name} is stale: run \`node ${script}\``);
      process.exit(1);
    }
    console.log(`${name} is fresh`);
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${name}: ${what}`);
  }
}
