import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  FeedForward,
  feedForwardFromCheckpoint,
  feedForwardWeightsFromCheckpoint,
  feedForwardTensors,
  feedForwardToSafetensors,
  matrix,
  optFeedForwardNames,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  ShapeError,
  t5FeedForwardNames,
  tensorToFloat32,
  type FeedForwardTensorNames,
  type SafetensorsFile,
} from "../../src/index";
import { KERNELS, kernelName, layerFromWeights } from "../kernels";

const FIXTURES = new URL("../fixtures/checkpoints/", import.meta.url);
const load = (name: string): SafetensorsFile =>
  parseSafetensors(readFileSync(new URL(name, FIXTURES)));

const CONV1D_NAMES: FeedForwardTensorNames = {
  w1: "h.0.mlp.c_fc.weight",
  b1: "h.0.mlp.c_fc.bias",
  w2: "h.0.mlp.c_proj.weight",
  b2: "h.0.mlp.c_proj.bias",
  layout: "conv1d",
  activation: "relu", // the fixture's: GPT-2's layout with ReLU (gpt2.safetensors is GPT-2's own)
};

const MODELS = [
  { model: "opt", names: optFeedForwardNames(0), output: "layers.0" },
  { model: "opt", names: optFeedForwardNames(1), output: "layers.1" },
  { model: "t5", names: t5FeedForwardNames(0, "encoder"), output: "encoder.0" },
  { model: "t5", names: t5FeedForwardNames(0, "decoder"), output: "decoder.0" },
  { model: "conv1d", names: CONV1D_NAMES, output: "h.0" },
];
const DTYPES = [
  { suffix: "", tag: "f32" },
  { suffix: "-f16", tag: "f16" },
  { suffix: "-bf16", tag: "bf16" },
];

/**
 * The forward-error bound of one token through the layer, per output element.
 *
 * Any float32 evaluation of the layer (PyTorch's sgemm in whatever order it sums, or a
 * tokenwise kernel) computes each hidden element h_i = Σ_k x_k W1_ki + b1_i, D products and a
 * bias, with |ĥ_i - h_i| ≤ γ_{D+1} (Σ_k |x_k||W1_ki| + |b1_i|) = E1_i (Higham, Accuracy and
 * Stability, §3.1: an inner product of n terms in any order is within γ_n of Σ|terms|; the
 * bias is one more term). ReLU is 1-Lipschitz, so |r̂_i - r_i| ≤ E1_i with r = relu(h) exact.
 * The output y_j = Σ_i r_i W2_ij + b2_j is then computed from r̂, so
 *   |ŷ_j - y_j| ≤ γ_{H+1} (Σ_i |r̂_i||W2_ij| + |b2_j|) + Σ_i |W2_ij| |r̂_i - r_i|
 *              ≤ γ_{H+1} (Σ_i (|r_i| + E1_i)|W2_ij| + |b2_j|) + Σ_i |W2_ij| E1_i = bound_j.
 * PyTorch and tokenwise are each within bound_j of the exact y_j, so within 2 bound_j of each
 * other: that is the test. (tokenwise's JS kernel sums in float64 and rounds once, well inside
 * the bound; the bound holds for float32 accumulation in any order, whatever the kernel.)
 *
 * |r_i| needs the exact h_i; it is evaluated in float64, whose own error is at most
 * γ64_{D+1} (Σ|x||W1| + |b1|) with u = 2^-53, and that is added to |r_i|. The bound itself is a
 * float64 sum of non-negative terms, relatively off by at most γ64_{H+2} < 2^-40: the factor
 * (1 + 2^-40) covers it.
 */
function forwardBound(
  x: Float32Array,
  w1: Float32Array,
  b1: Float32Array | undefined,
  w2: Float32Array,
  b2: Float32Array | undefined,
  dModel: number,
  dHidden: number,
): Float64Array {
  const u = 2 ** -24;
  const gamma = (n: number, unit = u) => (n * unit) / (1 - n * unit);
  const r = new Float64Array(dHidden);
  const e1 = new Float64Array(dHidden);
  for (let i = 0; i < dHidden; i++) {
    let h = b1 === undefined ? 0 : (b1[i] as number);
    let s = b1 === undefined ? 0 : Math.abs(b1[i] as number);
    for (let k = 0; k < dModel; k++) {
      const p = (x[k] as number) * (w1[k * dHidden + i] as number);
      h += p;
      s += Math.abs(p);
    }
    e1[i] = gamma(dModel + 1) * s;
    r[i] = Math.max(h, 0) + gamma(dModel + 1, 2 ** -53) * s;
  }
  const bound = new Float64Array(dModel);
  for (let j = 0; j < dModel; j++) {
    let a = b2 === undefined ? 0 : Math.abs(b2[j] as number);
    let b = 0;
    for (let i = 0; i < dHidden; i++) {
      const w = Math.abs(w2[i * dModel + j] as number);
      a += ((r[i] as number) + (e1[i] as number)) * w;
      b += w * (e1[i] as number);
    }
    bound[j] = (gamma(dHidden + 1) * a + b) * (1 + 2 ** -40);
  }
  return bound;
}

