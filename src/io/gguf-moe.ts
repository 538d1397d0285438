// A mixture of experts' tensors in a GGUF file, as llama.cpp lays them out: the router
// `blk.N.ffn_gate_inp` and each projection of all the experts stacked into one 3-D tensor,
// `blk.N.ffn_{gate,up,down}_exps` (ne = [in, out, experts]: expert e's (out, in) matrix is the
// e-th slice), with Qwen2-MoE's shared expert `ffn_{gate,up,down}_shexp` and its gate
// `ffn_gate_inp_shexp`. The routing per architecture is what llama.cpp's graph for it does
// (src/models/<arch>.cpp, its build_moe_ffn call): softmax scoring, and whether the chosen
// weights are renormalised.
import type { ActivationName } from "../kernels/activation";
import type { GatedFeedForwardWeights } from "../layers/gated";
import type { MixtureOfExpertsWeights, MoEFromWeightsOptions } from "../layers/moe-types";
import { type GgufFile, GgufError, type GgufTensor, ggufTensorToFloat32 } from "./gguf";

/**
 * How llama.cpp routes each mixture-of-experts architecture, by `general.architecture`: the
 * experts' activation (SwiGLU for all of these), and whether the chosen experts' weights are
 * renormalised to sum 1. `llama` is Mixtral (a LLaMA file with `llama.expert_count`).
 *
 * @category GGUF
 * @example
 * ```ts
 * import { GGUF_MOE_ROUTING } from "tokenwise";
 * console.log(GGUF_MOE_ROUTING.qwen2moe.normalize, GGUF_MOE_ROUTING.qwen3moe.normalize);
 * // false true
 * ```
 */
export const GGUF_MOE_ROUTING: Readonly<
  Record<string, { readonly activation: ActivationName; readonly normalize: boolean }>
> = {
  llama: { activation: "silu", normalize: true },
  qwen2moe: { activation: "silu", normalize: false },
  qwen3moe: { activation: "silu", normalize: true },
  olmoe: { activation: "silu", normalize: false },
};

/**
 * Block N's mixture of experts from a GGUF file: its weights in nn.Linear's layout (each
 * expert's matrices are slices of the stacked tensors, converted to float32 exactly by
 * {@link ggufTensorToFloat32}) and the options that go with them.
 *
 * @category GGUF
 */
export interface GgufMixtureOfExperts {
  /** The value of `general.architecture`. */
  readonly architecture: string;
  /** For {@link MixtureOfExperts.fromWeights} (or `create`, with `threads`). */
  readonly weights: MixtureOfExpertsWeights;
  /**
   * `layout: "linear"`, the activation, `scoring: "softmax"`, `normalize`, `topK` (the file's
   * `<arch>.expert_used_count`) and `routedScale` (its `<arch>.expert_weights_scale`, or 1).
   */
  readonly options: MoEFromWeightsOptions & { topK: number };
}

const quote = (s: string) => JSON.stringify(s);

/**
 * Block `block`'s mixture of experts in a GGUF file: the router, the stacked experts and, for
 * Qwen2-MoE, the shared expert and its gate, read into {@link MixtureOfExpertsWeights} (a
 * K-quant or other block type is converted to float32 exactly; the experts are float32), with
 * the architecture's routing. `MixtureOfExperts.fromWeights(weights, options)` is then the
 * model's layer.
 *
 * @param file - a parsed file, from `parseGguf`, or `loadGguf` with these tensors read
 * @param block - the block (layer) index, from 0
 * @returns the weights, the options and the architecture
 * @throws TypeError if `file` is not a parsed file or `block` is not a non-negative integer
 * @throws {@link GgufError} with code `UnknownArchitecture` for an architecture not in
 *   {@link GGUF_MOE_ROUTING}, `TensorNotFound` for a missing tensor (or one not read by
 *   `loadGguf`), `ShapeMismatch` for a tensor whose shape does not fit the router's, and
 *   `InvalidValue` for a missing or wrong `expert_count` / `expert_used_count`
 * @category GGUF
 * @example
 * ```ts
 * import { MixtureOfExperts, moeFromGguf, parseGguf } from "tokenwise";
 * import { readFileSync } from "node:fs";
 * const file = parseGguf(readFileSync("test/fixtures/gguf/qwen2moe-ffn.gguf"));
 * const { weights, options } = moeFromGguf(file, 0);
 * const moe = MixtureOfExperts.fromWeights(weights, options);
 * console.log(moe.experts, moe.dHidden, options.topK, options.normalize, weights.shared?.wGate.rows);
 * // 4 8 2 false 12
 * ```
 */
