// Threads in the page: two workers on a cross-origin isolated page, the same bits as Node on one
// thread; one thread, and a readable reason, on a page without SharedArrayBuffer.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KernelName } from "../../src/index";
import { openHarness, openSession, type Session } from "./browser";
import { expectSameBits, expectWithinModel, makeCase, nodeForward, type Case } from "./cases";
import type { Mode } from "./server";

// Threads run the WebAssembly kernel (a js layer says so in threadsFallback).
const KERNELS: readonly KernelName[] = ["wasm"];

// 1 token, and enough tokens and columns to give two threads rows and columns to split.
// gelu runs in the workers too, bundled into their script; and the gated layer (SwiGLU).
const THREAD_CASES: readonly Case[] = [
  makeCase(24, 96, 1, 11),
  makeCase(24, 96, 37, 12),
  { ...makeCase(24, 96, 37, 13), activation: "gelu" },
  { ...makeCase(24, 96, 37, 14), activation: "silu", gated: true },
];

let session: Session;
const pages = {} as Record<Mode, Page>;
const errors = {} as Record<Mode, string[]>;

beforeAll(async () => {
  session = await openSession();
  for (const mode of ["isolated", "plain", "isolated-no-blob"] as const) {
    ({ page: pages[mode], errors: errors[mode] } = await openHarness(session, mode));
  }
});

afterAll(async () => {
  await session?.close();
});

it("the isolated page has SharedArrayBuffer and the plain page has not", async () => {
  const look = (page: Page) =>
    page.evaluate(() => ({
      crossOriginIsolated: window.crossOriginIsolated,
      sharedArrayBuffer: typeof SharedArrayBuffer === "function",
    }));
  expect(await look(pages.isolated)).toEqual({
    crossOriginIsolated: true,
    sharedArrayBuffer: true,
  });
  expect(await look(pages.plain)).toEqual({ crossOriginIsolated: false, sharedArrayBuffer: false });
});

/** Runs forwardAsync in the page on a layer made with `threads: 2`. */
async function runThreaded(page: Page, kernel: KernelName, c: Case) {
  return page.evaluate(
    async ({ kernel, c }) => {
      await window.pageTask(); // run as the page's own code, under its policy
      const { FeedForward, GatedFeedForward, matrix } = window.tokenwise;
      const x = matrix(c.tokens, c.dModel, new Float32Array(Uint32Array.from(c.x).buffer));
      const options = {
        dModel: c.dModel,
        dHidden: c.dHidden,
        seed: c.seed,
        kernel,
        threads: 2,
        activation: c.activation ?? "relu",
      };
      const Layer = c.gated === true ? GatedFeedForward : FeedForward;
      const ffn = await Layer.create(options);
      const y = await ffn.forwardAsync(x);
      const out = matrix(c.tokens, c.dModel);
      const same = (await ffn.forwardAsync(x, out)) === out;
      const result = {
        kernel: ffn.kernel,
        threads: ffn.threads,
        threadsFallback: ffn.threadsFallback,
        y: Array.from(new Uint32Array(y.data.buffer, y.data.byteOffset, y.data.length)),
        out: Array.from(new Uint32Array(out.data.buffer)),
        returnsOut: same,
      };
      ffn.dispose();
      return result;
    },
    { kernel, c },
  );
}

/**
 * On a layer made with `threads: 2`: a synchronous forward first (the page's main thread may not
 * block, so it must compute there), then forwardAsync (on the workers), then forward again.
 */