/** The largest |a - b| / (2 bound) over every element of every token: at most 1 to pass. */
function worstRatio(
  ffn: FeedForward,
  x: Float32Array,
  tokens: number,
  got: Float32Array,
  want: Float32Array,
): number {
  const { w1, b1, w2, b2 } = ffn.weights;
  const d = ffn.dModel;
  let worst = 0;
  for (let t = 0; t < tokens; t++) {
    const bound = forwardBound(
      x.subarray(t * d, (t + 1) * d),
      w1.data,
      b1,
      w2.data,
      b2,
      d,
      ffn.dHidden,
    );
    for (let j = 0; j < d; j++) {
      const diff = Math.abs((got[t * d + j] as number) - (want[t * d + j] as number));
      // A zero bound (a zero token through a layer without biases) allows no difference at all.
      worst = Math.max(worst, diff === 0 ? 0 : diff / (2 * (bound[j] as number)));
    }
  }
  return worst;
}

describe.each(KERNELS)("checkpoints agree with PyTorch (kernel %s)", (kernel) => {
  describe.each(MODELS)("$model $output", ({ model, names, output }) => {
    const io = load(`${model}-io.safetensors`);
    const xt = io.tensors.get("x")!;
    const x = tensorToFloat32(xt);
    const tokens = xt.shape[0] as number;

    it.each(DTYPES)(
      "from the $tag file, within twice the forward-error bound",
      async ({ suffix, tag }) => {
        const file = load(`${model}${suffix}.safetensors`);
        const ffn = await layerFromWeights(kernel, feedForwardWeightsFromCheckpoint(file, names));
        try {
          expect(ffn.kernel).toBe(kernelName(kernel));
          const y = (await ffn.forwardAsync(matrix(tokens, ffn.dModel, x))).data;
          const want = tensorToFloat32(io.tensors.get(`${output}.${tag}`)!);
          expect(y.length).toBe(want.length);
          expect(worstRatio(ffn, x, tokens, y, want)).toBeLessThanOrEqual(1);
        } finally {
          ffn.dispose();
        }
      },
    );
  });

  it("the bound tells the dtypes apart: F32 weights do not give PyTorch's BF16 output", async () => {
    // A control: without it a bound too loose to fail would pass every test above.
    const io = load("opt-io.safetensors");
    const x = tensorToFloat32(io.tensors.get("x")!);
    const weights = feedForwardWeightsFromCheckpoint(
      load("opt.safetensors"),
      optFeedForwardNames(0),
    );
    const ffn = await layerFromWeights(kernel, weights);
    try {
      const y = (await ffn.forwardAsync(matrix(7, 16, x))).data;
      expect(
        worstRatio(ffn, x, 7, y, tensorToFloat32(io.tensors.get("layers.0.bf16")!)),
      ).toBeGreaterThan(1);
      expect(
        worstRatio(ffn, x, 7, y, tensorToFloat32(io.tensors.get("layers.1.f32")!)),
      ).toBeGreaterThan(1);
    } finally {
      ffn.dispose();
    }
  });
});

