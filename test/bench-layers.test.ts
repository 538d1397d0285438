// The bench's float64 reference and bound for the activations and the gated layer: the constants
// the bound rests on (Lipschitz constants, the activations' evaluation error), checked against
// tokenwise's own independent float64 functions; the bound passing tokenwise and failing a
// result pushed past it; and the ONNX graphs the peers run.
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, type ActivationName, parseVariant } from "../bench/layer";
import { feedForwardModel, gatedModel } from "../bench/peers/onnx-model";
import { ffnWeights, gatedWeights, makeProblem } from "../bench/problem";
import {
  ACTIVATION_REF,
  ALPHA32,
  ALPHA64,
  LIPSCHITZ,
  checkOutput,
  chooseRows,
  computeReference,
  erfRef,
} from "../bench/reference";
import { flopsOf, parseShape, weightBytesOf } from "../bench/shapes";
import {
  ACTIVATION_GRAD,
  ACTIVATION_SCALAR,
  erf64,
  gelu64,
  geluTanh64,
  silu64,
} from "../src/kernels/activation";
import { FeedForward, GatedFeedForward } from "../src/index";

const U32 = 2 ** -24;
const U64 = 2 ** -53;

/** Every 1/1024 over [-12, 12]: both tails, the kinks near ±√2 and ±2.4, zero. */
const GRID = Array.from({ length: 24 * 1024 + 1 }, (_, i) => -12 + i / 1024);

const SRC64: Record<ActivationName, (v: number) => number> = {
  relu: (v) => (v < 0 ? 0 : v),
  gelu: gelu64,
  geluTanh: geluTanh64,
  silu: silu64,
};

describe("the activations' constants in the bound", () => {
  it.each(ACTIVATIONS)("%s: the Lipschitz constant bounds |act'| everywhere on the grid", (a) => {
    let worst = 0;
    for (const v of GRID) worst = Math.max(worst, Math.abs(ACTIVATION_GRAD[a](v)));
    expect(worst).toBeLessThanOrEqual(LIPSCHITZ[a]);
    // and is not loose: within 0.1 % of the largest slope (relu's is 1 exactly)
    expect(worst).toBeGreaterThan(LIPSCHITZ[a] * 0.999);
  });

  it("erfRef agrees with tokenwise's erf64 (5 u64 relative) well within α64", () => {
    for (const v of GRID) {
      const want = erf64(v);
      expect(Math.abs(erfRef(v) - want)).toBeLessThanOrEqual(ALPHA64.gelu * U64);
    }
    expect(erfRef(0)).toBe(0);
    expect(erfRef(7)).toBe(1);
    expect(erfRef(-7)).toBe(-1);
  });

  it.each(ACTIVATIONS)("%s: the float64 reference is within α64·u64·|v| of tokenwise's", (a) => {
    for (const v of GRID) {
      const err = Math.abs(ACTIVATION_REF[a](v) - SRC64[a](v));
      expect(err).toBeLessThanOrEqual(ALPHA64[a] * U64 * Math.abs(v));
    }
  });

  it.each(ACTIVATIONS)("%s: tokenwise's float32 activation is within α·u·|v| of it", (a) => {
    for (const v32 of GRID.map(Math.fround)) {
      const err = Math.abs(ACTIVATION_SCALAR[a](v32) - ACTIVATION_REF[a](v32));
      expect(err).toBeLessThanOrEqual((ALPHA32[a] * U32 + ALPHA64[a] * U64) * Math.abs(v32));
    }
  });
});

