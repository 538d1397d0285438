// Runs npm scripts side by side (`node scripts/parallel.mjs typecheck lint format:check`), for
// checks that only read the tree: each one's output is printed whole when it ends, in the
// order named, and the exit code is 1 if any failed (named on the last line). Each of these
// checks is one thread; run in turn they left a 2-core machine's second core idle.
import { spawn } from "node:child_process";

const names = process.argv.slice(2);
if (names.length === 0) {
  console.error("usage: node scripts/parallel.mjs <npm script> [<npm script> ...]");
  process.exit(2);
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const runs = names.map(
  (name) =>
    new Promise((resolve) => {
      const child = spawn(npm, ["run", name], { stdio: ["ignore", "pipe", "pipe"] });
      const chunks = [];
      child.stdout.on("data", (c) => chunks.push(c));
      child.stderr.on("data", (c) => chunks.push(c));
      child.on("error", (e) => resolve({ name, code: 1, text: `${e.message}\n` }));
      child.on("close", (code) =>
        resolve({ name, code: code ?? 1, text: Buffer.concat(chunks).toString() }),
      );
    }),
);

const failed = [];
for (const run of runs) {
  const { name, code, text } = await run;
  process.stdout.write(text);
  if (code !== 0) failed.push(`${name} (exit ${code})`);
}
if (failed.length > 0) {
  console.error(`failed: ${failed.join(", ")}`);
  process.exit(1);
}
