// The mixture bench's problem and check (bench/moe-problem.ts): no token of the problem is near a
// routing tie, tokenwise's mixture and a float32 composition pass the check, and the composition's
// two near misses (another expert, the other normalisation) fail it.
import { describe, expect, it } from "vitest";
import { composedPeer } from "../bench/moe-composed";
import {
  type MoEShape,
  TIE_MARGIN,
  checkMoE,
  makeMoEProblem,
  moeReference,
  moeRows,
} from "../bench/moe-problem";
import { MixtureOfExperts, matrix } from "../src/index";

const SHAPES: MoEShape[] = [
  { name: "normalised", dModel: 24, dHidden: 13, experts: 8, topK: 2, normalize: true },
  { name: "as scored", dModel: 17, dHidden: 9, experts: 16, topK: 4, normalize: false },
  // Near ties are common here: drawn freely, 200 tokens had one under 1 (of 8 needed).
  { name: "OLMoE's routing", dModel: 256, dHidden: 8, experts: 64, topK: 8, normalize: false },
];

describe.each(SHAPES)("the mixture bench's problem, $name", (shape) => {
  const T = 11;
  const p = makeMoEProblem(shape, T, 3);
  const ref = moeReference(p, moeRows(T));

  it("draws tokens whose top-k gap clears the tie margin, checked in float64", () => {
    expect(ref.rows).toEqual([0, 1, 3, 4, 6, 7, 9, 10]);
    const many = makeMoEProblem(shape, 200, 3);
    const all = moeReference(
      many,
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(all.minGap).toBeGreaterThanOrEqual(TIE_MARGIN);
    expect(makeMoEProblem(shape, T, 3).x).toEqual(p.x); // a function of the seed
  });

  it("passes tokenwise's mixture on both kernels and the float32 composition", async () => {
    const weights = {
      router: matrix(shape.dModel, shape.experts, p.router),
      experts: p.experts.map((w) => ({
        wGate: matrix(shape.dModel, shape.dHidden, w.wGate),
        wUp: matrix(shape.dModel, shape.dHidden, w.wUp),
        wDown: matrix(shape.dHidden, shape.dModel, w.wDown),
      })),
    };
    for (const kernel of ["js", "wasm"] as const) {
      const moe = MixtureOfExperts.fromWeights(weights, {
        topK: shape.topK,
        normalize: shape.normalize,
        kernel,
      });
      const y = moe.forward(matrix(T, shape.dModel, p.x)).data;
      const c = checkMoE(y, p, ref);
      expect(c.reason).toBeUndefined();
      expect(c.worstRatio).toBeLessThanOrEqual(1);
      // tokenwise's choice is the reference's.
      const chosen = moe.route(matrix(T, shape.dModel, p.x)).experts;
      ref.rows.forEach((r, n) => {
        const mine = [...chosen.subarray(r * shape.topK, (r + 1) * shape.topK)].sort(
          (a, b) => a - b,
        );
        expect(mine).toEqual(ref.chosen[n]);
      });
    }
    const inst = await composedPeer("js-f32-test-fixture").setup(p);
    expect(checkMoE(await inst.forward(p.x, T), p, ref).ok).toBe(true);
  });

  it("fails the composition that takes the (k+1)-th expert, or normalises the other way", async () => {
    for (const name of [
      "js-f32-wrong-expert-test-fixture",
      "js-f32-flips-normalize-test-fixture",
    ]) {
      const inst = await composedPeer(name).setup(p);
      const c = checkMoE(await inst.forward(p.x, T), p, ref);
      expect(c.ok, name).toBe(false);
      expect(c.reason).toMatch(/^output \(\d+, \d+\) is .* expected .* within/);
    }
  });

  it("fails an output of the wrong length, naming it", () => {
    expect(checkMoE(new Float32Array(3), p, ref).reason).toMatch(/returned 3 values/);
  });
});
