// Properties of MixtureOfExperts on every kernel (js, wasm, wasm on 2 and 3 threads), in the
// style of layer.prop.test.ts: a token's output and route are the same bits alone, among other
// rows, at any position and in [A; B] (forwardAsync too); a layer on 1, 2 and 3 threads gives
// one thread's bits; and the output agrees with a float64 model within the derived bound
// (test/support/moe64.ts). Values include the "cancelling" kind, whose sums change with their
// order even in float64 and whose router logits tie often (small integers), so the tie rule
// and the fixed order of every sum are exercised.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ActivationName,
  type GatedFeedForwardWeights,
  type Matrix,
  MixtureOfExperts,
  type MixtureOfExpertsWeights,
  row,
} from "../../src/index";
import { ACTIVATIONS } from "../../src/kernels/activation";
import { seededFloats } from "../helpers/arbitraries";
import { expectSameBits } from "../helpers/bits";
import { againstModel, moe64, moe64Of } from "../support/moe64";

const KERNELS = ["js", "wasm", "wasm-2t", "wasm-3t"] as const;
type K = (typeof KERNELS)[number];
const threadsOf = (k: K) => (k === "wasm-2t" ? 2 : k === "wasm-3t" ? 3 : 1);

const dim = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 17 }) },
  { weight: 2, arbitrary: fc.constantFrom(19, 23, 31, 37) },
  { weight: 1, arbitrary: fc.constantFrom(64, 65, 97) },
);
const batch = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 9 }) },
  { weight: 2, arbitrary: fc.constantFrom(31, 32, 33, 64, 65) },
  { weight: 1, arbitrary: fc.constantFrom(127, 128, 129, 257) },
);
type Values = "small" | "cancelling";

/** As layer.prop.test.ts: small integers, and in every column one +2^60 and one -2^60. */
function cancelling(rows: number, cols: number, seed: number): Float32Array {
  const u = seededFloats(rows * cols + 2 * cols, seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows * cols; i++) out[i] = Math.round((u[i] as number) * 2);
  if (rows < 2) return out;
  for (let j = 0; j < cols; j++) {
    const k1 = Math.floor(((u[rows * cols + 2 * j] as number) * 0.5 + 0.5) * rows) % rows;
    const k2 = (k1 + 1) % rows;
    out[k1 * cols + j] = 2 ** 60;
    out[k2 * cols + j] = -(2 ** 60);
  }
  return out;
}
const floats = (kind: Values, rows: number, cols: number, seed: number, scale: number) =>
  kind === "cancelling" ? cancelling(rows, cols, seed) : seededFloats(rows * cols, seed, scale);
const tokens = (kind: Values, n: number, seed: number, scale: number) =>
  kind === "cancelling" ? cancelling(1, n, seed) : seededFloats(n, seed, scale);

const caseArb = fc
  .record({
    D: dim,
    H: dim,
    E: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(16, 33)),
    T: batch,
    shared: fc.option(dim, { nil: undefined }),
    sharedGate: fc.boolean(),
    scoring: fc.constantFrom<"softmax" | "sigmoid">("softmax", "sigmoid"),
    normalize: fc.boolean(),
    routedScale: fc.constantFrom(1, 2.5),
    routerBias: fc.boolean(),
    selectionBias: fc.boolean(),
    bias: fc.boolean(),
    activation: fc.constantFrom(...ACTIVATIONS),
    kind: fc.constantFrom<Values>("small", "cancelling"),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    kPick: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((c) => ({ ...c, topK: 1 + (c.kPick % c.E) }));
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function expertWeights(c: Case, H: number, seed: number, kind: Values): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: { rows: c.D, cols: H, data: floats(kind, c.D, H, seed + 1, 1) },
    wUp: { rows: c.D, cols: H, data: floats(kind, c.D, H, seed + 2, 1) },
    wDown: { rows: H, cols: c.D, data: floats(kind, H, c.D, seed + 3, 1) },
  };
  if (c.bias) {
    w.bGate = tokens(kind, H, seed + 4, 1);
    w.bUp = tokens(kind, H, seed + 5, 1);
    w.bDown = tokens(kind, c.D, seed + 6, 1);
  }
  return w;
}

function weightsOf(c: Case, kind: Values = c.kind): MixtureOfExpertsWeights {
  const s = c.seed;
  const w: MixtureOfExpertsWeights = {
    // Logits of order 1 (as nn.Linear's initialisation gives): scores that do not saturate.
    router: { rows: c.D, cols: c.E, data: floats(kind, c.D, c.E, s, 1 / Math.sqrt(c.D)) },
    experts: Array.from({ length: c.E }, (_, e) => expertWeights(c, c.H, s + 10 * (e + 1), kind)),
  };
  if (c.routerBias) w.routerBias = tokens(kind, c.E, s + 5, 1);
  if (c.selectionBias) w.selectionBias = seededFloats(c.E, s + 6, 0.1);
  if (c.shared !== undefined) {
    w.shared = expertWeights(c, c.shared, s + 7, kind);
    if (c.sharedGate) w.sharedGate = { rows: c.D, cols: 1, data: tokens(kind, c.D, s + 8, 1) };
  }
  return w;
}

