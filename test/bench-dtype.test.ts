// The bench's `--dtype`: its list is checked, a run with a 16-bit type rounds every contender's
// weights to values both 16-bit types hold (so the 16-bit rows and every peer compute one layer,
// checked against one float64 reference), and tokenwise gets one row per type.
import { describe, expect, it } from "vitest";
import { type Contender, runEach, setupLayers } from "../bench/contender";
import { exactIn16, parseDtypes } from "../bench/dtype";
import { checkExact, makeExactProblem } from "../bench/exact";
import { feedForwardModel, gatedModel, matMulNBitsInputs } from "../bench/peers/onnx-model";
import { defaultPeers, loadPeers, nodePeers } from "../bench/peers/index";
import { ffnWeights, gatedWeights, makeProblem } from "../bench/problem";
import {
  checkQuantized,
  ggmlBlocks,
  quantPeerReference,
  quantizedMaps,
  quantizedRow,
} from "../bench/quant";
import { checkOutput } from "../bench/reference";
import { parseShape } from "../bench/shapes";
import { FeedForward, ggufTensorToFloat32 } from "../src/index";
import { blockScales } from "../src/kernels/quant";
import { tokenwiseContenders } from "../bench/tokenwise";
import { RELAXED_DTYPES, relaxedDtypes } from "../src/kernels/wasm/relaxed";
import { narrowInto, widenInto } from "../src/dtype";

