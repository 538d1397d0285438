// moeFromGguf: a mixture of experts from a GGUF file laid out as llama.cpp lays it out. Each
// mixture-of-experts checkpoint of test/fixtures/checkpoints/moe (made by PyTorch modules,
// which moe-checkpoint.test.ts holds the layer to) is written as a GGUF file by the test's own
// writer (test/support/gguf-writer.ts, from the spec): the experts stacked into 3-D tensors,
// the architecture's metadata. The layer read from it must be the layer read from the
// safetensors file, bit for bit. The committed qwen2moe-ffn.gguf (numpy's writer, mixed types)
// is checked against the values its maker wrote down.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  GgufError,
  MOE_CHECKPOINT_NAMES,
  type MoECheckpointFamily,
  MixtureOfExperts,
  matrix,
  moeFromCheckpoint,
  moeFromGguf,
  parseGguf,
  parseSafetensors,
  tensorToFloat32,
} from "../../src/index";
import { expectSameBits } from "../helpers/bits";
import { type MetaValue, type TensorSpec, ggufBytes } from "../support/gguf-writer";

const DIR = new URL("../fixtures/checkpoints/moe/", import.meta.url);
const GGUF = new URL("../fixtures/gguf/", import.meta.url);

const FAMILIES: { family: MoECheckpointFamily; arch: string; topK: number }[] = [
  { family: "mixtral", arch: "llama", topK: 2 },
  { family: "qwen2-moe", arch: "qwen2moe", topK: 4 },
  { family: "qwen3-moe", arch: "qwen3moe", topK: 3 },
  { family: "olmoe", arch: "olmoe", topK: 8 },
];

const live: MixtureOfExperts[] = [];
afterAll(() => {
  for (const l of live) l.dispose();
});

const f32Bytes = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Layer `layer` of a safetensors MoE checkpoint, rewritten as llama.cpp's GGUF block 1. */
function asGguf(family: MoECheckpointFamily, arch: string, topK: number, extra: MetaValue[] = []) {
  const file = parseSafetensors(readFileSync(new URL(`${family}.safetensors`, DIR)));
  const names = MOE_CHECKPOINT_NAMES[family];
  const get = (name: string) => {
    const t = file.tensors.get(name.replace("{N}", "1"));
    if (t === undefined) throw new Error(`no tensor ${name}`);
    return { shape: t.shape as number[], data: tensorToFloat32(t) };
  };
  const router = get(names.router);
  const E = router.shape[0] as number;
  const stack = (key: "wGate" | "wUp" | "wDown") => {
    const parts = Array.from({ length: E }, (_, e) =>
      get(names.expert[key].replace("{E}", `${e}`)),
    );
    const data = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
    parts.forEach((p, e) => data.set(p.data, e * p.data.length));
    return { shape: [E, ...(parts[0]?.shape as number[])], data };
  };
  const tensors: TensorSpec[] = [];
  const put = (name: string, t: { shape: number[]; data: Float32Array }) =>
    tensors.push({ name: `blk.1.${name}`, type: "F32", shape: t.shape, data: f32Bytes(t.data) });
  put("ffn_gate_inp.weight", router);
  put("ffn_gate_exps.weight", stack("wGate"));
  put("ffn_up_exps.weight", stack("wUp"));
  put("ffn_down_exps.weight", stack("wDown"));
  if (names.shared !== undefined) {
    put("ffn_gate_shexp.weight", get(names.shared.wGate));
    put("ffn_up_shexp.weight", get(names.shared.wUp));
    put("ffn_down_shexp.weight", get(names.shared.wDown));
    const gate = get(names.shared.gate); // (1, dModel) in the file; (dModel) in GGUF
    put("ffn_gate_inp_shexp.weight", { shape: [gate.data.length], data: gate.data });
  }
  const metadata: [string, MetaValue][] = [
    ["general.architecture", { type: "STRING", value: arch }],
    [`${arch}.expert_count`, { type: "UINT32", value: E }],
    [`${arch}.expert_used_count`, { type: "UINT32", value: topK }],
    ...extra.map((v, i): [string, MetaValue] => [`x.${i}`, v]),
  ];
  const getMatrix = (name: string) => {
    const t = get(name);
    return matrix(t.shape[0] ?? 0, t.shape[1] ?? 1, t.data);
  };
  return { bytes: ggufBytes({ metadata, tensors }), getMatrix, metadata, tensors };
}

describe.each(FAMILIES)("$family as a GGUF file ($arch)", ({ family, arch, topK }) => {
  it("gives the safetensors file's weights, options and outputs, bit for bit", () => {
    const { bytes, getMatrix } = asGguf(family, arch, topK);
    const fromGguf = moeFromGguf(parseGguf(bytes), 1);
    const fromSt = moeFromCheckpoint(family, 1, getMatrix);
    expect(fromGguf.architecture).toBe(arch);
    expect(fromGguf.options).toEqual({ ...fromSt.options, topK, routedScale: 1 });
    const a = fromGguf.weights;
    const b = fromSt.weights;
    expect([a.router.rows, a.router.cols]).toEqual([b.router.rows, b.router.cols]);
    expectSameBits(a.router.data, b.router.data, "router");
    expect(a.experts.length).toBe(b.experts.length);
    const same = (x: (typeof a.experts)[number], y: (typeof b.experts)[number], what: string) => {
      for (const k of ["wGate", "wUp", "wDown"] as const) {
        expect([x[k].rows, x[k].cols], `${what}.${k}`).toEqual([y[k].rows, y[k].cols]);
        expectSameBits(x[k].data, y[k].data, `${what}.${k}`);
      }
    };
    a.experts.forEach((x, e) => same(x, b.experts[e]!, `experts[${e}]`));
    expect(a.shared === undefined).toBe(b.shared === undefined);
    if (a.shared !== undefined) same(a.shared, b.shared!, "shared");
    expect(a.sharedGate?.data).toEqual(b.sharedGate?.data);
    const one = MixtureOfExperts.fromWeights(a, fromGguf.options);
    const two = MixtureOfExperts.fromWeights(b, { ...fromSt.options, topK });
    live.push(one, two);
    const d = a.router.cols;
    const x = matrix(
      9,
      d,
      new Float32Array(9 * d).map((_, i) => Math.sin(i * 0.37)),
    );
    expectSameBits(one.forward(x).data, two.forward(x).data, "forward");
  });
});

