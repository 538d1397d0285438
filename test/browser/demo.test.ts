// The demo page (examples/browser/) in Chromium: it runs the real library, reacts to typing, shows
// that one changed word changes one row, and draws something (a screenshot that is not blank).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, openSession, watchErrors, type Session } from "./browser";
import type { Mode } from "./server";

/** Where the test leaves its screenshot, for a person to look at (git-ignored). */
const SCREENSHOT = join(ROOT, "test", "browser", "output", "demo.png");

let session: Session;

beforeAll(async () => {
  session = await openSession();
});

afterAll(async () => {
  await session?.close();
});

async function openDemo(mode: Mode): Promise<{ page: Page; errors: string[] }> {
  const page = await session.context.newPage();
  const errors = watchErrors(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(session.server.url(mode, "examples/browser/"));
  await page.waitForSelector("#app[data-ready='true']");
  return { page, errors };
}

/** Types a sentence and waits until the page has re-run the layer. */
async function type(page: Page, text: string): Promise<void> {
  const before = Number(await page.getAttribute("#app", "data-run"));
  await page.fill("#sentence", text);
  await page.waitForFunction(
    (n) => Number(document.getElementById("app")?.dataset.run) > n,
    before,
  );
}

const rowsOf = (page: Page) =>
  page.$$eval(".row", (rows) =>
    rows.map((r) => ({
      token: (r as HTMLElement).dataset.token,
      status: (r as HTMLElement).dataset.status,
    })),
  );

describe("the demo, cross-origin isolated as npm run demo:web serves it", () => {
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    ({ page, errors } = await openDemo("isolated"));
  });

  it("shows one row per word, the kernel, the threads and the shapes", async () => {
    await type(page, "the cat sat on the mat");
    expect((await rowsOf(page)).map((r) => r.token)).toEqual([
      "the",
      "cat",
      "sat",
      "on",
      "the",
      "mat",
    ]);
    expect(await page.textContent("#kernel")).toMatch(/^(js|wasm)$/);
    expect(await page.textContent("#threads")).toMatch(/^[1-9][0-9]*$/);
    expect(await page.textContent("#shape")).toBe("16 → 64 → 16");
    // Each row has four strips and says how many of the 64 hidden units ReLU switched off.
    expect(await page.locator(".row canvas.strip").count()).toBe(6 * 4);
    const offs = await page.locator(".row .off-count").allTextContents();
    for (const text of offs) expect(text).toMatch(/^\d+ of 64 units off$/);
    // And the layer's own stats (forwardToken's), as a share: the same count.
    const shares = await page.locator(".row .zero-share").allTextContents();
    expect(shares).toEqual(
      offs.map((t) => `${Math.round((Number(t.split(" ")[0]) / 64) * 100)}% zero, skipped`),
    );
    // "the" at positions 1 and 5: the same bits.
    expect(await page.locator(".row[data-index='4'] .twin").textContent()).toBe("same bits as #1");
  });

  it("checks its step-by-step picture against ffn.forward: bit for bit", async () => {
    expect(await page.getAttribute("#check", "class")).toBe("check ok");
    expect(await page.textContent("#check")).toContain("bit for bit");
  });

  it("reports a time per token", async () => {
    await page.waitForFunction(() => /µs$/.test(document.getElementById("timing")!.textContent!));
    expect(await page.textContent("#timing")).toMatch(/^\d+(\.\d+)? µs$/);
  });

  it("changing one word changes only its row; the others stay bitwise identical", async () => {
    await type(page, "the dog sat on the mat");
    expect(await rowsOf(page)).toEqual([
      { token: "the", status: "identical" },
      { token: "dog", status: "changed" },
      { token: "sat", status: "identical" },
      { token: "on", status: "identical" },
      { token: "the", status: "identical" },
      { token: "mat", status: "identical" },
    ]);
    expect(await page.textContent("#summary")).toBe(
      "1 row changed (cat → dog); other rows: 5 bitwise identical to the last run.",
    );
  });

  it("a picked word comes in as a new row", async () => {
    const before = Number(await page.getAttribute("#app", "data-run"));
    await page.click("#words button:text-is('quietly')");
    await page.waitForFunction(
      (n) => Number(document.getElementById("app")?.dataset.run) > n,
      before,
    );
    const rows = await rowsOf(page);
    expect(rows).toHaveLength(7);
    expect(rows[6]).toEqual({ token: "quietly", status: "new" });
    expect(rows.slice(0, 6).every((r) => r.status === "identical")).toBe(true);
  });

  it("a new layer seed makes a new layer: every row new, still bit for bit", async () => {
    const before = Number(await page.getAttribute("#app", "data-run"));
    await page.fill("#seed", "7");
    await page.dispatchEvent("#seed", "change");
    await page.waitForFunction(
      (n) => Number(document.getElementById("app")?.dataset.run) > n,
      before,
    );
    expect(await page.textContent("#summary")).toBe("New layer (seed 7): every row is new.");
    expect((await rowsOf(page)).every((r) => r.status === "new")).toBe(true);
    expect(await page.getAttribute("#check", "class")).toBe("check ok");
  });

  it("follows a clicked word step by step", async () => {
    await page.click(".row[data-index='2']");
    expect(await page.textContent("#spot-title")).toBe("“sat”, step by step");
    expect(await page.getAttribute(".row[data-index='2']", "class")).toContain("selected");
    const off = await page.textContent(".row[data-index='2'] .off-count");
    expect(await page.textContent("#spot-kept-note")).toBe(`${off!.split(" ")[0]} switched off`);
  });

  it("draws every strip: no canvas is a single colour", async () => {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const colours = await page.$$eval("canvas", (canvases) =>
      canvases.map((c) => {
        const canvas = c as HTMLCanvasElement;
        const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
        const seen = new Set<number>();
        for (let i = 0; i < data.length; i += 4) {
          seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
        }
        return seen.size;
      }),
    );
    expect(colours).toHaveLength(7 * 4 + 4); // the strips, and the spotlight's four grids
    for (const n of colours) expect(n).toBeGreaterThan(1);
  });

  it("looks like something: a screenshot with many colours and no single-colour page", async () => {
    await type(page, "the cat sat on the mat");
    await type(page, "the dog sat on the mat");
    await page.mouse.move(10, 10);
    const png = await page.screenshot({ fullPage: true });
    mkdirSync(join(ROOT, "test", "browser", "output"), { recursive: true });
    writeFileSync(SCREENSHOT, png);
    // Decode the PNG in a blank page and count what is in it.
    const blank = await session.context.newPage();
    const stats = await blank.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const image = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
      const canvas = new OffscreenCanvas(image.width, image.height);
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(image, 0, 0);
      const { data } = ctx.getImageData(0, 0, image.width, image.height);
      const counts = new Map<number, number>();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const pixels = data.length / 4;
      return {
        width: image.width,
        height: image.height,
        colours: counts.size,
        commonest: Math.max(...counts.values()) / pixels,
      };
    }, png.toString("base64"));
    await blank.close();
    expect(stats.width).toBe(1440);
    expect(stats.height).toBeGreaterThan(600);
    // A blank page is one colour. The strips alone paint 6 rows x 160 cells of graded colour,
    // so hundreds of distinct colours; and the background cannot cover nearly everything.
    expect(stats.colours).toBeGreaterThan(300);
    expect(stats.commonest).toBeLessThan(0.9);
  });

  it("shows each word's experts, and that a word routed alone gets the same bits", async () => {
    await page.waitForSelector("#routing[data-ready='true']");
    const before = Number(await page.getAttribute("#routing", "data-run"));
    await type(page, "the dog ran under the sofa");
    await page.waitForFunction(
      (n) => Number(document.getElementById("routing")?.dataset.run) > n,
      before,
    );
    const rows = await page.$$eval(".route-row:not(.head)", (rs) =>
      rs.map((r) => ({
        token: (r as HTMLElement).dataset.token,
        weights: Array.from(r.querySelectorAll(".expert.chosen"), (c) =>
          Number((c as HTMLElement).dataset.weight),
        ),
        alone: r.querySelector(".alone")?.textContent,
      })),
    );
    expect(rows.map((r) => r.token)).toEqual(["the", "dog", "ran", "under", "the", "sofa"]);
    for (const r of rows) {
      // Two experts each, their weights renormalised to sum 1 (two float32 roundings apart).
      expect(r.weights).toHaveLength(2);
      expect(Math.abs((r.weights[0] as number) + (r.weights[1] as number) - 1)).toBeLessThan(1e-6);
      expect(r.alone).toBe("same bits");
    }
    // "the" twice: the same experts and weights.
    expect(rows[4]?.weights).toEqual(rows[0]?.weights);
    expect(await page.textContent("#routes-check")).toBe(
      "6 of 6 words routed alone get the same experts, weights and output bits as in the batch.",
    );
    expect(await page.textContent("#routing-shape")).toMatch(
      /^8 experts of 16 → 32 → 16, top 2, (js|wasm)$/,
    );
  });

  it("raised no error", () => {
    expect(errors).toEqual([]);
  });
});

it("runs under a strict Content-Security-Policy too (script-src 'self')", async () => {
  const { page, errors } = await openDemo("csp-strict");
  expect((await rowsOf(page)).map((r) => r.token)).toEqual([
    "the",
    "cat",
    "sat",
    "on",
    "the",
    "mat",
  ]);
  expect(await page.getAttribute("#check", "class")).toBe("check ok");
  expect(errors).toEqual([]);
  await page.close();
});
