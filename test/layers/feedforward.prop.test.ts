// Properties of the layer, on every kernel: per-token independence and permutation equivariance
// bit for bit, agreement with a float64 model within the forward-error bound of
// docs/numerics.md, and (for the JS kernel) bitwise equality with the naive oracle.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type FeedForward, type Matrix, row } from "../../src/index";
import { feedForwardReference } from "../../src/kernels/reference";
import { anyFloat32, batch, dim, finite, seededFloats, weights } from "../helpers/arbitraries";
import { expectSameBits, expectSameMatrix } from "../helpers/bits";
import { forward64, outsideBound } from "../helpers/reference64";
import { KERNELS, layerFromWeights, makeLayer } from "../kernels";

const RUNS = { numRuns: 60 };

/** A layer shape, seed, batch size and input data, finite or not. */
const layerCase = (values: (n: number) => fc.Arbitrary<Float32Array>) =>
  fc
    .record({ dModel: dim, dHidden: dim, seed: fc.nat(), rows: batch })
    .chain((c) => values(c.rows * c.dModel).map((data) => ({ ...c, data })));

const finiteCase = layerCase((n) => finite(n));
/** Inputs with NaN and ±Infinity: the properties below hold for them too. */
const anyCase = layerCase(anyFloat32);

function rowsOf(m: Matrix, from: number, to: number): Matrix {
  return { rows: to - from, cols: m.cols, data: m.data.slice(from * m.cols, to * m.cols) };
}

function stack(a: Matrix, b: Matrix): Matrix {
  const data = new Float32Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { rows: a.rows + b.rows, cols: a.cols, data };
}

