// ggufFeedForward on the numpy-written llama- and GPT-2-style files, and on files of the tests'
// writer with a tensor missing, a shape that does not fit, or an unknown architecture.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  GGUF_FEEDFORWARD_ACTIVATIONS,
  GgufError,
  ggufFeedForward,
  ggufFeedForwardNames,
  parseGguf,
} from "../../src/index";
import { ggufBytes, tensorBytes, type MetaValue, type TensorSpec } from "../support/gguf-writer";

const DIR = new URL("../fixtures/gguf/", import.meta.url);
const load = (name: string) => parseGguf(new Uint8Array(readFileSync(new URL(name, DIR))));

function fileWith(arch: string | null, tensors: [name: string, type: string, shape: number[]][]) {
  const metadata: [string, MetaValue][] =
    arch === null ? [] : [["general.architecture", { type: "STRING", value: arch }]];
  const specs: TensorSpec[] = tensors.map(([name, type, shape]) => ({
    name,
    type,
    shape,
    data: new Uint8Array(tensorBytes(type, shape)),
  }));
  return parseGguf(ggufBytes({ metadata, tensors: specs }));
}

function refusal(call: () => unknown): GgufError {
  try {
    call();
  } catch (e) {
    expect(e).toBeInstanceOf(GgufError);
    return e as GgufError;
  }
  throw new Error("no error");
}

