// Mixture-of-experts checkpoints (Mixtral, Qwen2-MoE, Qwen3-MoE, OLMoE) from safetensors
// files made by PyTorch modules written after those models' published structure
// (scripts/fixtures/make_moe_fixtures.py): the layer loads by the families' names, chooses
// PyTorch's experts for every token, and agrees with PyTorch's float64 run within the derived
// bound, on every kernel.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import {
  MOE_CHECKPOINT_NAMES,
  type MoECheckpointFamily,
  MixtureOfExperts,
  matrix,
  moeFromCheckpoint,
  parseSafetensors,
  tensorToFloat32,
} from "../../src/index";
import { outside } from "../support/layer64";
import { type Expert64, moe64 } from "../support/moe64";

const DIR = new URL("../fixtures/checkpoints/moe/", import.meta.url);
const load = (name: string) => parseSafetensors(readFileSync(new URL(name, DIR)));

const FAMILIES: { family: MoECheckpointFamily; topK: number }[] = [
  { family: "mixtral", topK: 2 },
  { family: "qwen2-moe", topK: 4 },
  { family: "qwen3-moe", topK: 3 },
  { family: "olmoe", topK: 8 },
];
const KERNELS = [
  { kernel: "js", threads: 1 },
  { kernel: "wasm", threads: 1 },
  { kernel: "wasm", threads: 2 },
] as const;

const live: MixtureOfExperts[] = [];
afterAll(() => {
  for (const l of live) l.dispose();
});

/** A tensor's raw bytes as a typed array of its dtype (F64, I32), for the reference outputs. */
function raw<T extends Float64Array | Int32Array>(
  bytes: Uint8Array,
  Type: new (b: ArrayBuffer) => T,
): T {
  return new Type(new Uint8Array(bytes).buffer); // a copy: a Node Buffer's slice is a view
}

describe.each(FAMILIES)("$family", ({ family, topK }) => {
  const file = load(`${family}.safetensors`);
  const io = load(`${family}-io.safetensors`);
  const get = (name: string) => {
    const t = file.tensors.get(name);
    if (t === undefined) throw new Error(`no tensor ${name}`);
    return matrix(t.shape[0] ?? 0, t.shape[1] ?? 1, tensorToFloat32(t));
  };
  const x = tensorToFloat32(io.tensors.get("x")!);
  const [T, D] = io.tensors.get("x")!.shape as [number, number];
  const y64 = raw(io.tensors.get("y64")!.data, Float64Array);
  const chosen = raw(io.tensors.get("experts")!.data, Int32Array);

  it("reads every tensor of layer 1 by the family's names", () => {
    const { weights, options } = moeFromCheckpoint(family, 1, get);
    const names = MOE_CHECKPOINT_NAMES[family];
    expect(options).toEqual({
      activation: "silu",
      normalize: names.normalize,
      scoring: "softmax",
      layout: "linear",
    });
    const count = 1 + 3 * weights.experts.length + (names.shared === undefined ? 0 : 4);
    const inFile = [...file.tensors.keys()].filter((n) => n.startsWith("model.layers.1.")).length;
    expect(count).toBe(inFile);
    expect(weights.router).toEqual(get(names.router.replace("{N}", "1")));
  });

  describe.each(KERNELS)("on $kernel, $threads thread(s)", ({ kernel, threads }) => {
    it("chooses PyTorch's experts and is within the derived bound of its float64 run", async () => {
      const { weights, options } = moeFromCheckpoint(family, 1, get);
      const moe = await MixtureOfExperts.create({ weights, ...options, topK, kernel, threads });
      live.push(moe);
      expect(moe.threads).toBe(threads);
      const xs = matrix(T, D, x);
      const r = moe.route(xs);
      for (let t = 0; t < T; t++) {
        const mine = Array.from(r.experts.subarray(t * topK, (t + 1) * topK)).sort((a, b) => a - b);
        expect(mine, `token ${t}`).toEqual(Array.from(chosen.subarray(t * topK, (t + 1) * topK)));
      }
      const y = moe.forward(xs).data;
      // The model from tokenwise's (in, out) copy of the weights.
      const w = moe.weights;
      const expert = (g: (typeof w.experts)[number]): Expert64 => ({
        dHidden: g.wGate.cols,
        wGate: g.wGate.data,
        bGate: null,
        wUp: g.wUp.data,
        bUp: null,
        wDown: g.wDown.data,
        bDown: null,
      });
      const model = moe64(
        {
          dModel: D,
          activation: "silu",
          topK,
          scoring: "softmax",
          normalize: options.normalize!,
          routedScale: 1,
          router: w.router.data,
          routerBias: null,
          selectionBias: null,
          experts: w.experts.map(expert),
          shared: w.shared === undefined ? null : expert(w.shared),
          sharedGate: w.sharedGate?.data ?? null,
        },
        x,
        T,
        kernel === "js" ? "f64" : "f32",
      );
      expect(model.chosen.every((c) => c !== null)).toBe(true);
      // |ours − PyTorch's float64| ≤ |ours − model| + |model − exact| + |exact − PyTorch's|,
      // each float64 evaluation within the model's own (order-free) bound.
      const allowed = model.bound.map((b, i) => b + 2 * (model.modelBound[i] as number));
      expect(outside(y, y64, allowed)).toEqual([]);
      // The model itself agrees with PyTorch's float64 run within the two evaluations' bounds.
      const apart = model.y.filter((v, i) => !(Math.abs(v - y64[i]!) <= 2 * model.modelBound[i]!));
      expect(apart).toEqual(new Float64Array(0));
    });
  });
});
