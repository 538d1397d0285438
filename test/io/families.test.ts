// Each model family's name map loads that model's layer: the fixtures are the families' own
// module structures built in PyTorch (scripts/fixtures/make_checkpoint_fixtures.py, their
// README), and the layer loaded by the name map alone (no activation argument) must give
// PyTorch's output within the forward-error bound, on every kernel. Another activation must
// not: the bound tells them apart, so the test would see a name map with the wrong one.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ActivationName,
  type FeedForwardTensorNames,
  type GatedFeedForwardTensorNames,
  type SafetensorsFile,
  FeedForward,
  GatedFeedForward,
  bertFeedForwardNames,
  feedForwardFromCheckpoint,
  feedForwardWeightsFromCheckpoint,
  gatedFeedForwardFromCheckpoint,
  gatedFeedForwardWeightsFromCheckpoint,
  gemmaFeedForwardNames,
  gpt2FeedForwardNames,
  llamaFeedForwardNames,
  matrix,
  mistralFeedForwardNames,
  parseSafetensors,
  qwen2FeedForwardNames,
  robertaFeedForwardNames,
  t5GatedFeedForwardNames,
  tensorToFloat32,
} from "../../src/index";
import { ACTIVATIONS } from "../../src/kernels/activation";
import { KERNELS, type TestKernel, kernelName } from "../kernels";
import { type Accumulation, feedForward64, gated64 } from "../support/layer64";

const FIXTURES = new URL("../fixtures/checkpoints/", import.meta.url);
const load = (name: string): SafetensorsFile =>
  parseSafetensors(readFileSync(new URL(`${name}.safetensors`, FIXTURES)));

type Names = FeedForwardTensorNames | GatedFeedForwardTensorNames;
const isGated = (names: Names): names is GatedFeedForwardTensorNames => "wGate" in names;

interface Case {
  family: string;
  file: string;
  /** The output's key in the -io file. */
  output: string;
  names: Names;
  activation: ActivationName;
  dModel: number;
}

const CASES: Case[] = [
  ...[0, 1].map((n) => ({
    family: "GPT-2",
    file: "gpt2",
    output: `h.${n}`,
    names: gpt2FeedForwardNames(n),
    activation: "geluTanh" as const,
    dModel: 12,
  })),
  ...[0, 1].map((n) => ({
    family: "BERT",
    file: "bert",
    output: `layer.${n}`,
    names: bertFeedForwardNames(n),
    activation: "gelu" as const,
    dModel: 16,
  })),
  {
    family: "RoBERTa",
    file: "roberta",
    output: "layer.0",
    names: robertaFeedForwardNames(0),
    activation: "gelu",
    dModel: 20,
  },
  ...[0, 1].map((n) => ({
    family: "LLaMA",
    file: "llama",
    output: `layers.${n}`,
    names: llamaFeedForwardNames(n),
    activation: "silu" as const,
    dModel: 24,
  })),
  {
    family: "Mistral",
    file: "mistral",
    output: "layers.0",
    names: mistralFeedForwardNames(0),
    activation: "silu",
    dModel: 16,
  },
  {
    family: "Qwen2",
    file: "qwen2",
    output: "layers.0",
    names: qwen2FeedForwardNames(0),
    activation: "silu",
    dModel: 12,
  },
  {
    family: "Gemma",
    file: "gemma",
    output: "layers.0",
    names: gemmaFeedForwardNames(0),
    activation: "geluTanh",
    dModel: 16,
  },
  ...(["encoder", "decoder"] as const).map((stack) => ({
    family: "T5 v1.1",
    file: "t5v1_1",
    output: `${stack}.0`,
    names: t5GatedFeedForwardNames(0, stack),
    activation: "geluTanh" as const,
    dModel: 24,
  })),
];

type AnyLayer = FeedForward | GatedFeedForward;

const made: AnyLayer[] = [];
afterAll(() => made.forEach((l) => l.dispose()));

/** The case's layer on a test kernel, built from the weights loader and the names' activation. */
async function layerOn(c: Case, kernel: TestKernel, activation: ActivationName): Promise<AnyLayer> {
  const file = load(c.file);
  const options = {
    kernel: kernelName(kernel),
    threads: kernel === "wasm-2t" ? 2 : 1,
    activation,
  };
  const layer = isGated(c.names)
    ? await GatedFeedForward.create({
        weights: gatedFeedForwardWeightsFromCheckpoint(file, c.names),
        ...options,
      })
    : await FeedForward.create({
        weights: feedForwardWeightsFromCheckpoint(file, c.names),
        ...options,
      });
  made.push(layer);
  return layer;
}

function io(c: Case): { x: Float32Array; tokens: number; y64: Float64Array } {
  const file = load(`${c.file}-io`);
  const xt = file.tensors.get("x")!;
  const yt = file.tensors.get(`${c.output}.y64`)!;
  expect([xt.dtype, yt.dtype, yt.shape]).toEqual(["F32", "F64", xt.shape]);
  return {
    x: tensorToFloat32(xt),
    tokens: xt.shape[0] as number,
    y64: new Float64Array(Uint8Array.from(yt.data).buffer), // a copy: a Buffer's slice is a view
  };
}

