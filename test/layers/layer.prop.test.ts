// Properties of every layer on every kernel, from one table: per-token independence, batch
// invariance and permutation equivariance bit for bit (on small values, and on values whose
// sums change with their order even in float64: see `cancelling`), forward(x, out), and agreement
// with a float64 model within the derived forward-error bound (test/support/layer64.ts).
//
// Sizes reach every loop of every kernel: dimensions 1..17 and primes (each tail of the js
// kernel's 2 x 4 tiles and the wasm kernel's 16-column panels), 64..97 (two and more passes of
// the wasm 1 x 32 decode tile, and a partial one), batches past 32 (the js kernel's block) and
// past 128 (the wasm kernel's block, and so a second job for the threads).
//
// Skipping zero hidden units (relu layers; docs/numerics.md, "Sparse hidden values") is checked
// the same way: a layer that skips is, bit for bit, the one that does not (`sparse: false`), at
// every share of zero hidden units, with -0, NaN and infinite hidden values and tokens, and with
// infinities and NaN in the last map (which keep the layer dense); and forward's stats count
// the zeros.
//
// The weight type is a dimension too: a bf16 or f16 layer is, bit for bit, the float32 layer on
// its weights rounded to that type (rounded by src/dtype.ts, which test/dtype.test.ts checks on
// every pattern against arithmetic), on every kernel, so every property above holds for it. A
// q8_0 or q4_0 layer computes differently (its activations are quantized per token and block),
// so its properties are checked on their own: a token's bits alone, among other tokens, in any
// order, on 1, 2 and 3 threads and on every kernel are the js kernel's, which
// test/layers/quant.test.ts checks against fixtures from an independent numpy implementation.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ActivationName,
  FeedForward,
  GatedFeedForward,
  type Matrix,
  gelu,
  geluTanh,
  matmul,
  relu,
  row,
  silu,
} from "../../src/index";
import {
  type Dtype16,
  type QuantDtype,
  type WeightDtype,
  narrowInto,
  widenInto,
} from "../../src/dtype";
import { ACTIVATIONS } from "../../src/kernels/activation";
import { feedForwardReference } from "../../src/kernels/reference";
import { seededFloats } from "../helpers/arbitraries";
import { expectSameBits, expectSameMatrix } from "../helpers/bits";
import { KERNELS, type TestKernel, kernelName } from "../kernels";
import { type Model64, feedForward64, gated64, outside } from "../support/layer64";

type AnyLayer = FeedForward | GatedFeedForward;
type Weights = Record<string, Matrix | Float32Array>;

const OP: Record<ActivationName, (x: Matrix) => Matrix> = { relu, gelu, geluTanh, silu };

/** What the properties need of a layer: how to make one, and its float64 model. */
interface LayerCase {
  name: string;
  /** Weight names in order: [weight, bias] of each map; maps into dHidden first. */
  maps: [string, string][];
  expand: number;
  make(
    w: Weights,
    activation: ActivationName,
    kernel: TestKernel,
    dtype?: WeightDtype,
    threads?: number,
    sparse?: boolean,
  ): Promise<AnyLayer>;
  model(
    w: Weights,
    activation: ActivationName,
    x: Float32Array,
    rows: number,
    f32: boolean,
  ): Model64;
  /** The layer as ops: matmul (which sums in float64, as the js kernel does), the activation. */
  ops(w: Weights, activation: ActivationName, x: Matrix): Matrix;
}

const mat = (w: Weights, k: string) => w[k] as Matrix;
const vec = (w: Weights, k: string) => (w[k] as Float32Array | undefined) ?? null;

