// feedForwardFromGguf: Q8_0 and Q4_0 tensors kept as blocks (the numpy fixtures' blocks, written
// into GGUF files by the tests' writer, give the fixtures' outputs bit for bit), F16 kept as
// 16-bit, mixed types as float32 exactly, and the throw paths.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  GatedFeedForward,
  GgufError,
  feedForwardFromGguf,
  ggufTensorToFloat32,
  parseGguf,
} from "../../src/index";
import { decodeBytes, decodeFloat32 } from "../../src/base64";
import { expectSameBits } from "../helpers/bits";
import { ggufBytes, type TensorSpec } from "../support/gguf-writer";

interface Case {
  layer: string;
  dtype: "q8_0" | "q4_0";
  activation: "relu" | "gelu" | "silu";
  dModel: number;
  dHidden: number;
  tokens: number;
  [key: string]: unknown;
}
const FIXTURE = JSON.parse(
  readFileSync(new URL("../fixtures/quant/layers.json", import.meta.url), "utf8"),
) as { cases: Case[] };
const DIR = new URL("../fixtures/gguf/", import.meta.url);

const NAMES = {
  w1: "ffn_up",
  b1: "ffn_up",
  w2: "ffn_down",
  b2: "ffn_down",
  wGate: "ffn_gate",
  bGate: "ffn_gate",
  wUp: "ffn_up",
  bUp: "ffn_up",
  wDown: "ffn_down",
  bDown: "ffn_down",
} as const;

/** A GGUF file of a fixture case's blocks (and float32 biases), as block 0 of a llama file. */
function fileOf(c: Case) {
  const gated = c.layer === "GatedFeedForward";
  const maps = gated
    ? [
        ["wGate", "bGate"],
        ["wUp", "bUp"],
        ["wDown", "bDown"],
      ]
    : [
        ["w1", "b1"],
        ["w2", "b2"],
      ];
  const tensors: TensorSpec[] = [];
  maps.forEach(([wk, bk], i) => {
    const last = i === maps.length - 1;
    const [out, inner] = last ? [c.dModel, c.dHidden] : [c.dHidden, c.dModel];
    const name = `blk.0.${NAMES[wk as keyof typeof NAMES]}`;
    tensors.push({
      name: `${name}.weight`,
      type: c.dtype === "q8_0" ? "Q8_0" : "Q4_0",
      shape: [out, inner],
      data: decodeBytes(c[`${wk}Blocks`] as string) as Uint8Array,
    });
    if (c[bk as string] !== null) {
      tensors.push({
        name: `${name}.bias`,
        type: "F32",
        shape: [out],
        data: decodeBytes(c[bk as string] as string) as Uint8Array,
      });
    }
  });
  return parseGguf(
    ggufBytes({
      metadata: [["general.architecture", { type: "STRING", value: "llama" }]],
      tensors,
    }),
  );
}

describe("feedForwardFromGguf", () => {
  it.each(FIXTURE.cases.map((c) => [`${c.layer} ${c.dtype} ${c.activation}`, c] as const))(
    "%s: keeps the blocks and computes the fixture's outputs, bit for bit",
    (_, c) => {
      const file = fileOf(c);
      for (const kernel of ["js", "wasm"] as const) {
        const layer = feedForwardFromGguf(file, 0, { activation: c.activation, kernel });
        expect(layer.constructor.name).toBe(c.layer);
        expect([layer.dtype, layer.kernel]).toEqual([c.dtype, kernel]);
        const json = layer.toJSON() as unknown as Record<string, string>;
        const first = c.layer === "FeedForward" ? "w1" : "wGate";
        expect(json[first]).toBe(c[`${first}Blocks`]);
        const x = decodeFloat32(c.x as string, c.tokens * c.dModel) as Float32Array;
        const y = layer.forward({ rows: c.tokens, cols: c.dModel, data: x }).data;
        expectSameBits(y, decodeFloat32(c.y as string, c.tokens * c.dModel) as Float32Array);
        layer.dispose();
      }
    },
  );

  it("keeps F16 weights as f16, and converts mixed types to float32 exactly", () => {
    const gpt2 = parseGguf(new Uint8Array(readFileSync(new URL("gpt2-ffn.gguf", DIR))));
    expect(feedForwardFromGguf(gpt2, 0).dtype).toBe("f16");
    const llama = parseGguf(new Uint8Array(readFileSync(new URL("llama-ffn.gguf", DIR))));
    const layer = feedForwardFromGguf(llama, 1) as GatedFeedForward;
    expect([layer.dtype, layer.activation]).toEqual(["f32", "silu"]);
    // Q8_0 gate and up, Q4_0 down: float32 holds every value; weights are the transposes.
    const down = ggufTensorToFloat32(llama.tensors.get("blk.1.ffn_down.weight") as never);
    const w = layer.weights.wDown;
    const t = new Float32Array(w.data.length);
    for (let k = 0; k < w.rows; k++)
      for (let j = 0; j < w.cols; j++) t[k * w.cols + j] = down[j * w.rows + k] as number;
    expectSameBits(w.data, t);
    expect(feedForwardFromGguf(llama, 1, { dtype: "q4_0" }).dtype).toBe("q4_0");
  });

  it("throws for a tensor not read, biases of some maps only, and a bad option", () => {
    const c = FIXTURE.cases[0] as Case;
    const file = fileOf(c);
    const unread = { ...file, tensors: new Map() };
    let e: unknown;
    try {
      feedForwardFromGguf(unread, 0, { activation: "relu" });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(GgufError);
    expect((e as GgufError).code).toBe("TensorNotFound");
    expect((e as Error).message).toBe(
      'feedForwardFromGguf: tensor "blk.0.ffn_up.weight" was not read (ask loadGguf for it)',
    );
    const infos = new Map(file.tensorInfos);
    infos.delete("blk.0.ffn_down.bias");
    expect(() =>
      feedForwardFromGguf({ ...file, tensorInfos: infos }, 0, { activation: "relu" }),
    ).toThrow(
      new TypeError(
        "feedForwardFromGguf: block 0 has biases for some of its maps only (blk.0.ffn_up.bias); a layer's biases are all present or all absent",
      ),
    );
    expect(() => feedForwardFromGguf(file, 0, { dtype: "q2_k" as never })).toThrow(RangeError);
    expect(() => feedForwardFromGguf(file, 0, { kernal: "js" } as never)).toThrow(TypeError);
  });
});
