// An engine without WebAssembly (Node with --no-expose-wasm): kernel "auto" falls back to
// JavaScript and says nothing, kernel "wasm" fails with a clear error that says why, and a
// layer asked for threads runs on one and says why, for both layers.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { assertDistFresh } from "../scripts/built.mjs";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));

it("without WebAssembly: auto is js, wasm says why, threads fall back with the reason", () => {
  assertDistFresh("no-wasm test");
  const script = `
    import { FeedForward, GatedFeedForward, matrix } from ${JSON.stringify(DIST)};
    const out = { webAssembly: typeof WebAssembly };
    for (const Layer of [FeedForward, GatedFeedForward]) {
      const auto = await Layer.create({ dModel: 4, dHidden: 8, threads: 2 });
      const y = auto.forward(matrix(3, 4, new Float32Array(12).fill(0.5)));
      const sync = new Layer({ dModel: 4, dHidden: 8 });
      let error = null;
      try { await Layer.create({ dModel: 4, dHidden: 8, kernel: "wasm" }); }
      catch (e) { error = e.constructor.name + ": " + e.message; }
      let syncError = null;
      try { new Layer({ dModel: 4, dHidden: 8, kernel: "wasm" }); }
      catch (e) { syncError = e.message; }
      out[Layer.name] = {
        kernel: auto.kernel, sync: sync.kernel, threads: auto.threads,
        fallback: auto.threadsFallback, rows: y.rows, error, syncError,
      };
    }
    console.log(JSON.stringify(out));
  `;
  const printed = execFileSync(
    process.execPath,
    ["--no-expose-wasm", "--input-type=module", "-e", script],
    { encoding: "utf8", timeout: 60_000 },
  );
  const r = JSON.parse(printed);
  expect(r.webAssembly).toBe("undefined");
  for (const name of ["FeedForward", "GatedFeedForward"]) {
    expect(r[name], name).toEqual({
      kernel: "js",
      sync: "js",
      threads: 1,
      fallback: "threads need the wasm kernel; this layer runs the js kernel",
      rows: 3,
      error: `Error: ${name}.create: kernel "wasm" is not available: this engine has no WebAssembly`,
      syncError: `${name}: kernel "wasm" is not available: this engine has no WebAssembly`,
    });
  }
});