describe("--dtype", () => {
  it("takes f32, bf16, f16, q8_0 and q4_0, once each, and names the list on anything else", () => {
    expect(parseDtypes(["f32", "bf16", "f16", "bf16", "q8_0"])).toEqual([
      "f32",
      "bf16",
      "f16",
      "q8_0",
    ]);
    expect(() => parseDtypes(["f32", "fp16"])).toThrow(
      new RangeError('--dtype: "fp16" is not one of f32, bf16, f16, q8_0, q4_0'),
    );
  });

  it("checks a quantized row bit for bit against the js kernel's layer, and catches one bit", async () => {
    const shape = { name: "t", tokens: 3, dModel: 64, dHidden: 96 };
    const variant = { layer: "ffn", activation: "gelu" } as const;
    const problem = makeProblem(shape, 4, variant);
    const [row] = await tokenwiseContenders(["wasm"], [1], variant, ["q8_0"]);
    expect(row !== undefined && "setup" in row && quantizedRow(row)).toBe("q8_0");
    const inst = await (row as Contender).setup(shape, problem.weights);
    const y = (await inst.forward(problem.x)).slice();
    await inst.dispose?.();
    const ok = await checkQuantized([y], problem, "q8_0");
    expect([ok.ok, ok.against]).toEqual([true, "js q8_0"]);
    const bits = new Uint32Array(y.buffer);
    bits[100] = (bits[100] as number) ^ 1;
    const bad = await checkQuantized([y], problem, "q8_0");
    expect(bad.ok).toBe(false);
    expect(bad.reason).toMatch(/^layer 1: output 100 is /);
  });

  it("--std-dot adds a row per quantized wasm row, built with relaxed SIMD off, with the same bits", async () => {
    const shape = { name: "t", tokens: 3, dModel: 64, dHidden: 96 };
    const variant = { layer: "ffn", activation: "gelu" } as const;
    const problem = makeProblem(shape, 4, variant);
    const rows = await tokenwiseContenders(
      ["wasm"],
      [1],
      variant,
      ["f32", "q8_0", "q4_0"],
      false,
      true,
    );
    expect(rows.map((r) => r.label)).toEqual([
      "tokenwise wasm@1t",
      "tokenwise wasm q8_0@1t",
      "tokenwise wasm q4_0@1t",
      "tokenwise wasm q8_0-std-dot@1t",
      "tokenwise wasm q4_0-std-dot@1t",
    ]);
    for (const dtype of ["q8_0", "q4_0"] as const) {
      const ys: Float32Array[] = [];
      for (const label of [`tokenwise wasm ${dtype}@1t`, `tokenwise wasm ${dtype}-std-dot@1t`]) {
        const row = rows.find((r) => r.label === label) as Contender;
        expect(quantizedRow(row)).toBe(dtype);
        const inst = await row.setup(shape, problem.weights);
        ys.push((await inst.forward(problem.x)).slice());
        await inst.dispose?.();
      }
      expect(new Uint32Array((ys[1] as Float32Array).buffer)).toEqual(
        new Uint32Array((ys[0] as Float32Array).buffer),
      );
      expect((await checkQuantized([ys[1] as Float32Array], problem, dtype)).ok).toBe(true);
    }
    // The choice of types is back for the layers built after a std-dot row.
    expect(relaxedDtypes()).toEqual(RELAXED_DTYPES);
  });

  it("gives MatMulNBits the ggml blocks' own weights: (u - 128 or 8) · scale, B (N, K/32, blob)", () => {
    const K = 64;
    const N = 5;
    const w = ffnWeights(
      makeProblem({ name: "t", tokens: 1, dModel: K, dHidden: N }, 7).weights,
      "t",
    ).w1;
    for (const dtype of ["q8_0", "q4_0"] as const) {
      const blocks = ggmlBlocks(w, K, N, dtype);
      // ggml's layout: N rows of K values.
      const want = ggufTensorToFloat32({
        type: dtype === "q8_0" ? "Q8_0" : "Q4_0",
        shape: [N, K],
        data: blocks,
      });
      const { b, scales, blob } = matMulNBitsInputs(blocks, dtype, K, N, (x) =>
        blockScales(x, dtype),
      );
      expect([b.length, blob]).toEqual([N * (K / 32) * blob, dtype === "q8_0" ? 32 : 16]);
      // MatMulNBits' definition, written out: element k of column n is in blob (n, k / 32),
      // 8 bits a byte, or 4 bits two a byte with the even element in the low nibble.
      const got = new Float32Array(K * N);
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const at = (n * (K / 32) + (k >> 5)) * blob;
          const i = k & 31;
          const u =
            dtype === "q8_0"
              ? (b[at + i] as number) - 128
              : (((b[at + (i >> 1)] as number) >> (4 * (i & 1))) & 15) - 8;
          got[n * K + k] = u * (scales[n * (K / 32) + (k >> 5)] as number);
        }
      }
      expect([...got], dtype).toEqual([...want]);
    }
  });

  it("holds a quantized peer to a bound that admits int8 activations (the js q8_0 layer passes) and catches an error", () => {
    const shape = { name: "t", tokens: 3, dModel: 64, dHidden: 96 };
    for (const activation of ["relu", "gelu"] as const) {
      const problem = makeProblem(shape, 5, { layer: "ffn", activation });
      const w = ffnWeights(problem.weights, "t");
      for (const dtype of ["q8_0", "q4_0"] as const) {
        // The js kernel's quantized layer rounds every activation to int8 per block of 32, as
        // accuracy_level 4 may: it must pass, on the very blocks the peer gets.
        const layer = FeedForward.fromWeights(
          {
            w1: { rows: 64, cols: 96, data: w.w1 },
            b1: w.b1,
            w2: { rows: 96, cols: 64, data: w.w2 },
            b2: w.b2,
          },
          { dtype, kernel: "js", activation },
        );
        const q = quantizedMaps(shape, w, dtype);
        const json = layer.toJSON() as unknown as { w1: string };
        expect(json.w1).toBe(Buffer.from(q.maps[0] as Uint8Array).toString("base64"));
        const y = layer.forward({ rows: 3, cols: 64, data: problem.x }).data;
        const ref = quantPeerReference(problem, [0, 1, 2], dtype);
        const ok = checkOutput(y, problem, ref);
        expect(ok.ok, `${activation} ${dtype}: ${ok.reason}`).toBe(true);
        expect(ok.worstRatio).toBeGreaterThan(0);
        // Off by twice its bound at one output: caught.
        const bad = y.slice();
        bad[70] = (ref.expected[70] as number) + 2 * (ref.bound[70] as number);
        expect(checkOutput(bad, problem, ref).ok).toBe(false);
      }
    }
  });

  it("refuses a width that is not a multiple of the block, naming it, for a quantized peer's model", () => {
    for (const [dModel, dHidden, name, width] of [
      [24, 64, "dModel", 24],
      [64, 40, "dHidden", 40],
      [33, 96, "dModel", 33],
    ] as const) {
      const shape = { name: "t", tokens: 1, dModel, dHidden };
      const w = ffnWeights(makeProblem(shape, 1).weights, "t");
      for (const dtype of ["q8_0", "q4_0"] as const) {
        expect(() => quantizedMaps(shape, w, dtype)).toThrow(
          `a ${dtype} model: ${name} = ${width} is not a multiple of 32, the block size`,
        );
      }
    }
  });

  it("rounds to values that bf16 and f16 both hold exactly, in every process alike", () => {
    const shape = { name: "t", tokens: 2, dModel: 9, dHidden: 40 };
    const plain = makeProblem(shape, 3);
    const exact = makeProblem(shape, 3, { layer: "ffn", activation: "relu", exact16: true });
    for (const [key, w] of Object.entries(exact.weights) as [string, Float32Array][]) {
      for (const dtype of ["bf16", "f16"] as const) {
        const back = widenInto(
          dtype,
          narrowInto(dtype, w, new Uint16Array(w.length)),
          new Float32Array(w.length),
        );
        expect([...back], `${key} in ${dtype}`).toEqual([...w]);
      }
      const orig = (plain.weights as unknown as Record<string, Float32Array>)[key] as Float32Array;
      // Within bf16's rounding of the drawn values (half an ulp of 8 bits), and f16's of a tiny
      // one (half of 2^-24): f16 holds every bf16 value of its normal range.
      orig.forEach((v, i) =>
        expect(Math.abs((w[i] as number) - v)).toBeLessThanOrEqual(
          Math.abs(v) * 2 ** -8 + 2 ** -25,
        ),
      );
    }
    expect([...exact.x]).toEqual([...plain.x]); // the tokens are not rounded
    expect([...exactIn16(new Float32Array([1 + 2 ** -8, 2 ** -30, 1000.3]))]).toEqual([1, 0, 1000]);
  });

  it.each([
    ["ffn", "relu"],
    ["gated", "silu"],
  ] as const)(
    "gives a %s exact problem that bf16 and f16 hold, which the 16-bit layers pass",
    async (layer, activation) => {
      const variant = { layer, activation };
      // dModel 4096 (G1's) needs the gated layer's bias in three base-32 digits, 9 one.
      for (const name of ["3x4096x24", "2x9x40"]) {
        const shape = parseShape(name);
        const exact = makeExactProblem(shape, 5, variant);
        for (const l of exact.layers) {
          for (const [key, w] of Object.entries(l.weights) as [string, Float32Array][]) {
            if (key === "b1" || key === "b2") continue; // layers keep biases in float32
            expect([...exactIn16(Float32Array.from(w))], `${name} ${key}`).toEqual([...w]);
            expect(w.includes(0), `${name} ${key} has no zero weight`).toBe(false);
          }
        }
        const rows = await tokenwiseContenders(["wasm", "js"], [1], variant, ["bf16", "f16"]);
        expect(rows).toHaveLength(4);
        for (const c of rows) {
          if (!("setup" in c)) throw new Error(`${c.label}: ${c.reason}`);
          const outputs = await runEach(
            await setupLayers(
              c,
              shape,
              exact.layers.map((l) => l.weights),
            ),
            exact.layers.map((l) => l.x),
          );
          const check = checkExact(outputs, exact);
          expect(check.ok, `${c.label} at ${name}: ${check.reason}`).toBe(true);
        }
      }
    },
    60_000,
  );

  it("gives tokenwise one row per weight type, f32's under its usual name", async () => {
    const rows = await tokenwiseContenders(
      ["wasm", "js"],
      [1],
      { layer: "gated", activation: "silu" },
      ["f32", "bf16", "f16"],
    );
    expect(rows.map((r) => r.id)).toEqual([
      "tokenwise-gated-wasm@1t",
      "tokenwise-gated-wasm-bf16@1t",
      "tokenwise-gated-wasm-f16@1t",
      "tokenwise-gated-js",
      "tokenwise-gated-js-bf16",
      "tokenwise-gated-js-f16",
    ]);
  });
});