describe.each(KERNELS)("FeedForward properties, %s kernel", (kernel) => {
  const layer = (c: { dModel: number; dHidden: number; seed: number }): Promise<FeedForward> =>
    makeLayer(kernel, { dModel: c.dModel, dHidden: c.dHidden, seed: c.seed });

  it("row i of forward(X) is forwardToken(X[i]), and is unchanged when every other row changes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(finiteCase, anyCase), fc.nat(), async (c, otherSeed) => {
        const ffn = await layer(c);
        const x: Matrix = { rows: c.rows, cols: c.dModel, data: c.data };
        const y = ffn.forward(x);
        // X2: row i of X, every other row replaced by other values (1e3 wide: a different scale).
        const other = seededFloats(c.rows * c.dModel, otherSeed, 1e3);
        for (let i = 0; i < c.rows; i++) {
          expectSameBits(ffn.forwardToken(row(x, i)), row(y, i), `forwardToken row ${i}`);
          const x2 = { rows: c.rows, cols: c.dModel, data: other.slice() };
          x2.data.set(row(x, i), i * c.dModel);
          expectSameBits(row(ffn.forward(x2), i), row(y, i), `row ${i} among other rows`);
        }
      }),
      RUNS,
    );
  });

  it("forward([A; B]) is [forward(A); forward(B)]", async () => {
    await fc.assert(
      fc.asyncProperty(finiteCase, fc.nat({ max: 80 }), async (c, cut) => {
        const ffn = await layer(c);
        const x: Matrix = { rows: c.rows, cols: c.dModel, data: c.data };
        const split = Math.min(cut, c.rows);
        const a = rowsOf(x, 0, split);
        const b = rowsOf(x, split, c.rows);
        expectSameMatrix(ffn.forward(stack(a, b)), stack(ffn.forward(a), ffn.forward(b)));
      }),
      RUNS,
    );
  });

  it("forward(P·X) is P·forward(X) for every permutation P", async () => {
    await fc.assert(
      fc.asyncProperty(
        anyCase.chain((c) =>
          fc
            .shuffledSubarray(
              Array.from({ length: c.rows }, (_, i) => i),
              { minLength: c.rows, maxLength: c.rows },
            )
            .map((perm) => ({ ...c, perm })),
        ),
        async (c) => {
          const ffn = await layer(c);
          const d = c.dModel;
          const x: Matrix = { rows: c.rows, cols: d, data: c.data };
          const px: Matrix = { rows: c.rows, cols: d, data: new Float32Array(c.data.length) };
          c.perm.forEach((from, to) => px.data.set(row(x, from), to * d));
          const y = ffn.forward(x);
          const py = ffn.forward(px);
          c.perm.forEach((from, to) => expectSameBits(row(py, to), row(y, from), `row ${to}`));
        },
      ),
      RUNS,
    );
  });

  it("forward(x, out) writes the same bits as forward(x) and returns out", async () => {
    await fc.assert(
      fc.asyncProperty(anyCase, async (c) => {
        const ffn = await layer(c);
        const x: Matrix = { rows: c.rows, cols: c.dModel, data: c.data };
        const out: Matrix = {
          rows: c.rows,
          cols: c.dModel,
          data: new Float32Array(c.data.length).fill(NaN),
        };
        expect(ffn.forward(x, out)).toBe(out);
        expectSameMatrix(out, ffn.forward(x));
        const t = new Float32Array(c.dModel).fill(7);
        for (let i = 0; i < Math.min(c.rows, 3); i++) {
          expect(ffn.forwardToken(row(x, i), t)).toBe(t);
          expectSameBits(t, row(out, i), `forwardToken(x[${i}], out)`);
        }
      }),
      RUNS,
    );
  });

  it("agrees with the float64 model within the forward-error bound (seeded weights)", async () => {
    await fc.assert(
      fc.asyncProperty(finiteCase, async (c) => {
        const ffn = await layer(c);
        const w = ffn.weights;
        const ref = forward64(
          {
            dModel: c.dModel,
            dHidden: c.dHidden,
            w1: w.w1.data,
            b1: w.b1 ?? null,
            w2: w.w2.data,
            b2: w.b2 ?? null,
          },
          c.data,
          c.rows,
        );
        const y = ffn.forward({ rows: c.rows, cols: c.dModel, data: c.data });
        expect(outsideBound(y.data, ref.y, ref.bound)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("agrees with the float64 model within the bound (arbitrary weights, with and without biases)", async () => {
    const arb = fc
      .record({
        dModel: dim,
        dHidden: dim,
        rows: fc.integer({ min: 1, max: 5 }),
        bias: fc.boolean(),
      })
      .chain((c) =>
        fc.record({
          c: fc.constant(c),
          w: weights(c.dModel, c.dHidden, c.bias, 2),
          x: finite(c.rows * c.dModel, 8),
        }),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ({ c, w, x }) => {
        const ffn = await layerFromWeights(kernel, w);
        const ref = forward64(
          {
            dModel: c.dModel,
            dHidden: c.dHidden,
            w1: w.w1.data,
            b1: w.b1 ?? null,
            w2: w.w2.data,
            b2: w.b2 ?? null,
          },
          x,
          c.rows,
        );
        const y = ffn.forward({ rows: c.rows, cols: c.dModel, data: x });
        expect(outsideBound(y.data, ref.y, ref.bound)).toEqual([]);
      }),
      RUNS,
    );
  });
});

describe("the JS kernel is the oracle of src/kernels/reference.ts, bit for bit", () => {
  it("for seeded layers and any input, NaN and ±Infinity included", async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(finiteCase, anyCase), async (c) => {
        const ffn = await makeLayer("js", { dModel: c.dModel, dHidden: c.dHidden, seed: c.seed });
        const w = ffn.weights;
        const want = new Float32Array(c.rows * c.dModel);
        feedForwardReference(
          c.data,
          c.rows,
          c.dModel,
          c.dHidden,
          w.w1.data,
          w.b1 ?? null,
          w.w2.data,
          w.b2 ?? null,
          want,
        );
        expectSameBits(ffn.forward({ rows: c.rows, cols: c.dModel, data: c.data }).data, want);
      }),
      RUNS,
    );
  });

  it("for arbitrary weights, with and without biases", async () => {
    const arb = fc
      .record({ dModel: dim, dHidden: dim, rows: batch, bias: fc.boolean() })
      .chain((c) =>
        fc.record({
          c: fc.constant(c),
          w: weights(c.dModel, c.dHidden, c.bias, 4),
          x: anyFloat32(c.rows * c.dModel),
        }),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ({ c, w, x }) => {
        const ffn = await layerFromWeights("js", w);
        const want = new Float32Array(c.rows * c.dModel);
        feedForwardReference(
          x,
          c.rows,
          c.dModel,
          c.dHidden,
          w.w1.data,
          w.b1 ?? null,
          w.w2.data,
          w.b2 ?? null,
          want,
        );
        expectSameBits(ffn.forward({ rows: c.rows, cols: c.dModel, data: x }).data, want);
      }),
      RUNS,
    );
  });
});
