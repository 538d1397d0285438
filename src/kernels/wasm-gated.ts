import type { GatedRawWeights, GatedSource } from "./js-gated";
import { packRows, unpackRows } from "./source";
import type { WasmLayer } from "./wasm-feedforward";
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

/**
 * A gated layer for the wasm kernels: the layout (gate as W1, down as W2, and the up
 * projection), packing, unpacking. On those kernels the gate's activation is the kernel's
 * `act` (the same bits as the JavaScript function) and the product act(g) · u runs in
 * JavaScript over the float32 rows, as the js kernel computes it.
 */
export function gatedLayer(
  dModel: number,
  dHidden: number,
  source: GatedSource,
  threaded: boolean,
): WasmLayer<GatedRawWeights> {
  const lay = layout(dModel, dHidden, source.hasBias, threaded, true);
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