describe("the fixtures, read by tokenwise", () => {
  it("list every tensor, the int64 buffer included, and the writer's metadata", () => {
    const opt = load("opt.safetensors");
    // The fixture script's writer put the header keys in name order and the data in state_dict order, so
    // this file also checks that tensors are found by their offsets, not their header order.
    const bytes = readFileSync(new URL("opt.safetensors", FIXTURES));
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const headerOrder = Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))));
    expect(headerOrder.filter((k) => k !== "__metadata__")).not.toEqual([...opt.tensors.keys()]);
    expect(opt.metadata).toEqual(new Map([["format", "pt"]]));
    expect(opt.tensors.size).toBe(2 * 6 + 1);
    expect(opt.tensors.get("model.decoder.layers.0.fc1.weight")).toMatchObject({
      dtype: "F32",
      shape: [64, 16],
    });
    expect(opt.tensors.get("model.decoder.layers.1.fc2.bias")).toMatchObject({
      dtype: "F32",
      shape: [16],
    });
    const ids = opt.tensors.get("model.decoder.position_ids")!;
    expect(ids).toMatchObject({ dtype: "I64", shape: [8] });
    const v = new DataView(ids.data.buffer, ids.data.byteOffset, ids.data.byteLength);
    expect(Array.from({ length: 8 }, (_, i) => Number(v.getBigInt64(8 * i, true)))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(load("opt-f16.safetensors").tensors.get("model.decoder.position_ids")!.dtype).toBe(
      "I64",
    );
    expect(
      load("t5.safetensors").tensors.get("decoder.block.0.layer.2.DenseReluDense.wo.weight"),
    ).toMatchObject({ dtype: "F32", shape: [24, 40] });
  });

  it.each([
    ["opt", 2 ** -11, 2 ** -25],
    ["t5", 2 ** -11, 2 ** -25],
    ["conv1d", 2 ** -11, 2 ** -25],
  ])(
    "%s: the F16 and BF16 weights are PyTorch's F32 ones correctly rounded",
    (model, u16, tiny) => {
      // Round to nearest: relative error at most 2^-11 for F16 (2^-8 for BF16) in the normal
      // range, and at most half the subnormal spacing, 2^-25 (F16), below it.
      const f32 = load(`${model}.safetensors`);
      for (const [suffix, u, abs] of [
        ["-f16", u16, tiny],
        ["-bf16", 2 ** -8, 2 ** -134],
      ] as const) {
        const other = load(`${model}${suffix}.safetensors`);
        for (const [name, t] of f32.tensors) {
          if (t.dtype !== "F32") continue;
          const a = tensorToFloat32(t);
          const b = tensorToFloat32(other.tensors.get(name)!);
          for (let i = 0; i < a.length; i++) {
            const err = Math.abs((a[i] as number) - (b[i] as number));
            if (err > u * Math.abs(a[i] as number) + abs)
              expect.fail(`${name}[${i}] ${a[i]} -> ${b[i]} (${suffix})`);
          }
        }
      }
    },
  );
});

