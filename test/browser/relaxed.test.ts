// The quantized kernels on relaxed SIMD in Chromium (whose V8 has it on): test/support's
// relaxed-check, bundled for the page, builds each of its layers with relaxed SIMD off and on,
// on one thread and on two and three workers (a cross-origin isolated page), and compares their
// outputs' bits, as the Node test does in a process with --experimental-wasm-relaxed-simd.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openHarness, openSession, type Session } from "./browser";
import { expectRelaxedCheckPassed } from "../helpers/relaxed-summary";
import type { RelaxedSummary } from "../support/relaxed-check";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let session: Session;

beforeAll(async () => {
  session = await openSession();
});

afterAll(async () => {
  await session?.close();
});

it("relaxed SIMD gives qgemm's bits in Chromium, on one thread and on workers", async () => {
  const { page, errors } = await openHarness(session, "isolated");
  const bundled = await build({
    stdin: {
      contents: `
        import { relaxedCheck } from "./test/support/relaxed-check.ts";
        import { hasRelaxedDot } from "./src/kernels/wasm/relaxed.ts";
        import { threadHost } from "./src/threads/platform.ts";
        window.relaxedCheck = async () => ({
          has: hasRelaxedDot(),
          summary: hasRelaxedDot() ? await relaxedCheck(await threadHost()) : null,
        });
      `,
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  await page.addScriptTag({ content: bundled.outputFiles[0]?.text ?? "", type: "module" });
  await page.waitForFunction(() => "relaxedCheck" in window);
  const got = await page.evaluate(() =>
    (
      window as unknown as {
        relaxedCheck(): Promise<{ has: boolean; summary: RelaxedSummary | null }>;
      }
    ).relaxedCheck(),
  );
  expect(got.has, "Chromium's V8 has relaxed SIMD").toBe(true);
  expectRelaxedCheckPassed(got.summary as RelaxedSummary);
  expect(errors).toEqual([]);
}, 120_000);
