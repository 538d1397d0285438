// Under a strict Content-Security-Policy: no eval or new Function anywhere in tokenwise, and a
// clear answer about WebAssembly when the policy forbids compiling it.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KernelChoice } from "../../src/index";
import { openHarness, openSession, type Session } from "./browser";
import { CASES, expectSameBits, nodeForward, runInPage } from "./cases";
import type { Mode } from "./server";

let session: Session;
const pages = {} as Record<Mode, Page>;
const errors = {} as Record<Mode, string[]>;

beforeAll(async () => {
  session = await openSession();
  for (const mode of ["plain", "csp-strict", "csp-wasm"] as const) {
    ({ page: pages[mode], errors: errors[mode] } = await openHarness(session, mode));
  }
});

afterAll(async () => {
  await session?.close();
});

/** What the page's policy lets run: eval, new Function, and compiling the smallest wasm module. */
async function probe(page: Page) {
  return page.evaluate(async () => {
    await window.pageTask(); // run as the page's own code, under its policy
    const attempt = async (f: () => unknown) => {
      try {
        await f();
        return "ran";
      } catch (e) {
        return (e as Error).name;
      }
    };
    return {
      // eslint-disable-next-line no-restricted-syntax -- checks that the page's policy forbids it
      eval: await attempt(() => eval("1")),
      // eslint-disable-next-line no-restricted-syntax -- checks that the page's policy forbids it
      newFunction: await attempt(() => new Function("return 1")()),
      // "\0asm", version 1: an empty module.
      wasm: await attempt(() => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))),
    };
  });
}

describe("the test pages enforce their policies", () => {
  it("plain: no policy, everything runs (the control)", async () => {
    expect(await probe(pages.plain)).toEqual({ eval: "ran", newFunction: "ran", wasm: "ran" });
  });

  it("csp-strict (script-src 'self'): eval, new Function and WebAssembly are refused", async () => {
    expect(await probe(pages["csp-strict"])).toEqual({
      eval: "EvalError",
      newFunction: "EvalError",
      wasm: "CompileError",
    });
  });

  it("csp-wasm (script-src 'self' 'wasm-unsafe-eval'): only WebAssembly runs", async () => {
    expect(await probe(pages["csp-wasm"])).toEqual({
      eval: "EvalError",
      newFunction: "EvalError",
      wasm: "ran",
    });
  });
});

describe.each(["csp-strict", "csp-wasm"] as const)("under %s", (mode) => {
  it("the JS kernel runs with Node's bits and trips no policy violation", async () => {
    const page = pages[mode];
    await page.evaluate(() => (window.cspViolations.length = 0));
    const results = await runInPage(page, "js", CASES);
    for (const [i, c] of CASES.entries()) {
      expectSameBits(results[i]!.y, await nodeForward("js", c), c.dModel, `${mode}, js`);
    }
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
  });

  it("loading tokenwise raised no error", () => {
    expect(errors[mode]).toEqual([]);
  });
});

describe("WebAssembly under a policy", () => {
  const options = { dModel: 16, dHidden: 64, seed: 3 };

  async function create(page: Page, kernel: KernelChoice) {
    return page.evaluate(
      async ({ options, kernel }) => {
        await window.pageTask(); // run as the page's own code, under its policy
        const { FeedForward } = window.tokenwise;
        try {
          const ffn = await FeedForward.create({ ...options, kernel });
          const name = ffn.kernel;
          ffn.dispose();
          return { kernel: name, error: null };
        } catch (e) {
          return { kernel: null, error: `${(e as Error).name}: ${(e as Error).message}` };
        }
      },
      { options, kernel },
    );
  }

  it("csp-strict: kernel 'auto' falls back to JS", async () => {
    expect(await create(pages["csp-strict"], "auto")).toEqual({ kernel: "js", error: null });
  });

  it("csp-strict: kernel 'wasm' fails with an error that names the policy", async () => {
    const { kernel, error } = await create(pages["csp-strict"], "wasm");
    expect(kernel).toBeNull();
    expect(error).toMatch(/WebAssembly/);
    expect(error).toMatch(/Content-Security-Policy|wasm-unsafe-eval/);
  });

  it("csp-wasm: kernel 'wasm' runs with Node's bits, and 'auto' picks it", async () => {
    const page = pages["csp-wasm"];
    await page.evaluate(() => (window.cspViolations.length = 0));
    const results = await runInPage(page, "wasm", CASES);
    for (const [i, c] of CASES.entries()) {
      expect(results[i]!.kernel).toBe("wasm");
      expectSameBits(results[i]!.y, await nodeForward("wasm", c), c.dModel, "csp-wasm, wasm");
    }
    expect(await create(page, "auto")).toEqual({ kernel: "wasm", error: null });
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
  });
});