describe("feedForwardFromCheckpoint", () => {
  const opt = load("opt.safetensors");

  it("transposes nn.Linear weights and keeps Conv1D ones", () => {
    const ffn = feedForwardFromCheckpoint(opt, optFeedForwardNames(1));
    const fc1 = tensorToFloat32(opt.tensors.get("model.decoder.layers.1.fc1.weight")!); // (64, 16)
    const { w1, b1 } = ffn.weights;
    expect([ffn.dModel, ffn.dHidden, ffn.hasBias]).toEqual([16, 64, true]);
    for (let i = 0; i < 64; i++)
      for (let k = 0; k < 16; k++) expect(w1.data[k * 64 + i]).toBe(fc1[i * 16 + k]);
    expect(Array.from(b1!)).toEqual(
      Array.from(tensorToFloat32(opt.tensors.get("model.decoder.layers.1.fc1.bias")!)),
    );
    const gpt = load("conv1d.safetensors");
    const conv = feedForwardFromCheckpoint(gpt, CONV1D_NAMES);
    expect(Array.from(conv.weights.w2.data)).toEqual(
      Array.from(tensorToFloat32(gpt.tensors.get("h.0.mlp.c_proj.weight")!)),
    );
    expect(feedForwardFromCheckpoint(load("t5.safetensors"), t5FeedForwardNames(0)).hasBias).toBe(
      false,
    );
  });

  it("without biases, a wrong layout still fits, and shows in dModel", () => {
    const t5 = load("t5.safetensors");
    const wrong = feedForwardFromCheckpoint(t5, { ...t5FeedForwardNames(0), layout: "conv1d" });
    expect([wrong.dModel, wrong.dHidden]).toEqual([40, 24]); // T5 here has d_model 24, d_ff 40
  });

  it("takes a parsed file, its tensors map, or a sharded parse", () => {
    const a = feedForwardFromCheckpoint(opt.tensors, optFeedForwardNames(0));
    const b = feedForwardFromCheckpoint(
      { tensors: opt.tensors, shards: new Map() },
      optFeedForwardNames(0),
    );
    expect(Array.from(a.weights.w2.data)).toEqual(Array.from(b.weights.w2.data));
    expect(() => feedForwardFromCheckpoint([] as never, optFeedForwardNames(0))).toThrow(
      new TypeError(
        "feedForwardFromCheckpoint: tensors must be a Map of tensors or a parsed file { tensors }, got a plain Array",
      ),
    );
  });

  it("refuses a missing tensor with TensorNotFound, suggesting similar names", () => {
    const e = catchError(() =>
      feedForwardFromCheckpoint(opt, optFeedForwardNames(0, "decoder.layers")),
    );
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe("TensorNotFound");
    expect((e as SafetensorsError).tensor).toBe("decoder.layers.0.fc1.weight");
    expect((e as Error).message).toBe(
      'feedForwardFromCheckpoint: tensor "decoder.layers.0.fc1.weight" is not in the checkpoint (13 tensors; similar names: "model.decoder.layers.0.fc1.weight", "model.decoder.layers.1.fc1.weight")',
    );
    const t5 = catchError(() => feedForwardFromCheckpoint(opt, t5FeedForwardNames(0)));
    expect((t5 as Error).message).toBe(
      'feedForwardFromCheckpoint: tensor "encoder.block.0.layer.1.DenseReluDense.wi.weight" is not in the checkpoint (13 tensors)',
    );
  });

  it("refuses a tensor that is not F32, F16 or BF16 with UnsupportedDtype", () => {
    const names = { ...optFeedForwardNames(0), b1: "model.decoder.position_ids" };
    const e = catchError(() => feedForwardFromCheckpoint(opt, names));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe("UnsupportedDtype");
    expect((e as Error).message).toBe(
      'feedForwardFromCheckpoint: tensor "model.decoder.position_ids" has dtype I64; weights must be F32, F16 or BF16',
    );
  });

  it.each([
    [
      // Both weights read the other way round still fit each other; the biases tell.
      "the wrong layout",
      { ...optFeedForwardNames(0), layout: "conv1d" as const },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc1.bias" has shape [64], expected [16] (dHidden)',
    ],
    [
      "a w2 that does not fit w1",
      { ...optFeedForwardNames(0), w2: "model.decoder.layers.0.fc1.weight" },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc1.weight" has shape [64, 16], expected [16, 64] to fit "model.decoder.layers.0.fc1.weight" [64, 16] (layout "linear")',
    ],
    [
      "a bias named as a weight",
      { ...optFeedForwardNames(0), w1: "model.decoder.layers.0.fc1.bias" },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc1.bias" has shape [64], expected a matrix (2 dimensions)',
    ],
    [
      "a weight named as a bias",
      { ...optFeedForwardNames(0), b2: "model.decoder.layers.0.fc2.weight" },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc2.weight" has shape [16, 64], expected a vector (1 dimension)',
    ],
    [
      "biases swapped",
      {
        ...optFeedForwardNames(0),
        b1: "model.decoder.layers.0.fc2.bias",
        b2: "model.decoder.layers.0.fc1.bias",
      },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc2.bias" has shape [16], expected [64] (dHidden)',
    ],
    [
      "weights of two layers of different widths",
      { ...t5FeedForwardNames(0), w2: "model.decoder.layers.0.fc2.weight" },
      'feedForwardFromCheckpoint: tensor "model.decoder.layers.0.fc2.weight" has shape [16, 64], expected [24, 40] to fit "encoder.block.0.layer.1.DenseReluDense.wi.weight" [40, 24] (layout "linear")',
    ],
  ])("refuses %s with a ShapeError naming the tensor", (_what, names, message) => {
    const both = new Map([...opt.tensors, ...load("t5.safetensors").tensors]);
    const e = catchError(() => feedForwardFromCheckpoint(both, names));
    expect(e).toBeInstanceOf(ShapeError);
    expect((e as Error).message).toBe(message);
  });

  it.each([
    [
      undefined,
      "feedForwardFromCheckpoint: names { w1, w2, b1?, b2?, layout, activation } are required",
    ],
    [
      { w1: "a", w2: "b" },
      'feedForwardFromCheckpoint: names.layout is missing: "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out)',
    ],
    [
      { w1: "a", w2: "b", layout: "Linear" },
      'feedForwardFromCheckpoint: names.layout must be "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out), got string Linear',
    ],
    [
      { w1: "a", w2: "b", b1: "c", layout: "linear" },
      "feedForwardFromCheckpoint: names.b1 and names.b2 must both be given or both be absent",
    ],
    [
      { w1: 1, w2: "b", layout: "linear" },
      "feedForwardFromCheckpoint: names.w1 must be a tensor name, got number 1",
    ],
    [
      { w1: "a", w2: "b", b1: 1, b2: "c", layout: "linear" },
      "feedForwardFromCheckpoint: names.b1 must be a tensor name or absent, got number 1",
    ],
    [
      { w1: "a", w2: "b", layout: "linear", bias: true },
      "feedForwardFromCheckpoint: unknown option names.bias; known options are w1, b1, w2, b2, layout, activation",
    ],
  ])("refuses names %j with a TypeError", (names, message) => {
    const e = catchError(() => feedForwardFromCheckpoint(opt, names as never));
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toBe(message);
  });

  it("reads the same weights as feedForwardWeightsFromCheckpoint, which builds no layer", () => {
    const weights = feedForwardWeightsFromCheckpoint(opt, optFeedForwardNames(1));
    const layer = feedForwardFromCheckpoint(opt, optFeedForwardNames(1)).weights;
    for (const key of ["w1", "w2"] as const) {
      expect(Array.from(weights[key].data)).toEqual(Array.from(layer[key].data));
    }
    expect(Array.from(weights.b2!)).toEqual(Array.from(layer.b2!));
    const t5 = feedForwardWeightsFromCheckpoint(load("t5.safetensors"), t5FeedForwardNames(0));
    expect(Object.keys(t5)).toEqual(["w1", "w2"]);
    expect(() => feedForwardWeightsFromCheckpoint(opt, { w1: "x", w2: "y" } as never)).toThrow(
      /^feedForwardWeightsFromCheckpoint: names.layout is missing/,
    );
  });

  it("passes options to FeedForward.fromWeights", () => {
    expect(feedForwardFromCheckpoint(opt, optFeedForwardNames(0), { kernel: "js" }).kernel).toBe(
      "js",
    );
    expect(() =>
      feedForwardFromCheckpoint(opt, optFeedForwardNames(0), { threads: 2 } as never),
    ).toThrow(TypeError);
  });
});