const LAYERS: LayerCase[] = [
  {
    name: "FeedForward",
    maps: [
      ["w1", "b1"],
      ["w2", "b2"],
    ],
    expand: 1,
    make: (
      w,
      activation,
      kernel,
      dtype = "f32",
      threads = kernel === "wasm-2t" ? 2 : 1,
      sparse = true,
    ) =>
      FeedForward.create({
        weights: w as never,
        activation,
        kernel: kernelName(kernel),
        threads,
        dtype,
        sparse,
      }),
    model: (w, activation, x, rows, f32) =>
      feedForward64(
        {
          dModel: mat(w, "w1").rows,
          dHidden: mat(w, "w1").cols,
          activation,
          w1: mat(w, "w1").data,
          b1: vec(w, "b1"),
          w2: mat(w, "w2").data,
          b2: vec(w, "b2"),
        },
        x,
        rows,
        f32 ? "f32" : "f64",
      ),
    ops: (w, activation, x) => matmul(OP[activation](matmul(x, mat(w, "w1"))), mat(w, "w2")),
  },
  {
    name: "GatedFeedForward",
    maps: [
      ["wGate", "bGate"],
      ["wUp", "bUp"],
      ["wDown", "bDown"],
    ],
    expand: 2,
    make: (
      w,
      activation,
      kernel,
      dtype = "f32",
      threads = kernel === "wasm-2t" ? 2 : 1,
      sparse = true,
    ) =>
      GatedFeedForward.create({
        weights: w as never,
        activation,
        kernel: kernelName(kernel),
        threads,
        dtype,
        sparse,
      }),
    model: (w, activation, x, rows, f32) =>
      gated64(
        {
          dModel: mat(w, "wGate").rows,
          dHidden: mat(w, "wGate").cols,
          activation,
          wGate: mat(w, "wGate").data,
          bGate: vec(w, "bGate"),
          wUp: mat(w, "wUp").data,
          bUp: vec(w, "bUp"),
          wDown: mat(w, "wDown").data,
          bDown: vec(w, "bDown"),
        },
        x,
        rows,
        f32 ? "f32" : "f64",
      ),
    ops: (w, activation, x) => {
      const a = OP[activation](matmul(x, mat(w, "wGate")));
      const u = matmul(x, mat(w, "wUp"));
      const m = { ...a, data: a.data.map((v, i) => v * (u.data[i] as number)) };
      return matmul(m, mat(w, "wDown"));
    },
  },
];

/** A layer dimension: small and awkward (every tile tail), or past the 1 x 32 decode tile. */
const dim = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 17 }) },
  { weight: 2, arbitrary: fc.constantFrom(19, 23, 29, 31, 37) },
  { weight: 1, arbitrary: fc.constantFrom(64, 65, 81, 97) },
);
/** Tokens: none, a few, around the js kernel's 32-token block and the wasm kernel's 128. */
const batch = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 9 }) },
  { weight: 2, arbitrary: fc.constantFrom(31, 32, 33, 64, 65) },
  { weight: 1, arbitrary: fc.constantFrom(127, 128, 129, 131, 257) },
);

/**
 * Values whose sums depend on their order, even in float64: small integers (in [-2, 2]), and in
 * every column of a weight matrix one entry of +2^60 and one of -2^60. When a token's inputs at
 * those two rows are equal (often, for small integers) the big products cancel, and what is
 * left is the small terms summed on one side of them: added to a partial sum of 2^60 a small
 * integer is lost, so summing k forwards keeps those after the pair and summing backwards
 * those before it. A kernel that changes one element's order for some rows, tokens or threads
 * fails the bitwise properties on these (the hidden values of such a layer are small integers,
 * zeros or huge, so the second map's pairs cancel often too).
 */
function cancelling(rows: number, cols: number, seed: number): Float32Array {
  const u = seededFloats(rows * cols + 2 * cols, seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows * cols; i++) out[i] = Math.round((u[i] as number) * 2);
  if (rows < 2) return out;
  for (let j = 0; j < cols; j++) {
    const k1 = Math.floor(((u[rows * cols + 2 * j] as number) * 0.5 + 0.5) * rows) % rows;
    const k2 =
      (k1 +
        1 +
        (Math.floor(((u[rows * cols + 2 * j + 1] as number) * 0.5 + 0.5) * (rows - 1)) %
          (rows - 1))) %
      rows;
    out[k1 * cols + j] = 2 ** 60;
    out[k2 * cols + j] = -(2 ** 60);
  }
  return out;
}

type Values = "small" | "cancelling";
const values = fc.constantFrom<Values>("small", "cancelling");
/** n values of a kind: a (rows, cols) matrix's, or a vector's (rows 1). */
const floats = (kind: Values, rows: number, cols: number, seed: number, scale: number) =>
  kind === "cancelling" ? cancelling(rows, cols, seed) : seededFloats(rows * cols, seed, scale);
