import type { ActivationName } from "./activation";
import type { GatedRawWeights, GatedSource } from "./js-gated";
import { packRows, unpackRows } from "./source";
import {
  type GemmExports,
  activatePanels,
  allocateMemory,
  copyPairsIn,
  copyRows,
  linearWasm,
} from "./wasm-feedforward";
import { BLOCK_ROWS, PANEL, panels, regions } from "./wasm/layout";

/** Byte offsets of a gated layer in the kernel's memory (64-aligned; 0 means no bias). */
interface GatedLayout {
  dModel: number;
  dHidden: number;
  p1: number;
  p2: number;
  hPad: number;
  dPad: number;
  wGate: number;
  bGate: number;
  wUp: number;
  bUp: number;
  wDown: number;
  bDown: number;
  x: number;
  gate: number;
  up: number;
  out: number;
  bytes: number;
  pages: number;
}

function gatedLayout(dModel: number, dHidden: number, hasBias: boolean): GatedLayout {
  const { p1, p2, hPad, dPad } = panels(dModel, dHidden);
  const { take, end } = regions();
  const wGate = take(p1 * dModel * PANEL * 4);
  const bGate = hasBias ? take(hPad * 4) : 0;
  const wUp = take(p1 * dModel * PANEL * 4);
  const bUp = hasBias ? take(hPad * 4) : 0;
  const wDown = take(p2 * dHidden * PANEL * 4);
  const bDown = hasBias ? take(dPad * 4) : 0;
  const x = take(BLOCK_ROWS * dModel * 4);
  const gate = take(BLOCK_ROWS * hPad * 4);
  const up = take(BLOCK_ROWS * hPad * 4);
  const out = take(BLOCK_ROWS * dPad * 4);
  return {
    dModel,
    dHidden,
    p1,
    p2,
    hPad,
    dPad,
    wGate,
    bGate,
    wUp,
    bUp,
    wDown,
    bDown,
    x,
    gate,
    up,
    out,
    ...end(),
  };
}

/**
 * The WebAssembly kernel of a GatedFeedForward layer: the three linear maps on the SIMD gemm
 * (each element summed in float32, k in order, bias last, as the FeedForward wasm kernel), the
 * gate's activation and the product act(g) · u in JavaScript over the float32 rows, exactly
 * as the js kernel applies them. The packed weights are the layer's only full copy.
 */
export class WasmGatedKernel {
  readonly name = "wasm" as const;
  readonly #lay: GatedLayout;
  readonly #f32: Float32Array;
  readonly #gemm: GemmExports["gemm"];
  readonly #activation: ActivationName;

  constructor(
    dModel: number,
    dHidden: number,
    source: GatedSource,
    activation: ActivationName,
    module: WebAssembly.Module,
  ) {
    const lay = gatedLayout(dModel, dHidden, source.hasBias);
    const memory = allocateMemory(lay, false, "GatedFeedForward");
    const f32 = new Float32Array(memory.buffer);
    packRows(dModel, dHidden, PANEL, source.gateRow, f32, lay.wGate / 4);
    if (source.hasBias) source.gateBias(f32.subarray(lay.bGate / 4, lay.bGate / 4 + dHidden));
    packRows(dModel, dHidden, PANEL, source.upRow, f32, lay.wUp / 4);
    if (source.hasBias) source.upBias(f32.subarray(lay.bUp / 4, lay.bUp / 4 + dHidden));
    packRows(dHidden, dModel, PANEL, source.downRow, f32, lay.wDown / 4);
    if (source.hasBias) source.downBias(f32.subarray(lay.bDown / 4, lay.bDown / 4 + dModel));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.#gemm = (instance.exports as unknown as GemmExports).gemm;
    this.#lay = lay;
    this.#f32 = f32;
    this.#activation = activation;
  }

  /** out rows = (act(x · Wgate + bgate) ⊙ (x · Wup + bup)) · Wdown + bdown; trusts its arguments. */
  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    const lay = this.#lay;
    const { dModel: d, dHidden: h, hPad, dPad } = lay;
    const f32 = this.#f32;
    const gemm = this.#gemm;
    const relu = this.#activation === "relu";
    for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - r0);
      copyPairsIn(x, xOff + r0 * d, d, f32, lay.x / 4, n);
      // gate and up come out in the same row pairs, so they pair up element for element;
      // padding columns hold act(0) · 0 = 0 and are never read.
      const { wGate, bGate, wUp, bUp, wDown, bDown, gate, up } = lay;
      linearWasm(gemm, lay.x, d * 4, n, d, wGate, 0, lay.p1, bGate, relu, gate, hPad * 4, true);
      if (!relu) activatePanels(f32, gate / 4, hPad, n, 0, lay.p1, this.#activation);
      linearWasm(gemm, lay.x, d * 4, n, d, wUp, 0, lay.p1, bUp, false, up, hPad * 4, true);
      // act(g) · u: one float32 multiplication per element, as the js kernel does it.
      for (let i = 0; i < n * hPad; i++) {
        f32[gate / 4 + i] = (f32[gate / 4 + i] as number) * (f32[up / 4 + i] as number);
      }
      linearWasm(
        gemm,
        gate,
        hPad * 4,
        n,
        h,
        wDown,
        0,
        lay.p2,
        bDown,
        false,
        lay.out,
        dPad * 4,
        false,
      );
      copyRows(f32, lay.out / 4, dPad, out, outOff + r0 * d, d, n);
    }
  }

  /** A fresh copy of the weights, unpacked to tokenwise's layout. */
  unpack(): GatedRawWeights {
    const lay = this.#lay;
    const f32 = this.#f32;
    const { dModel: d, dHidden: h } = lay;
    const bias = (at: number, n: number) => (at === 0 ? null : f32.slice(at / 4, at / 4 + n));
    return {
      wGate: unpackRows(f32, lay.wGate / 4, d, h, PANEL),
      bGate: bias(lay.bGate, h),
      wUp: unpackRows(f32, lay.wUp / 4, d, h, PANEL),
      bUp: bias(lay.bUp, h),
      wDown: unpackRows(f32, lay.wDown / 4, h, d, PANEL),
      bDown: bias(lay.bDown, d),
    };
  }

  dispose(): void {}
}