describe("writing a layer back", () => {
  // Weights with every kind of float32: NaN payloads, -0, infinities, subnormals.
  function specialLayer(dModel: number, dHidden: number, bias: boolean): FeedForward {
    const special = [
      0x7fc00001, 0xffbfffff, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff,
    ];
    const fill = (n: number, seed: number) => {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++)
        bits[i] =
          i < special.length
            ? (special[(i + seed) % special.length] as number)
            : (Math.imul(i + seed, 2654435761) >>> 0) & 0xbfffffff;
      return new Float32Array(bits.buffer);
    };
    return FeedForward.fromWeights({
      w1: matrix(dModel, dHidden, fill(dModel * dHidden, 1)),
      w2: matrix(dHidden, dModel, fill(dHidden * dModel, 2)),
      ...(bias ? { b1: fill(dHidden, 3), b2: fill(dModel, 4) } : {}),
    });
  }
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

  it.each([
    ["linear, with biases", optFeedForwardNames(2), true],
    ["linear, no biases", t5FeedForwardNames(1, "decoder"), false],
    ["conv1d", CONV1D_NAMES, true],
  ] as const)("round-trips bit for bit (%s)", (_what, names, bias) => {
    const a = specialLayer(5, 11, bias);
    const bytes = feedForwardToSafetensors(a, names, { format: "pt" });
    const file = parseSafetensors(bytes);
    expect(file.metadata).toEqual(new Map([["format", "pt"]]));
    const b = feedForwardFromCheckpoint(file, names);
    const wa = a.weights;
    const wb = b.weights;
    expect(bits(wb.w1.data)).toEqual(bits(wa.w1.data));
    expect(bits(wb.w2.data)).toEqual(bits(wa.w2.data));
    if (bias) {
      expect(bits(wb.b1!)).toEqual(bits(wa.b1!));
      expect(bits(wb.b2!)).toEqual(bits(wa.b2!));
    }
    // And the file again, byte for byte.
    expect(Array.from(feedForwardToSafetensors(b, names, { format: "pt" }))).toEqual(
      Array.from(bytes),
    );
  });

  it("gives back PyTorch's own tensors, byte for byte, in PyTorch's layout", () => {
    const opt = load("opt.safetensors");
    for (const layer of [0, 1]) {
      const names = optFeedForwardNames(layer);
      const tensors = feedForwardTensors(feedForwardFromCheckpoint(opt, names), names);
      expect(tensors.size).toBe(4);
      for (const [name, t] of tensors) {
        const original = opt.tensors.get(name)!;
        expect(t.shape).toEqual(original.shape);
        const data = t.data as Float32Array;
        expect(Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))).toEqual(
          Array.from(original.data),
        );
      }
    }
  });

  it("several layers merge into one file", () => {
    const opt = load("opt.safetensors");
    const merged = new Map(
      [0, 1].flatMap((n) => [
        ...feedForwardTensors(
          feedForwardFromCheckpoint(opt, optFeedForwardNames(n)),
          optFeedForwardNames(n),
        ),
      ]),
    );
    const again = parseSafetensors(serializeSafetensors(merged));
    expect(again.tensors.size).toBe(8);
    expect(Array.from(again.tensors.get("model.decoder.layers.1.fc2.weight")!.data)).toEqual(
      Array.from(opt.tensors.get("model.decoder.layers.1.fc2.weight")!.data),
    );
  });

  it("refuses names whose biases do not match the layer, and a non-layer", () => {
    const withBias = new FeedForward({ dModel: 2, dHidden: 3 });
    expect(() => feedForwardTensors(withBias, t5FeedForwardNames(0))).toThrow(
      new TypeError(
        "feedForwardTensors: the layer has biases but names.b1 and names.b2 are absent",
      ),
    );
    const noBias = feedForwardFromCheckpoint(load("t5.safetensors"), t5FeedForwardNames(0));
    expect(() => feedForwardToSafetensors(noBias, optFeedForwardNames(0))).toThrow(
      new TypeError(
        "feedForwardToSafetensors: the layer has no biases but names.b1 and names.b2 are given",
      ),
    );
    expect(() => feedForwardTensors({} as never, optFeedForwardNames(0))).toThrow(
      new TypeError("feedForwardTensors: ffn must be a FeedForward, got an object (Object)"),
    );
  });
});