/** Tokens of a kind: small integers for "cancelling" (no pairs: the weights have them). */
const tokens = (kind: Values, n: number, seed: number, scale: number) =>
  kind === "cancelling" ? cancelling(1, n, seed) : seededFloats(n, seed, scale);

/** Weights of a layer case: seeded, with or without biases, of small or wide values. */
function weightsOf(c: LayerCase, D: number, H: number, bias: boolean, kind: Values, seed: number) {
  const w: Weights = {};
  c.maps.forEach(([wk, bk], i) => {
    const [rows, cols] = i < c.expand ? [D, H] : [H, D];
    w[wk] = { rows, cols, data: floats(kind, rows, cols, seed + 2 * i + 1, 1) };
    if (bias) w[bk] = tokens(kind, cols, seed + 2 * i + 2, 1);
  });
  return w;
}

/**
 * Weights for the 16-bit property, of a kind: "small" (uniform in ±1, where f16 keeps the map
 * scaled, WEIGHT_CODE.f16s); "tiny" (±2^-12, so that most are f16 subnormals); "cancelling"
 * (as above, with ±2^60 for bf16 and ±2^15 for f16, which holds no 2^60); "special" (small,
 * with a few entries each map of ±0, f16's subnormal edges, 63.97 and 64 (the edge of the
 * scaled f16 map), 1000 and ±65504, and in the last map ±Infinity and NaN, which reach only
 * their own output columns).
 */
type Values16 = "small" | "tiny" | "cancelling" | "special";
const SPECIAL = [
  0,
  -0,
  2 ** -24,
  -(2 ** -24),
  2 ** -14 - 2 ** -24,
  6e-5,
  63.97,
  64,
  -64,
  1000,
  65504,
  -65504,
];
const NONFINITE = [Infinity, -Infinity, NaN];

function weights16(
  c: LayerCase,
  D: number,
  H: number,
  bias: boolean,
  kind: Values16,
  dtype: Dtype16,
  seed: number,
): Weights {
  const w = weightsOf(c, D, H, bias, kind === "cancelling" ? "cancelling" : "small", seed);
  c.maps.forEach(([wk], i) => {
    const data = (w[wk] as Matrix).data;
    if (kind === "tiny")
      for (let j = 0; j < data.length; j++) data[j] = (data[j] as number) * 2 ** -12;
    if (kind === "cancelling" && dtype === "f16") {
      for (let j = 0; j < data.length; j++) {
        if (Math.abs(data[j] as number) === 2 ** 60)
          data[j] = Math.sign(data[j] as number) * 2 ** 15;
      }
    }
    if (kind === "special") {
      const u = seededFloats(data.length, seed + 30 + i);
      const last = i === c.maps.length - 1;
      for (let j = 0; j < data.length; j++) {
        const r = ((u[j] as number) + 1) / 2;
        if (r < 0.04) data[j] = SPECIAL[Math.floor(r * 300) % SPECIAL.length] as number;
        else if (last && r > 0.99) data[j] = NONFINITE[j % NONFINITE.length] as number;
      }
    }
  });
  return w;
}

/** Values rounded to a 16-bit type and widened back (src/dtype.ts). */
function round16(dtype: Dtype16, v: Float32Array): Float32Array {
  return widenInto(
    dtype,
    narrowInto(dtype, v, new Uint16Array(v.length)),
    new Float32Array(v.length),
  );
}

/** Widths of a quantized layer: multiples of 32 (one block, several, past a 16-column panel). */
const qdim = fc.constantFrom(32, 64, 96, 160);

/**
 * Tokens for the quantized property: "small" (uniform in ±3), or "special": small, with blocks
 * of zeros, of values below f16's range once scaled (1e-30: the block's scale is 0), of ties
 * (127 and ±2.5, ±0.5: roundf takes them away from zero), of values whose scale overflows f16
 * (1e30), and blocks holding a NaN or an infinity (their outputs are NaN).
 */
function quantInputs(kind: "small" | "special", n: number, seed: number): Float32Array {
  const x = seededFloats(n, seed, 3);
  if (kind === "small") return x;
  const u = seededFloats(n / 32, seed + 1);
  for (let b = 0; b < n / 32; b++) {
    const pick = Math.floor(((u[b] as number) + 1) * 8) % 8;
    const at = 32 * b;
    if (pick === 0) x.fill(0, at, at + 32);
    else if (pick === 1) for (let i = at; i < at + 32; i++) x[i] = (x[i] as number) * 1e-30;
    else if (pick === 2) x.set([127, 2.5, -2.5, 0.5, -0.5, 1.5], at);
    else if (pick === 3) x[at + 5] = 1e30;
    else if (pick === 4) x[at + 7] = NaN;
    else if (pick === 5) x[at + 9] = -Infinity;
  }
  return x;
}