export function moeFromGguf(
  file: Pick<GgufFile, "metadata" | "tensors">,
  block: number,
): GgufMixtureOfExperts {
  const where = "moeFromGguf";
  if (
    typeof file !== "object" ||
    file === null ||
    !(file.metadata instanceof Map) ||
    !(file.tensors instanceof Map)
  ) {
    throw new TypeError(`${where}: file must be a parsed GGUF file (from parseGguf or loadGguf)`);
  }
  if (typeof block !== "number" || !Number.isSafeInteger(block) || block < 0) {
    throw new TypeError(`${where}: block must be a non-negative integer, got ${String(block)}`);
  }
  const arch = file.metadata.get("general.architecture");
  const architecture = typeof arch === "string" ? arch : "";
  const routing = Object.prototype.hasOwnProperty.call(GGUF_MOE_ROUTING, architecture)
    ? GGUF_MOE_ROUTING[architecture]
    : undefined;
  if (routing === undefined) {
    throw new GgufError(
      "UnknownArchitecture",
      `${where}: ${typeof arch === "string" ? `architecture ${quote(arch)} is not one whose mixture of experts tokenwise knows (${Object.keys(GGUF_MOE_ROUTING).join(", ")})` : "the file has no general.architecture string"}`,
      { key: "general.architecture" },
    );
  }
  const count = (key: string): number => {
    const v = file.metadata.get(key);
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) {
      throw new GgufError(
        "InvalidValue",
        `${where}: ${quote(key)} must be a positive integer, got ${v === undefined ? "nothing" : String(v)}`,
        { key },
      );
    }
    return n;
  };
  const E = count(`${architecture}.expert_count`);
  const topK = count(`${architecture}.expert_used_count`);
  if (topK > E) {
    throw new GgufError(
      "InvalidValue",
      `${where}: ${architecture}.expert_used_count = ${topK} is more than ${architecture}.expert_count = ${E}`,
      { key: `${architecture}.expert_used_count` },
    );
  }
  const scale = file.metadata.get(`${architecture}.expert_weights_scale`);
  const routedScale = typeof scale === "number" && scale > 0 && scale !== Infinity ? scale : 1;

  const prefix = `blk.${block}.`;
  const tensor = (name: string, optional = false): GgufTensor | null => {
    const t = file.tensors.get(prefix + name);
    if (t !== undefined) return t;
    if (optional) return null;
    throw new GgufError(
      "TensorNotFound",
      `${where}: tensor ${quote(prefix + name)} is not in the file (or was not read: loadGguf reads the tensors asked for)`,
      { tensor: prefix + name },
    );
  };
  const mismatch = (t: GgufTensor, expected: number[], what: string): never => {
    throw new GgufError(
      "ShapeMismatch",
      `${where}: tensor ${quote(t.name)} has shape [${t.shape.join(", ")}], expected [${expected.join(", ")}] (${what})`,
      { tensor: t.name },
    );
  };
  const fits = (t: GgufTensor, expected: number[], what: string) => {
    if (t.shape.length !== expected.length || t.shape.some((s, i) => s !== expected[i])) {
      mismatch(t, expected, what);
    }
  };

  const gateInp = tensor("ffn_gate_inp.weight") as GgufTensor;
  if (gateInp.shape.length !== 2) mismatch(gateInp, [E, 0], "(experts, dModel)");
  const d = gateInp.shape[1] as number;
  fits(gateInp, [E, d], "(experts, dModel)");
  const gateExps = tensor("ffn_gate_exps.weight") as GgufTensor;
  const H = gateExps.shape[1] ?? 0;
  fits(gateExps, [E, H, d], "(experts, dHidden, dModel)");
  const upExps = tensor("ffn_up_exps.weight") as GgufTensor;
  fits(upExps, [E, H, d], "(experts, dHidden, dModel)");
  const downExps = tensor("ffn_down_exps.weight") as GgufTensor;
  fits(downExps, [E, d, H], "(experts, dModel, dHidden)");

  const [g, u, dn] = [gateExps, upExps, downExps].map((t) => ggufTensorToFloat32(t)) as [
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const size = H * d;
  const experts = Array.from({ length: E }, (_, e): GatedFeedForwardWeights => ({
    wGate: { rows: H, cols: d, data: g.subarray(e * size, (e + 1) * size) },
    wUp: { rows: H, cols: d, data: u.subarray(e * size, (e + 1) * size) },
    wDown: { rows: d, cols: H, data: dn.subarray(e * size, (e + 1) * size) },
  }));
  const weights: MixtureOfExpertsWeights = {
    router: { rows: E, cols: d, data: ggufTensorToFloat32(gateInp) },
    experts,
  };

  const shGate = tensor("ffn_gate_shexp.weight", true);
  if (shGate !== null) {
    const Hs = shGate.shape[0] ?? 0;
    fits(shGate, [Hs, d], "(sharedHidden, dModel)");
    const shUp = tensor("ffn_up_shexp.weight") as GgufTensor;
    fits(shUp, [Hs, d], "(sharedHidden, dModel)");
    const shDown = tensor("ffn_down_shexp.weight") as GgufTensor;
    fits(shDown, [d, Hs], "(dModel, sharedHidden)");
    weights.shared = {
      wGate: { rows: Hs, cols: d, data: ggufTensorToFloat32(shGate) },
      wUp: { rows: Hs, cols: d, data: ggufTensorToFloat32(shUp) },
      wDown: { rows: d, cols: Hs, data: ggufTensorToFloat32(shDown) },
    };
    const shInp = tensor("ffn_gate_inp_shexp.weight", true);
    if (shInp !== null) {
      fits(shInp, [d], "(dModel)");
      weights.sharedGate = { rows: 1, cols: d, data: ggufTensorToFloat32(shInp) };
    }
  }
  return {
    architecture,
    weights,
    options: {
      layout: "linear",
      activation: routing.activation,
      scoring: "softmax",
      normalize: routing.normalize,
      routedScale,
      topK,
    },
  };
}