describe("qwen2moe-ffn.gguf (numpy's writer: Q8_0, F16, BF16 and F32 tensors)", () => {
  const file = parseGguf(readFileSync(new URL("qwen2moe-ffn.gguf", GGUF)));
  const described = (
    JSON.parse(readFileSync(new URL("files.json", GGUF), "utf8")) as {
      files: { file: string; tensors: { name: string; values: string }[] }[];
    }
  ).files.find((f) => f.file === "qwen2moe-ffn.gguf")!;
  const values = (name: string) => {
    const b64 = described.tensors.find((t) => t.name === name)!.values;
    const bytes = Buffer.from(b64, "base64");
    return new Float32Array(new Uint8Array(bytes).buffer);
  };

  it("slices each expert out of the stacked tensors, as the maker's values say", () => {
    const { weights, options } = moeFromGguf(file, 0);
    expect(options).toEqual({
      layout: "linear",
      activation: "silu",
      scoring: "softmax",
      normalize: false,
      routedScale: 1,
      topK: 2,
    });
    const all = {
      wGate: values("blk.0.ffn_gate_exps.weight"),
      wUp: values("blk.0.ffn_up_exps.weight"),
      wDown: values("blk.0.ffn_down_exps.weight"),
    };
    weights.experts.forEach((w, e) => {
      for (const k of ["wGate", "wUp", "wDown"] as const) {
        expectSameBits(w[k].data, all[k].subarray(e * 256, (e + 1) * 256), `experts[${e}].${k}`);
      }
      expect([w.wGate.rows, w.wGate.cols, w.wDown.rows, w.wDown.cols]).toEqual([8, 32, 32, 8]);
    });
    expectSameBits(weights.shared!.wGate.data, values("blk.0.ffn_gate_shexp.weight"), "shared");
    expect([weights.sharedGate!.rows, weights.sharedGate!.cols]).toEqual([1, 32]);
    const moe = MixtureOfExperts.fromWeights(weights, options);
    live.push(moe);
    expect([moe.experts, moe.dHidden, moe.dModel]).toEqual([4, 8, 32]);
  });

  it("refuses what it cannot read, naming the key or the tensor", () => {
    const edit = (f: (m: Map<string, unknown>, t: Map<string, unknown>) => void) => {
      const metadata = new Map(file.metadata as Map<string, unknown>);
      const tensors = new Map(file.tensors as Map<string, unknown>);
      f(metadata, tensors);
      return { metadata, tensors } as never;
    };
    const code = (call: () => unknown) => {
      try {
        call();
      } catch (e) {
        expect(e).toBeInstanceOf(GgufError);
        return [(e as GgufError).code, (e as Error).message];
      }
      throw new Error("no error");
    };
    expect(
      code(() =>
        moeFromGguf(
          edit((m) => m.set("general.architecture", "gpt2")),
          0,
        ),
      ),
    ).toEqual([
      "UnknownArchitecture",
      'moeFromGguf: architecture "gpt2" is not one whose mixture of experts tokenwise knows (llama, qwen2moe, qwen3moe, olmoe)',
    ]);
    expect(
      code(() =>
        moeFromGguf(
          edit((m) => m.delete("qwen2moe.expert_count")),
          0,
        ),
      ),
    ).toEqual([
      "InvalidValue",
      'moeFromGguf: "qwen2moe.expert_count" must be a positive integer, got nothing',
    ]);
    expect(
      code(() =>
        moeFromGguf(
          edit((m) => m.set("qwen2moe.expert_used_count", 5)),
          0,
        ),
      )[1],
    ).toBe("moeFromGguf: qwen2moe.expert_used_count = 5 is more than qwen2moe.expert_count = 4");
    expect(
      code(() =>
        moeFromGguf(
          edit((m) => m.set("qwen2moe.expert_count", 3)),
          0,
        ),
      ),
    ).toEqual([
      "ShapeMismatch",
      'moeFromGguf: tensor "blk.0.ffn_gate_inp.weight" has shape [4, 32], expected [3, 32] ((experts, dModel))',
    ]);
    expect(
      code(() =>
        moeFromGguf(
          edit((_, t) => t.delete("blk.0.ffn_up_exps.weight")),
          0,
        ),
      )[0],
    ).toBe("TensorNotFound");
    expect(code(() => moeFromGguf(file, 1))[1]).toMatch(
      /tensor "blk\.1\.ffn_gate_inp\.weight" is not in the file/,
    );
    expect(() => moeFromGguf(file, -1)).toThrow(TypeError);
    expect(() => moeFromGguf({} as never, 0)).toThrow(/file must be a parsed GGUF file/);
  });
});
