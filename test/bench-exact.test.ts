// The exact check (bench/exact.ts): its problem is what it claims (checked by plain float64
// arithmetic on the very float32 weights), every correct kernel returns its output bit for bit,
// and a kernel one fault away from correct (a dropped term, a bias added twice, two columns
// swapped) is refused at every shape the bench runs, where the forward-error bound alone can
// let it through.
import { describe, expect, it } from "vitest";
import { type Contender, runEach, setupLayers } from "../bench/contender";
import { type GemmKernel, customContender } from "../bench/custom";
import { checkExact, makeExactProblem } from "../bench/exact";
import { ACTIVATIONS, type Variant } from "../bench/layer";
import { naiveContender } from "../bench/naive";
import { ffnWeights, gatedWeights, makeProblem } from "../bench/problem";
import { checkOutput, chooseRows, computeReference } from "../bench/reference";
import { type Shape, layersOf, parseShape } from "../bench/shapes";
import { TOKENWISE, tokenwiseContender } from "../bench/tokenwise";
import fourRowGemm from "../docs/examples/custom-kernel";
import { ffnNearMisses, gatedNearMisses } from "./fixtures/bench-near-miss-kernels";

const RELU: Variant = { layer: "ffn", activation: "relu" };

/**
 * A gemm kernel with an untimed prepare: each weight matrix transposed once, so gemm reads b
 * column by column (float64 sums). prepare must run once per matrix, before any call.
 */
const prepared: { calls: number } = { calls: 0 };
const transposingGemm: GemmKernel<{ t: Float32Array; k: number; n: number }> = {
  name: "transposing gemm (test)",
  prepare(w, k, n) {
    prepared.calls++;
    const t = new Float32Array(k * n);
    for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = w[i * n + j] as number;
    return { t, k, n };
  },
  gemm(out, a, b, m, k, n) {
    if (b.k !== k || b.n !== n) throw new Error("prepared for another shape");
    for (let r = 0; r < m; r++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let i = 0; i < k; i++) s += (a[r * k + i] as number) * (b.t[j * k + i] as number);
        out[r * n + j] = s;
      }
  },
};
const SWIGLU: Variant = { layer: "gated", activation: "silu" };

/** Outputs of a contender on the exact problem, each layer's instance on its own input. */
async function exactOutputs(c: Contender, shape: Shape, variant: Variant, seed = 1) {
  const exact = makeExactProblem(shape, seed, variant);
  const outputs = await runEach(
    await setupLayers(
      c,
      shape,
      exact.layers.map((l) => l.weights),
    ),
    exact.layers.map((l) => l.x),
  );
  return { exact, outputs };
}

function contender(k: Parameters<typeof customContender>[0], v: Variant): Contender {
  const c = customContender(k, v);
  if ("reason" in c) throw new Error(c.reason);
  return c;
}

describe("the exact problem", () => {
  // Plain float64 arithmetic on the float32 weights: exact for these integers (every product and
  // sum is far below 2^53), and independent of the generator's integer bookkeeping.
  function float64Forward(v: Variant, shape: Shape, w: ReturnType<typeof makeExactProblem>) {
    const { tokens: T, dModel: D, dHidden: H } = shape;
    return w.layers.map((l) => {
      const y = new Float64Array(T * D);
      for (let r = 0; r < T; r++) {
        const h = new Float64Array(H);
        const u = new Float64Array(H);
        const gated = v.layer === "gated";
        const a = gated ? gatedWeights(l.weights, "t").wGate : ffnWeights(l.weights, "t").w1;
        for (let i = 0; i < H; i++) {
          let s = gated ? 0 : (ffnWeights(l.weights, "t").b1[i] as number);
          let t = 0;
          for (let k = 0; k < D; k++) {
            s += (l.x[r * D + k] as number) * (a[k * H + i] as number);
            if (gated)
              t +=
                (l.x[r * D + k] as number) *
                (gatedWeights(l.weights, "t").wUp[k * H + i] as number);
          }
          h[i] = s;
          u[i] = t;
        }
        for (let i = 0; i < H; i++) {
          // Every hidden value is positive, a multiple of 256 of at least 6 units.
          expect(h[i]).toBeGreaterThanOrEqual(6 * 256);
          expect((h[i] as number) % 256).toBe(0);
        }
        const w2 = gated ? gatedWeights(l.weights, "t").wDown : ffnWeights(l.weights, "t").w2;
        for (let j = 0; j < D; j++) {
          let s = gated ? 0 : (ffnWeights(l.weights, "t").b2[j] as number);
          for (let i = 0; i < H; i++)
            s +=
              (gated ? (h[i] as number) * (u[i] as number) : (h[i] as number)) *
              (w2[i * D + j] as number);
          y[r * D + j] = s;
        }
      }
      return y;
    });
  }

  it.each([
    ["Q1", RELU],
    ["Q2", RELU],
    ["Q3", RELU],
    ["7x13x17", RELU],
    ["3x1x5", RELU],
    ["Q2", SWIGLU],
    ["7x13x17", SWIGLU],
    ["2x1x3", SWIGLU],
    ["5x24x37x2", SWIGLU],
  ] as const)(
    "%s %o: the outputs are what float64 arithmetic on the weights gives, in float32",
    (name, v) => {
      const shape = parseShape(name);
      const exact = makeExactProblem(shape, 3, v);
      expect(exact.layers).toHaveLength(layersOf(shape));
      expect(exact.largestSum).toBeLessThan(2 ** 24);
      const want = float64Forward(v, shape, exact);
      exact.layers.forEach((l, n) => {
        expect(l.rows).toEqual(Array.from({ length: shape.tokens }, (_, i) => i));
        for (let i = 0; i < l.expected.length; i++) {
          expect(l.expected[i]).toBe(want[n]?.[i]);
          expect(Math.fround(l.expected[i] as number)).toBe(l.expected[i]);
        }
      });
    },
  );

  it("keeps hidden values distinct among 50 or more neighbouring columns at the bench's shapes", () => {
    for (const name of ["S1", "S5", "D1"]) {
      const shape = parseShape(name);
      // The generator's bound only depends on dHidden: a one-token copy is enough to read it.
      const one = { ...shape, tokens: 1, layers: 1 };
      expect(makeExactProblem(one, 1, RELU).distinctColumns).toBeGreaterThanOrEqual(1000);
      expect(makeExactProblem(one, 1, SWIGLU).distinctColumns).toBeGreaterThanOrEqual(50);
    }
  });

  it("refuses a shape too large for float32 to stay exact, saying so", () => {
    expect(() => makeExactProblem(parseShape("1x1x200000"), 1, SWIGLU)).toThrow(
      /exact problem at 1x1x200000: .* beyond float32's exact 2\^24/,
    );
  });
});