describe("reference and bound of each layer", () => {
  const shape = { name: "t", tokens: 3, dModel: 17, dHidden: 29 };

  it.each(ACTIVATIONS)("ffn %s: passes tokenwise's js and wasm kernels", async (a) => {
    const problem = makeProblem(shape, 11, { layer: "ffn", activation: a });
    const ref = computeReference(problem, chooseRows(3, 17, 29));
    const { w1, b1, w2, b2 } = ffnWeights(problem.weights, "test");
    const weights = {
      w1: { rows: 17, cols: 29, data: w1 },
      b1,
      w2: { rows: 29, cols: 17, data: w2 },
      b2,
    };
    for (const kernel of ["js", "wasm"] as const) {
      const ffn = await FeedForward.create({ weights, kernel, activation: a });
      const c = checkOutput(ffn.forward({ rows: 3, cols: 17, data: problem.x }).data, problem, ref);
      expect(c.ok, `${kernel}: ${c.reason}`).toBe(true);
      ffn.dispose();
    }
  });

  it("ffn gelu: fails a relu layer's output (the activation matters to the check)", () => {
    const problem = makeProblem(shape, 11, { layer: "ffn", activation: "gelu" });
    const ref = computeReference(problem, chooseRows(3, 17, 29));
    const { w1, b1, w2, b2 } = ffnWeights(problem.weights, "test");
    const relu = FeedForward.fromWeights({
      w1: { rows: 17, cols: 29, data: w1 },
      b1,
      w2: { rows: 29, cols: 17, data: w2 },
      b2,
    });
    const c = checkOutput(relu.forward({ rows: 3, cols: 17, data: problem.x }).data, problem, ref);
    expect(c.ok).toBe(false);
    expect(c.worstRatio).toBeGreaterThan(10);
  });

  function gatedOutput(seed: number, activation: ActivationName) {
    const problem = makeProblem(shape, seed, { layer: "gated", activation });
    const { wGate, wUp, wDown } = gatedWeights(problem.weights, "test");
    const layer = GatedFeedForward.fromWeights(
      {
        wGate: { rows: 17, cols: 29, data: wGate },
        wUp: { rows: 17, cols: 29, data: wUp },
        wDown: { rows: 29, cols: 17, data: wDown },
      },
      { activation },
    );
    return { problem, y: layer.forward({ rows: 3, cols: 17, data: problem.x }).data };
  }

  it.each(ACTIVATIONS)("gated %s: passes GatedFeedForward", (a) => {
    const { problem, y } = gatedOutput(5, a);
    const c = checkOutput(y, problem, computeReference(problem, [0, 1, 2]));
    expect(c.ok, c.reason).toBe(true);
    expect(c.worstRatio).toBeLessThan(1);
  });

  it("gated silu: fails an element off by twice its bound, passes one off by half", () => {
    const { problem } = gatedOutput(5, "silu");
    const ref = computeReference(problem, [0, 1, 2]);
    const out = Float32Array.from(ref.expected);
    const at = 2 * 17 + 3;
    const b = ref.bound[at] as number;
    // float32 rounding adds at most u·|y|/2, and the bound is over γ_H·|y| = 29·u·|y|
    out[at] = (ref.expected[at] as number) + 0.5 * b;
    expect(checkOutput(out, problem, ref).ok).toBe(true);
    out[at] = (ref.expected[at] as number) + 2 * b;
    const c = checkOutput(out, problem, ref);
    expect(c.ok).toBe(false);
    expect(c.reason).toMatch(/^output \(2, 3\) is /);
  });

  it("the gated layer draws three matrices and no biases, the same bits in every process", () => {
    const v = parseVariant("gated");
    expect(v).toEqual({ layer: "gated", activation: "silu" });
    const a = gatedWeights(makeProblem(shape, 3, v).weights, "test");
    const b = gatedWeights(makeProblem(shape, 3, v).weights, "test");
    expect(Object.keys(a)).toEqual(["wGate", "wUp", "wDown"]);
    expect(a.wDown).toEqual(b.wDown);
    expect(a.wGate).not.toEqual(a.wUp);
  });

  it("parses --layer and --activation, and refuses unknown ones", () => {
    expect(parseVariant()).toEqual({ layer: "ffn", activation: "relu" });
    expect(parseVariant("ffn", "geluTanh")).toEqual({ layer: "ffn", activation: "geluTanh" });
    expect(parseVariant("gated", "gelu")).toEqual({ layer: "gated", activation: "gelu" });
    expect(() => parseVariant("moe")).toThrow(/--layer: "moe" is not one of ffn, gated/);
    expect(() => parseVariant("ffn", "tanh")).toThrow(/--activation: "tanh" is not one of/);
  });
});

