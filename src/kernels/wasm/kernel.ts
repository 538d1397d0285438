// The WebAssembly SIMD kernel on the calling thread, for every layer shape.
import { ACTIVATION_WASM, ERF_C } from "../activation";
import {
  type HiddenCount,
  type Kernel,
  type LayerShape,
  type StoredTensors,
  mapDims,
  skipsZeros,
} from "../kernel";
import { quantizeRowBlocks } from "../quant";
import { type WeightSource, packMap, unpackRows } from "../source";
import { QUANT_BLOCK, floatBitsToHalf, halfToFloatBits, isQuant } from "../../dtype";
import {
  hasNonFiniteScale,
  packQuantBlockRow,
  packQuantPanels,
  unpackQuantPanels,
} from "./quant-panels";
import { type RelaxedExports, relaxedModule, relaxedQuantAt } from "./relaxed";
import {
  BLOCK_ROWS,
  F16S_SHIFT,
  type Layout,
  type MapRegion,
  PANEL,
  SLOTS16,
  WEIGHT_CODE,
  groupPanels,
  layout,
  mapElements,
  rowBytes,
} from "./layout";
import {
  type Act,
  type GemmExports,
  type Linear,
  condensePanels,
  copyPairsIn,
  copyRows,
  countZeros,
  expandPanels,
  linearOn,
} from "./panels";

/**
 * A shape's layout in the kernel's memory (with the pool's scratch for `threads` when threaded).
 * A relu layer has lists for skipping zero hidden units.
 */
export function layoutOf(shape: LayerShape, threaded: boolean, threads = 1): Layout {
  const { dModel, dHidden, expand, hasBias, dtype } = shape;
  const sparse = skipsZeros(shape);
  return layout(dModel, dHidden, expand, hasBias, threaded, dtype, threads, sparse);
}

/**
 * Whether `count` float32 values from f32[at] are all finite: a weight row may be left out for
 * a zero input only then, since (±0) · ±Infinity and (±0) · NaN are NaN.
 */
function allFinite(f32: Float32Array, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) if (!Number.isFinite(f32[i] as number)) return false;
  return true;
}

/** allFinite for `count` 16-bit values from u16[at] whose exponent field is `mask`. */
function allFinite16(u16: Uint16Array, at: number, count: number, mask: number): boolean {
  for (let i = at; i < at + count; i++) if (((u16[i] as number) & mask) === mask) return false;
  return true;
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
  /**
   * relaxed.wat's module when the quantized maps were packed for it (relaxed SIMD here: the
   * workers instantiate it too); null or absent otherwise.
   */
  relaxed?: WebAssembly.Module | null;
}

/**
 * A new memory for a layout, the source's weights packed into it map by map (16-bit ones in
 * the order of SLOTS16), and the kernel instantiated on it. An f16 map whose weights are all
 * finite and below 64 in magnitude is kept scaled by 2^10 and marked WEIGHT_CODE.f16s.
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
  const relaxed = isQuant(shape.dtype) ? relaxedModule(shared, shape.dtype) : null;
  packMaps(shape, lay.maps, source, f32, lay.lists.length > 0, relaxed !== null);
  const exports = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as GemmExports;
  const rx =
    relaxed === null
      ? undefined
      : (new WebAssembly.Instance(relaxed, { env: { memory } })
          .exports as unknown as RelaxedExports);
  const kind = ACTIVATION_WASM[shape.activation];
  const scratch = lay.widen[0] ?? 0;
  const lists = lay.lists[0] ?? 0;
  const linear = linearOn(exports, scratch, undefined, undefined, lists, rx);
  return { memory, f32, lay, linear, act: exports.act, kind, relaxed };
}

/**
 * A source's weights packed into `maps` of a memory (16-bit ones in the order of SLOTS16, a
 * quantized layer's as ggml blocks in panels), map by map with its bias. An f16 map whose
 * weights are all finite and below 64 in magnitude is kept scaled by 2^10 and its code set to
 * WEIGHT_CODE.f16s. With `sparse` (a layout with list regions), the last map of float32 or
 * 16-bit weights is marked `skip` when every weight in it is finite. A map marked `byRow` is
 * packed row by row (one panel as wide as all of them). With `relaxed`, every quantized map is
 * packed for relaxed.wat's rgemm and marked so.
 */
