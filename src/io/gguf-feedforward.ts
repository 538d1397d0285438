// Where a transformer block's feedforward tensors sit in a GGUF file, and which activation
// llama.cpp applies between them. Plain tables and a lookup; no layer is built here.
//
// GGUF names them `blk.N.ffn_up`, `blk.N.ffn_gate` (gated layers only) and `blk.N.ffn_down`,
// each `.weight` and optionally `.bias` (ggml's docs/gguf.md, "Standardized tensor names").
// llama.cpp's graph for each architecture (src/models/<arch>.cpp, its build_ffn call) says
// the activation: LLM_FFN_SILU or LLM_FFN_GELU, and ggml_gelu is GELU's tanh approximation.
import type { ActivationName } from "../kernels/activation";
import { GgufError, type GgufTensorInfo, type GgufValue } from "./gguf";

/**
 * The activation of each architecture's feedforward layer, by the value of
 * `general.architecture`, as llama.cpp computes it: `"silu"` for LLaMA (and the models
 * converted as `llama`: Mistral, ...) and Qwen2, gated; `"geluTanh"` (ggml's `ggml_gelu`, the
 * tanh approximation) for Gemma and Gemma 3, gated, and for GPT-2, StarCoder, Phi-2 and BERT,
 * not gated.
 *
 * @category GGUF
 * @example
 * ```ts
 * import { GGUF_FEEDFORWARD_ACTIVATIONS } from "tokenwise";
 * console.log(GGUF_FEEDFORWARD_ACTIVATIONS.llama, GGUF_FEEDFORWARD_ACTIVATIONS.gpt2);
 * // silu geluTanh
 * ```
 */
export const GGUF_FEEDFORWARD_ACTIVATIONS: Readonly<Record<string, ActivationName>> = {
  llama: "silu",
  qwen2: "silu",
  gemma: "geluTanh",
  gemma3: "geluTanh",
  gpt2: "geluTanh",
  starcoder: "geluTanh",
  phi2: "geluTanh",
  bert: "geluTanh",
};

/**
 * The names of block N's feedforward tensors in a GGUF file.
 *
 * @category GGUF
 */
export interface GgufFeedForwardNames {
  /** `blk.N.ffn_up.weight`: (dHidden, dModel) outermost first, ne = [dModel, dHidden]. */
  readonly up: string;
  /** `blk.N.ffn_up.bias`: (dHidden). */
  readonly upBias: string;
  /** `blk.N.ffn_gate.weight`, in gated layers: (dHidden, dModel). */
  readonly gate: string;
  /** `blk.N.ffn_gate.bias`: (dHidden). */
  readonly gateBias: string;
  /** `blk.N.ffn_down.weight`: (dModel, dHidden), ne = [dHidden, dModel]. */
  readonly down: string;
  /** `blk.N.ffn_down.bias`: (dModel). */
  readonly downBias: string;
}

function assertBlock(block: unknown, where: string): number {
  if (typeof block !== "number" || !Number.isSafeInteger(block) || block < 0) {
    throw new TypeError(
      `${where}: block must be a non-negative integer, got ${typeof block === "number" ? block : typeof block}`,
    );
  }
  return block;
}

/**
 * The names of block N's feedforward tensors, whether the file has them or not (a layer has
 * no gate unless it is gated, and biases only in some architectures). To read one layer's
 * tensors with `loadGguf`, pass `tensors: (t) => Object.values(names).includes(t.name)`.
 *
 * @param block - the block (layer) index, from 0
 * @returns the six names
 * @throws TypeError if `block` is not a non-negative integer
 * @category GGUF
 * @example
 * ```ts
 * import { ggufFeedForwardNames } from "tokenwise";
 * const names = ggufFeedForwardNames(3);
 * console.log(names.up, names.gate, names.downBias);
 * // blk.3.ffn_up.weight blk.3.ffn_gate.weight blk.3.ffn_down.bias
 * ```
 */
export function ggufFeedForwardNames(block: number): GgufFeedForwardNames {
  const n = assertBlock(block, "ggufFeedForwardNames");
  const p = `blk.${n}.ffn_`;
  return {
    up: `${p}up.weight`,
    upBias: `${p}up.bias`,
    gate: `${p}gate.weight`,
    gateBias: `${p}gate.bias`,
    down: `${p}down.weight`,
    downBias: `${p}down.bias`,
  };
}

/**
 * Block N's feedforward layer as a GGUF file describes it: its tensors (infos, with their
 * types and shapes outermost first), its sizes, whether it is gated, and its activation.
 *
 * @category GGUF
 */
export interface GgufFeedForward {
  /** The value of `general.architecture`. */
  readonly architecture: string;
  /** The activation: from {@link GGUF_FEEDFORWARD_ACTIVATIONS}, or the one passed. */
  readonly activation: ActivationName;
  /** True when the file has `blk.N.ffn_gate.weight`: act(x·gate) ⊙ (x·up), then down. */
  readonly gated: boolean;
  /** The model width: the inner dimension of up and gate, the outer one of down. */
  readonly dModel: number;
  /** The hidden width: the outer dimension of up and gate, the inner one of down. */
  readonly dHidden: number;
  /** (dHidden, dModel); its blocks, if any, run along dModel. */
  readonly up: GgufTensorInfo;
  /** (dHidden, dModel), or null when the layer is not gated. */
  readonly gate: GgufTensorInfo | null;
  /** (dModel, dHidden); its blocks, if any, run along dHidden. */
  readonly down: GgufTensorInfo;
  /** (dHidden), or null. */
  readonly upBias: GgufTensorInfo | null;
  /** (dHidden), or null. */
  readonly gateBias: GgufTensorInfo | null;
  /** (dModel), or null. */
  readonly downBias: GgufTensorInfo | null;
}

