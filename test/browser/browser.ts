// What every browser test file shares: Debian's Chromium through playwright-core, our static
// server, a harness page that loads the built package, and float <-> bit-pattern helpers.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { assertDistFresh } from "../../scripts/built.mjs";
import { startServer, type Mode, type StaticServer } from "./server";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = join(ROOT, "dist", "index.js");
export const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The package as the browser pages see it: the built ESM bundle. */
export type Tokenwise = typeof import("../../src/index");

declare global {
  interface Window {
    tokenwise: Tokenwise;
    harnessReady?: boolean;
    harnessError?: string;
    cspViolations: string[];
    /** Resolves in a new task of the page: code after it runs under the page's policy. */
    pageTask(): Promise<void>;
  }
}

/**
 * Throws a clear error unless dist/ is a build of the current sources: the browser tests run the
 * built bundle, and a stale one would test old code.
 */
export function assertBuilt(): void {
  assertDistFresh("browser tests");
}

/** The built package imported in Node (for gates on what it has). */
export async function importBuilt(): Promise<Tokenwise> {
  assertBuilt();
  return (await import(pathToFileURL(DIST).href)) as Tokenwise;
}

export interface Session {
  browser: Browser;
  context: BrowserContext;
  server: StaticServer;
  close(): Promise<void>;
}

/**
 * Chromium's switches for WebGPU on SwiftShader, its CPU Vulkan driver (headless, no GPU): the
 * adapter the webgpu kernel's page tests get from navigator.gpu.
 */
export const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

/**
 * One Chromium (with `extraArgs` on its command line) and one server for a test file. Throws a
 * clear error if Chromium is missing.
 */
export async function openSession(extraArgs: readonly string[] = []): Promise<Session> {
  assertBuilt();
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `browser tests: no Chromium at ${CHROMIUM}. Run scripts/ensure-chromium.sh (as root it installs Debian's chromium package); the tests never download a browser.`,
    );
  }
  const server = await startServer({ root: ROOT });
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, ...extraArgs],
    });
  } catch (e) {
    await server.close();
    throw e;
  }
  const context = await browser.newContext();
  return {
    browser,
    context,
    server,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Collects a page's uncaught errors, console errors (CSP reports among them) and HTTP errors. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return errors;
}

/**
 * Opens the harness page under a mode and waits until it has loaded the built package as
 * `window.tokenwise`. Page errors are collected in `errors`.
 */
export async function openHarness(
  session: Session,
  mode: Mode,
): Promise<{ page: Page; errors: string[] }> {
  const page = await session.context.newPage();
  const errors = watchErrors(page);
  const response = await page.goto(session.server.url(mode, "test/browser/pages/harness.html"));
  if (response?.status() !== 200) throw new Error(`harness: HTTP ${response?.status()}`);
  await page.waitForFunction(() => window.harnessReady === true || window.harnessError);
  const failed = await page.evaluate(() => window.harnessError);
  if (failed !== undefined) {
    throw new Error(`harness (${mode}): loading dist/index.js failed: ${failed}; ${errors}`);
  }
  return { page, errors };
}

/** The bit patterns of float32 values: -0, NaN payloads and all survive JSON. */
export function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** Float32 values from bit patterns. */
export function fromBits(b: readonly number[]): Float32Array {
  return new Float32Array(Uint32Array.from(b).buffer);
}

/** Row i (of width `cols`) of a flat bit-pattern array. */
export function rowBits(b: readonly number[], i: number, cols: number): number[] {
  return b.slice(i * cols, (i + 1) * cols);
}