const live: MixtureOfExperts[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.dispose();
});

async function make(
  c: Case,
  w: MixtureOfExpertsWeights,
  kernel: K,
  dtype: "f32" | "bf16" | "f16" = "f32",
): Promise<MixtureOfExperts> {
  const { topK, scoring, normalize, routedScale, activation } = c;
  const l = await MixtureOfExperts.create({
    weights: w,
    dtype,
    topK,
    scoring,
    normalize,
    routedScale,
    activation: activation as ActivationName,
    kernel: kernel === "js" ? "js" : "wasm",
    threads: threadsOf(kernel),
  });
  live.push(l);
  if (l.threads !== threadsOf(kernel)) throw new Error(`no threads: ${l.threadsFallback}`);
  return l;
}

function rowsToCheck(T: number): number[] {
  if (T <= 40) return Array.from({ length: T }, (_, i) => i);
  return [0, 1, 2, 31, 32, 33, 127, 128, T - 2, T - 1].filter((i) => i < T);
}

const RUNS = { numRuns: 25 };
const m = (rows: number, cols: number, data: Float32Array): Matrix => ({ rows, cols, data });

describe.each(KERNELS)("MixtureOfExperts on the %s kernel", (kernel) => {
  it("row i of forward(X) and of route(X) are token i's alone, whatever the other rows", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const l = await make(c, weightsOf(c), kernel);
        const x = m(c.T, c.D, tokens(c.kind, c.T * c.D, c.seed + 50, 3));
        const y = l.forward(x);
        const r = l.route(x);
        const k = c.topK;
        const other = seededFloats(c.T * c.D, c.seed + 51, 1e3);
        for (const i of rowsToCheck(c.T)) {
          expectSameBits(l.forwardToken(row(x, i)), row(y, i), `forwardToken row ${i}`);
          const x2 = m(c.T, c.D, other.slice());
          x2.data.set(row(x, i), i * c.D);
          expectSameBits(row(l.forward(x2), i), row(y, i), `row ${i} among other rows`);
          const alone = l.route(m(1, c.D, row(x, i)));
          expect(Array.from(alone.experts)).toEqual(
            Array.from(r.experts.subarray(i * k, i * k + k)),
          );
          expectSameBits(alone.weights, r.weights.subarray(i * k, i * k + k), `route ${i}`);
        }
      }),
      RUNS,
    );
  });

  it("forward([A; B]) is [forward(A); forwardAsync(B)], and forward(x, out) returns out", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, batch, async (c, TB) => {
        for (const l of live.splice(0)) l.dispose();
        const l = await make(c, weightsOf(c), kernel);
        const a = tokens(c.kind, c.T * c.D, c.seed + 60, 3);
        const b = tokens(c.kind, TB * c.D, c.seed + 61, 3);
        const ab = new Float32Array(a.length + b.length);
        ab.set(a);
        ab.set(b, a.length);
        const out = m(c.T + TB, c.D, new Float32Array(ab.length).fill(NaN));
        expect(l.forward(m(c.T + TB, c.D, ab), out)).toBe(out);
        const ya = l.forward(m(c.T, c.D, a)).data;
        const yb = (await l.forwardAsync(m(TB, c.D, b))).data;
        expectSameBits(out.data.subarray(0, a.length), ya, "[A; B] rows of A");
        expectSameBits(out.data.subarray(a.length), yb, "[A; B] rows of B (forwardAsync)");
      }),
      RUNS,
    );
  });

  it("forward(P·X) is P·forward(X) for every permutation P", async () => {
    const arb = caseArb.chain((c) =>
      fc
        .shuffledSubarray([...Array(Math.min(c.T, 70)).keys()], { minLength: Math.min(c.T, 70) })
        .map((perm) => ({ ...c, T: perm.length, perm })),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const l = await make(c, weightsOf(c), kernel);
        const x = m(c.T, c.D, tokens(c.kind, c.T * c.D, c.seed + 70, 3));
        const px = m(c.T, c.D, new Float32Array(x.data.length));
        c.perm.forEach((from, to) => px.data.set(row(x, from), to * c.D));
        const y = l.forward(x);
        const py = l.forward(px);
        c.perm.forEach((from, to) => expectSameBits(row(py, to), row(y, from), `row ${to}`));
      }),
      RUNS,
    );
  });

  it("agrees with the float64 model within the derived bound, choosing its experts", async () => {
    let checked = 0;
    let ambiguous = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const w = weightsOf(c, "small");
        const l = await make(c, w, kernel);
        const x = seededFloats(c.T * c.D, c.seed + 80, 4);
        const got = l.forward(m(c.T, c.D, x)).data;
        const r = l.route(m(c.T, c.D, x));
        const model = moe64(
          moe64Of(w, {
            dModel: c.D,
            activation: c.activation as ActivationName,
            topK: c.topK,
            scoring: c.scoring,
            normalize: c.normalize,
            routedScale: c.routedScale,
          }),
          x,
          c.T,
          kernel === "js" ? "f64" : "f32",
        );
        const got64 = againstModel(model, r.experts, got, c.T, c.topK, c.D);
        expect(got64.wrong).toEqual([]);
        checked += got64.checked;
        ambiguous += got64.ambiguous;
      }),
      { numRuns: 40 },
    );
    // The check must not be vacuous: nearly every token's experts are clear of ties.
    expect(checked).toBeGreaterThan(20 * Math.max(1, ambiguous));
  });
});

