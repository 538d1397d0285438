// Inputs made in Node, run through the layer both in Node and in a Chromium page, compared bit for
// bit. Inputs and outputs cross the page boundary as uint32 bit patterns, so -0 and every last bit
// arrive as they are.
import type { Page } from "playwright-core";
import { expect } from "vitest";
import {
  type ActivationName,
  FeedForward,
  GatedFeedForward,
  Random,
  type KernelName,
} from "../../src/index";
import { feedForward64, gated64, outside } from "../support/layer64";
import { bits, fromBits } from "./browser";

export interface Case {
  dModel: number;
  dHidden: number;
  seed: number;
  tokens: number;
  /** x, (tokens, dModel), as bit patterns. */
  x: number[];
  /** x with its rows in reverse order. */
  reversed: number[];
  /** x with every odd row replaced by other values: even rows get new neighbours. */
  mixed: number[];
  /** The layer's activation; relu when absent. */
  activation?: ActivationName;
  /** A GatedFeedForward (no biases) instead of a FeedForward; give it an activation. */
  gated?: boolean;
}

function randomRows(rng: Random, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (2 * rng.float() - 1) * 2;
  return out;
}

function reverseRows(x: Float32Array, tokens: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < tokens; i++) out.set(x.subarray(i * d, (i + 1) * d), (tokens - 1 - i) * d);
  return out;
}

/** A case: awkward sizes, and row 0 starts with -0, a subnormal, +0 and a large value. */
export function makeCase(dModel: number, dHidden: number, tokens: number, seed: number): Case {
  const rng = new Random(seed + 1000);
  const x = randomRows(rng, tokens * dModel);
  const specials = [-0, Math.fround(1e-40), 0, 30000, -1e-3];
  for (let k = 0; k < Math.min(dModel, specials.length) && tokens > 0; k++) {
    x[k] = specials[k] as number;
  }
  const mixed = x.slice();
  const other = randomRows(rng, tokens * dModel);
  for (let i = 1; i < tokens; i += 2) {
    mixed.set(other.subarray(i * dModel, (i + 1) * dModel), i * dModel);
  }
  return {
    dModel,
    dHidden,
    seed,
    tokens,
    x: bits(x),
    reversed: bits(reverseRows(x, tokens, dModel)),
    mixed: bits(mixed),
  };
}

/** dModel and dHidden of 1 and primes; 33 tokens cross the JS kernel's 32-row block. */
export const CASES: readonly Case[] = [
  makeCase(1, 1, 1, 1),
  makeCase(7, 13, 5, 2),
  makeCase(16, 64, 33, 3),
  makeCase(64, 256, 3, 4),
  makeCase(5, 9, 0, 5),
];

type Options = {
  dModel: number;
  dHidden: number;
  seed: number;
  kernel: KernelName;
  activation?: ActivationName;
};
/**
 * A layer in Node: `new FeedForward` for "js", `await FeedForward.create` for other kernels (a
 * GatedFeedForward likewise for a gated case).
 */
export async function nodeLayer(
  kernel: KernelName,
  c: Case,
): Promise<FeedForward | GatedFeedForward> {
  const options: Options = { dModel: c.dModel, dHidden: c.dHidden, seed: c.seed, kernel };
  if (c.activation !== undefined) options.activation = c.activation;
  if (c.gated === true) {
    return kernel === "js" ? new GatedFeedForward(options) : GatedFeedForward.create(options);
  }
  if (kernel === "js") return new FeedForward(options);
  return FeedForward.create(options);
}

/** Node's output for a case, as bit patterns. */
export async function nodeForward(kernel: KernelName, c: Case): Promise<number[]> {
  const ffn = await nodeLayer(kernel, c);
  const y = ffn.forward({ rows: c.tokens, cols: c.dModel, data: fromBits(c.x) });
  ffn.dispose();
  return bits(y.data);
}

/**
 * Holds a page's output for a case to a float64 model of the layer written apart from src/
 * (test/support/layer64.ts), within the forward-error bound derived for the kernel (float64
 * sums for "js", float32 ones for "wasm"): Node's bits could carry the same deterministic kernel
 * bug as the page's, the model cannot. The weights are the seeded layer's, read in Node.
 */
