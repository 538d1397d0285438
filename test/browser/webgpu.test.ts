// The webgpu kernel in Chromium: navigator.gpu on SwiftShader (a CPU adapter), a page served
// from 127.0.0.1 loading the built package. Both layers, every activation, against the float64
// model and bound of test/helpers/gpu64.ts; and per token, bit for bit, within the page. A
// MixtureOfExperts likewise, against test/support/moe64.ts's model with the GPU's experts.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActivationName } from "../../src/index";
import { seededFloats } from "../helpers/arbitraries";
import { gpuForward64 } from "../helpers/gpu64";
import { outsideBound } from "../helpers/reference64";
import { type Expert64, moe64 } from "../support/moe64";
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

  it("MixtureOfExperts (softmax, shared expert, silu): per token bit for bit, routed as by the wasm kernel, within the float64 bound", async () => {
    const [d, h, E, k, hs, T] = [9, 21, 5, 2, 13, 19];
    const expert = (hid: number, s: number) => ({
      wGate: seededFloats(d * hid, s + 1, 0.3),
      wUp: seededFloats(d * hid, s + 2, 0.3),
      wDown: seededFloats(hid * d, s + 3, 0.2),
    });
    const router = seededFloats(d * E, 61, 1 / 3);
    const experts = Array.from({ length: E }, (_, e) => expert(h, 100 + 10 * e));
    const shared = expert(hs, 170);
    const gate = seededFloats(d, 71, 0.5);
    const x = seededFloats(T * d, 81, 2);
    const asBits = (e: ReturnType<typeof expert>) => ({
      wGate: bits(e.wGate),
      wUp: bits(e.wUp),
      wDown: bits(e.wDown),
    });
    const run = await page.evaluate(
      async ({ d, h, E, k, hs, T, router, experts, shared, gate, x }) => {
        const { MixtureOfExperts, matrix } = window.tokenwise;
        const f = (b: number[]) => new Float32Array(Uint32Array.from(b).buffer);
        const m = (b: number[], r: number, c: number) => matrix(r, c, f(b));
        const ex = (e: { wGate: number[]; wUp: number[]; wDown: number[] }, hid: number) => ({
          wGate: m(e.wGate, d, hid),
          wUp: m(e.wUp, d, hid),
          wDown: m(e.wDown, hid, d),
        });
        const weights = {
          router: m(router, d, E),
          experts: experts.map((e) => ex(e, h)),
          shared: ex(shared, hs),
          sharedGate: m(gate, d, 1),
        };
        const layer = await MixtureOfExperts.create({ weights, topK: k, kernel: "webgpu" });
        const wasm = MixtureOfExperts.fromWeights(weights, { topK: k, kernel: "wasm" });
        const toBits = (a: Float32Array) =>
          Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
        const xs = f(x);
        const y = toBits((await layer.forwardAsync(matrix(T, d, xs))).data);
        const alone: number[] = [];
        for (let t = 0; t < T; t++) {
          const one = await layer.forwardAsync(matrix(1, d, xs.slice(t * d, (t + 1) * d)));
          alone.push(...toBits(one.data));
        }
        const r = layer.route(matrix(T, d, xs));
        const rw = wasm.route(matrix(T, d, xs));
        const sameRoute =
          r.experts.every((v, i) => v === rw.experts[i]) &&
          r.weights.every((v, i) => Object.is(v, rw.weights[i]));
        const kernel = layer.kernel;
        layer.dispose();
        wasm.dispose();
        return { kernel, y, alone, sameRoute };
      },
      {
        d,
        h,
        E,
        k,
        hs,
        T,
        router: bits(router),
        experts: experts.map(asBits),
        shared: asBits(shared),
        gate: bits(gate),
        x: bits(x),
      },
    );
    expect(run.kernel).toBe("webgpu");
    expect(run.sameRoute).toBe(true);
    expect(run.alone).toEqual(run.y);
    const e64 = (e: ReturnType<typeof expert>, hid: number): Expert64 => ({
      dHidden: hid,
      ...e,
      bGate: null,
      bUp: null,
      bDown: null,
    });
    const model = moe64(
      {
        dModel: d,
        activation: "silu",
        topK: k,
        scoring: "softmax",
        normalize: true,
        routedScale: 1,
        router,
        routerBias: null,
        selectionBias: null,
        experts: experts.map((e) => e64(e, h)),
        shared: e64(shared, hs),
        sharedGate: gate,
      },
      x,
      T,
      "gpu",
    );
    expect(model.chosen.every((c) => c !== null)).toBe(true);
    expect(outsideBound(fromBits(run.y), model.y, model.bound)).toEqual([]);
  });

  it("left no page errors", () => {
    expect(errors).toEqual([]);
  });
});
