import type { ActivationName } from "./activation";
import type { GatedRawWeights, GatedSource } from "./js-gated";
import { packRows, unpackRows } from "./source";
import {
  type Act,
  type GemmExports,
  type Linear,
  allocateMemory,
  forwardHere,
  linearOn,
} from "./wasm-feedforward";
import type { ThreadedLayer } from "./wasm-threaded";
import { type Layout, PANEL, layout } from "./wasm/layout";

/** Packs a gated source's weights into a gated layout (gate as W1, down as W2). */
export function packGatedInto(f32: Float32Array, lay: Layout, source: GatedSource): void {
  const { dModel, dHidden } = lay;
  packRows(dModel, dHidden, PANEL, source.gateRow, f32, lay.w1 / 4);
  if (source.hasBias) source.gateBias(f32.subarray(lay.b1 / 4, lay.b1 / 4 + dHidden));
  packRows(dModel, dHidden, PANEL, source.upRow, f32, lay.wUp / 4);
  if (source.hasBias) source.upBias(f32.subarray(lay.bUp / 4, lay.bUp / 4 + dHidden));
  packRows(dHidden, dModel, PANEL, source.downRow, f32, lay.w2 / 4);
  if (source.hasBias) source.downBias(f32.subarray(lay.b2 / 4, lay.b2 / 4 + dModel));
}

/** A gated layer for the threaded kernel (wasm-threaded.ts): layout, packing, unpacking. */
export function threadedGatedLayer(
  dModel: number,
  dHidden: number,
  source: GatedSource,
): ThreadedLayer<GatedRawWeights> {
  const lay = layout(dModel, dHidden, source.hasBias, true, true);
  return {
    lay,
    pack: (f32) => packGatedInto(f32, lay, source),
    unpack: unpackGated,
    where: "GatedFeedForward",
  };
}

/** A gated layout's weights, unpacked to tokenwise's layout. */
export function unpackGated(f32: Float32Array, lay: Layout): GatedRawWeights {
  const { dModel: d, dHidden: h } = lay;
  const bias = (at: number, n: number) => (at === 0 ? null : f32.slice(at / 4, at / 4 + n));
  return {
    wGate: unpackRows(f32, lay.w1 / 4, d, h, PANEL),
    bGate: bias(lay.b1, h),
    wUp: unpackRows(f32, lay.wUp / 4, d, h, PANEL),
    bUp: bias(lay.bUp, h),
    wDown: unpackRows(f32, lay.w2 / 4, h, d, PANEL),
    bDown: bias(lay.b2, d),
  };
}

/**
 * The WebAssembly kernel of a GatedFeedForward layer: the three linear maps on the SIMD gemm
 * (each element summed in float32, k in order, bias last, as the FeedForward wasm kernel), the
 * gate's activation (the kernel's `act`, the same bits as the JavaScript function) and the
 * product act(g) · u in JavaScript over the float32 rows, as the js kernel applies it. The
 * packed weights are the layer's only full copy.
 */
export class WasmGatedKernel {
  readonly name = "wasm" as const;
  readonly #lay: Layout;
  readonly #f32: Float32Array;
  readonly #linear: Linear;
  readonly #act: Act;
  readonly #activation: ActivationName;

  constructor(
    dModel: number,
    dHidden: number,
    source: GatedSource,
    activation: ActivationName,
    module: WebAssembly.Module,
  ) {
    const lay = layout(dModel, dHidden, source.hasBias, false, true);
    const memory = allocateMemory(lay, false, "GatedFeedForward");
    const f32 = new Float32Array(memory.buffer);
    packGatedInto(f32, lay, source);
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const exports = instance.exports as unknown as GemmExports;
    this.#linear = linearOn(exports.gemm);
    this.#act = exports.act;
    this.#lay = lay;
    this.#f32 = f32;
    this.#activation = activation;
  }

  /** out rows = (act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown + bdown; trusts its arguments. */
  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    forwardHere(
      this.#linear,
      this.#act,
      this.#f32,
      this.#lay,
      this.#activation,
      x,
      xOff,
      rows,
      out,
      outOff,
    );
  }

  /** A fresh copy of the weights, unpacked to tokenwise's layout. */
  unpack(): GatedRawWeights {
    return unpackGated(this.#f32, this.#lay);
  }

  dispose(): void {}
}