/**
 * The elements where the layer's output is further from PyTorch's float64 output than the
 * bound allows, and the largest ratio |difference| / tolerance.
 *
 * Tolerance: |ours − torch64| ≤ |ours − exact| + |torch64 − exact|. The first is the layer64
 * bound (the kernel's float32 error, for its accumulation, plus the float64 model's own error,
 * since the bound is taken around the model). The second is PyTorch's float64 evaluation,
 * bounded like the model's (modelBound: float64 sums in any order, γ64; its activations
 * within 2^-40 relative), plus the absolute error of its activations near their zeros (1 + erf
 * or 1 + tanh cancelling: at most a few 2^-53 |v|, below the γ64_{D+1} Σ|x w| already counted
 * for v once D ≥ 7): at most modelBound again. So the tolerance is bound + 2 modelBound.
 */
function compare(
  layer: AnyLayer,
  x: Float32Array,
  tokens: number,
  got: Float32Array,
  y64: Float64Array,
): { bad: number; worst: number } {
  const acc: Accumulation = layer.kernel === "js" ? "f64" : "f32";
  const model =
    layer instanceof GatedFeedForward
      ? (() => {
          const w = layer.weights;
          return gated64(
            {
              dModel: layer.dModel,
              dHidden: layer.dHidden,
              activation: layer.activation,
              wGate: w.wGate.data,
              bGate: w.bGate ?? null,
              wUp: w.wUp.data,
              bUp: w.bUp ?? null,
              wDown: w.wDown.data,
              bDown: w.bDown ?? null,
            },
            x,
            tokens,
            acc,
          );
        })()
      : (() => {
          const w = layer.weights;
          return feedForward64(
            {
              dModel: layer.dModel,
              dHidden: layer.dHidden,
              activation: layer.activation,
              w1: w.w1.data,
              b1: w.b1 ?? null,
              w2: w.w2.data,
              b2: w.b2 ?? null,
            },
            x,
            tokens,
            acc,
          );
        })();
  let bad = 0;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const tol = (model.bound[i] as number) + 2 * (model.modelBound[i] as number);
    const diff = Math.abs((got[i] as number) - (y64[i] as number));
    if (!(diff <= tol)) bad++;
    worst = Math.max(worst, diff / tol);
  }
  return { bad, worst };
}

describe.each(KERNELS)(
  "a family's layer, loaded by its name map, is PyTorch's (kernel %s)",
  (kernel) => {
    it.each(CASES)("$family $output", async (c) => {
      expect(c.names.activation).toBe(c.activation);
      const layer = await layerOn(c, kernel, c.names.activation);
      expect([layer.kernel, layer.dModel]).toEqual([kernelName(kernel), c.dModel]);
      const { x, tokens, y64 } = io(c);
      const y = (await layer.forwardAsync(matrix(tokens, c.dModel, x))).data;
      const { bad, worst } = compare(layer, x, tokens, y, y64);
      expect(bad, `worst |difference| / tolerance ${worst}`).toBe(0);
    });
  },
);

describe("the name map alone gives the model's activation", () => {
  it.each(CASES)("$family $output: no activation argument", (c) => {
    const file = load(c.file);
    const layer = isGated(c.names)
      ? gatedFeedForwardFromCheckpoint(file, c.names)
      : feedForwardFromCheckpoint(file, c.names);
    made.push(layer);
    expect(layer.activation).toBe(c.activation);
    const { x, tokens, y64 } = io(c);
    const y = layer.forward(matrix(tokens, c.dModel, x)).data;
    expect(compare(layer, x, tokens, y, y64).bad).toBe(0);
  });

  it.each(CASES)("$family $output: every other activation is outside the bound", async (c) => {
    const { x, tokens, y64 } = io(c);
    for (const other of ACTIVATIONS.filter((a) => a !== c.activation)) {
      const layer = await layerOn(c, "js", other);
      const y = layer.forward(matrix(tokens, c.dModel, x)).data;
      expect(compare(layer, x, tokens, y, y64).bad, other).toBeGreaterThan(0);
    }
  });

  it("an explicit activation overrides the name map's", () => {
    const c = CASES[0] as Case;
    const file = load(c.file);
    const names = c.names as FeedForwardTensorNames;
    const layer = feedForwardFromCheckpoint(file, names, { activation: "gelu", kernel: "js" });
    made.push(layer);
    expect([names.activation, layer.activation, layer.kernel]).toEqual(["geluTanh", "gelu", "js"]);
    const glu = gatedFeedForwardFromCheckpoint(load("llama"), llamaFeedForwardNames(0), {
      activation: "relu",
    });
    made.push(glu);
    expect(glu.activation).toBe("relu");
    // An options.activation of undefined is no override.
    const same = feedForwardFromCheckpoint(file, names, { activation: undefined });
    made.push(same);
    expect(same.activation).toBe("geluTanh");
  });
});
