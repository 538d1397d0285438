// The webgpu kernel in Chromium: navigator.gpu on SwiftShader (a CPU adapter), a page served
// from 127.0.0.1 loading the built package. Both layers, every activation, against the float64
// model and bound of test/helpers/gpu64.ts; and per token, bit for bit, within the page.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivationName } from "../../src/index";
import { seededFloats } from "../helpers/arbitraries";
import { gpuForward64 } from "../helpers/gpu64";
import { outsideBound } from "../helpers/reference64";
import { WEBGPU_ARGS, bits, fromBits, openHarness, openSession, type Session } from "./browser";

const ACTIVATIONS: readonly ActivationName[] = ["relu", "gelu", "geluTanh", "silu"];
const D = 19;
const H = 70;
const ROWS = 17;

let session: Session;
let page: Page;
let errors: string[];

beforeAll(async () => {
  session = await openSession(WEBGPU_ARGS);
  ({ page, errors } = await openHarness(session, "plain"));
});

afterAll(async () => {
  await session?.close();
});

interface PageRun {
  kernel: string;
  /** The batch's output bits. */
  y: number[];
  /** Each token run alone, its output bits, concatenated. */
  alone: number[];
}

/** Runs a layer of the given weights (as bits) with kernel "webgpu" in the page. */
function runInPage(
  gated: boolean,
  activation: ActivationName,
  wIn: number[][],
  wOut: number[],
  x: number[],
): Promise<PageRun> {
  return page.evaluate(
    async ({ gated, activation, wIn, wOut, x, D, H, ROWS }) => {
      const { FeedForward, GatedFeedForward, matrix } = window.tokenwise;
      const f = (b: number[]) => new Float32Array(Uint32Array.from(b).buffer);
      const m = (b: number[], r: number, c: number) => matrix(r, c, f(b));
      const layer = gated
        ? await GatedFeedForward.create({
            weights: {
              wGate: m(wIn[0] as number[], D, H),
              wUp: m(wIn[1] as number[], D, H),
              wDown: m(wOut, H, D),
            },
            activation,
            kernel: "webgpu",
          })
        : await FeedForward.create({
            weights: { w1: m(wIn[0] as number[], D, H), w2: m(wOut, H, D) },
            activation,
            kernel: "webgpu",
          });
      const toBits = (a: Float32Array) =>
        Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
      const xs = f(x);
      const y = toBits((await layer.forwardAsync(matrix(ROWS, D, xs))).data);
      const alone: number[] = [];
      for (let t = 0; t < ROWS; t++) {
        const one = await layer.forwardAsync(matrix(1, D, xs.slice(t * D, (t + 1) * D)));
        alone.push(...toBits(one.data));
      }
      const kernel = layer.kernel;
      layer.dispose();
      return { kernel, y, alone };
    },
    { gated, activation, wIn, wOut, x, D, H, ROWS },
  );
}

describe("kernel webgpu in Chromium (SwiftShader)", () => {
  for (const gated of [false, true]) {
    for (const [a, activation] of ACTIVATIONS.entries()) {
      it(`${gated ? "GatedFeedForward" : "FeedForward"}, ${activation}: per token bit for bit, within the float64 bound`, async () => {
        const seed = 100 * a + (gated ? 50 : 0);
        const wIn = Array.from({ length: gated ? 2 : 1 }, (_, m) =>
          seededFloats(D * H, seed + m + 1, 0.3),
        );
        const wOut = seededFloats(H * D, seed + 7, 0.2);
        const x = seededFloats(ROWS * D, seed + 9, 2);
        const run = await runInPage(gated, activation, wIn.map(bits), bits(wOut), bits(x));
        expect(run.kernel).toBe("webgpu");
        expect(run.alone).toEqual(run.y);
        const model = gpuForward64(
          { dModel: D, dHidden: H, activation, wIn, bIn: wIn.map(() => null), wOut, bOut: null },
          x,
          ROWS,
        );
        expect(outsideBound(fromBits(run.y), model.y, model.bound)).toEqual([]);
      });
    }
  }

  it("left no page errors", () => {
    expect(errors).toEqual([]);
  });
});
