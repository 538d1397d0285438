// The name maps: each family's tensor names, layout and activation as its published
// structure has them (the fixtures of families.test.ts load by them), their argument checks,
// and the earlier gated API kept working over them.
import { describe, expect, it } from "vitest";
import {
  GATED_CHECKPOINT_NAMES,
  GatedFeedForward,
  bertFeedForwardNames,
  gatedCheckpointNames,
  gatedWeightsFromCheckpoint,
  gemmaFeedForwardNames,
  gpt2FeedForwardNames,
  llamaFeedForwardNames,
  matrix,
  mistralFeedForwardNames,
  optFeedForwardNames,
  qwen2FeedForwardNames,
  robertaFeedForwardNames,
  t5FeedForwardNames,
  t5GatedFeedForwardNames,
  type Matrix,
} from "../../src/index";
import { seededFloats as seeded } from "../helpers/arbitraries";

describe("name maps", () => {
  it("GPT-2: Conv1D c_fc and c_proj of the mlp, with biases, gelu_new", () => {
    expect(gpt2FeedForwardNames(3)).toEqual({
      w1: "transformer.h.3.mlp.c_fc.weight",
      b1: "transformer.h.3.mlp.c_fc.bias",
      w2: "transformer.h.3.mlp.c_proj.weight",
      b2: "transformer.h.3.mlp.c_proj.bias",
      layout: "conv1d",
      activation: "geluTanh",
    });
    expect(gpt2FeedForwardNames(0, "h").w2).toBe("h.0.mlp.c_proj.weight");
  });

  it("BERT and RoBERTa: intermediate.dense and output.dense, with biases, exact GELU", () => {
    expect(bertFeedForwardNames(11)).toEqual({
      w1: "bert.encoder.layer.11.intermediate.dense.weight",
      b1: "bert.encoder.layer.11.intermediate.dense.bias",
      w2: "bert.encoder.layer.11.output.dense.weight",
      b2: "bert.encoder.layer.11.output.dense.bias",
      layout: "linear",
      activation: "gelu",
    });
    expect(robertaFeedForwardNames(0)).toEqual({
      w1: "roberta.encoder.layer.0.intermediate.dense.weight",
      b1: "roberta.encoder.layer.0.intermediate.dense.bias",
      w2: "roberta.encoder.layer.0.output.dense.weight",
      b2: "roberta.encoder.layer.0.output.dense.bias",
      layout: "linear",
      activation: "gelu",
    });
    expect(bertFeedForwardNames(1, "encoder.layer").w1).toBe(
      "encoder.layer.1.intermediate.dense.weight",
    );
  });

  it("OPT and T5 v1.0: ReLU", () => {
    expect(optFeedForwardNames(11)).toEqual({
      w1: "model.decoder.layers.11.fc1.weight",
      b1: "model.decoder.layers.11.fc1.bias",
      w2: "model.decoder.layers.11.fc2.weight",
      b2: "model.decoder.layers.11.fc2.bias",
      layout: "linear",
      activation: "relu",
    });
    expect(t5FeedForwardNames(2, "decoder")).toEqual({
      w1: "decoder.block.2.layer.2.DenseReluDense.wi.weight",
      w2: "decoder.block.2.layer.2.DenseReluDense.wo.weight",
      layout: "linear",
      activation: "relu",
    });
  });

  it("LLaMA, Mistral, Qwen2: gate_proj, up_proj, down_proj, no biases, silu", () => {
    const llama = {
      wGate: "model.layers.7.mlp.gate_proj.weight",
      wUp: "model.layers.7.mlp.up_proj.weight",
      wDown: "model.layers.7.mlp.down_proj.weight",
      layout: "linear",
      activation: "silu",
    };
    expect(llamaFeedForwardNames(7)).toEqual(llama);
    expect(mistralFeedForwardNames(7)).toEqual(llama);
    expect(qwen2FeedForwardNames(7)).toEqual(llama);
    expect(llamaFeedForwardNames(0, "layers").wDown).toBe("layers.0.mlp.down_proj.weight");
  });

  it("Gemma: LLaMA's names with the tanh GELU", () => {
    expect(gemmaFeedForwardNames(1)).toEqual({
      wGate: "model.layers.1.mlp.gate_proj.weight",
      wUp: "model.layers.1.mlp.up_proj.weight",
      wDown: "model.layers.1.mlp.down_proj.weight",
      layout: "linear",
      activation: "geluTanh",
    });
  });

  it("T5 v1.1: wi_0 (the gate), wi_1, wo, encoder layer.1 and decoder layer.2, gelu_new", () => {
    expect(t5GatedFeedForwardNames(2)).toEqual({
      wGate: "encoder.block.2.layer.1.DenseReluDense.wi_0.weight",
      wUp: "encoder.block.2.layer.1.DenseReluDense.wi_1.weight",
      wDown: "encoder.block.2.layer.1.DenseReluDense.wo.weight",
      layout: "linear",
      activation: "geluTanh",
    });
    expect(t5GatedFeedForwardNames(0, "decoder").wDown).toBe(
      "decoder.block.0.layer.2.DenseReluDense.wo.weight",
    );
  });

  const WITH_PREFIX = [
    optFeedForwardNames,
    gpt2FeedForwardNames,
    bertFeedForwardNames,
    robertaFeedForwardNames,
    llamaFeedForwardNames,
    mistralFeedForwardNames,
    qwen2FeedForwardNames,
    gemmaFeedForwardNames,
  ];
  it.each(WITH_PREFIX.map((f) => [f.name, f] as const))(
    "%s refuses a bad layer or prefix with a TypeError",
    (name, f) => {
      for (const [layer, got] of [
        [-1, "-1"],
        [1.5, "1.5"],
        [NaN, "NaN"],
        ["0", "string 0"],
        [null, "null"],
      ] as const) {
        expect(() => f(layer as never)).toThrow(
          new TypeError(`${name}: layer must be a non-negative integer, got ${got}`),
        );
      }
      expect(() => f(0, null as never)).toThrow(
        new TypeError(`${name}: prefix must be a string, got null`),
      );
    },
  );

  it.each([t5FeedForwardNames, t5GatedFeedForwardNames].map((f) => [f.name, f] as const))(
    "%s refuses a stack that is not encoder or decoder",
    (name, f) => {
      expect(() => f(0, "middle" as never)).toThrow(
        new TypeError(`${name}: stack must be "encoder" or "decoder", got string middle`),
      );
      expect(() => f(-2)).toThrow(
        new TypeError(`${name}: layer must be a non-negative integer, got -2`),
      );
    },
  );
});

