import type { ActivationName } from "./activation";
import type { FeedForwardKernel, RawWeights } from "./kernel";
import { NR, linearJs, packedLength } from "./js";
import { type WeightSource, packRows, unpackRows } from "./source";

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
  readonly #activation: ActivationName;

  constructor(
    dModel: number,
    dHidden: number,
    source: WeightSource,
    activation: ActivationName = "relu",
  ) {
    this.#activation = activation;
    this.#dModel = dModel;
    this.#dHidden = dHidden;
    this.#w1 = new Float32Array(packedLength(dModel, dHidden));
    packRows(dModel, dHidden, NR, source.w1Row, this.#w1, 0);
    this.#b1 = source.hasBias ? new Float32Array(dHidden) : null;
    if (this.#b1 !== null) source.b1(this.#b1);
    this.#w2 = new Float32Array(packedLength(dHidden, dModel));
    packRows(dHidden, dModel, NR, source.w2Row, this.#w2, 0);
    this.#b2 = source.hasBias ? new Float32Array(dModel) : null;
    if (this.#b2 !== null) source.b2(this.#b2);
    this.#hidden = new Float32Array(ROW_BLOCK * dHidden);
  }

  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    const d = this.#dModel;
    const h = this.#dHidden;
    const p1 = Math.ceil(h / NR);
    const p2 = Math.ceil(d / NR);
    for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const n = Math.min(ROW_BLOCK, rows - r0);
      const act = this.#activation;
      linearJs(x, xOff + r0 * d, n, d, this.#w1, 0, h, this.#b1, act, this.#hidden, 0, 0, p1);
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
      w1: unpackRows(this.#w1, 0, this.#dModel, this.#dHidden, NR),
      b1: this.#b1 === null ? null : this.#b1.slice(),
      w2: unpackRows(this.#w2, 0, this.#dHidden, this.#dModel, NR),
      b2: this.#b2 === null ? null : this.#b2.slice(),
    };
  }

  dispose(): void {}
}