// Experts whose outputs are constant rows v_e of ±2^60, small integers and 2^-30 (hidden width 1:
// relu(x_0) · x_0 · v_e with x_0 = 1), routed by sigmoid on logits that are 0 or ±100·n, so the
// chosen weights are exactly 1 or 1/2 (or tiny): adding such terms in another order gives
// another result (2^60 + 3 − 2^60 is 0 one way and 3 the other), and rounding each partial sum
// to float32 loses 2^-30 from 1 + 2^-30 − 1: only the documented sum, float64 over each token's
// experts in increasing index and rounded once, passes, in every batch.
describe.each(KERNELS)("the order of a token's sum, on the %s kernel", (kernel) => {
  const arb = fc.record({
    D: fc.integer({ min: 2, max: 9 }),
    E: fc.integer({ min: 3, max: 12 }),
    T: fc.integer({ min: 2, max: 40 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    kPick: fc.integer({ min: 0, max: 2 ** 30 }),
  });
  it("is each token's experts in increasing index, then rounded once, whatever the batch", async () => {
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const k = 3 + (c.kPick % (c.E - 2)); // three terms or more: two add the same either way
        const u = seededFloats(c.D * c.E + c.E * c.D + c.T * c.D, c.seed);
        let at = 0;
        const pick = (options: number[]) =>
          options[Math.floor(((u[at++] as number) * 0.5 + 0.5) * options.length)] as number;
        const router = Float32Array.from({ length: c.D * c.E }, () => pick([-100, -100, 0, 100]));
        const rows = Array.from({ length: c.E }, () =>
          Float32Array.from({ length: c.D }, () => pick([2 ** 60, -(2 ** 60), 3, -1, 1, 2 ** -30])),
        );
        const one = (D: number) => Float32Array.from({ length: D }, (_, i) => (i === 0 ? 1 : 0));
        const w: MixtureOfExpertsWeights = {
          router: m(c.D, c.E, router),
          experts: rows.map((v) => ({
            wGate: m(c.D, 1, one(c.D)),
            wUp: m(c.D, 1, one(c.D)),
            wDown: m(1, c.D, v),
          })),
        };
        const l = await MixtureOfExperts.create({
          weights: w,
          topK: k,
          scoring: "sigmoid",
          normalize: false,
          activation: "relu",
          kernel: kernel === "js" ? "js" : "wasm",
          threads: threadsOf(kernel),
        });
        live.push(l);
        const x = m(
          c.T,
          c.D,
          Float32Array.from({ length: c.T * c.D }, (_, i) =>
            i % c.D === 0 ? 1 : pick([-1, 0, 1]),
          ),
        );
        const y = l.forward(x);
        const r = l.route(x);
        const K = l.routing.topK;
        for (let t = 0; t < c.T; t++) {
          const chosen = Array.from({ length: K }, (_, i) => i)
            .map((i) => [r.experts[t * K + i] as number, r.weights[t * K + i] as number] as const)
            .sort((a, b) => a[0] - b[0]);
          const want = new Float32Array(c.D);
          for (let j = 0; j < c.D; j++) {
            let s = 0;
            for (const [e, wt] of chosen) s += wt * (rows[e]![j] as number);
            want[j] = s;
          }
          expectSameBits(row(y, t), want, `token ${t}`);
          expectSameBits(l.forwardToken(row(x, t)), want, `token ${t} alone`);
        }
      }),
      RUNS,
    );
  });
});

describe("threads give one thread's bits", () => {
  it("a mixture on 1, 2 and 3 threads, blocking and not, on batches past one block", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const w = weightsOf(c);
        const [one, two, three] = [
          await make(c, w, "wasm"),
          await make(c, w, "wasm-2t"),
          await make(c, w, "wasm-3t"),
        ];
        const x = m(c.T, c.D, tokens(c.kind, c.T * c.D, c.seed + 90, 3));
        const y = one.forward(x).data;
        for (const l of [two, three]) {
          expectSameBits(l.forward(x).data, y, `${l.threads} threads`);
          expectSameBits((await l.forwardAsync(x)).data, y, `${l.threads} threads, async`);
        }
      }),
      { numRuns: 15 },
    );
  });
});

