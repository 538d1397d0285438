import type { FeedForwardKernel, RawWeights } from "./kernel";
import { NR, linearJs, packPanels, unpackPanels } from "./js";

// Tokens per block: the hidden activations of one block are computed, then condensed, so the
// scratch is ROW_BLOCK x dHidden whatever the batch, and each weight panel is read once per block.
// The block size changes which rows share a pass over the weights, never one element's sum.
const ROW_BLOCK = 32;

/** The plain JavaScript kernel of a FeedForward layer. */
export class JsFeedForwardKernel implements FeedForwardKernel {
  readonly name = "js" as const;
  readonly #dModel: number;
  readonly #dHidden: number;
  readonly #w1: Float32Array; // packed panels of (dModel, dHidden)
  readonly #w2: Float32Array; // packed panels of (dHidden, dModel)
  readonly #b1: Float32Array | null;
  readonly #b2: Float32Array | null;
  readonly #hidden: Float32Array;

  constructor(dModel: number, dHidden: number, weights: RawWeights) {
    this.#dModel = dModel;
    this.#dHidden = dHidden;
    this.#w1 = packPanels(weights.w1, dModel, dHidden, false);
    this.#w2 = packPanels(weights.w2, dHidden, dModel, false);
    this.#b1 = weights.b1 === null ? null : weights.b1.slice();
    this.#b2 = weights.b2 === null ? null : weights.b2.slice();
    this.#hidden = new Float32Array(ROW_BLOCK * dHidden);
  }

  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    const d = this.#dModel;
    const h = this.#dHidden;
    const p1 = Math.ceil(h / NR);
    const p2 = Math.ceil(d / NR);
    for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const n = Math.min(ROW_BLOCK, rows - r0);
      linearJs(x, xOff + r0 * d, n, d, this.#w1, 0, h, this.#b1, "relu", this.#hidden, 0, 0, p1);
      linearJs(
        this.#hidden,
        0,
        n,
        h,
        this.#w2,
        0,
        d,
        this.#b2,
        "none",
        out,
        outOff + r0 * d,
        0,
        p2,
      );
    }
  }

  unpack(): RawWeights {
    return {
      w1: unpackPanels(this.#w1, this.#dModel, this.#dHidden),
      b1: this.#b1 === null ? null : this.#b1.slice(),
      w2: unpackPanels(this.#w2, this.#dHidden, this.#dModel),
      b2: this.#b2 === null ? null : this.#b2.slice(),
    };
  }

  dispose(): void {}
}