export async function expectWithinModel(
  actual: readonly number[],
  kernel: KernelName,
  c: Case,
  what: string,
): Promise<void> {
  const layer = await nodeLayer(kernel, c);
  const w = layer.weights;
  layer.dispose();
  const acc = kernel === "js" ? "f64" : "f32";
  const x = fromBits(c.x);
  const activation = c.activation ?? (c.gated === true ? "silu" : "relu");
  const model =
    "wGate" in w
      ? gated64(
          {
            dModel: c.dModel,
            dHidden: c.dHidden,
            activation,
            wGate: w.wGate.data,
            bGate: w.bGate ?? null,
            wUp: w.wUp.data,
            bUp: w.bUp ?? null,
            wDown: w.wDown.data,
            bDown: w.bDown ?? null,
          },
          x,
          c.tokens,
          acc,
        )
      : feedForward64(
          {
            dModel: c.dModel,
            dHidden: c.dHidden,
            activation,
            w1: w.w1.data,
            b1: w.b1 ?? null,
            w2: w.w2.data,
            b2: w.b2 ?? null,
          },
          x,
          c.tokens,
          acc,
        );
  expect(actual.length, `${what}: length`).toBe(c.tokens * c.dModel);
  // A bound that is not finite would let anything through.
  expect(
    model.bound.every((b) => Number.isFinite(b)),
    `${what}: finite bounds`,
  ).toBe(true);
  const bad = outside(fromBits(actual), model.y, model.bound);
  expect(bad.slice(0, 3), `${what}: ${bad.length} of ${actual.length} outside the bound`).toEqual(
    [],
  );
}

export interface PageResult {
  /** ffn.kernel in the page. */
  kernel: string;
  /** forward(x). */
  y: number[];
  /** forwardToken of each row of x, concatenated. */
  alone: number[];
  /** forward(reversed). */
  reversed: number[];
  /** forward(mixed). */
  mixed: number[];
}

/**
 * Runs every case in the page with the given kernel (the same construction as {@link nodeLayer}).
 * The function below is serialised into the page: it may use only its argument and window.
 */
export async function runInPage(
  page: Page,
  kernel: KernelName,
  cases: readonly Case[],
): Promise<PageResult[]> {
  return page.evaluate(
    async ({ kernel, cases }) => {
      await window.pageTask(); // run as the page's own code, under its policy
      const { FeedForward, matrix } = window.tokenwise;
      const toFloats = (b: number[]) => new Float32Array(Uint32Array.from(b).buffer);
      const toBits = (f: Float32Array) =>
        Array.from(new Uint32Array(f.buffer, f.byteOffset, f.length));
      const results = [];
      for (const c of cases) {
        const options = { dModel: c.dModel, dHidden: c.dHidden, seed: c.seed, kernel };
        const ffn = kernel === "js" ? new FeedForward(options) : await FeedForward.create(options);
        const run = (b: number[]) =>
          toBits(ffn.forward(matrix(c.tokens, c.dModel, toFloats(b))).data);
        const x = toFloats(c.x);
        const alone: number[] = [];
        for (let i = 0; i < c.tokens; i++) {
          alone.push(...toBits(ffn.forwardToken(x.slice(i * c.dModel, (i + 1) * c.dModel))));
        }
        results.push({
          kernel: ffn.kernel as string,
          y: run(c.x),
          alone,
          reversed: run(c.reversed),
          mixed: run(c.mixed),
        });
        ffn.dispose();
      }
      return results;
    },
    { kernel, cases },
  );
}

function hex(u: number): string {
  return `0x${(u >>> 0).toString(16).padStart(8, "0")}`;
}

/**
 * Fails, naming the first differing element (row, column, value and bits), unless the two
 * bit-pattern arrays are identical.
 */
export function expectSameBits(
  actual: readonly number[],
  expected: readonly number[],
  cols: number,
  what: string,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const differ = actual.flatMap((a, i) => (a === expected[i] ? [] : [i]));
  if (differ.length === 0) return;
  const i = differ[0] as number;
  const [a, e] = [actual[i] as number, expected[i] as number];
  expect.fail(
    `${what}: ${differ.length} of ${actual.length} elements differ; first at row ${Math.floor(i / cols)}, ` +
      `column ${i % cols}: ${fromBits([a])[0]} (${hex(a)}) instead of ${fromBits([e])[0]} (${hex(e)})`,
  );
}

/** Row i of each of `tokens` rows of a bit array, in reverse row order. */
export function reverseRowBits(b: readonly number[], tokens: number, cols: number): number[] {
  const out: number[] = [];
  for (let i = tokens - 1; i >= 0; i--) out.push(...b.slice(i * cols, (i + 1) * cols));
  return out;
}