describe("an expert's group at every size around the kernel's tiles", () => {
  it("a group of 1 to 33 tokens gives each token its own bits, on 1, 2 and 3 threads", async () => {
    // The router sends token t to expert goal[t] (logit 8 there, 0 elsewhere), so expert 0 gets
    // exactly n tokens, spread over the batch, and experts 1 and 2 the others. dModel 37 and
    // dHidden 40 are three panels of 16 columns each way: an odd last panel, and (on 2 and 3
    // threads) shares of one or two panels, so every tile and every group of panels is met.
    const [D, H, E, T] = [37, 40, 3, 40];
    const router = new Float32Array(D * E);
    for (let e = 0; e < E; e++) router[e * E + e] = 1;
    const expert = (e: number): GatedFeedForwardWeights => ({
      wGate: m(D, H, seededFloats(D * H, 700 + e, 1)),
      wUp: m(D, H, seededFloats(D * H, 710 + e, 1)),
      wDown: m(H, D, seededFloats(H * D, 720 + e, 1)),
    });
    const weights = { router: m(D, E, router), experts: [0, 1, 2].map(expert) };
    const layers: MixtureOfExperts[] = [];
    for (const threads of [1, 2, 3]) {
      const l = await MixtureOfExperts.create({ weights, topK: 1, threads });
      live.push(l);
      if (l.threads !== threads) throw new Error(`no threads: ${l.threadsFallback}`);
      layers.push(l);
    }
    const one = layers[0] as MixtureOfExperts;
    const noise = seededFloats(T * D, 740, 1);
    for (let n = 1; n <= 33; n++) {
      // Expert 0's tokens at positions spread by a stride coprime to T, the rest alternate.
      const goal = new Int32Array(T);
      for (let i = 0; i < T; i++) goal[(i * 7) % T] = i < n ? 0 : 1 + (i % 2);
      const x = m(T, D, noise.slice());
      for (let t = 0; t < T; t++) {
        for (let e = 0; e < E; e++) x.data[t * D + e] = e === goal[t] ? 8 : 0;
      }
      const groups = [0, 1, 2].map((e) => goal.filter((g) => g === e).length);
      expect(groups[0]).toBe(n);
      const r = one.route(x);
      expect(Array.from(r.experts)).toEqual(Array.from(goal));
      for (const l of layers) {
        const y = l.forward(x);
        for (let t = 0; t < T; t++) {
          expectSameBits(
            row(y, t),
            one.forwardToken(row(x, t)),
            `n ${n}, ${l.threads} threads, token ${t}`,
          );
        }
      }
    }
  });
});

describe.each(KERNELS)("16-bit experts on the %s kernel", (kernel) => {
  it("a bf16 or f16 mixture is the float32 mixture on its rounded weights, bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(
        caseArb,
        fc.constantFrom<"bf16" | "f16">("bf16", "f16"),
        fc.boolean(),
        async (c, dtype, large) => {
          for (const l of live.splice(0)) l.dispose();
          // f16 holds |w| < 65520 only: its cases take the "small" values, and with `large`
          // one weight of 1000 in an expert (an f16 map that cannot be kept scaled by 2^10).
          const kind = dtype === "f16" ? "small" : c.kind;
          const w = weightsOf(c, kind);
          if (large) (w.experts[c.seed % c.E] as GatedFeedForwardWeights).wDown.data[0] = 1000;
          const half = await make(c, w, kernel, dtype);
          expect(half.dtype).toBe(dtype);
          const rounded = half.weights;
          const full = await make(c, rounded, kernel);
          expect(full.dtype).toBe("f32");
          const x = m(c.T, c.D, tokens(c.kind, c.T * c.D, c.seed + 70, 3));
          const y = full.forward(x).data;
          expectSameBits(half.forward(x).data, y, `${dtype} forward`);
          expectSameBits((await half.forwardAsync(x)).data, y, `${dtype} forwardAsync`);
          if (c.T > 0) {
            expectSameBits(half.forwardToken(row(x, 0)), row(full.forward(x), 0), "token 0");
          }
          // JSON keeps the type and the bits.
          const back = MixtureOfExperts.fromJSON(JSON.parse(JSON.stringify(half)), {
            kernel: kernel === "js" ? "js" : "wasm",
          });
          live.push(back);
          expect(back.dtype).toBe(dtype);
          expectSameBits(back.forward(x).data, y, `${dtype} from JSON`);
        },
      ),
      { numRuns: 15 },
    );
  });
});