// Just enough protobuf reading to see a model's nodes, their integer attributes, and its
// initializers' types and bytes.
type Field = { field: number; value: number | Uint8Array };
function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
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
const sub = (fs: Field[], n: number) =>
  fs.filter((f) => f.field === n).map((f) => f.value as Uint8Array);
const ints = (fs: Field[], n: number) =>
  fs.filter((f) => f.field === n).map((f) => f.value as number);
const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** IEEE binary16 bits to a number, from the format's definition (not src/dtype.ts). */
function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
}

function graphOf(model: Uint8Array) {
  const graph = fields(sub(fields(model), 7)[0] as Uint8Array);
  const nodes = sub(graph, 1).map(fields);
  return {
    nodes: nodes.map((n) => ({
      op: text(sub(n, 4)[0]),
      inputs: sub(n, 1).map(text),
      output: text(sub(n, 2)[0]),
      attrs: sub(n, 5)
        .map(fields)
        .map((a) => [text(sub(a, 1)[0]), ints(a, 3)[0], ints(a, 20)[0]]),
    })),
    inits: sub(graph, 5)
      .map(fields)
      .map((t) => {
        const raw = sub(t, 9)[0] as Uint8Array;
        const type = ints(t, 2)[0];
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const values =
          type === 10
            ? Array.from({ length: raw.length / 2 }, (_, i) => half(view.getUint16(2 * i, true)))
            : Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
        return { name: text(sub(t, 8)[0]), type, values };
      }),
  };
}