describe("gated shapes and FLOPs", () => {
  it("G1 and G2 are LLaMA-7B's MLP widths; a gated forward is 6·T·dModel·dHidden", () => {
    expect(parseShape("G1")).toMatchObject({ tokens: 1, dModel: 4096, dHidden: 11008 });
    expect(parseShape("g2")).toMatchObject({ tokens: 8, dModel: 4096, dHidden: 11008 });
    const s = parseShape("G2");
    expect(flopsOf(s, "gated")).toBe(6 * 8 * 4096 * 11008);
    expect(flopsOf(s)).toBe(4 * 8 * 4096 * 11008);
    expect(weightBytesOf(s, "gated")).toBe(3 * 4 * 4096 * 11008);
  });

  it("checks every G2 row (3·8·4096·11008 < 1.2e9 multiply-adds), four of 64", () => {
    expect(chooseRows(8, 4096, 11008, 1.2e9, 4, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(chooseRows(64, 4096, 11008, 1.2e9, 4, 3)).toEqual([0, 21, 42, 63]);
  });
});

// Just enough protobuf reading to list a model's node types and initializers.
function fields(bytes: Uint8Array): { field: number; value: number | Uint8Array }[] {
  const out: { field: number; value: number | Uint8Array }[] = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[i++] as number;
      v += (b & 127) * scale;
      if (b < 128) return v;
    }
  };
  while (i < bytes.length) {
    const key = varint();
    if (key % 8 === 0) out.push({ field: key >> 3, value: varint() });
    else {
      const n = varint();
      out.push({ field: key >> 3, value: bytes.subarray(i, i + n) });
      i += n;
    }
  }
  return out;
}
const sub = (fs: ReturnType<typeof fields>, n: number) =>
  fs.filter((f) => f.field === n).map((f) => f.value as Uint8Array);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

function graphOf(model: Uint8Array) {
  const graph = fields(sub(fields(model), 7)[0] as Uint8Array);
  const nodes = sub(graph, 1).map(fields);
  return {
    ops: nodes.map((n) => text(sub(n, 4)[0])),
    inputs: nodes.map((n) => sub(n, 1).map(text)),
    output: nodes.map((n) => text(sub(n, 2)[0])),
    inits: sub(graph, 5)
      .map(fields)
      .map((t) => ({
        name: text(sub(t, 8)[0]),
        dims: t.filter((f) => f.field === 1).map((f) => f.value as number),
        raw: sub(t, 9)[0] as Uint8Array,
      })),
  };
}

describe("ONNX graphs of the activations and the gated layer", () => {
  const shape = { name: "t", tokens: 2, dModel: 5, dHidden: 7 };

  it("gated silu is MatMul, Sigmoid, Mul, MatMul, Mul, MatMul, no biases", () => {
    const w = gatedWeights(makeProblem(shape, 1, parseVariant("gated")).weights, "test");
    const g = graphOf(gatedModel(shape, w, "silu"));
    expect(g.ops).toEqual(["MatMul", "Sigmoid", "Mul", "MatMul", "Mul", "MatMul"]);
    expect(g.inputs[0]).toEqual(["x", "w_gate"]);
    expect(g.inputs[3]).toEqual(["x", "w_up"]);
    expect(g.output[5]).toBe("y");
    expect(g.inits.map((t) => [t.name, t.dims])).toEqual([
      ["w_gate", [5, 7]],
      ["w_up", [5, 7]],
      ["w_down", [7, 5]],
    ]);
  });

  it("ffn gelu is 0.5 · h · (1 + Erf(h / √2)) with rank-0 float constants", () => {
    const w = ffnWeights(makeProblem(shape, 1).weights, "test");
    const g = graphOf(feedForwardModel(shape, w, "gelu"));
    expect(g.ops).toEqual(["MatMul", "Add", "Mul", "Erf", "Add", "Mul", "Mul", "MatMul", "Add"]);
    const constants = g.inits.filter((t) => t.dims.length === 0);
    const value = (t: { raw: Uint8Array }) =>
      new DataView(t.raw.buffer, t.raw.byteOffset, 4).getFloat32(0, true);
    expect(constants.map(value)).toEqual([Math.fround(Math.SQRT1_2), 1, 0.5]);
  });

  it("geluTanh uses Tanh, silu uses Sigmoid, relu stays Relu", () => {
    const w = ffnWeights(makeProblem(shape, 1).weights, "test");
    expect(graphOf(feedForwardModel(shape, w, "geluTanh")).ops).toContain("Tanh");
    expect(graphOf(feedForwardModel(shape, w, "silu")).ops).toEqual([
      "MatMul",
      "Add",
      "Sigmoid",
      "Mul",
      "MatMul",
      "Add",
    ]);
    expect(graphOf(feedForwardModel(shape, w)).ops).toEqual([
      "MatMul",
      "Add",
      "Relu",
      "MatMul",
      "Add",
    ]);
  });
});