/**
 * Finds block N's feedforward tensors in a parsed GGUF file and checks that their shapes fit
 * together: up (and gate) (dHidden, dModel), down (dModel, dHidden), biases of dHidden and
 * dModel. The layer is gated when `blk.N.ffn_gate.weight` exists; the activation is the
 * architecture's, from `general.architecture` (or `options.activation`). The shapes are
 * PyTorch's `nn.Linear` weights, (out, in), the transpose of tokenwise's W1 and W2.
 *
 * @param file - a parsed file, from `parseGguf` or `loadGguf` (its `metadata` and
 *   `tensorInfos`; the tensors need not have been read)
 * @param block - the block (layer) index, from 0
 * @param options - `activation`, to use instead of the architecture's (and for architectures
 *   not in {@link GGUF_FEEDFORWARD_ACTIVATIONS})
 * @returns the tensors, sizes, gating and activation
 * @throws TypeError if `block` is not a non-negative integer, or `file` is not a parsed file
 * @throws {@link GgufError} with code `TensorNotFound` if `ffn_up.weight` or `ffn_down.weight`
 *   is missing, `UnknownArchitecture` if the activation is not known (and not given), or
 *   `ShapeMismatch` if a shape does not fit, naming the tensor
 * @category GGUF
 * @example
 * ```ts
 * import { parseGguf, ggufFeedForward } from "tokenwise";
 * import { readFileSync } from "node:fs";
 * const file = parseGguf(readFileSync("test/fixtures/gguf/llama-ffn.gguf"));
 * const ffn = ggufFeedForward(file, 0);
 * console.log(ffn.activation, ffn.gated, ffn.dModel, ffn.dHidden, ffn.down.type);
 * // silu true 64 96 Q4_0
 * ```
 */
export function ggufFeedForward(
  file: {
    readonly metadata: ReadonlyMap<string, GgufValue>;
    readonly tensorInfos: ReadonlyMap<string, GgufTensorInfo>;
  },
  block: number,
  options: { readonly activation?: ActivationName } = {},
): GgufFeedForward {
  const where = "ggufFeedForward";
  const n = assertBlock(block, where);
  if (
    typeof file !== "object" ||
    file === null ||
    !(file.metadata instanceof Map) ||
    !(file.tensorInfos instanceof Map)
  ) {
    throw new TypeError(`${where}: file must be a parsed GGUF file (from parseGguf or loadGguf)`);
  }
  const names = ggufFeedForwardNames(n);
  const info = (name: string) => file.tensorInfos.get(name) ?? null;
  const up = info(names.up);
  const down = info(names.down);
  for (const [name, t] of [
    [names.up, up],
    [names.down, down],
  ] as const) {
    if (t === null) {
      throw new GgufError(
        "TensorNotFound",
        `${where}: tensor ${JSON.stringify(name)} is not in the file`,
        {
          tensor: name,
        },
      );
    }
  }
  const arch = file.metadata.get("general.architecture");
  const architecture = typeof arch === "string" ? arch : "";
  let activation = options.activation;
  if (activation === undefined) {
    activation = Object.prototype.hasOwnProperty.call(GGUF_FEEDFORWARD_ACTIVATIONS, architecture)
      ? GGUF_FEEDFORWARD_ACTIVATIONS[architecture]
      : undefined;
    if (activation === undefined) {
      throw new GgufError(
        "UnknownArchitecture",
        `${where}: ${typeof arch === "string" ? `architecture ${JSON.stringify(arch)} is not one whose feedforward activation tokenwise knows (${Object.keys(GGUF_FEEDFORWARD_ACTIVATIONS).join(", ")})` : "the file has no general.architecture string"}; pass options.activation`,
        { key: "general.architecture" },
      );
    }
  }
  const u = up as GgufTensorInfo;
  const d = down as GgufTensorInfo;
  const mismatch = (t: GgufTensorInfo, expected: string): never => {
    throw new GgufError(
      "ShapeMismatch",
      `${where}: tensor ${JSON.stringify(t.name)} has shape [${t.shape.join(", ")}], expected ${expected}`,
      { tensor: t.name },
    );
  };
  if (u.shape.length !== 2) mismatch(u, "(dHidden, dModel)");
  const [dHidden, dModel] = u.shape as [number, number];
  const check = (t: GgufTensorInfo | null, shape: number[], expected: string) => {
    if (t !== null && (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))) {
      mismatch(t, `${expected} = [${shape.join(", ")}], from ${JSON.stringify(u.name)}`);
    }
    return t;
  };
  check(d, [dModel, dHidden], "(dModel, dHidden)");
  const gate = check(info(names.gate), [dHidden, dModel], "(dHidden, dModel)");
  return {
    architecture,
    activation,
    gated: gate !== null,
    dModel,
    dHidden,
    up: u,
    gate,
    down: d,
    upBias: check(info(names.upBias), [dHidden], "(dHidden)"),
    gateBias: check(info(names.gateBias), [dHidden], "(dHidden)"),
    downBias: check(info(names.downBias), [dModel], "(dModel)"),
  };
}
