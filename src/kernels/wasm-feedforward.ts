import { type ActivationName, ERF_C } from "./activation";
import type { RawWeights } from "./kernel";
import { type WeightSource, packRows, unpackRows } from "./source";
import { BLOCK_ROWS, type Layout, MAX_PAGES, PANEL, layout } from "./wasm/layout";

export interface GemmExports {
  gemm(
    x: number,
    lda: number,
    rows: number,
    K: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    relu: number,
    pair: number,
    out: number,
    ldo: number,
  ): void;
  /** The `count` float32 values from byte `at` through activation `kind` (ACT_KIND), in place. */
  act(at: number, count: number, kind: number, erf: number): void;
}

/** The activation codes of the kernel's `act`; relu is fused into the gemm instead. */
const ACT_KIND: Readonly<Record<ActivationName, number>> = {
  relu: 0,
  gelu: 1,
  geluTanh: 2,
  silu: 3,
};

/** The kernel's activation export. */
export type Act = GemmExports["act"];

/**
 * out = act(x · w + bias) for panels p0 .. p1-1. Addresses in bytes: x holds rows of lda bytes
 * in pairs (see {@link copyPairsIn}), w is a packed (K, 16·panels) matrix, out has rows of ldo
 * bytes, written in the same pairs when `pair` (to be the next map's x) or plain.
 */
export type Linear = (
  x: number,
  lda: number,
  rows: number,
  K: number,
  w: number,
  p0: number,
  p1: number,
  bias: number,
  relu: boolean,
  out: number,
  ldo: number,
  pair: boolean,
) => void;

/** A {@link Linear} on an instance's gemm. */
export function linearOn(gemm: GemmExports["gemm"]): Linear {
  return (x, lda, rows, K, w, p0, p1, bias, relu, out, ldo, pair) =>
    gemm(x, lda, rows, K, w, K * 64, p0, p1, bias, relu ? 1 : 0, pair ? 1 : 0, out, ldo);
}

/**
 * The first half of a layer for n rows of x (bytes, in pairs), hidden columns in panels
 * [p0, p1) only: hidden = act(x · W1 + b1), and for a gated layer (lay.wUp set) then
 * hidden = hidden ⊙ (x · Wup + bUp), with `up` as scratch. relu is fused into the gemm; any
 * other activation runs over the float32 values the gemm wrote (the kernel's `act`, the same
 * bits as the standalone op), and the product in JavaScript. The caller's whole width on one
 * thread, or a thread's own columns: every element gets the same operations either way.
 */
export function expandPanels(
  linear: Linear,
  act: Act,
  f32: Float32Array,
  lay: Layout,
  x: number,
  hidden: number,
  up: number,
  n: number,
  p0: number,
  p1: number,
  activation: ActivationName,
): void {
  const { dModel: d, hPad } = lay;
  const relu = activation === "relu";
  linear(x, d * 4, n, d, lay.w1, p0, p1, lay.b1, relu, hidden, hPad * 4, true);
  if (!relu) activatePanels(act, lay, hidden, n, p0, p1, activation);
  if (lay.wUp === 0) return;
  linear(x, d * 4, n, d, lay.wUp, p0, p1, lay.bUp, false, up, hPad * 4, true);
  multiplyPanels(f32, hidden / 4, up / 4, hPad, n, p0, p1);
}

/** The second half: out = hidden · W2 + b2, output columns in panels [p0, p1), plain rows. */
export function condensePanels(
  linear: Linear,
  lay: Layout,
  hidden: number,
  out: number,
  n: number,
  p0: number,
  p1: number,
): void {
  const { dHidden: h, hPad, dPad } = lay;
  linear(hidden, hPad * 4, n, h, lay.w2, p0, p1, lay.b2, false, out, dPad * 4, false);
}

/**
 * Copies n rows of width d into the kernel's input layout: rows 2i and 2i+1 interleaved
 * element by element from dst[dstOff + 2i·d] (so the 2-row tile reads both with one pointer),
 * an odd last row plain after them.
 */
export function copyPairsIn(
  src: Float32Array,
  srcOff: number,
  d: number,
  dst: Float32Array,
  dstOff: number,
  n: number,
): void {
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const a = srcOff + r * d;
    const b = a + d;
    const o = dstOff + r * d;
    for (let k = 0; k < d; k++) {
      dst[o + 2 * k] = src[a + k] as number;
      dst[o + 2 * k + 1] = src[b + k] as number;
    }
  }
  if (r < n) {
    const a = srcOff + r * d;
    const o = dstOff + r * d;
    for (let k = 0; k < d; k++) dst[o + k] = src[a + k] as number;
  }
}