describe("every correct kernel returns the exact output", () => {
  const shapes = ["Q1", "Q2", "Q3", "1x1x1", "3x5x7", "9x17x13", "4x16x33x2"];
  it.each(ACTIVATIONS)(
    "FeedForward, %s: tokenwise js and wasm, the naive loop, a gemm kernel",
    async (activation) => {
      const v: Variant = { layer: "ffn", activation };
      for (const name of shapes) {
        const shape = parseShape(name);
        const list: Contender[] = [
          ...TOKENWISE.filter((e) => e.layer === "ffn" && e.webgpu !== true).map((e) =>
            tokenwiseContender(e, 1, activation),
          ),
          naiveContender(v),
          contender(fourRowGemm, v),
          contender(transposingGemm, v),
        ];
        for (const c of list) {
          prepared.calls = 0;
          const { exact, outputs } = await exactOutputs(c, shape, v);
          const check = checkExact(outputs, exact);
          expect(check.ok, `${c.label} at ${name}: ${check.reason}`).toBe(true);
          expect(check.compared).toBe(shape.tokens * shape.dModel * layersOf(shape));
          if (c.label.startsWith("transposing")) expect(prepared.calls).toBe(2 * layersOf(shape));
        }
      }
    },
  );

  it.each(ACTIVATIONS)(
    "gated, %s: tokenwise js and wasm, the naive loop, a gemm kernel",
    async (activation) => {
      const v: Variant = { layer: "gated", activation };
      for (const name of shapes) {
        const shape = parseShape(name);
        const list: Contender[] = [
          ...TOKENWISE.filter((e) => e.layer === "gated" && e.webgpu !== true).map((e) =>
            tokenwiseContender(e, 1, activation),
          ),
          naiveContender(v),
          contender(fourRowGemm, v),
          contender(transposingGemm, v),
        ];
        for (const c of list) {
          prepared.calls = 0;
          const { exact, outputs } = await exactOutputs(c, shape, v);
          const check = checkExact(outputs, exact);
          expect(check.ok, `${c.label} at ${name}: ${check.reason}`).toBe(true);
          if (c.label.startsWith("transposing")) expect(prepared.calls).toBe(3 * layersOf(shape));
        }
      }
    },
  );
});