describe("ggufFeedForward", () => {
  it("a llama file: gated, silu, its sizes from ffn_up, each tensor's info", () => {
    const file = load("llama-ffn.gguf");
    for (const block of [0, 1]) {
      const ffn = ggufFeedForward(file, block);
      expect(ffn).toMatchObject({
        architecture: "llama",
        activation: "silu",
        gated: true,
        dModel: 64,
        dHidden: 96,
        upBias: null,
        gateBias: null,
        downBias: null,
      });
      expect(ffn.up).toBe(file.tensorInfos.get(`blk.${block}.ffn_up.weight`));
      expect(ffn.gate).toBe(file.tensorInfos.get(`blk.${block}.ffn_gate.weight`));
      expect(ffn.down).toMatchObject({ type: "Q4_0", shape: [64, 96] });
    }
  });

  it("a GPT-2 file: not gated, geluTanh, with biases", () => {
    const ffn = ggufFeedForward(load("gpt2-ffn.gguf"), 0);
    expect(ffn).toMatchObject({
      activation: "geluTanh",
      gated: false,
      dModel: 16,
      dHidden: 64,
      gate: null,
    });
    expect(ffn.upBias).toMatchObject({ type: "F32", shape: [64] });
    expect(ffn.downBias).toMatchObject({ type: "F32", shape: [16] });
  });

  it("options.activation overrides the architecture's, and serves unknown ones", () => {
    const file = fileWith("mamba-ish", [
      ["blk.0.ffn_up.weight", "F32", [8, 4]],
      ["blk.0.ffn_down.weight", "F32", [4, 8]],
    ]);
    expect(ggufFeedForward(file, 0, { activation: "relu" }).activation).toBe("relu");
    const e = refusal(() => ggufFeedForward(file, 0));
    expect(e.code).toBe("UnknownArchitecture");
    expect(e.key).toBe("general.architecture");
    expect(e.message).toBe(
      `ggufFeedForward: architecture "mamba-ish" is not one whose feedforward activation tokenwise knows (${Object.keys(GGUF_FEEDFORWARD_ACTIVATIONS).join(", ")}); pass options.activation`,
    );
    const none = fileWith(null, [
      ["blk.0.ffn_up.weight", "F32", [8, 4]],
      ["blk.0.ffn_down.weight", "F32", [4, 8]],
    ]);
    expect(refusal(() => ggufFeedForward(none, 0)).message).toBe(
      "ggufFeedForward: the file has no general.architecture string; pass options.activation",
    );
    // An inherited property is no architecture.
    const proto = fileWith("toString", [
      ["blk.0.ffn_up.weight", "F32", [8, 4]],
      ["blk.0.ffn_down.weight", "F32", [4, 8]],
    ]);
    expect(refusal(() => ggufFeedForward(proto, 0)).code).toBe("UnknownArchitecture");
  });

  it("a missing up or down is TensorNotFound, naming it", () => {
    const file = fileWith("llama", [["blk.0.ffn_up.weight", "F32", [8, 4]]]);
    const e = refusal(() => ggufFeedForward(file, 0));
    expect([e.code, e.tensor, e.message]).toEqual([
      "TensorNotFound",
      "blk.0.ffn_down.weight",
      'ggufFeedForward: tensor "blk.0.ffn_down.weight" is not in the file',
    ]);
    expect(refusal(() => ggufFeedForward(load("llama-ffn.gguf"), 2)).tensor).toBe(
      "blk.2.ffn_up.weight",
    );
  });

  it.each([
    [
      "down transposed",
      [["blk.0.ffn_down.weight", "F32", [8, 4]]],
      "blk.0.ffn_down.weight",
      "(dModel, dHidden) = [4, 8]",
    ],
    [
      "a gate of another width",
      [
        ["blk.0.ffn_down.weight", "F32", [4, 8]],
        ["blk.0.ffn_gate.weight", "F32", [9, 4]],
      ],
      "blk.0.ffn_gate.weight",
      "(dHidden, dModel) = [8, 4]",
    ],
    [
      "an up bias of dModel",
      [
        ["blk.0.ffn_down.weight", "F32", [4, 8]],
        ["blk.0.ffn_up.bias", "F32", [4]],
      ],
      "blk.0.ffn_up.bias",
      "(dHidden) = [8]",
    ],
    [
      "a down bias of 2 dimensions",
      [
        ["blk.0.ffn_down.weight", "F32", [4, 8]],
        ["blk.0.ffn_down.bias", "F32", [1, 4]],
      ],
      "blk.0.ffn_down.bias",
      "(dModel) = [4]",
    ],
  ] as const)("%s is a ShapeMismatch naming the tensor", (_, extra, name, expected) => {
    const file = fileWith("llama", [
      ["blk.0.ffn_up.weight", "F32", [8, 4]],
      ...(extra as unknown as [string, string, number[]][]),
    ]);
    const e = refusal(() => ggufFeedForward(file, 0));
    expect(e.code).toBe("ShapeMismatch");
    expect(e.tensor).toBe(name);
    expect(e.message).toMatch(
      new RegExp(
        `^ggufFeedForward: tensor "${name.replace(/\./g, "\\.")}" has shape \\[[\\d, ]+\\], expected ${expected.replace(/[()[\]]/g, "\\$&")}, from "blk\\.0\\.ffn_up\\.weight"$`,
      ),
    );
  });

  it("an up weight that is not 2-dimensional is a ShapeMismatch", () => {
    const file = fileWith("llama", [
      ["blk.0.ffn_up.weight", "F32", [8]],
      ["blk.0.ffn_down.weight", "F32", [4, 8]],
    ]);
    expect(refusal(() => ggufFeedForward(file, 0)).message).toBe(
      'ggufFeedForward: tensor "blk.0.ffn_up.weight" has shape [8], expected (dHidden, dModel)',
    );
  });

  it("bad arguments are TypeErrors", () => {
    const file = load("llama-ffn.gguf");
    expect(() => ggufFeedForward(file, -1)).toThrow(
      new TypeError("ggufFeedForward: block must be a non-negative integer, got -1"),
    );
    expect(() => ggufFeedForward(file, 1.5)).toThrow(TypeError);
    expect(() => ggufFeedForward({} as never, 0)).toThrow(
      new TypeError(
        "ggufFeedForward: file must be a parsed GGUF file (from parseGguf or loadGguf)",
      ),
    );
    expect(() => ggufFeedForwardNames("0" as never)).toThrow(
      new TypeError("ggufFeedForwardNames: block must be a non-negative integer, got string"),
    );
  });

  it("ggufFeedForwardNames gives GGUF's standard names", () => {
    expect(ggufFeedForwardNames(12)).toEqual({
      up: "blk.12.ffn_up.weight",
      upBias: "blk.12.ffn_up.bias",
      gate: "blk.12.ffn_gate.weight",
      gateBias: "blk.12.ffn_gate.bias",
      down: "blk.12.ffn_down.weight",
      downBias: "blk.12.ffn_down.bias",
    });
  });
});