describe("the earlier gated API (deprecated), over the same names", () => {
  it("gatedCheckpointNames and GATED_CHECKPOINT_NAMES give the family's names", () => {
    expect(gatedCheckpointNames("llama", 0)).toEqual(llamaFeedForwardNames(0));
    expect(gatedCheckpointNames("t5v1.1-encoder", 2)).toEqual(t5GatedFeedForwardNames(2));
    expect(gatedCheckpointNames("t5v1.1-decoder", 0)).toEqual(
      t5GatedFeedForwardNames(0, "decoder"),
    );
    expect(GATED_CHECKPOINT_NAMES.llama.wGate).toBe("model.layers.{N}.mlp.gate_proj.weight");
    expect(GATED_CHECKPOINT_NAMES["t5v1.1-decoder"].wGate).toBe(
      "decoder.block.{N}.layer.2.DenseReluDense.wi_0.weight",
    );
  });

  it("refuses an unknown family or a bad layer index", () => {
    expect(() => gatedCheckpointNames("gpt2" as never, 0)).toThrow(
      new TypeError(
        'gatedCheckpointNames: family must be one of "llama", "t5v1.1-encoder", "t5v1.1-decoder", got "gpt2"',
      ),
    );
    expect(() => gatedCheckpointNames("toString" as never, 0)).toThrow(TypeError);
    expect(() => gatedCheckpointNames("llama", -1)).toThrow(
      new TypeError("gatedCheckpointNames: layer must be a non-negative integer, got -1"),
    );
  });

  it("gatedWeightsFromCheckpoint transposes nn.Linear (out, in) into tokenwise's layout", () => {
    const D = 3;
    const H = 4;
    // A checkpoint as PyTorch would hold it: gate_proj, up_proj (H, D), down_proj (D, H).
    const tensors = new Map<string, Matrix>([
      ["model.layers.5.mlp.gate_proj.weight", matrix(H, D, seeded(H * D, 1))],
      ["model.layers.5.mlp.up_proj.weight", matrix(H, D, seeded(H * D, 2))],
      ["model.layers.5.mlp.down_proj.weight", matrix(D, H, seeded(D * H, 3))],
    ]);
    const read: string[] = [];
    const w = gatedWeightsFromCheckpoint("llama", 5, (name) => {
      read.push(name);
      return tensors.get(name)!;
    });
    expect(read.sort()).toEqual([...tensors.keys()].sort());
    const gate = tensors.get("model.layers.5.mlp.gate_proj.weight")!;
    const down = tensors.get("model.layers.5.mlp.down_proj.weight")!;
    expect([w.wGate.rows, w.wGate.cols, w.wDown.rows, w.wDown.cols]).toEqual([D, H, H, D]);
    for (let o = 0; o < H; o++) {
      for (let i = 0; i < D; i++) {
        expect(w.wGate.data[i * H + o]).toBe(gate.data[o * D + i]);
        expect(w.wDown.data[o * D + i]).toBe(down.data[i * H + o]);
      }
    }
    // Copies: the getter's arrays are not kept.
    expect(w.wGate.data.buffer).not.toBe(gate.data.buffer);
    const layer = GatedFeedForward.fromWeights(w, { activation: "silu" });
    expect([layer.dModel, layer.dHidden]).toEqual([D, H]);
  });

  it("gatedWeightsFromCheckpoint names the tensor that is not a matrix, or that does not fit", () => {
    expect(() =>
      gatedWeightsFromCheckpoint("llama", 0, () => new Float32Array(4) as never),
    ).toThrow(
      new TypeError(
        'gatedWeightsFromCheckpoint: get("model.layers.0.mlp.gate_proj.weight") must be a matrix { rows, cols, data: Float32Array }, got a Float32Array',
      ),
    );
    expect(() => gatedWeightsFromCheckpoint("llama", 0, "nope" as never)).toThrow(
      new TypeError(
        "gatedWeightsFromCheckpoint: get must be a function from a tensor name to a matrix",
      ),
    );
    expect(() => gatedWeightsFromCheckpoint("llama", 0, () => matrix(2, 3))).toThrow(
      'gatedWeightsFromCheckpoint: tensor "model.layers.0.mlp.down_proj.weight" has shape [2, 3], expected [3, 2] to fit "model.layers.0.mlp.gate_proj.weight" [2, 3] (layout "linear")',
    );
  });
});