export function packMaps(
  shape: LayerShape,
  maps: readonly MapRegion[],
  source: WeightSource,
  f32: Float32Array,
  sparse: boolean,
  relaxed = false,
): void {
  const u16 = new Uint16Array(f32.buffer);
  const u8 = new Uint8Array(f32.buffer);
  maps.forEach((m, i) => {
    const { rows: K, cols: N } = mapDims(shape, i);
    if (isQuant(shape.dtype)) {
      const dtype = shape.dtype;
      const place = relaxed ? relaxedQuantAt : undefined;
      m.relaxed = relaxed;
      const given = source.blocks;
      if (given !== undefined && given.dtype === dtype) {
        const blocks = given.map(i);
        packQuantPanels(blocks, dtype, K, N, u8, m.w, place);
        m.nonFiniteScales = hasNonFiniteScale(blocks, dtype);
      } else {
        // Quantized and packed a block row at a time: no copy of the whole map's blocks, whose
        // memory the process would keep (glibc holds freed memory it cannot return).
        const nb = K / QUANT_BLOCK;
        let nonFinite = false;
        quantizeRowBlocks(source, shape, i, (b, blocks) => {
          packQuantBlockRow(blocks, dtype, b, nb, N, u8, m.w, place);
          nonFinite ||= hasNonFiniteScale(blocks, dtype);
        });
        m.nonFiniteScales = nonFinite;
      }
    } else if (m.elem === 4) {
      // A map laid out by row (float32 only) is a panel as wide as a group of them for each
      // group, its rows rowBytes apart.
      if (m.byRow)
        packMap(source, shape, i, groupPanels(m) * PANEL, f32, m.w / 4, null, rowBytes(m) / 4);
      else packMap(source, shape, i, PANEL, f32, m.w / 4);
    } else packMap(source, shape, i, PANEL, u16, m.w / 2, SLOTS16);
    const count = mapElements(m);
    if (m.code === WEIGHT_CODE.f16 && fitsF16s(u16, m.w / 2, count)) {
      scaleHalves(u16, m.w / 2, count, F16S_SHIFT);
      m.code = WEIGHT_CODE.f16s;
    }
    const n = i < shape.expand ? shape.dHidden : shape.dModel;
    if (m.b !== 0) source.bias(i, f32.subarray(m.b / 4, m.b / 4 + n));
    // Checked once, here: a layer whose last map holds an infinity or a NaN stays dense (as
    // does a map of any weight code other than these four, which the sparse tiles do not read).
    const finite = () =>
      m.elem === 4
        ? allFinite(f32, m.w / 4, count)
        : allFinite16(u16, m.w / 2, count, m.code === WEIGHT_CODE.bf16 ? 0x7f80 : 0x7c00);
    // Only float codes (f32, bf16, f16, scaled f16) have a sparse path; a quantized map never.
    const float = m.code <= WEIGHT_CODE.f16s && !isQuant(shape.dtype);
    m.skip = sparse && i === shape.expand && float && finite();
  });
}

/**
 * Whether `count` binary16 values from u16[at] are all finite and below 64 in magnitude (bits
 * 0x53ff, 63.97, at most), so that each times 2^10 is a finite f16 (at most 65504), exactly,
 * and a normal one unless it is zero.
 */
function fitsF16s(u16: Uint16Array, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) if (((u16[i] as number) & 0x7fff) > 0x53ff) return false;
  return true;
}

/**
 * Multiplies `count` binary16 values from u16[at] by 2^shift in place (shift may be negative),
 * exactly: a normal value whose result is normal by adding to its exponent field, any other
 * nonzero one through float32 (where it is a normal number, so adding to the exponent is the
 * multiplication) and back. The caller knows every result is an f16 value.
 */
function scaleHalves(u16: Uint16Array, at: number, count: number, shift: number): void {
  for (let i = at; i < at + count; i++) {
    const h = u16[i] as number;
    const e = (h >> 10) & 0x1f;
    if (e !== 0 && e + shift >= 1 && e + shift <= 30) u16[i] = h + (shift << 10);
    else if ((h & 0x7fff) !== 0) u16[i] = floatBitsToHalf(halfToFloatBits(h) + (shift << 23));
  }
}

/**
 * Each map's weights as given to the layer (float32, or 16-bit bits: an f16s map's scaled back),
 * unpacked from a layout's panels.
 */
export function unpackLayout(f32: Float32Array, lay: Layout): StoredTensors[] {
  const u16 = new Uint16Array(f32.buffer);
  const u8 = new Uint8Array(f32.buffer);
  return lay.maps.map((m, i) => {
    const n = i < lay.expand ? lay.dHidden : lay.dModel;
    let w: Float32Array | Uint16Array | Uint8Array;
    const q = m.code === WEIGHT_CODE.q8_0 ? "q8_0" : m.code === WEIGHT_CODE.q4_0 ? "q4_0" : null;
    if (q !== null)
      w = unpackQuantPanels(u8, m.w, q, m.K, n, m.relaxed === true ? relaxedQuantAt : undefined);
    else if (m.elem === 4)
      w = m.byRow
        ? unpackRows(f32, m.w / 4, m.K, n, groupPanels(m) * PANEL, null, rowBytes(m) / 4)
        : unpackRows(f32, m.w / 4, m.K, n, PANEL);
    else {
      w = unpackRows(u16, m.w / 2, m.K, n, PANEL, SLOTS16);
      if (m.code === WEIGHT_CODE.f16s) scaleHalves(w, 0, w.length, -F16S_SHIFT);
    }
    return { w, b: m.b === 0 ? null : f32.slice(m.b / 4, m.b / 4 + n) };
  });
}

/**
 * The whole layer on the calling thread, block by block, in the layout's own scratch (x,
 * hidden, out): the one-thread path of every wasm kernel. With `count`, adds the zero hidden
 * values to it.
 */
export function forwardHere(
  inst: Instance,
  x: Float32Array,
  xOff: number,
  rows: number,
  out: Float32Array,
  outOff: number,
  count?: HiddenCount,
): void {
  const { linear, act, f32, lay, kind } = inst;
  const d = lay.dModel;
  const hidden = lay.hidden[0] as number;
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r0);
    copyPairsIn(x, xOff + r0 * d, d, f32, lay.x / 4, n);
    // Padding columns of the hidden rows hold act(0) (· 0) = 0, and meet zero weight rows.
    expandPanels(linear, act, f32, lay, lay.x, lay.hidden, n, 0, lay.p1, kind);
    if (count !== undefined) count.zeros += countZeros(f32, hidden / 4, lay.hPad, lay.dHidden, n);
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

  forward(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void {
    forwardHere(this.#inst, x, xOff, rows, out, outOff, count);
  }

  forwardAsync(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ) {
    this.forward(x, xOff, rows, out, outOff, count);
    return Promise.resolve();
  }

  unpack(): StoredTensors[] {
    return unpackLayout(this.#inst.f32, this.#inst.lay);
  }

  dispose(): void {}
}
