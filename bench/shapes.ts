// The shapes the bench runs: tokens T, dModel, dHidden of one forward pass of the layer, and how
// many such layers (distinct weights) the token goes through in turn.
import type { WeightDtype } from "../src/dtype";
import type { LayerKind } from "./layer";

export interface Shape {
  /** Short name used in tables and on the command line (S1, Q2, or "16x256x1024"). */
  name: string;
  /** Tokens in the batch (rows of x). */
  tokens: number;
  dModel: number;
  dHidden: number;
  /**
   * Layers of this width, each with weights of its own, that a forward runs in turn (the output
   * of one is the input of the next); default 1. D1 uses it to read more weights than a cache holds.
   */
  layers?: number;
  /** Where the shape comes from. */
  note?: string;
  /** In a token sweep: the name of the shape whose widths and layers this one has. */
  base?: string;
  /**
   * `--sparsity`: the share of hidden units that b1 switches off on the run's inputs (see
   * bench/sparsity.ts); absent: the drawn biases.
   */
  sparsity?: number;
}

/** GPT-2 small's depth: D1 runs one token through this many 768 x 3072 layers (226 MB of float32). */
export const D1_LAYERS = 12;

export const SHAPES: readonly Shape[] = [
  { name: "S1", tokens: 1, dModel: 768, dHidden: 3072, note: "GPT-2 small, decode (one token)" },
  { name: "S2", tokens: 32, dModel: 768, dHidden: 3072, note: "GPT-2 small, 32 tokens" },
  { name: "S3", tokens: 128, dModel: 768, dHidden: 3072, note: "GPT-2 small, 128 tokens" },
  { name: "S4", tokens: 512, dModel: 512, dHidden: 2048, note: "Transformer base, 512 tokens" },
  { name: "S5", tokens: 64, dModel: 4096, dHidden: 11008, note: "LLaMA-7B widths, 64 tokens" },
  {
    name: "D1",
    tokens: 1,
    dModel: 768,
    dHidden: 3072,
    layers: D1_LAYERS,
    note: "GPT-2 small's 12 layers in turn, decode (one token): 226 MB of weights, beyond the caches",
  },
];

// `--layer gated`: LLaMA-7B's MLP (gate_proj, up_proj, down_proj), decoding and a short prompt.
export const GATED_SHAPES: readonly Shape[] = [
  { name: "G1", tokens: 1, dModel: 4096, dHidden: 11008, note: "LLaMA-7B MLP, decode (one token)" },
  { name: "G2", tokens: 8, dModel: 4096, dHidden: 11008, note: "LLaMA-7B MLP, 8 tokens" },
];

// `--quick`: tiny and awkward sizes (odd, prime), so tails of blocked loops are exercised; Q3
// chains three layers, as D1 does.
export const QUICK_SHAPES: readonly Shape[] = [
  { name: "Q1", tokens: 1, dModel: 8, dHidden: 32, note: "quick: one token" },
  { name: "Q2", tokens: 5, dModel: 24, dHidden: 37, note: "quick: awkward sizes" },
  {
    name: "Q3",
    tokens: 1,
    dModel: 12,
    dHidden: 20,
    layers: 3,
    note: "quick: three layers in turn",
  },
];

/** Layers a forward of the shape runs in turn (1 unless the shape says). */
export function layersOf(shape: Shape): number {
  return shape.layers ?? 1;
}

/** One of the shape's layers: what a contender is set up with, once per layer. */
export function layerShape(shape: Shape): Shape {
  const { layers: _layers, ...one } = shape;
  return one;
}

/**
 * Floating-point operations of one forward pass: a GEMM of 2·T·dModel·dHidden per weight matrix,
 * two for the FeedForward (4·T·dModel·dHidden), three for the gated layer (6·T·dModel·dHidden),
 * times the layers run in turn. The activation, biases and the gate's product are left out, as
 * everyone counts.
 */
export function flopsOf(shape: Shape, layer: LayerKind = "ffn"): number {
  return (
    (layer === "gated" ? 6 : 4) * shape.tokens * shape.dModel * shape.dHidden * layersOf(shape)
  );
}

/**
 * Bytes a weight matrix's element takes in each weight type: float32 4, bf16 and f16 2, and the
 * block types their block over its 32 weights (Q8_0: an f16 scale and 32 bytes; Q4_0: an f16
 * scale and 16 bytes).
 */
export const BYTES_PER_WEIGHT: Readonly<Record<WeightDtype, number>> = {
  f32: 4,
  bf16: 2,
  f16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
};

/**
 * Bytes of the weights and biases of all the layers (the gated layer has no biases): the
 * matrices in `dtype` (float32 unless given), the biases float32, as tokenwise's layers keep
 * them.
 */
export function weightBytesOf(
  shape: Shape,
  layer: LayerKind = "ffn",
  dtype: WeightDtype = "f32",
): number {
  const { dModel: D, dHidden: H } = shape;
  const w = BYTES_PER_WEIGHT[dtype];
  return (layer === "gated" ? w * 3 * D * H : w * 2 * D * H + 4 * (D + H)) * layersOf(shape);
}

const NAMED: readonly Shape[] = [...SHAPES, ...GATED_SHAPES, ...QUICK_SHAPES];

/** Every named shape (S1..S5, D1, G1, G2, Q1..Q3). */
export function namedShapes(): readonly Shape[] {
  return NAMED;
}

/**
 * A shape by name (S1..S5, D1, G1, G2, Q1..Q3) or written as TxDxH, for example "16x256x1024",
 * or TxDxHxN for N layers in turn ("1x768x3072x4").
 */
export function parseShape(text: string): Shape {
  const named = NAMED.find((s) => s.name.toLowerCase() === text.toLowerCase());
  if (named !== undefined) return named;
  const m = /^(\d+)x(\d+)x(\d+)(?:x(\d+))?$/i.exec(text.trim());
  if (m === null) {
    throw new RangeError(
      `shape "${text}" is neither a known name (${NAMED.map((s) => s.name).join(", ")}) nor TxDxH such as 16x256x1024 (or TxDxHxN for N layers)`,
    );
  }
  const [tokens, dModel, dHidden] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const layers = m[4] === undefined ? 1 : Number(m[4]);
  if (tokens < 1 || dModel < 1 || dHidden < 1 || layers < 1) {
    throw new RangeError(`shape "${text}": tokens, dModel, dHidden and layers must be at least 1`);
  }
  const name = `${tokens}x${dModel}x${dHidden}${layers > 1 ? `x${layers}` : ""}`;
  return {
    name,
    tokens,
    dModel,
    dHidden,
    ...(layers > 1 ? { layers } : {}),
    note: "custom",
  };
}

/** A point of a token sweep: "S1@T32" is S1's widths and layers at 32 tokens. */
export function withTokens(shape: Shape, tokens: number): Shape {
  return {
    ...shape,
    name: `${shape.name}@T${tokens}`,
    tokens,
    note: `${shape.name} at ${tokens} tokens`,
    base: shape.name,
  };
}

export function describeShape(shape: Shape): string {
  const n = layersOf(shape);
  return `${shape.name} (T ${shape.tokens}, dModel ${shape.dModel}, dHidden ${shape.dHidden}${n > 1 ? `, ${n} layers in turn` : ""})`;
}

/** "1×768×3072" or "1×768×3072 ×12" for tables. */
export function dimsOf(shape: Shape): string {
  const n = layersOf(shape);
  return `${shape.tokens}×${shape.dModel}×${shape.dHidden}${n > 1 ? ` ×${n}` : ""}`;
}
