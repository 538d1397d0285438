// `--sparsity 0,0.5,0.9,0.95`: each shape once per share of hidden units switched off. A trained
// relu layer has most of its hidden units at zero for a token (80 to 95% in OPT-style models);
// drawn weights have about half. So the bench sets b1 from the run's own inputs: a share s of the
// units (chosen by the seed) gets a bias below its smallest pre-activation on every token,
// the rest one above, so exactly s of every token's hidden values are zero and no others. For
// shapes of several layers in turn (D1) each layer's inputs are the previous layer's outputs,
// computed here in float64; the margin (1/sqrt(dModel), the scale of a pre-activation) is far
// above the float32 kernels' rounding, so every contender sees the same zeros.
import { Random } from "../src/random";
import type { ProblemWeights } from "./problem";
import type { Shape } from "./shapes";

/** `--sparsity`'s list, checked: shares in [0, 1]. */
export function parseSparsity(list: readonly (string | number)[]): number[] {
  return [
    ...new Set(
      list.map((v) => {
        const s = Number(v);
        if (!(s >= 0 && s <= 1) || (typeof v === "string" && v.trim() === "")) {
          throw new RangeError(`--sparsity: "${v}" is not a share between 0 and 1`);
        }
        return s;
      }),
    ),
  ];
}

/** A shape at a share of hidden units off: "D1@s90" is D1 with 90% of them at zero. */
export function withSparsity(shape: Shape, share: number): Shape {
  const pct = Math.round(share * 1000) / 10;
  return {
    ...shape,
    name: `${shape.name}@s${pct}`,
    note: `${shape.name} with ${pct}% of hidden units off`,
    sparsity: share,
  };
}

/**
 * Sets each layer's b1 (in place) so that a share `share` of its hidden units is zero for every
 * token of x and every other unit positive, layer after layer.
 */
export function shiftBiases(
  layers: readonly ProblemWeights[],
  x: Float32Array,
  shape: Shape,
  share: number,
  seed: number,
): void {
  const { tokens: T, dModel: d, dHidden: h } = shape;
  const rng = new Random((seed ^ 0x5eed5) >>> 0);
  const margin = 1 / Math.sqrt(d);
  let input = Float64Array.from(x);
  const pre = new Float64Array(T * h);
  for (const w of layers) {
    pre.fill(0);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < d; k++) {
        const a = input[t * d + k] as number;
        const row = k * h;
        const o = t * h;
        for (let j = 0; j < h; j++)
          pre[o + j] = (pre[o + j] as number) + a * (w.w1[row + j] as number);
      }
    }
    const keys = Array.from({ length: h }, (_, j) => ({ j, key: rng.float() }));
    keys.sort((a, b) => a.key - b.key);
    const off = new Uint8Array(h);
    const count = Math.round(share * h);
    for (let i = 0; i < count; i++) off[(keys[i] as { j: number }).j] = 1;
    for (let j = 0; j < h; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < T; t++) {
        lo = Math.min(lo, pre[t * h + j] as number);
        hi = Math.max(hi, pre[t * h + j] as number);
      }
      w.b1[j] = off[j] === 1 ? -hi - margin : -lo + margin;
    }
    const next = new Float64Array(T * d);
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < h; j++) {
        const v = (pre[t * h + j] as number) + (w.b1[j] as number);
        if (!(v > 0)) continue;
        for (let c = 0; c < d; c++)
          next[t * d + c] = (next[t * d + c] as number) + v * (w.w2[j * d + c] as number);
      }
      for (let c = 0; c < d; c++)
        next[t * d + c] = (next[t * d + c] as number) + (w.b2[c] as number);
    }
    input = next;
  }
}