/**
 * Memory for a layer, with the activations' table in place, or a clear error when the shape
 * is too large for wasm32.
 */
export function allocateMemory(
  lay: Pick<Layout, "dModel" | "dHidden" | "bytes" | "pages" | "erf">,
  shared: boolean,
  where = "FeedForward",
): WebAssembly.Memory {
  const mib = (lay.bytes / 2 ** 20).toFixed(1);
  if (lay.pages > MAX_PAGES) {
    throw new RangeError(
      `${where}: dModel = ${lay.dModel}, dHidden = ${lay.dHidden} needs ${mib} MiB of WebAssembly memory, over wasm32's 4 GiB; use kernel: "js"`,
    );
  }
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: lay.pages, maximum: lay.pages, shared });
  } catch (cause) {
    throw new RangeError(
      `${where}: cannot get ${mib} MiB of WebAssembly memory for dModel = ${lay.dModel}, dHidden = ${lay.dHidden}`,
      { cause },
    );
  }
  new Float64Array(memory.buffer, lay.erf, ERF_C.length).set(ERF_C);
  return memory;
}

/** Packs a source's weights into a layout's panels, in the source's row order. */
export function packInto(f32: Float32Array, lay: Layout, source: WeightSource): void {
  const { dModel, dHidden } = lay;
  packRows(dModel, dHidden, PANEL, source.w1Row, f32, lay.w1 / 4);
  if (source.hasBias) source.b1(f32.subarray(lay.b1 / 4, lay.b1 / 4 + dHidden));
  packRows(dHidden, dModel, PANEL, source.w2Row, f32, lay.w2 / 4);
  if (source.hasBias) source.b2(f32.subarray(lay.b2 / 4, lay.b2 / 4 + dModel));
}

/**
 * A layer as the wasm kernels hold it: its layout (FeedForward's or the gated one, with the
 * pool's scratch when threaded), and how its weights go into the memory and come out again.
 */
export interface WasmLayer<W> {
  lay: Layout;
  /** Packs the weights into a new memory. */
  pack(f32: Float32Array): void;
  unpack(f32: Float32Array, lay: Layout): W;
  /** The layer's name, for errors. */
  where: string;
}

/** A new memory for a layer, its weights packed in, and the kernel instantiated on it. */
export function instantiate<W>(layer: WasmLayer<W>, module: WebAssembly.Module, shared: boolean) {
  const memory = allocateMemory(layer.lay, shared, layer.where);
  const f32 = new Float32Array(memory.buffer);
  layer.pack(f32);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as GemmExports;
  return { memory, f32, linear: linearOn(exports.gemm), act: exports.act };
}

/** A FeedForward layer for the wasm kernels: its layout, packing, unpacking. */
export function feedForwardLayer(
  dModel: number,
  dHidden: number,
  source: WeightSource,
  threaded: boolean,
): WasmLayer<RawWeights> {
  const lay = layout(dModel, dHidden, source.hasBias, threaded);
  return {
    lay,
    pack: (f32) => packInto(f32, lay, source),
    unpack: unpackLayout,
    where: "FeedForward",
  };
}

/**
 * The WebAssembly SIMD kernel on the calling thread, for a FeedForward layer (W = RawWeights)
 * or a gated one. The packed weights in its memory are the only full copy of the weights the
 * layer keeps; `unpack` rebuilds tokenwise's layout on demand.
 */
export class WasmKernel<W = RawWeights> {
  readonly name = "wasm" as const;
  readonly #layer: WasmLayer<W>;
  readonly #f32: Float32Array;
  readonly #linear: Linear;
  readonly #act: Act;
  readonly #activation: ActivationName;

