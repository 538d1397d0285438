// npm run demo:web: serves the browser demo (examples/browser/) on 127.0.0.1, building the package
// first if dist/ is missing or older than src/. Responses carry COOP and COEP, so the page is
// cross-origin isolated and may use threads. PORT picks the port (default 8080; 0 = any free one).
//
// The server is the browser tests' own (test/browser/server.ts), loaded through tsx.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist", "index.js");

function newestSource() {
  let newest = 0;
  for (const entry of readdirSync(join(root, "src"), { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

if (!existsSync(dist) || statSync(dist).mtimeMs < newestSource()) {
  console.log("demo:web: building the package (dist/ is missing or older than src/)");
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("demo:web: the build failed");
    process.exit(1);
  }
}

const port = Number(process.env.PORT ?? 8080);
if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
  console.error(`demo:web: PORT must be a port number, got ${process.env.PORT}`);
  process.exit(1);
}
const { startServer } = await tsImport("../test/browser/server.ts", import.meta.url);
const index = "/isolated/examples/browser/";
const server = await startServer({ root, port, index });
console.log(`tokenwise demo: ${server.origin}${index}`);
console.log("(cross-origin isolated: COOP same-origin, COEP require-corp; Ctrl+C stops)");
process.on("SIGINT", () => server.close().then(() => process.exit(0)));
