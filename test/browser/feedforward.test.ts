// The built package in real Chromium gives the same bits as Node, and keeps every token to itself.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KernelName } from "../../src/index";
import { openHarness, openSession, rowBits, type Session } from "./browser";
import {
  CASES,
  expectSameBits,
  expectWithinModel,
  nodeForward,
  reverseRowBits,
  runInPage,
  type PageResult,
} from "./cases";

// Every kernel the package has; a layer comes from `await FeedForward.create(...)` in the page
// and in Node (cases.ts). Threads have their own file.
const KERNELS: readonly KernelName[] = ["js", "wasm"];

let session: Session;
let page: Page;
let errors: string[];

beforeAll(async () => {
  session = await openSession();
  ({ page, errors } = await openHarness(session, "plain"));
});

afterAll(async () => {
  await session?.close();
});

describe.each(KERNELS)("kernel %s in Chromium", (kernel) => {
  let results: PageResult[];

  beforeAll(async () => {
    results = await runInPage(page, kernel, CASES);
  });

  it("runs the kernel asked for", () => {
    expect(results.map((r) => r.kernel)).toEqual(CASES.map(() => kernel));
  });

  it.each(CASES.map((c, i) => [`${c.tokens}x${c.dModel} -> ${c.dHidden}`, i] as const))(
    "gives Node's bits for %s",
    async (_, i) => {
      const c = CASES[i]!;
      const node = await nodeForward(kernel, c);
      expect(node.length).toBe(c.tokens * c.dModel);
      expectSameBits(results[i]!.y, node, c.dModel, `page vs Node (${kernel})`);
    },
  );

  it.each(CASES.map((c, i) => [`${c.tokens}x${c.dModel} -> ${c.dHidden}`, i] as const))(
    "is within the forward-error bound of a float64 model (not Node's code) for %s",
    async (_, i) => {
      await expectWithinModel(results[i]!.y, kernel, CASES[i]!, `page vs float64 (${kernel})`);
    },
  );

  it("gives each row alone (forwardToken) the bits of its row in the batch", () => {
    CASES.forEach((c, i) => {
      expectSameBits(results[i]!.alone, results[i]!.y, c.dModel, `forwardToken vs forward`);
    });
  });

  it("gives a token the same bits at any position (rows reversed)", () => {
    CASES.forEach((c, i) => {
      const back = reverseRowBits(results[i]!.reversed, c.tokens, c.dModel);
      expectSameBits(back, results[i]!.y, c.dModel, `reversed batch`);
    });
  });

  it("gives a token the same bits whatever its neighbours (odd rows replaced)", () => {
    let compared = 0;
    CASES.forEach((c, i) => {
      for (let r = 0; r < c.tokens; r += 2) {
        const mine = rowBits(results[i]!.mixed, r, c.dModel);
        expectSameBits(mine, rowBits(results[i]!.y, r, c.dModel), c.dModel, `row ${r}`);
        compared++;
      }
      // The replaced rows must differ, or the check above would prove nothing about neighbours.
      if (c.tokens > 1)
        expect(rowBits(results[i]!.mixed, 1, c.dModel)).not.toEqual(
          rowBits(results[i]!.y, 1, c.dModel),
        );
    });
    expect(compared).toBeGreaterThan(CASES.length);
  });
});

it("loads and runs with no error in the page", () => {
  expect(errors).toEqual([]);
});