  constructor(layer: WasmLayer<W>, module: WebAssembly.Module, activation: ActivationName) {
    this.#layer = layer;
    this.#activation = activation;
    ({ f32: this.#f32, linear: this.#linear, act: this.#act } = instantiate(layer, module, false));
  }

  /** out rows = the layer of its layout; trusts its arguments. */
  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    const lay = this.#layer.lay;
    forwardHere(
      this.#linear,
      this.#act,
      this.#f32,
      lay,
      this.#activation,
      x,
      xOff,
      rows,
      out,
      outOff,
    );
  }

  unpack(): W {
    return this.#layer.unpack(this.#f32, this.#layer.lay);
  }

  dispose(): void {}
}

/**
 * Applies an activation (not relu) in place to panels [p0, p1) of n hidden rows from byte
 * `at`, in the kernel's pair layout (rows 2i and 2i+1 interleaved, panel p at float 32p of a
 * pair of rows of stride lay.hPad; an odd last row plain, panel p at float 16p): a thread's own
 * columns, or all of them (p0 = 0, p1 = the map's panels).
 */
export function activatePanels(
  act: Act,
  lay: Layout,
  at: number,
  n: number,
  p0: number,
  p1: number,
  activation: ActivationName,
): void {
  const kind = ACT_KIND[activation];
  for (let r = 0; r < n; r += 2) {
    const width = r + 2 <= n ? 32 : 16; // a pair of rows interleaved, or the odd last row
    act(at + 4 * (r * lay.hPad + width * p0), width * (p1 - p0), kind, lay.erf);
  }
}

/**
 * buf[a] = buf[a] · buf[b] for the elements of panels [p0, p1) of n rows in the pair layout
 * (see {@link activatePanels}), a at float offset `off` and b at `upOff`: one float32
 * multiplication per element.
 */
export function multiplyPanels(
  buf: Float32Array,
  off: number,
  upOff: number,
  pad: number,
  n: number,
  p0: number,
  p1: number,
): void {
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const o = r * pad;
    for (let j = o + 32 * p0; j < o + 32 * p1; j++) {
      buf[off + j] = (buf[off + j] as number) * (buf[upOff + j] as number);
    }
  }
  if (r < n) {
    const o = r * pad;
    for (let j = o + 16 * p0; j < o + 16 * p1; j++) {
      buf[off + j] = (buf[off + j] as number) * (buf[upOff + j] as number);
    }
  }
}

/**
 * The whole layer on the calling thread, block by block, in the layout's own scratch (x,
 * hidden, up, out): the one-thread path of every wasm kernel, FeedForward's and the gated one.
 */
export function forwardHere(
  linear: Linear,
  act: Act,
  f32: Float32Array,
  lay: Layout,
  activation: ActivationName,
  x: Float32Array,
  xOff: number,
  rows: number,
  out: Float32Array,
  outOff: number,
): void {
  const d = lay.dModel;
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const n = Math.min(BLOCK_ROWS, rows - r0);
    copyPairsIn(x, xOff + r0 * d, d, f32, lay.x / 4, n);
    // Padding columns of the hidden rows hold act(0) (· 0) = 0, and meet zero weight rows.
    expandPanels(linear, act, f32, lay, lay.x, lay.hidden, lay.up, n, 0, lay.p1, activation);
    condensePanels(linear, lay, lay.hidden, lay.out, n, 0, lay.p2);
    copyRows(f32, lay.out / 4, lay.dPad, out, outOff + r0 * d, d, n);
  }
}

/** The weights in tokenwise's layout, unpacked from a layout's panels. */
export function unpackLayout(f32: Float32Array, lay: Layout): RawWeights {
  return {
    w1: unpackRows(f32, lay.w1 / 4, lay.dModel, lay.dHidden, PANEL),
    b1: lay.b1 === 0 ? null : f32.slice(lay.b1 / 4, lay.b1 / 4 + lay.dHidden),
    w2: unpackRows(f32, lay.w2 / 4, lay.dHidden, lay.dModel, PANEL),
    b2: lay.b2 === 0 ? null : f32.slice(lay.b2 / 4, lay.b2 / 4 + lay.dModel),
  };
}

/** Copies n rows of width d from a padded buffer (row stride pad) into out (row stride d). */
export function copyRows(
  src: Float32Array,
  srcOff: number,
  pad: number,
  out: Float32Array,
  outOff: number,
  d: number,
  n: number,
): void {
  // Element loops rather than set(subarray(...)): a subarray is a new object, and a forward
  // call with an out argument allocates nothing (test/allocation.test.ts).
  for (let i = 0; i < n; i++) {
    const s = srcOff + i * pad;
    const o = outOff + i * d;
    for (let j = 0; j < d; j++) out[o + j] = src[s + j] as number;
  }
}
