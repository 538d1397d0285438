// The bench's own parts that a wrong result could hide behind: the float64 reference and its
// bound, the row choice, shape parsing and the ONNX model encoder (the roof: bench-roof.test.ts).
import { describe, expect, it } from "vitest";
import { feedForwardModel, varint } from "../bench/peers/onnx-model";
import { ffnWeights, makeProblem } from "../bench/problem";
import { checkOutput, chooseRows, computeReference, gamma } from "../bench/reference";
import { parseShape } from "../bench/shapes";
import { FeedForward } from "../src/index";

const shape = { name: "t", tokens: 3, dModel: 17, dHidden: 29 };
const problem = makeProblem(shape, 7);
const weights = ffnWeights(problem.weights, "test");
const ref = computeReference(problem, chooseRows(3, 17, 29));

function tokenwiseOutput(): Float32Array {
  const { w1, b1, w2, b2 } = weights;
  const ffn = FeedForward.fromWeights(
    { w1: { rows: 17, cols: 29, data: w1 }, b1, w2: { rows: 29, cols: 17, data: w2 }, b2 },
    { kernel: "js" },
  );
  return ffn.forward({ rows: 3, cols: 17, data: problem.x }).data;
}

describe("reference and bound", () => {
  it("gamma is n·u / (1 − n·u), infinite once n·u reaches 1", () => {
    expect(gamma(1, 2 ** -24)).toBe(2 ** -24 / (1 - 2 ** -24));
    const nu = 4097 * 2 ** -24;
    expect(gamma(4097, 2 ** -24)).toBeGreaterThan(nu);
    expect(gamma(4097, 2 ** -24)).toBeLessThan(nu * (1 + 2 * nu));
    expect(gamma(2 ** 24, 2 ** -24)).toBe(Infinity);
  });

  it("passes the JS kernel, whose error is one float32 rounding per element", () => {
    const c = checkOutput(tokenwiseOutput(), problem, ref);
    expect(c.ok).toBe(true);
    expect(c.rowsChecked).toBe(3);
    // The kernel rounds each output once: |error| <= u·|y| < the bound, which also covers
    // two summations in float32.
    expect(c.worstRatio).toBeLessThan(1);
  });

  it("fails an element off by twice its bound, naming it; passes one off by half", () => {
    const out = Float32Array.from(ref.expected);
    const j = 5;
    const b = ref.bound[1 * 17 + j] as number;
    out[1 * 17 + j] = (ref.expected[1 * 17 + j] as number) + 0.5 * b;
    // Rounding to float32 adds at most u·|y|/2, and the bound is at least γ_{H+1}·|y| > 30·u·|y|,
    // so this element stays within 0.5 + 1/60 of its bound, and every other within 1/60.
    expect(checkOutput(out, problem, ref).ok).toBe(true);
    out[1 * 17 + j] = (ref.expected[1 * 17 + j] as number) + 2 * b;
    const c = checkOutput(out, problem, ref);
    expect(c.ok).toBe(false);
    expect(c.reason).toMatch(/^output \(1, 5\) is /);
    expect(c.worstRatio).toBeGreaterThan(1.5);
  });

  it("rejects a non-Float32Array, a wrong length and a non-finite value", () => {
    expect(checkOutput(Float64Array.from(ref.expected), problem, ref).reason).toBe(
      "returned Float64Array, expected a Float32Array",
    );
    expect(checkOutput(new Float32Array(50), problem, ref).reason).toBe(
      "returned 50 values, expected T·dModel = 51",
    );
    const nan = tokenwiseOutput();
    nan[40] = NaN;
    expect(checkOutput(nan, problem, ref).reason).toMatch(/^output \(2, 6\) is NaN/);
    expect(checkOutput(undefined, problem, ref).reason).toBe(
      "returned undefined, expected a Float32Array",
    );
  });

  it("checks a shape of several layers layer by layer, each on the input", async () => {
    const { chain, setupLayers } = await import("../bench/contender");
    const { TOKENWISE, tokenwiseContender } = await import("../bench/tokenwise");
    for (const variant of [
      { layer: "ffn", activation: "gelu" },
      { layer: "gated", activation: "silu" },
    ] as const) {
      const chained = { name: "c", tokens: 2, dModel: 11, dHidden: 19, layers: 3 };
      const p = makeProblem(chained, 5, variant);
      expect(p.layers).toHaveLength(3);
      expect(p.layers[1]).not.toEqual(p.layers[0]);
      const refs = [0, 1, 2].map((l) => computeReference(p, [0, 1], l));
      for (const e of TOKENWISE.filter((t) => t.layer === variant.layer && t.webgpu !== true)) {
        const c = tokenwiseContender(e, 1, variant.activation);
        const layers = await setupLayers(c, chained, p.layers);
        for (let l = 0; l < 3; l++) {
          const y = (
            await (layers[l] as { forward: (x: Float32Array) => Float32Array }).forward(p.x)
          ).slice();
          expect(checkOutput(y, p, refs[l] as (typeof refs)[0]).ok).toBe(true);
          // Each layer's output fails the other layers' references.
          expect(checkOutput(y, p, refs[(l + 1) % 3] as (typeof refs)[0]).ok).toBe(false);
        }
        // The chain runs them in turn: its output is the third layer's on the second's on the first's.
        const direct = (await chain(layers).forward(p.x)).slice();
        let z = p.x;
        for (const layer of layers) z = (await layer.forward(z)).slice();
        expect(direct).toEqual(z);
      }
    }
  });

  it("checks every row while affordable, else four spread over the batch", () => {
    expect(chooseRows(128, 768, 3072)).toEqual(Array.from({ length: 128 }, (_, i) => i));
    expect(chooseRows(64, 4096, 11008)).toEqual([0, 21, 42, 63]);
    expect(chooseRows(3, 4096, 11008)).toEqual([0, 1, 2]);
  });
});

