// The WebAssembly SIMD kernel on the calling thread, for every layer shape.
import { ACTIVATION_WASM, ERF_C } from "../activation";
import type { Kernel, LayerShape, MapTensors } from "../kernel";
import { type WeightSource, packMap, unpackRows } from "../source";
import { BLOCK_ROWS, type Layout, PANEL, layout } from "./layout";
import {
  type Act,
  type GemmExports,
  type Linear,
  condensePanels,
  copyPairsIn,
  copyRows,
  expandPanels,
  linearOn,
} from "./panels";

/** A shape's layout in the kernel's memory (with the pool's scratch when threaded). */
export function layoutOf(shape: LayerShape, threaded: boolean): Layout {
  return layout(shape.dModel, shape.dHidden, shape.expand, shape.hasBias, threaded);
}

/** Memory for a layout (whose size was checked), with the activations' table in place. */
export function allocateMemory(lay: Layout, shared: boolean): WebAssembly.Memory {
  const memory = new WebAssembly.Memory({ initial: lay.pages, maximum: lay.pages, shared });
  new Float64Array(memory.buffer, lay.erf, ERF_C.length).set(ERF_C);
  return memory;
}

/** A kernel instance on its memory: what every wasm forward path computes with. */
export interface Instance {
  memory: WebAssembly.Memory;
  f32: Float32Array;
  lay: Layout;
  linear: Linear;
  act: Act;
  /** The layer's activation's code in the module (ACTIVATION_WASM). */
  kind: number;
}

/**
 * A new memory for a layout, the source's weights packed into it map by map, and the kernel
 * instantiated on it.
 */
export function instantiate(
  shape: LayerShape,
  lay: Layout,
  source: WeightSource,
  module: WebAssembly.Module,
  shared: boolean,
): Instance {
  const memory = allocateMemory(lay, shared);
  const f32 = new Float32Array(memory.buffer);
  lay.maps.forEach((m, i) => {
    packMap(source, shape, i, PANEL, f32, m.w / 4);
    const n = i < shape.expand ? shape.dHidden : shape.dModel;
    if (m.b !== 0) source.bias(i, f32.subarray(m.b / 4, m.b / 4 + n));
  });
  const exports = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as GemmExports;
  const kind = ACTIVATION_WASM[shape.activation];
  return { memory, f32, lay, linear: linearOn(exports.gemm), act: exports.act, kind };
}

/** Each map's weights in tokenwise's layout, unpacked from a layout's panels. */
export function unpackLayout(f32: Float32Array, lay: Layout): MapTensors[] {
  return lay.maps.map((m, i) => {
    const n = i < lay.expand ? lay.dHidden : lay.dModel;
    return {
      w: unpackRows(f32, m.w / 4, m.K, n, PANEL),
      b: m.b === 0 ? null : f32.slice(m.b / 4, m.b / 4 + n),
    };
  });
}

/**
 * The whole layer on the calling thread, block by block, in the layout's own scratch (x,
 * hidden, out): the one-thread path of every wasm kernel.
 */
export function forwardHere(
  inst: Instance,
  x: Float32Array,
  xOff: number,
  rows: number,
  out: Float32Array,
  outOff: number,
): void {
  const { linear, act, f32, lay, kind } = inst;
  const d = lay.dModel;
  const hidden = lay.hidden[0] as number;
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r0);
    copyPairsIn(x, xOff + r0 * d, d, f32, lay.x / 4, n);
    // Padding columns of the hidden rows hold act(0) (· 0) = 0, and meet zero weight rows.
    expandPanels(linear, act, f32, lay, lay.x, lay.hidden, n, 0, lay.p1, kind);
    condensePanels(linear, lay, hidden, lay.out, n, 0, lay.p2);
    copyRows(f32, lay.out / 4, lay.dPad, out, outOff + r0 * d, d, n);
  }
}

/**
 * The WebAssembly SIMD kernel on the calling thread. The packed weights in its memory are the
 * only full copy of the weights the layer keeps; `unpack` rebuilds tokenwise's layout on
 * demand.
 */
export class WasmKernel implements Kernel {
  readonly name = "wasm" as const;
  readonly threadsInUse = 1;
  readonly unavailable = null;
  readonly #inst: Instance;

  constructor(shape: LayerShape, source: WeightSource, module: WebAssembly.Module) {
    this.#inst = instantiate(shape, layoutOf(shape, false), source, module, false);
  }

  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    forwardHere(this.#inst, x, xOff, rows, out, outOff);
  }

  forwardAsync(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number) {
    this.forward(x, xOff, rows, out, outOff);
    return Promise.resolve();
  }

  unpack(): MapTensors[] {
    return unpackLayout(this.#inst.f32, this.#inst.lay);
  }

  dispose(): void {}
}
