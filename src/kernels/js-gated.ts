// The plain JavaScript kernel of a gated feedforward layer (SwiGLU, GeGLU):
//
//   out = (act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown + bdown
//
// x is (rows, dModel), Wgate and Wup are packed from (dModel, dHidden), Wdown from
// (dHidden, dModel), out is (rows, dModel). Each linear map is linearJs, whose elements are
// float64 sums over k in increasing order, plus the bias, rounded once to float32; the gate's
// activation is applied to that float32 value as the standalone op applies it; the product
// act(g) · u is one float32 multiplication (exact in float64, then rounded once). Nothing
// depends on which rows share a block, so a token's row is the same bits in any batch.
import type { ActivationName } from "./activation";
import { NR, linearJs, packedLength } from "./js";
import { Random } from "../random";
import { packRows, unpackRows } from "./source";

/** Tokens per block: the gate and up buffers are ROW_BLOCK x dHidden whatever the batch. */
const ROW_BLOCK = 32;

/** A gated layer's parameters in tokenwise's layout; biases all present or all null. */
export interface GatedRawWeights {
  wGate: Float32Array; // (dModel, dHidden)
  bGate: Float32Array | null;
  wUp: Float32Array; // (dModel, dHidden)
  bUp: Float32Array | null;
  wDown: Float32Array; // (dHidden, dModel)
  bDown: Float32Array | null;
}

/**
 * Where a gated kernel's weights come from, read in this order only: wGate rows, bGate, wUp
 * rows, bUp, wDown rows, bDown (biases only when hasBias), so a seeded source can draw them as
 * they are packed.
 */
export interface GatedSource {
  readonly hasBias: boolean;
  gateRow(k: number, dst: Float32Array): void;
  gateBias(dst: Float32Array): void;
  upRow(k: number, dst: Float32Array): void;
  upBias(dst: Float32Array): void;
  downRow(k: number, dst: Float32Array): void;
  downBias(dst: Float32Array): void;
}

/** Rows copied out of existing arrays. */
export function rawGatedSource(raw: GatedRawWeights, dModel: number, dHidden: number): GatedSource {
  const rows = (w: Float32Array, n: number) => (k: number, dst: Float32Array) =>
    dst.set(w.subarray(k * n, (k + 1) * n));
  return {
    hasBias: raw.bGate !== null,
    gateRow: rows(raw.wGate, dHidden),
    gateBias: (dst) => dst.set(raw.bGate as Float32Array),
    upRow: rows(raw.wUp, dHidden),
    upBias: (dst) => dst.set(raw.bUp as Float32Array),
    downRow: rows(raw.wDown, dModel),
    downBias: (dst) => dst.set(raw.bDown as Float32Array),
  };
}

/**
 * PyTorch's nn.Linear default initialisation from Random(seed), in the source order: wGate,
 * bGate, wUp, bUp uniform in ±1/sqrt(dModel); wDown, bDown uniform in ±1/sqrt(dHidden).
 */
export function seededGatedSource(
  seed: number,
  dModel: number,
  dHidden: number,
  hasBias: boolean,
): GatedSource {
  const rng = new Random(seed);
  const inBound = 1 / Math.sqrt(dModel);
  const hiddenBound = 1 / Math.sqrt(dHidden);
  return {
    hasBias,
    gateRow: (_k, dst) => void rng.fillUniform(dst, inBound),
    gateBias: (dst) => void rng.fillUniform(dst, inBound),
    upRow: (_k, dst) => void rng.fillUniform(dst, inBound),
    upBias: (dst) => void rng.fillUniform(dst, inBound),
    downRow: (_k, dst) => void rng.fillUniform(dst, hiddenBound),
    downBias: (dst) => void rng.fillUniform(dst, hiddenBound),
  };
}

/** The plain JavaScript kernel of a GatedFeedForward layer. */
export class JsGatedKernel {
  readonly name = "js" as const;
  readonly #dModel: number;
  readonly #dHidden: number;
  readonly #activation: ActivationName;
  readonly #wGate: Float32Array;
  readonly #wUp: Float32Array;
  readonly #wDown: Float32Array;
  readonly #bGate: Float32Array | null;
  readonly #bUp: Float32Array | null;
  readonly #bDown: Float32Array | null;
  readonly #gate: Float32Array;
  readonly #up: Float32Array;

  constructor(dModel: number, dHidden: number, source: GatedSource, activation: ActivationName) {
    this.#dModel = dModel;
    this.#dHidden = dHidden;
    this.#activation = activation;
    const bias = (n: number, fill: (dst: Float32Array) => void) => {
      if (!source.hasBias) return null;
      const b = new Float32Array(n);
      fill(b);
      return b;
    };
    this.#wGate = new Float32Array(packedLength(dModel, dHidden));
    packRows(dModel, dHidden, NR, source.gateRow, this.#wGate, 0);
    this.#bGate = bias(dHidden, source.gateBias);
    this.#wUp = new Float32Array(packedLength(dModel, dHidden));
    packRows(dModel, dHidden, NR, source.upRow, this.#wUp, 0);
    this.#bUp = bias(dHidden, source.upBias);
    this.#wDown = new Float32Array(packedLength(dHidden, dModel));
    packRows(dHidden, dModel, NR, source.downRow, this.#wDown, 0);
    this.#bDown = bias(dModel, source.downBias);
    this.#gate = new Float32Array(ROW_BLOCK * dHidden);
    this.#up = new Float32Array(ROW_BLOCK * dHidden);
  }

  /**
   * out rows = (act(x rows · Wgate + bgate) ⊙ (x rows · Wup + bup)) · Wdown + bdown.
   * Trusts its arguments: sizes fit and out does not overlap x.
   */
  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    const d = this.#dModel;
    const h = this.#dHidden;
    const ph = Math.ceil(h / NR);
    const pd = Math.ceil(d / NR);
    const gate = this.#gate;
    const up = this.#up;
    for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const n = Math.min(ROW_BLOCK, rows - r0);
      const xo = xOff + r0 * d;
      linearJs(x, xo, n, d, this.#wGate, 0, h, this.#bGate, this.#activation, gate, 0, 0, ph);
      linearJs(x, xo, n, d, this.#wUp, 0, h, this.#bUp, "none", up, 0, 0, ph);
      for (let i = 0; i < n * h; i++) gate[i] = (gate[i] as number) * (up[i] as number);
      linearJs(gate, 0, n, h, this.#wDown, 0, d, this.#bDown, "none", out, outOff + r0 * d, 0, pd);
    }
  }

  /** A fresh copy of the weights, unpacked to tokenwise's layout. */
  unpack(): GatedRawWeights {
    const d = this.#dModel;
    const h = this.#dHidden;
    const copy = (b: Float32Array | null) => (b === null ? null : b.slice());
    return {
      wGate: unpackRows(this.#wGate, 0, d, h, NR),
      bGate: copy(this.#bGate),
      wUp: unpackRows(this.#wUp, 0, d, h, NR),
      bUp: copy(this.#bUp),
      wDown: unpackRows(this.#wDown, 0, h, d, NR),
      bDown: copy(this.#bDown),
    };
  }

  dispose(): void {}
}