describe("shapes", () => {
  it("parses names and TxDxH", () => {
    expect(parseShape("s3")).toMatchObject({ name: "S3", tokens: 128, dModel: 768, dHidden: 3072 });
    expect(parseShape("16x256x1024")).toMatchObject({
      name: "16x256x1024",
      tokens: 16,
      dModel: 256,
      dHidden: 1024,
    });
    expect(() => parseShape("16x256")).toThrow(RangeError);
    expect(() => parseShape("0x4x4")).toThrow(/at least 1/);
  });
});

// A minimal protobuf reader, to read back what the encoder wrote.
type Field = { field: number; wire: number; value: number | Uint8Array };
function readFields(bytes: Uint8Array): Field[] {
  const fields: Field[] = [];
  let i = 0;
  const readVarint = () => {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[i++] as number;
      v += (b & 127) * scale;
      scale *= 128;
      if (b < 128) return v;
    }
  };
  while (i < bytes.length) {
    const key = readVarint();
    const wire = key % 8;
    const field = Math.floor(key / 8);
    if (wire === 0) fields.push({ field, wire, value: readVarint() });
    else if (wire === 2) {
      const n = readVarint();
      fields.push({ field, wire, value: bytes.subarray(i, i + n) });
      i += n;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return fields;
}
const sub = (fs: Field[], n: number) =>
  fs.filter((f) => f.field === n).map((f) => f.value as Uint8Array);
const ints = (fs: Field[], n: number) =>
  fs.filter((f) => f.field === n).map((f) => f.value as number);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

describe("ONNX model encoder", () => {
  it("writes protobuf varints", () => {
    expect(varint(0)).toEqual([0]);
    expect(varint(127)).toEqual([127]);
    expect(varint(300)).toEqual([0xac, 0x02]);
    expect(varint(2 ** 35)).toEqual([128, 128, 128, 128, 128, 1]);
    expect(() => varint(-1)).toThrow(RangeError);
  });

  it("encodes MatMul, Add, Relu, MatMul, Add with the weights as initializers", () => {
    const model = readFields(feedForwardModel(shape, weights));
    expect(ints(model, 1)).toEqual([8]); // ir_version
    const opset = readFields(sub(model, 8)[0] as Uint8Array);
    expect(ints(opset, 2)).toEqual([17]);
    const graph = readFields(sub(model, 7)[0] as Uint8Array);
    const nodes = sub(graph, 1).map(readFields);
    expect(nodes.map((n) => text(sub(n, 4)[0]))).toEqual([
      "MatMul",
      "Add",
      "Relu",
      "MatMul",
      "Add",
    ]);
    expect(nodes.map((n) => sub(n, 1).map(text))).toEqual([
      ["x", "w1"],
      ["xw1", "b1"],
      ["h0"],
      ["h", "w2"],
      ["hw2", "b2"],
    ]);
    expect(text(sub(nodes[4] as Field[], 2)[0])).toBe("y");
    const inits = sub(graph, 5).map(readFields);
    expect(inits.map((t) => text(sub(t, 8)[0]))).toEqual(["w1", "b1", "w2", "b2"]);
    expect(inits.map((t) => ints(t, 1))).toEqual([[17, 29], [29], [29, 17], [17]]);
    inits.forEach((t, k) => {
      expect(ints(t, 2)).toEqual([1]); // FLOAT
      const raw = sub(t, 9)[0] as Uint8Array;
      const data = [weights.w1, weights.b1, weights.w2, weights.b2][k] as Float32Array;
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      expect(raw.length).toBe(data.length * 4);
      for (let i = 0; i < data.length; i++) expect(view.getFloat32(i * 4, true)).toBe(data[i]);
    });
    const dims = (vi: Uint8Array) => {
      const type = readFields(sub(readFields(vi), 2)[0] as Uint8Array);
      const tensor = readFields(sub(type, 1)[0] as Uint8Array);
      return sub(readFields(sub(tensor, 2)[0] as Uint8Array), 1).map(
        (d) => ints(readFields(d), 1)[0],
      );
    };
    expect(dims(sub(graph, 11)[0] as Uint8Array)).toEqual([3, 17]);
    expect(dims(sub(graph, 12)[0] as Uint8Array)).toEqual([3, 17]);
  });
});

describe("tokenwise rows with layer options", () => {
  it("carry their tag in the id and label, and give their options to every layer built", async () => {
    const { TOKENWISE, tokenwiseContender, withLayerOptions } = await import("../bench/tokenwise");
    const { setupLayers } = await import("../bench/contender");
    const base = TOKENWISE.find((e) => e.layer === "ffn" && e.kernel === "js");
    if (base === undefined) throw new Error("no js row");
    const seen: unknown[] = [];
    const recording = {
      ...base,
      make: (...args: Parameters<typeof base.make>) => {
        seen.push(args[4]);
        return base.make(...args);
      },
    };
    const row = withLayerOptions(recording, "probe", { kernel: "js" });
    const c = tokenwiseContender(row, 1, "relu");
    expect(c.id).toBe("tokenwise-js-probe");
    expect(c.label).toBe("tokenwise js probe");
    expect(c.host).toEqual({
      kind: "tokenwise",
      kernel: "js",
      threads: 1,
      tag: "probe",
      options: { kernel: "js" },
    });
    const chained = { name: "c", tokens: 1, dModel: 4, dHidden: 6, layers: 3 };
    await setupLayers(c, chained, makeProblem(chained, 1).layers);
    expect(seen).toEqual([{ kernel: "js" }, { kernel: "js" }, { kernel: "js" }]);
    expect(() => withLayerOptions(base, "no spaces", {})).toThrow(/tag "no spaces"/);
  });
});
