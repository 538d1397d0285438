// The bench's WebGPU contenders, in Node (the browser run itself: bench-web-webgpu.test.ts): the
// checks they get (bench/reference-webgpu.ts) pass a correct output and refuse one off by twice
// its bound; the exact problem is asked of them only where a GPU must return it; and they are
// opt-in, and unavailable where there is no WebGPU, with the reason.
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type Variant } from "../bench/layer";
import { defaultPeers, loadPeers, nodePeers } from "../bench/peers/index";
import { makeProblem } from "../bench/problem";
import { checkOutput, chooseRows, computeReference } from "../bench/reference";
import { computeWebgpuReference, exactHoldsOnWebgpu } from "../bench/reference-webgpu";
import { NO_WEBGPU, tokenwiseContenders } from "../bench/tokenwise";

const shape = { name: "t", tokens: 3, dModel: 17, dHidden: 29 };
const LAYERS = ["ffn", "gated"] as const;

describe("the WebGPU contenders' checks", () => {
  it.each(LAYERS)(
    "%s: both bounds hold the float64 model's float32 rounding and contain the bench's bound",
    (layer) => {
      for (const activation of ACTIVATIONS) {
        const v: Variant = { layer, activation };
        const problem = makeProblem(shape, 3, v);
        const rows = chooseRows(3, 17, 29);
        const plain = computeReference(problem, rows);
        for (const kind of ["kernel", "peer"] as const) {
          const ref = computeWebgpuReference(problem, rows, kind);
          expect(ref.rows).toEqual(rows);
          // The same float64 value (two float64 models: within both their bounds).
          for (let i = 0; i < ref.expected.length; i++) {
            const gap = Math.abs((ref.expected[i] as number) - (plain.expected[i] as number));
            expect(gap, `${layer} ${activation} ${kind}`).toBeLessThan(1e-12);
          }
          if (kind === "peer") {
            // The bench's bound plus the flushing: never narrower.
            for (let i = 0; i < ref.bound.length; i++)
              expect(ref.bound[i]).toBeGreaterThanOrEqual(plain.bound[i] as number);
          }
          // A correct output: the float64 model rounded to float32, within both bounds.
          const y = new Float32Array(shape.tokens * shape.dModel);
          rows.forEach((r, n) => {
            for (let j = 0; j < 17; j++) y[r * 17 + j] = ref.expected[n * 17 + j] as number;
          });
          expect(checkOutput(y, problem, ref).ok, `${layer} ${activation} ${kind}`).toBe(true);
          // One element off by twice its bound is refused, and named.
          const bad = y.slice();
          bad[17 + 5] = (ref.expected[17 + 5] as number) + 2 * (ref.bound[17 + 5] as number);
          const c = checkOutput(bad, problem, ref);
          expect(c.ok).toBe(false);
          expect(c.reason).toMatch(/^output \(1, 5\) is /);
        }
      }
    },
  );

  it("asks the exact problem of a GPU contender where WGSL makes it exact: relu, and the kernel's gelu", () => {
    const holds = (kind: "kernel" | "peer") =>
      ACTIVATIONS.filter((a) => exactHoldsOnWebgpu(kind, a));
    expect(holds("kernel")).toEqual(["relu", "gelu"]);
    expect(holds("peer")).toEqual(["relu"]);
  });
});

describe("the WebGPU contenders in Node", () => {
  const relu: Variant = { layer: "ffn", activation: "relu" };

  it("are not run unless named", async () => {
    const all = await tokenwiseContenders("all", [1], relu);
    expect(all.map((c) => c.id)).not.toContain("tokenwise-webgpu");
    expect(defaultPeers(["f32"])).not.toContain("tfjs-webgpu");
    expect(defaultPeers(["f32"])).not.toContain("ort-webgpu");
  });

  it("are unavailable without navigator.gpu, saying where they run", async () => {
    for (const layer of LAYERS) {
      const [row] = await tokenwiseContenders(["webgpu"], [1, 2], {
        layer,
        activation: "relu",
      });
      expect(row).toEqual({
        id: layer === "gated" ? "tokenwise-gated-webgpu" : "tokenwise-webgpu",
        label: layer === "gated" ? "tokenwise gated webgpu" : "tokenwise webgpu",
        group: "tokenwise",
        threads: 1,
        reason: NO_WEBGPU,
      });
    }
    const { contenders, status } = await loadPeers(
      nodePeers("/nonexistent"),
      ["tfjs-webgpu", "ort-webgpu"],
      [1],
      relu,
    );
    expect(contenders.map((c) => [c.id, "reason" in c ? c.reason : null])).toEqual([
      ["tfjs-webgpu", NO_WEBGPU],
      ["ort-webgpu", NO_WEBGPU],
    ]);
    expect(status.map((s) => s.loaded)).toEqual([false, false]);
  });
});