describe("name maps", () => {
  it("OPT and T5 v1.0", () => {
    expect(optFeedForwardNames(11)).toEqual({
      w1: "model.decoder.layers.11.fc1.weight",
      b1: "model.decoder.layers.11.fc1.bias",
      w2: "model.decoder.layers.11.fc2.weight",
      b2: "model.decoder.layers.11.fc2.bias",
      layout: "linear",
      activation: "relu",
    });
    expect(optFeedForwardNames(0, "decoder.layers").w2).toBe("decoder.layers.0.fc2.weight");
    expect(t5FeedForwardNames(5)).toEqual({
      w1: "encoder.block.5.layer.1.DenseReluDense.wi.weight",
      w2: "encoder.block.5.layer.1.DenseReluDense.wo.weight",
      layout: "linear",
      activation: "relu",
    });
    expect(t5FeedForwardNames(2, "decoder").w1).toBe(
      "decoder.block.2.layer.2.DenseReluDense.wi.weight",
    );
  });

  it("refuse bad arguments with a TypeError", () => {
    expect(() => optFeedForwardNames(-1)).toThrow(
      new TypeError("optFeedForwardNames: layer must be a non-negative integer, got -1"),
    );
    expect(() => optFeedForwardNames(1.5)).toThrow(TypeError);
    expect(() => optFeedForwardNames("0" as never)).toThrow(
      new TypeError("optFeedForwardNames: layer must be a non-negative integer, got string 0"),
    );
    expect(() => optFeedForwardNames(0, null as never)).toThrow(
      new TypeError("optFeedForwardNames: prefix must be a string, got null"),
    );
    expect(() => t5FeedForwardNames(0, "middle" as never)).toThrow(
      new TypeError('t5FeedForwardNames: stack must be "encoder" or "decoder", got string middle'),
    );
    expect(() => t5FeedForwardNames(NaN)).toThrow(
      new TypeError("t5FeedForwardNames: layer must be a non-negative integer, got NaN"),
    );
  });
});

function catchError(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return e;
  }
  throw new Error("the call did not throw");
}