const caseArb = fc.record({
  D: dim,
  H: dim,
  T: batch,
  bias: fc.boolean(),
  activation: fc.constantFrom(...ACTIVATIONS),
  kind: values,
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/** Rows a per-row property checks: all of a small batch, a spread of a large one. */
function rowsToCheck(T: number): number[] {
  if (T <= 40) return Array.from({ length: T }, (_, i) => i);
  return [0, 1, 2, 31, 32, 33, 127, 128, T - 2, T - 1].filter((i) => i < T);
}

const RUNS = { numRuns: 40 };

/** Layers made by the property run in progress: disposed (threads ended) when the next starts. */
const live: AnyLayer[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.dispose();
});

describe.each(LAYERS)("$name", (c) => {
  describe.each(KERNELS)("on the %s kernel", (kernel) => {
    const layer = async (w: Weights, activation: ActivationName) => {
      for (const l of live.splice(0)) l.dispose();
      const l = await c.make(w, activation, kernel);
      live.push(l);
      if (kernel === "wasm-2t" && l.threads !== 2)
        throw new Error(`no threads: ${l.threadsFallback}`);
      return l;
    };

    it("row i of forward(X) is forwardToken(X[i]), and is unchanged when every other row changes", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (k) => {
          const l = await layer(weightsOf(c, k.D, k.H, k.bias, k.kind, k.seed), k.activation);
          const x: Matrix = {
            rows: k.T,
            cols: k.D,
            data: tokens(k.kind, k.T * k.D, k.seed + 50, 3),
          };
          const y = l.forward(x);
          // Every other row replaced by values of another scale (and kind).
          const other = seededFloats(k.T * k.D, k.seed + 51, 1e3);
          for (const i of rowsToCheck(k.T)) {
            expectSameBits(l.forwardToken(row(x, i)), row(y, i), `forwardToken row ${i}`);
            const x2 = { rows: k.T, cols: k.D, data: other.slice() };
            x2.data.set(row(x, i), i * k.D);
            expectSameBits(row(l.forward(x2), i), row(y, i), `row ${i} among other rows`);
          }
        }),
        RUNS,
      );
    });

    it("forward([A; B]) is [forward(A); forward(B)], and forward(x, out) returns out", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, batch, async (k, TB) => {
          const l = await layer(weightsOf(c, k.D, k.H, k.bias, k.kind, k.seed), k.activation);
          const a = tokens(k.kind, k.T * k.D, k.seed + 60, 3);
          const b = tokens(k.kind, TB * k.D, k.seed + 61, 3);
          const ab = new Float32Array(a.length + b.length);
          ab.set(a);
          ab.set(b, a.length);
          const out: Matrix = {
            rows: k.T + TB,
            cols: k.D,
            data: new Float32Array(ab.length).fill(NaN),
          };
          expect(l.forward({ rows: k.T + TB, cols: k.D, data: ab }, out)).toBe(out);
          const ya = l.forward({ rows: k.T, cols: k.D, data: a }).data;
          const yb = (await l.forwardAsync({ rows: TB, cols: k.D, data: b })).data;
          expectSameBits(out.data.subarray(0, a.length), ya, "[A; B] rows of A");
          expectSameBits(out.data.subarray(a.length), yb, "[A; B] rows of B (forwardAsync)");
        }),
        RUNS,
      );
    });

    it("forward(P·X) is P·forward(X) for every permutation P", async () => {
      const arb = caseArb.chain((k) =>
        fc
          .shuffledSubarray([...Array(Math.min(k.T, 70)).keys()], { minLength: Math.min(k.T, 70) })
          .map((perm) => ({ ...k, T: perm.length, perm })),
      );
      await fc.assert(
        fc.asyncProperty(arb, async (k) => {
          const l = await layer(weightsOf(c, k.D, k.H, k.bias, k.kind, k.seed), k.activation);
          const d = k.D;
          const x: Matrix = { rows: k.T, cols: d, data: tokens(k.kind, k.T * d, k.seed + 70, 3) };
          const px: Matrix = { rows: k.T, cols: d, data: new Float32Array(x.data.length) };
          k.perm.forEach((from, to) => px.data.set(row(x, from), to * d));
          const y = l.forward(x);
          const py = l.forward(px);
          k.perm.forEach((from, to) => expectSameBits(row(py, to), row(y, from), `row ${to}`));
        }),
        RUNS,
      );
    });

    it("agrees with the float64 model within the derived forward-error bound", async () => {
      const small = caseArb.map((k) => ({ ...k, kind: "small" as const }));
      await fc.assert(
        fc.asyncProperty(small, async (k) => {
          const w = weightsOf(c, k.D, k.H, k.bias, "small", k.seed);
          const l = await layer(w, k.activation);
          const x = seededFloats(k.T * k.D, k.seed + 80, 4);
          const got = l.forward({ rows: k.T, cols: k.D, data: x }).data;
          const model = c.model(w, k.activation, x, k.T, kernel !== "js");
          expect(outside(got, model.y, model.bound)).toEqual([]);
        }),
        { numRuns: 60 },
      );
    });

    it("a bf16 or f16 layer is the float32 layer on its rounded weights, bit for bit", async () => {
      const arb = fc.record({
        k: caseArb,
        dtype: fc.constantFrom<Dtype16>("bf16", "f16"),
        values: fc.constantFrom<Values16>("small", "tiny", "cancelling", "special"),
        huge: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ k, dtype, values, huge }) => {
          const w = weights16(c, k.D, k.H, k.bias, values, dtype, k.seed);
          const rounded: Weights = {};
          for (const [key, v] of Object.entries(w)) {
            rounded[key] = v instanceof Float32Array ? v : { ...v, data: round16(dtype, v.data) };
          }
          for (const l of live.splice(0)) l.dispose();
          const half = await c.make(w, k.activation, kernel, dtype);
          const full = await c.make(rounded, k.activation, kernel);
          live.push(half, full);
          if (kernel === "wasm-2t" && half.threads !== 2) throw new Error("no threads");
          expect(half.dtype).toBe(dtype);
          // Tokens of every size the weights meet; with `huge`, some beyond 2^26, which the
          // one-token f16 path cannot scale (it widens the panels instead).
          const x = tokens(
            values === "cancelling" ? "cancelling" : "small",
            k.T * k.D,
            k.seed + 40,
            3,
          );
          if (values === "tiny") for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * 1024;
          if (huge) for (let i = 0; i < x.length; i += 7) x[i] = (x[i] as number) * 2 ** 27;
          const xm: Matrix = { rows: k.T, cols: k.D, data: x };
          const y = half.forward(xm);
          expectSameBits(y.data, full.forward(xm).data, "forward");
          expectSameBits((await half.forwardAsync(xm)).data, y.data, "forwardAsync");
          for (const i of rowsToCheck(k.T)) {
            expectSameBits(half.forwardToken(row(xm, i)), row(y, i), `forwardToken row ${i}`);
          }
          const got = half.weights as unknown as Weights;
          for (const [key, v] of Object.entries(rounded)) {
            const g = got[key] as Matrix | Float32Array;
            expectSameBits(
              g instanceof Float32Array ? g : g.data,
              v instanceof Float32Array ? v : v.data,
              key,
            );
          }
        }),
        RUNS,
      );
    });

    it("a q8_0 or q4_0 layer: a token's bits alone, in any batch, order and thread count, are the js kernel's", async () => {
      const arb = fc.record({
        D: qdim,
        H: qdim,
        T: batch,
        TB: batch,
        bias: fc.boolean(),
        activation: fc.constantFrom(...ACTIVATIONS),
        dtype: fc.constantFrom<QuantDtype>("q8_0", "q4_0"),
        inputs: fc.constantFrom<"small" | "special">("small", "special"),
        threads: fc.constantFrom(2, 3),
        seed: fc.integer({ min: 1, max: 2 ** 30 }),
      });
      await fc.assert(
        fc.asyncProperty(arb, async (k) => {
          const w = weightsOf(c, k.D, k.H, k.bias, "small", k.seed);
          for (const l of live.splice(0)) l.dispose();
          const threads = kernel === "wasm-2t" ? k.threads : 1;
          const q = await c.make(w, k.activation, kernel, k.dtype, threads);
          const oracle = await c.make(w, k.activation, "js", k.dtype);
          live.push(q, oracle);
          if (kernel === "wasm-2t" && q.threads !== threads) throw new Error("no threads");
          expect(q.dtype).toBe(k.dtype);
          const x = quantInputs(k.inputs, k.T * k.D, k.seed + 110);
          const xm: Matrix = { rows: k.T, cols: k.D, data: x };
          const y = q.forward(xm);
          expectSameBits(y.data, oracle.forward(xm).data, "forward against the js kernel");
          const other = seededFloats(k.T * k.D, k.seed + 111, 1e3);
          for (const i of rowsToCheck(k.T)) {
            expectSameBits(q.forwardToken(row(xm, i)), row(y, i), `forwardToken row ${i}`);
            const x2 = { rows: k.T, cols: k.D, data: other.slice() };
            x2.data.set(row(xm, i), i * k.D);
            expectSameBits(row(q.forward(x2), i), row(y, i), `row ${i} among other rows`);
          }
          // [A; B] and the reversed batch.
          const b = quantInputs(k.inputs, k.TB * k.D, k.seed + 112);
          const ab = new Float32Array(x.length + b.length);
          ab.set(x);
          ab.set(b, x.length);
          const yab = (await q.forwardAsync({ rows: k.T + k.TB, cols: k.D, data: ab })).data;
          expectSameBits(yab.subarray(0, x.length), y.data, "[A; B] rows of A");
          const yb = q.forward({ rows: k.TB, cols: k.D, data: b }).data;
          expectSameBits(yab.subarray(x.length), yb, "[A; B] rows of B");
          const rev = new Float32Array(x.length);
          for (let i = 0; i < k.T; i++) rev.set(row(xm, k.T - 1 - i), i * k.D);
          const yr = q.forward({ rows: k.T, cols: k.D, data: rev });
          for (let i = 0; i < k.T; i++) {
            expectSameBits(row(yr, i), row(y, k.T - 1 - i), `reversed row ${i}`);
          }
        }),
        { numRuns: 25 },
      );
    });

    it("skipping zero hidden units gives the dense layer's bits at every sparsity, and stats count them", async () => {
      const arb = fc.record({
        k: caseArb,
        // The share of hidden units switched off for every token (the others are on or off by
        // their values, about half of them), as bench --sparsity does with b1.
        off: fc.constantFrom(0, 0.5, 0.9, 1),
        dtype: fc.constantFrom<"f32" | Dtype16>("f32", "f32", "bf16", "f16"),
        // ±Infinity and NaN in the last map: the layer must keep the dense path.
        nonfinite: fc.boolean(),
        // Tokens with -0, NaN and ±Infinity entries: hidden NaN must not be skipped.
        special: fc.boolean(),
      });
      await fc.assert(
        fc.asyncProperty(arb, async ({ k, off, dtype, nonfinite, special }) => {
          const w = weightsOf(c, k.D, k.H, k.bias, k.kind, k.seed);
          if (dtype === "f16") {
            for (const [wk] of c.maps) {
              const m = (w[wk] as Matrix).data; // f16 holds no 2^60: ±2^15 instead
              for (let j = 0; j < m.length; j++) {
                if (Math.abs(m[j] as number) === 2 ** 60)
                  m[j] = Math.sign(m[j] as number) * 2 ** 15;
              }
            }
          }
          // Unit j off: its columns of the maps into the hidden width zero and, with biases,
          // the gate's (the first map's) bias -1, so act(gate) is +0 and the product ±0 (a
          // gated layer's -0 when up is negative). Units on: with biases, shifted up by 1e4.
          const u = seededFloats(k.H, k.seed + 110);
          const isOff = (j: number) => ((u[j] as number) + 1) / 2 < off;
          c.maps.slice(0, c.expand).forEach(([wk, bk], i) => {
            const m = w[wk] as Matrix;
            for (let j = 0; j < k.H; j++) {
              if (isOff(j)) for (let r = 0; r < k.D; r++) m.data[r * k.H + j] = 0;
            }
            const b = w[bk] as Float32Array | undefined;
            if (i === 0 && b !== undefined)
              for (let j = 0; j < k.H; j++) b[j] = isOff(j) ? -1 : (b[j] as number) + 1e4;
          });
          if (nonfinite) {
            const last = (w[(c.maps[c.expand] as [string, string])[0]] as Matrix).data;
            const v = seededFloats(last.length, k.seed + 111);
            for (let j = 0; j < last.length; j++) {
              if ((v[j] as number) > 0.9) last[j] = NONFINITE[j % NONFINITE.length] as number;
            }
          }
          for (const l of live.splice(0)) l.dispose();
          const sparse = await c.make(w, "relu", kernel, dtype, undefined, true);
          const dense = await c.make(w, "relu", kernel, dtype, undefined, false);
          live.push(sparse, dense);
          if (kernel === "wasm-2t" && sparse.threads !== 2) throw new Error("no threads");
          const x = tokens(k.kind, k.T * k.D, k.seed + 112, 3);
          if (special) {
            const odd = [-0, NaN, Infinity, -Infinity, -0, -0];
            for (let i = 0; i < x.length; i += 5) x[i] = odd[(i / 5) % odd.length] as number;
          }
          const xm: Matrix = { rows: k.T, cols: k.D, data: x };
          const st = { hidden: -1, zeros: -1, zeroShare: -1 };
          const sd = { hidden: -1, zeros: -1, zeroShare: -1 };
          const y = sparse.forward(xm, undefined, st);
          expectSameBits(y.data, dense.forward(xm, undefined, sd).data, "forward");
          expect(st).toEqual(sd);
          expect(st.hidden).toBe(k.T * k.H);
          // Every unit switched off is zero for every finite token.
          const offUnits = Array.from({ length: k.H }, (_, j) => j).filter(isOff).length;
          if (!special) expect(st.zeros).toBeGreaterThanOrEqual(offUnits * k.T);
          const sa = { hidden: -1, zeros: -1, zeroShare: -1 };
          expectSameBits((await sparse.forwardAsync(xm, undefined, sa)).data, y.data, "async");
          expect(sa).toEqual(st);
          let zeros = 0;
          for (const i of rowsToCheck(k.T)) {
            const one = { hidden: -1, zeros: -1, zeroShare: -1 };
            expectSameBits(sparse.forwardToken(row(xm, i), undefined, one), row(y, i), `row ${i}`);
            expect(one.hidden).toBe(k.H);
            zeros += one.zeros;
          }
          if (k.T <= 40) expect(zeros).toBe(st.zeros);
        }),
        RUNS,
      );
    });

    // matmul sums in float64 as the js kernel does: a layer without biases is its ops, bit for
    // bit. (The wasm kernel's float32 sums are held to the bound above instead.)
    if (kernel === "js")
      it("a layer without biases is matmul, the activation op, (the product,) matmul", async () => {
        await fc.assert(
          fc.asyncProperty(caseArb, async (k) => {
            const w = weightsOf(c, k.D, k.H, false, k.kind, k.seed);
            const l = await layer(w, k.activation);
            const x: Matrix = {
              rows: k.T,
              cols: k.D,
              data: tokens(k.kind, k.T * k.D, k.seed + 90, 3),
            };
            expectSameMatrix(l.forward(x), c.ops(w, k.activation, x));
          }),
          RUNS,
        );
      });
  });
});

describe("the JS kernel is the oracle of src/kernels/reference.ts, bit for bit", () => {
  it("for any weights and inputs, small, wide, with and without biases, every activation", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const w = weightsOf(LAYERS[0] as LayerCase, k.D, k.H, k.bias, k.kind, k.seed);
        const ffn = FeedForward.fromWeights(w as never, { kernel: "js", activation: k.activation });
        const x = tokens(k.kind, k.T * k.D, k.seed + 100, 3);
        const want = new Float32Array(k.T * k.D);
        const [w1, w2] = [mat(w, "w1"), mat(w, "w2")];
        feedForwardReference(
          x,
          k.T,
          k.D,
          k.H,
          w1.data,
          vec(w, "b1"),
          w2.data,
          vec(w, "b2"),
          want,
          k.activation,
        );
        expectSameBits(ffn.forward({ rows: k.T, cols: k.D, data: x }).data, want);
      }),
      RUNS,
    );
  });
});
