// The shapes the bench runs: tokens T, dModel, dHidden of one FeedForward forward pass.

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

// `--quick`: tiny and awkward sizes (odd, prime), so tails of blocked loops are exercised.
export const QUICK_SHAPES: readonly Shape[] = [
  { name: "Q1", tokens: 1, dModel: 8, dHidden: 32, note: "quick: one token" },
  { name: "Q2", tokens: 5, dModel: 24, dHidden: 37, note: "quick: awkward sizes" },
];

/** Floating-point operations of one forward pass: two GEMMs of 2·T·dModel·dHidden each. */
export function flopsOf(shape: Shape): number {
  return 4 * shape.tokens * shape.dModel * shape.dHidden;
}

/** Bytes of float32 weights and biases of the layer. */
export function weightBytesOf(shape: Shape): number {
  return 4 * (2 * shape.dModel * shape.dHidden + shape.dModel + shape.dHidden);
}

/** A shape by name (S1..S5, Q1, Q2) or written as TxDxH, for example "16x256x1024". */
export function parseShape(text: string): Shape {
  const named = [...SHAPES, ...QUICK_SHAPES].find(
    (s) => s.name.toLowerCase() === text.toLowerCase(),
  );
  if (named !== undefined) return named;
  const m = /^(\d+)x(\d+)x(\d+)$/i.exec(text.trim());
  if (m === null) {
    throw new RangeError(
      `shape "${text}" is neither a known name (${[...SHAPES, ...QUICK_SHAPES].map((s) => s.name).join(", ")}) nor TxDxH such as 16x256x1024`,
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