describe("the float16 ONNX models of the f16 rows (onnxruntime-web's)", () => {
  const shape = { name: "t", tokens: 2, dModel: 5, dHidden: 7 };
  const exact16 = { layer: "ffn", activation: "gelu", exact16: true } as const;
  const w = ffnWeights(makeProblem(shape, 4, exact16).weights, "test");
  const CAST_TO_FLOAT = ["to", 1, 2]; // attribute "to" = FLOAT, of type INT
  const CAST_TO_FLOAT16 = ["to", 10, 2];

  it("float16: FLOAT16 weight matrices holding the weights, each Cast to float32 before its MatMul", () => {
    const g = graphOf(feedForwardModel(shape, w, "relu", "float16"));
    expect(g.nodes.map((n) => [n.op, n.inputs, n.output])).toEqual([
      ["Cast", ["w1_f16"], "w1"],
      ["Cast", ["w2_f16"], "w2"],
      ["MatMul", ["x", "w1"], "xw1"],
      ["Add", ["xw1", "b1"], "h0"],
      ["Relu", ["h0"], "h"],
      ["MatMul", ["h", "w2"], "hw2"],
      ["Add", ["hw2", "b2"], "y"],
    ]);
    expect(g.nodes[0]?.attrs).toEqual([CAST_TO_FLOAT]);
    // The matrices are FLOAT16 (10) and hold the weights exactly; the biases stay FLOAT (1), as a
    // 16-bit tokenwise layer keeps them.
    expect(g.inits.map((t) => [t.name, t.type])).toEqual([
      ["w1_f16", 10],
      ["b1", 1],
      ["w2_f16", 10],
      ["b2", 1],
    ]);
    expect(g.inits.map((t) => t.values)).toEqual([w.w1, w.b1, w.w2, w.b2].map((a) => [...a]));
  });

  it("float16-graph: every tensor float16, x cast in and y cast out, constants float16", () => {
    const g = graphOf(feedForwardModel(shape, w, "gelu", "float16-graph"));
    const first = g.nodes[0];
    const last = g.nodes[g.nodes.length - 1];
    expect([first?.op, first?.inputs, first?.output, first?.attrs]).toEqual([
      "Cast",
      ["x"],
      "x_f16",
      [CAST_TO_FLOAT16],
    ]);
    expect([last?.op, last?.inputs, last?.output, last?.attrs]).toEqual([
      "Cast",
      ["y_f16"],
      "y",
      [CAST_TO_FLOAT],
    ]);
    expect(g.nodes.filter((n) => n.op === "Cast")).toHaveLength(2);
    expect(g.nodes[1]?.inputs).toEqual(["x_f16", "w1"]);
    expect(g.inits.every((t) => t.type === 10)).toBe(true);
    expect(g.inits.slice(0, 4).map((t) => t.values)).toEqual(
      [w.w1, w.b1, w.w2, w.b2].map((a) => [...a]),
    );
    // gelu's constants, rounded to float16: 1/√2 is 0.70703125 there.
    expect(g.inits.slice(4).map((t) => t.values[0])).toEqual([0.70703125, 1, 0.5]);
  });

  it("the gated layer's three matrices the same way", () => {
    const gw = gatedWeights(
      makeProblem(shape, 4, { layer: "gated", activation: "silu", exact16: true }).weights,
      "test",
    );
    const g = graphOf(gatedModel(shape, gw, "silu", "float16"));
    expect(g.nodes.filter((n) => n.op === "Cast").map((n) => n.output)).toEqual([
      "w_gate",
      "w_up",
      "w_down",
    ]);
    expect(g.inits.map((t) => t.values)).toEqual([gw.wGate, gw.wUp, gw.wDown].map((a) => [...a]));
  });

  it("are peers of f16 runs only: in the default list with --dtype f16, unable without it", async () => {
    expect(defaultPeers(["f32"])).not.toContain("ort-web-f16");
    expect(defaultPeers(["f32", "f16"])).toEqual(
      expect.arrayContaining(["ort-web", "ort-web-f16", "ort-web-f16-graph"]),
    );
    const { contenders, status } = await loadPeers(
      nodePeers("/nonexistent"),
      ["ort-web-f16"],
      [1],
      {
        layer: "ffn",
        activation: "relu",
      },
    );
    expect(contenders).toEqual([
      expect.objectContaining({
        id: "ort-web-f16@1t",
        reason:
          "cannot run the FeedForward, relu layer: its model holds the weights as f16: run it with --dtype f16",
      }),
    ]);
    expect(status[0]?.loaded).toBe(false);
  });
});

describe("a float16 model of weights beyond float16's range", () => {
  it("is refused when built, naming the tensor and the value (it cannot hold the layer)", () => {
    const shape = { name: "t", tokens: 1, dModel: 2, dHidden: 3 };
    const w = ffnWeights(makeProblem(shape, 1, { layer: "ffn", activation: "relu" }).weights, "t");
    w.b1[2] = 70000;
    expect(() => feedForwardModel(shape, w, "relu", "float16-graph")).toThrow(
      new RangeError(
        "b1[2] = 70000 is beyond float16's range (65504): a float16 model cannot hold this layer",
      ),
    );
    // float16 initializers cast to float32 keep the biases float32: 70000 is fine there.
    expect(feedForwardModel(shape, w, "relu", "float16").length).toBeGreaterThan(0);
    w.w2[0] = -65520; // rounds to -infinity in float16
    expect(() => feedForwardModel(shape, w, "relu", "float16")).toThrow(
      /^w2_f16\[0\] = -65520 is beyond/,
    );
  });
});
