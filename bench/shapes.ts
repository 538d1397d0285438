// The shapes the bench runs: tokens T, dModel, dHidden of one forward pass of the layer.
import type { LayerKind } from "./layer";

export interface Shape {
  /** Short name used in tables and on the command line (S1, Q2, or "16x256x1024"). */
  name: string;
  /** Tokens in the batch (rows of x). */
  tokens: number;
  dModel: number;
  dHidden: number;
  /** Where the shape comes from. */
  note?: string;
}

export const SHAPES: readonly Shape[] = [
  { name: "S1", tokens: 1, dModel: 768, dHidden: 3072, note: "GPT-2 small, decode (one token)" },
  { name: "S2", tokens: 32, dModel: 768, dHidden: 3072, note: "GPT-2 small, 32 tokens" },
  { name: "S3", tokens: 128, dModel: 768, dHidden: 3072, note: "GPT-2 small, 128 tokens" },
  { name: "S4", tokens: 512, dModel: 512, dHidden: 2048, note: "Transformer base, 512 tokens" },
  { name: "S5", tokens: 64, dModel: 4096, dHidden: 11008, note: "LLaMA-7B widths, 64 tokens" },
];

// `--layer gated`: LLaMA-7B's MLP (gate_proj, up_proj, down_proj), decoding and a short prompt.
export const GATED_SHAPES: readonly Shape[] = [
  { name: "G1", tokens: 1, dModel: 4096, dHidden: 11008, note: "LLaMA-7B MLP, decode (one token)" },
  { name: "G2", tokens: 8, dModel: 4096, dHidden: 11008, note: "LLaMA-7B MLP, 8 tokens" },
];

// `--quick`: tiny and awkward sizes (odd, prime), so tails of blocked loops are exercised.
export const QUICK_SHAPES: readonly Shape[] = [
  { name: "Q1", tokens: 1, dModel: 8, dHidden: 32, note: "quick: one token" },
  { name: "Q2", tokens: 5, dModel: 24, dHidden: 37, note: "quick: awkward sizes" },
];

/**
 * Floating-point operations of one forward pass: a GEMM of 2·T·dModel·dHidden per weight matrix,
 * two for the FeedForward (4·T·dModel·dHidden), three for the gated layer (6·T·dModel·dHidden).
 * The activation, biases and the gate's product are left out, as everyone counts.
 */
export function flopsOf(shape: Shape, layer: LayerKind = "ffn"): number {
  return (layer === "gated" ? 6 : 4) * shape.tokens * shape.dModel * shape.dHidden;
}

/** Bytes of float32 weights and biases of the layer (the gated layer has no biases). */
export function weightBytesOf(shape: Shape, layer: LayerKind = "ffn"): number {
  const { dModel: D, dHidden: H } = shape;
  return layer === "gated" ? 4 * 3 * D * H : 4 * (2 * D * H + D + H);
}

const NAMED: readonly Shape[] = [...SHAPES, ...GATED_SHAPES, ...QUICK_SHAPES];

/** A shape by name (S1..S5, G1, G2, Q1, Q2) or written as TxDxH, for example "16x256x1024". */
export function parseShape(text: string): Shape {
  const named = NAMED.find((s) => s.name.toLowerCase() === text.toLowerCase());
  if (named !== undefined) return named;
  const m = /^(\d+)x(\d+)x(\d+)$/i.exec(text.trim());
  if (m === null) {
    throw new RangeError(
      `shape "${text}" is neither a known name (${NAMED.map((s) => s.name).join(", ")}) nor TxDxH such as 16x256x1024`,
    );
  }
  const [tokens, dModel, dHidden] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (tokens < 1 || dModel < 1 || dHidden < 1) {
    throw new RangeError(`shape "${text}": tokens, dModel and dHidden must be at least 1`);
  }
  return { name: `${tokens}x${dModel}x${dHidden}`, tokens, dModel, dHidden, note: "custom" };
}

export function describeShape(shape: Shape): string {
  return `${shape.name} (T ${shape.tokens}, dModel ${shape.dModel}, dHidden ${shape.dHidden})`;
}
