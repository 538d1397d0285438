// Which layer the bench runs: the plain FeedForward with one of tokenwise's activations, or the
// gated layer of LLaMA (SwiGLU) and its relatives. Every part of the bench (problem, reference,
// contenders, FLOP count) takes one of these.
import { ACTIVATIONS, type ActivationName } from "../src/kernels/activation";

export { ACTIVATIONS, type ActivationName };

/** "ffn": y = act(x·W1 + b1)·W2 + b2. "gated": y = (act(x·Wgate) ⊙ (x·Wup))·Wdown, no biases. */
export type LayerKind = "ffn" | "gated";

export const LAYERS: readonly LayerKind[] = ["ffn", "gated"];

export interface Variant {
  layer: LayerKind;
  activation: ActivationName;
  /** Weights rounded to values exact in bf16 and f16 (a run with `--dtype`: see dtype.ts). */
  exact16?: boolean;
}

/** The bench's default: the ReLU FeedForward. */
export const FFN_RELU: Variant = { layer: "ffn", activation: "relu" };

/** The activation a layer gets when none is asked for: relu for ffn, silu (SwiGLU) for gated. */
export function defaultActivation(layer: LayerKind): ActivationName {
  return layer === "gated" ? "silu" : "relu";
}

/** A layer and activation from the command line's words, checked. */
export function parseVariant(layer = "ffn", activation?: string): Variant {
  if (!(LAYERS as readonly string[]).includes(layer)) {
    throw new RangeError(`--layer: "${layer}" is not one of ${LAYERS.join(", ")}`);
  }
  const kind = layer as LayerKind;
  const act = activation ?? defaultActivation(kind);
  if (!(ACTIVATIONS as readonly string[]).includes(act)) {
    throw new RangeError(`--activation: "${act}" is not one of ${ACTIVATIONS.join(", ")}`);
  }
  return { layer: kind, activation: act as ActivationName };
}

/** For titles: "FeedForward, relu", "gated, silu (SwiGLU)". */
export function describeVariant(v: Variant): string {
  if (v.layer === "ffn") return `FeedForward, ${v.activation}`;
  const name =
    v.activation === "silu" ? " (SwiGLU)" : v.activation === "relu" ? " (ReGLU)" : " (GeGLU)";
  return `gated, ${v.activation}${name}`;
}

/** How many dModel x dHidden products a layer has: 2 for ffn, 3 (gate, up, down) for gated. */
export function matricesOf(layer: LayerKind): number {
  return layer === "gated" ? 3 : 2;
}

/** "4·T·dModel·dHidden" or "6·T·dModel·dHidden": the FLOP count the GFLOP/s figures use. */
export function flopsFormula(layer: LayerKind): string {
  return `${2 * matricesOf(layer)}·T·dModel·dHidden`;
}