describe("near misses are refused at every shape", () => {
  // The bench's shapes (the FeedForward's S1..S5, D1 and Q1..Q3, the gated layer's G1, G2 and
  // the quick ones), and awkward ones. Each fault kernel is the WebAssembly layer with a changed
  // copy of the weights, so even S5 and G1 cost a few seconds.
  const ffnShapes = ["Q1", "Q2", "Q3", "2x3x5", "17x31x29", "S1", "S2", "S3", "S4", "S5", "D1"];
  const gatedShapes = ["Q1", "Q2", "Q3", "2x3x5", "17x31x29", "G1", "G2", "S1"];

  it.each(ffnShapes)(
    "FeedForward at %s",
    async (name) => {
      const shape = parseShape(name);
      const exact = makeExactProblem(shape, 1, RELU);
      for (const k of ffnNearMisses("relu")) {
        const outputs = await runEach(
          await setupLayers(
            contender(k, RELU),
            shape,
            exact.layers.map((l) => l.weights),
          ),
          exact.layers.map((l) => l.x),
        );
        const check = checkExact(outputs, exact);
        if (k.name.startsWith("correct")) expect(check.ok, `${k.name}: ${check.reason}`).toBe(true);
        else {
          expect(check.ok, k.name).toBe(false);
          expect(check.reason).toMatch(/^exact check: output \(\d+, \d+\)( of layer \d+)? is /);
        }
      }
    },
    120_000,
  );

  it.each(gatedShapes)(
    "gated (SwiGLU) at %s",
    async (name) => {
      const shape = parseShape(name);
      const exact = makeExactProblem(shape, 1, SWIGLU);
      for (const k of gatedNearMisses("silu")) {
        const outputs = await runEach(
          await setupLayers(
            contender(k, SWIGLU),
            shape,
            exact.layers.map((l) => l.weights),
          ),
          exact.layers.map((l) => l.x),
        );
        const check = checkExact(outputs, exact);
        if (k.name.startsWith("correct")) expect(check.ok, `${k.name}: ${check.reason}`).toBe(true);
        else expect(check.ok, k.name).toBe(false);
      }
    },
    120_000,
  );

  it.each(["gelu", "geluTanh", "silu"] as const)(
    "FeedForward with %s: the saturated problem refuses the same faults",
    async (activation) => {
      const v: Variant = { layer: "ffn", activation };
      for (const name of ["Q2", "Q3", "17x31x29"]) {
        const shape = parseShape(name);
        const exact = makeExactProblem(shape, 1, v);
        for (const k of ffnNearMisses(activation)) {
          const outputs = await runEach(
            await setupLayers(
              contender(k, v),
              shape,
              exact.layers.map((l) => l.weights),
            ),
            exact.layers.map((l) => l.x),
          );
          expect(checkExact(outputs, exact).ok, `${k.name} at ${name}`).toBe(
            k.name.startsWith("correct"),
          );
        }
      }
    },
  );

  it("the forward-error bound alone passes two of them at S1; the exact check refuses them", async () => {
    // Why the exact check exists: the bound holds for every summation order, so at 768 x 3072
    // it is far wider than the errors of a kernel that drops one of 768 terms, or swaps two of
    // 3072 hidden columns (on this seed's problem, 0.25 and 0.56 of it).
    const shape = parseShape("S1");
    const problem = makeProblem(shape, 1, RELU);
    const ref = computeReference(problem, chooseRows(1, 768, 3072));
    for (const fault of ["drops the first term of x·W1", "swaps hidden columns 0 and 1 of W1"]) {
      const k = ffnNearMisses("relu").find((f) => f.name.startsWith(fault));
      if (k === undefined) throw new Error(`no fixture ${fault}`);
      const forward = await k.setup(ffnWeights(problem.weights, "t"), shape);
      const bound = checkOutput(await forward(problem.x), problem, ref);
      expect(bound.ok, fault).toBe(true);
      expect(bound.worstRatio).toBeGreaterThan(0.1);
      const { exact, outputs } = await exactOutputs(contender(k, RELU), shape, RELU);
      expect(checkExact(outputs, exact).ok, fault).toBe(false);
    }
  }, 60_000);
});

describe("checkExact", () => {
  const shape = parseShape("Q2");
  const exact = makeExactProblem(shape, 1, RELU);
  const right = () => {
    const y = new Float32Array(shape.tokens * shape.dModel);
    const l = exact.layers[0];
    if (l === undefined) throw new Error("no layer");
    l.rows.forEach((r, n) =>
      y.set(l.expected.subarray(n * shape.dModel, (n + 1) * shape.dModel), r * shape.dModel),
    );
    return y;
  };

  it("passes the exact output, −0 for +0 included", () => {
    const y = right();
    expect(checkExact([y], exact)).toMatchObject({ ok: true, mismatches: 0, compared: 120 });
  });

  it("refuses one output off by one unit in the last place, naming it and counting", () => {
    const y = right();
    y[7] = Math.fround((y[7] as number) * (1 + 2 ** -23));
    const c = checkExact([y], exact);
    expect(c.ok).toBe(false);
    expect(c.mismatches).toBe(1);
    expect(c.reason).toMatch(
      /^exact check: output \(0, 7\) is .*, expected exactly .* \(1 of 120 outputs differ/,
    );
  });

  it("refuses a wrong kind, length, a non-finite value, or a missing layer", () => {
    expect(checkExact([new Float64Array(120)], exact).reason).toBe(
      "exact check: returned Float64Array, expected a Float32Array",
    );
    expect(checkExact([new Float32Array(3)], exact).reason).toMatch(/returned 3 values/);
    const nan = right();
    nan[5] = NaN;
    expect(checkExact([nan], exact).reason).toMatch(/output \(0, 5\) is NaN/);
    expect(checkExact([], exact).reason).toBe("exact check: 0 outputs for 1 layers");
  });
});
