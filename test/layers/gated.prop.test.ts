// GatedFeedForward properties (fast-check): per-token and bitwise batch invariance, the layer
// as op-by-op composition, and agreement with a float64 model within the derived bound.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  GatedFeedForward,
  type ActivationName,
  type GatedFeedForwardWeights,
  gelu,
  geluTanh,
  matmul,
  relu,
  silu,
  type Matrix,
} from "../../src/index";
import { ACTIVATIONS } from "../../src/kernels/activation";
import { gated64, outside } from "../support/layer64";
import { seededFloats as seeded } from "../helpers/arbitraries";

const OP: Record<ActivationName, (x: Matrix) => Matrix> = { relu, gelu, geluTanh, silu };

/** A layer dimension: 1..17 or a prime up to 37, so every tail of the blocked loops is hit. */
const dim = fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(19, 23, 29, 31, 37));
/** A number of tokens, zero included, around the kernel's 32-token block too. */
const batch = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(31, 32, 33, 64, 65));
const seed = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const activation = fc.constantFrom(...ACTIVATIONS);

function weights(D: number, H: number, s: number, bias: boolean): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: { rows: D, cols: H, data: seeded(D * H, s, 1) },
    wUp: { rows: D, cols: H, data: seeded(D * H, s + 1, 1) },
    wDown: { rows: H, cols: D, data: seeded(H * D, s + 2, 1) },
  };
  if (bias) {
    w.bGate = seeded(H, s + 3, 1);
    w.bUp = seeded(H, s + 4, 1);
    w.bDown = seeded(D, s + 5, 1);
  }
  return w;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

const RUNS = { numRuns: 60 };

/** "wasm-2t" is the WebAssembly kernel on two threads (GatedFeedForward.create). */
const KERNELS = ["js", "wasm", "wasm-2t"] as const;

/** The layer of the property run in progress: disposed (its threads ended) when the next starts. */
const live: GatedFeedForward[] = [];
afterEach(() => {
  for (const layer of live.splice(0)) layer.dispose();
});

/** A layer from given weights computing with `kernel`. */
async function gatedLayer(
  kernel: (typeof KERNELS)[number],
  w: GatedFeedForwardWeights,
  act: ActivationName,
): Promise<GatedFeedForward> {
  for (const layer of live.splice(0)) layer.dispose();
  if (kernel !== "wasm-2t") return GatedFeedForward.fromWeights(w, { activation: act, kernel });
  const layer = await GatedFeedForward.create({
    weights: w,
    activation: act,
    kernel: "wasm",
    threads: 2,
  });
  live.push(layer);
  if (layer.threads !== 2) throw new Error(`no threads here: ${layer.threadsFallback}`);
  return layer;
}

describe.each(KERNELS)("GatedFeedForward properties, %s kernel", (kernel) => {
  it("row i of forward(X) is forwardToken(X[i]), bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(
        activation,
        dim,
        dim,
        batch,
        fc.boolean(),
        seed,
        async (act, D, H, T, bias, s) => {
          const layer = await gatedLayer(kernel, weights(D, H, s, bias), act);
          const x = seeded(T * D, s + 9, 3);
          const y = layer.forward({ rows: T, cols: D, data: x }).data;
          for (let i = 0; i < T; i++) {
            const token = layer.forwardToken(x.subarray(i * D, (i + 1) * D));
            expect(sameBits(y.subarray(i * D, (i + 1) * D), token), `row ${i}`).toBe(true);
          }
        },
      ),
      RUNS,
    );
  });

  it("permuting the tokens permutes the outputs, bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(
        activation,
        dim,
        dim,
        fc
          .integer({ min: 1, max: 40 })
          .chain((T) =>
            fc.tuple(fc.constant(T), fc.shuffledSubarray([...Array(T).keys()], { minLength: T })),
          ),
        seed,
        async (act, D, H, [T, perm], s) => {
          const layer = await gatedLayer(kernel, weights(D, H, s, true), act);
          const x = seeded(T * D, s + 3, 3);
          const px = new Float32Array(T * D);
          perm.forEach((from, to) => px.set(x.subarray(from * D, (from + 1) * D), to * D));
          const y = layer.forward({ rows: T, cols: D, data: x }).data;
          const py = layer.forward({ rows: T, cols: D, data: px }).data;
          perm.forEach((from, to) => {
            const a = py.subarray(to * D, (to + 1) * D);
            expect(sameBits(a, y.subarray(from * D, (from + 1) * D))).toBe(true);
          });
        },
      ),
      RUNS,
    );
  });

  it("forward([A; B]) is [forward(A); forward(B)], bit for bit", async () => {
    await fc.assert(
      fc.asyncProperty(activation, dim, dim, batch, batch, seed, async (act, D, H, TA, TB, s) => {
        const layer = await gatedLayer(kernel, weights(D, H, s, false), act);
        const a = seeded(TA * D, s + 1, 3);
        const b = seeded(TB * D, s + 2, 3);
        const ab = new Float32Array((TA + TB) * D);
        ab.set(a);
        ab.set(b, TA * D);
        const yab = layer.forward({ rows: TA + TB, cols: D, data: ab }).data;
        const ya = layer.forward({ rows: TA, cols: D, data: a }).data;
        const yb = layer.forward({ rows: TB, cols: D, data: b }).data;
        expect(sameBits(yab.subarray(0, TA * D), ya)).toBe(true);
        expect(sameBits(yab.subarray(TA * D), yb)).toBe(true);
      }),
      RUNS,
    );
  });

  // matmul sums in float64 as the js kernel does; the wasm kernel's float32 sums are held to
  // the bound below instead.
  if (kernel === "js")
    it("a layer without biases is matmul, the activation op, a float32 product, matmul", () => {
      fc.assert(
        fc.property(activation, dim, dim, batch, seed, (act, D, H, T, s) => {
          const w = weights(D, H, s, false);
          const layer = GatedFeedForward.fromWeights(w, { activation: act, kernel });
          const x = { rows: T, cols: D, data: seeded(T * D, s + 5, 3) };
          const a = OP[act](matmul(x, w.wGate));
          const u = matmul(x, w.wUp);
          const m = { rows: T, cols: H, data: a.data.map((v, i) => v * (u.data[i] as number)) };
          expect(sameBits(layer.forward(x).data, matmul(m, w.wDown).data)).toBe(true);
        }),
        RUNS,
      );
    });

  it("agrees with a float64 model within the derived forward-error bound", async () => {
    await fc.assert(
      fc.asyncProperty(
        activation,
        dim,
        dim,
        batch,
        fc.boolean(),
        seed,
        async (act, D, H, T, bias, s) => {
          const w = weights(D, H, s, bias);
          const layer = await gatedLayer(kernel, w, act);
          const x = seeded(T * D, s + 8, 4);
          const got = layer.forward({ rows: T, cols: D, data: x }).data;
          const model = gated64(
            {
              dModel: D,
              dHidden: H,
              activation: act,
              wGate: w.wGate.data,
              bGate: w.bGate ?? null,
              wUp: w.wUp.data,
              bUp: w.bUp ?? null,
              wDown: w.wDown.data,
              bDown: w.bDown ?? null,
            },
            x,
            T,
            kernel === "js" ? "f64" : "f32",
          );
          expect(outside(got, model.y, model.bound)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