async function runBlockingThenAsync(page: Page, kernel: KernelName, c: Case) {
  return page.evaluate(
    async ({ kernel, c }) => {
      await window.pageTask(); // run as the page's own code, under its policy
      const { FeedForward, GatedFeedForward, matrix } = window.tokenwise;
      const toBits = (m: { data: Float32Array }) =>
        Array.from(new Uint32Array(m.data.buffer, m.data.byteOffset, m.data.length));
      const x = matrix(c.tokens, c.dModel, new Float32Array(Uint32Array.from(c.x).buffer));
      const options = {
        dModel: c.dModel,
        dHidden: c.dHidden,
        seed: c.seed,
        kernel,
        threads: 2,
        activation: c.activation ?? "relu",
      };
      const Layer = c.gated === true ? GatedFeedForward : FeedForward;
      const ffn = await Layer.create(options);
      const state = () => ({ threads: ffn.threads, threadsFallback: ffn.threadsFallback });
      const first = toBits(ffn.forward(x));
      const afterFirst = state();
      const async = toBits(await ffn.forwardAsync(x));
      const afterAsync = state();
      const again = toBits(ffn.forward(x));
      const result = { first, afterFirst, async, afterAsync, again, end: state() };
      ffn.dispose();
      return result;
    },
    { kernel, c },
  );
}

describe.each(KERNELS)("threads, kernel %s", (kernel) => {
  const label = (c: Case) => `${c.gated === true ? "gated " : ""}${c.activation ?? "relu"}`;
  it.each(THREAD_CASES.map((c) => [c.tokens, label(c), c] as const))(
    "isolated page, %i tokens, %s: 2 threads, Node's bits, within a float64 model's bound",
    async (_, __, c) => {
      const r = await runThreaded(pages.isolated, kernel, c);
      expect(r).toMatchObject({ kernel, threads: 2, threadsFallback: null, returnsOut: true });
      const node = await nodeForward(kernel, c);
      expectSameBits(r.y, node, c.dModel, `2 threads (${kernel}) vs Node`);
      expectSameBits(r.out, node, c.dModel, `2 threads into out (${kernel}) vs Node`);
      await expectWithinModel(r.y, kernel, c, `2 threads (${kernel}) vs float64`);
    },
  );

  it.each(THREAD_CASES.map((c) => [c.tokens, label(c), c] as const))(
    "isolated page, %i tokens, %s: a blocking forward on the main thread computes there, with Node's bits, and the layer stays on 2 threads",
    async (_, __, c) => {
      const r = await runBlockingThenAsync(pages.isolated, kernel, c);
      const onTwo = { threads: 2, threadsFallback: null };
      expect([r.afterFirst, r.afterAsync, r.end]).toEqual([onTwo, onTwo, onTwo]);
      const node = await nodeForward(kernel, c);
      expectSameBits(r.first, node, c.dModel, `forward before any worker ran (${kernel}) vs Node`);
      expectSameBits(r.async, node, c.dModel, `forwardAsync after it (${kernel}) vs Node`);
      expectSameBits(r.again, node, c.dModel, `forward after the workers ran (${kernel}) vs Node`);
    },
  );

  it.each(THREAD_CASES.map((c) => [c.tokens, c] as const))(
    "plain page, %i tokens: falls back to 1 thread, says why, Node's bits, within a float64 model's bound",
    async (_, c) => {
      const r = await runThreaded(pages.plain, kernel, c);
      expect(r).toMatchObject({ kernel, threads: 1, returnsOut: true });
      expect(r.threadsFallback).toMatch(/SharedArrayBuffer|cross-origin/i);
      expectSameBits(r.y, await nodeForward(kernel, c), c.dModel, `fallback (${kernel}) vs Node`);
      await expectWithinModel(r.y, kernel, c, `fallback (${kernel}) vs float64`);
    },
  );

  it.each(THREAD_CASES.map((c) => [c.tokens, c] as const))(
    "isolated page whose policy forbids blob: workers, %i tokens: one thread, says why, Node's bits",
    async (_, c) => {
      const r = await runThreaded(pages["isolated-no-blob"], kernel, c);
      expect(r).toMatchObject({ kernel, threads: 1, returnsOut: true });
      expect(r.threadsFallback).toMatch(/worker threads could not start/);
      expectSameBits(r.y, await nodeForward(kernel, c), c.dModel, `no workers (${kernel}) vs Node`);
    },
  );

  it("raised no error in the isolated and plain pages", () => {
    expect({ isolated: errors.isolated, plain: errors.plain }).toEqual({ isolated: [], plain: [] });
  });
});
