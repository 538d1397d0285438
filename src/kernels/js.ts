// The plain JavaScript kernel: register-blocked, on weights packed into column panels.
//
// Numerics (docs/numerics.md): every output element is the float64 sum over k = 0..K-1, in
// increasing order, of x[r, k] * w[k, j] (exact float64 products of float32 values), plus the
// bias in float64, rounded once to float32, then the activation. That is the reference's
// formula; tiling over rows and columns changes which elements are computed together, never
// the order of one element's sum, so a token's row is the same bits whatever batch it is in.

import { QUANT_BLOCK, type QuantDtype, dtypeBytes, halfTable, is16, isQuant } from "../dtype";
import { type ActivationName, activateRange } from "./activation";
import {
  type HiddenCount,
  type Kernel,
  type LayerShape,
  type StoredTensors,
  mapDims,
  skipsZeros,
} from "./kernel";
import type { Epilogue } from "./reference";
import { blockScales, quantDotRow, quantizeActivations, quantizeMap } from "./quant";
import { type WeightSource, packMap, unpackRows } from "./source";

/** Columns per panel: the micro-kernel computes 2 rows x NR columns at a time. */
export const NR = 4;

/** Floats in a (K, N) matrix packed into panels of NR columns (the last one zero-padded). */
export function packedLength(K: number, N: number): number {
  return Math.ceil(N / NR) * NR * K;
}

/**
 * out[r, j] = act(x[r, :] · w[:, j] + bias[j]) for the columns of panels p0 <= p < p1.
 * x is (rows, K) from xOff; out is (rows, N) from outOff; panel p0 starts at packed[packedOff]
 * in the layout of packRows (source.ts).
 */
export function linearJs(
  x: Float32Array,
  xOff: number,
  rows: number,
  K: number,
  packed: Float32Array,
  packedOff: number,
  N: number,
  bias: Float32Array | null,
  epilogue: Epilogue,
  out: Float32Array,
  outOff: number,
  p0: number,
  p1: number,
): void {
  const mode = epilogue === "none" ? NONE : epilogue === "relu" ? RELU : OTHER;
  // Another activation goes over the stored rows at the end (see epi).
  for (let p = p0; p < p1; p++) {
    const pp = packedOff + (p - p0) * K * NR;
    const j = p * NR;
    const width = Math.min(NR, N - j);
    // No bias adds +0, which changes no sum: a sum that starts at +0 is never -0.
    const b0 = bias === null ? 0 : (bias[j] as number);
    const b1 = bias === null || width < 2 ? 0 : (bias[j + 1] as number);
    const b2 = bias === null || width < 3 ? 0 : (bias[j + 2] as number);
    const b3 = bias === null || width < 4 ? 0 : (bias[j + 3] as number);
    let r = 0;
    for (; r + 2 <= rows; r += 2) {
      const xa = xOff + r * K;
      const xb = xa + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0; // prettier-ignore
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let k = 0, q = pp; k < K; k++, q += NR) {
        const a0 = x[xa + k] as number;
        const a1 = x[xb + k] as number;
        const v0 = packed[q] as number;
        const v1 = packed[q + 1] as number;
        const v2 = packed[q + 2] as number;
        const v3 = packed[q + 3] as number;
        s00 += a0 * v0;
        s01 += a0 * v1;
        s02 += a0 * v2;
        s03 += a0 * v3;
        s10 += a1 * v0;
        s11 += a1 * v1;
        s12 += a1 * v2;
        s13 += a1 * v3;
      }
      const o0 = outOff + r * N + j;
      const o1 = o0 + N;
      out[o0] = epi(Math.fround(s00 + b0), mode);
      if (width > 1) out[o0 + 1] = epi(Math.fround(s01 + b1), mode);
      if (width > 2) out[o0 + 2] = epi(Math.fround(s02 + b2), mode);
      if (width > 3) out[o0 + 3] = epi(Math.fround(s03 + b3), mode);
      out[o1] = epi(Math.fround(s10 + b0), mode);
      if (width > 1) out[o1 + 1] = epi(Math.fround(s11 + b1), mode);
      if (width > 2) out[o1 + 2] = epi(Math.fround(s12 + b2), mode);
      if (width > 3) out[o1 + 3] = epi(Math.fround(s13 + b3), mode);
    }
    if (r < rows) {
      const xa = xOff + r * K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0; // prettier-ignore
      for (let k = 0, q = pp; k < K; k++, q += NR) {
        const a0 = x[xa + k] as number;
        s00 += a0 * (packed[q] as number);
        s01 += a0 * (packed[q + 1] as number);
        s02 += a0 * (packed[q + 2] as number);
        s03 += a0 * (packed[q + 3] as number);
      }
      const o0 = outOff + r * N + j;
      out[o0] = epi(Math.fround(s00 + b0), mode);
      if (width > 1) out[o0 + 1] = epi(Math.fround(s01 + b1), mode);
      if (width > 2) out[o0 + 2] = epi(Math.fround(s02 + b2), mode);
      if (width > 3) out[o0 + 3] = epi(Math.fround(s03 + b3), mode);
    }
  }
  if (mode !== OTHER) return;
  const j0 = p0 * NR;
  const j1 = Math.min(N, p1 * NR);
  const act = epilogue as ActivationName;
  for (let r = 0; r < rows; r++) activateRange(out, outOff + r * N + j0, outOff + r * N + j1, act);
}

const NONE = 0;
const RELU = 1;
const OTHER = 2;

/**
 * linearJs without an epilogue, reading for each pair of rows (and an odd last row) only the
 * rows k of w listed for it: list s (rows 2s and 2s+1) is lists[s·K .. s·K + counts[s]), the k,
 * increasing, where a row of the pair has a nonzero x. The sums are linearJs's, less terms
 * (±0) · w, which change no bit of a float64 sum that starts at +0 (docs/numerics.md).
 */
export function linearSparseJs(
  x: Float32Array,
  xOff: number,
  rows: number,
  K: number,
  packed: Float32Array,
  packedOff: number,
  N: number,
  bias: Float32Array | null,
  lists: Int32Array,
  counts: Int32Array,
  out: Float32Array,
  outOff: number,
  p0: number,
  p1: number,
): void {
  for (let p = p0; p < p1; p++) {
    const pp = packedOff + (p - p0) * K * NR;
    const j = p * NR;
    const width = Math.min(NR, N - j);
    const b0 = bias === null ? 0 : (bias[j] as number);
    const b1 = bias === null || width < 2 ? 0 : (bias[j + 1] as number);
    const b2 = bias === null || width < 3 ? 0 : (bias[j + 2] as number);
    const b3 = bias === null || width < 4 ? 0 : (bias[j + 3] as number);
    for (let r = 0; r < rows; r += 2) {
      const two = r + 2 <= rows;
      const xa = xOff + r * K;
      const xb = two ? xa + K : xa;
      const l0 = (r >> 1) * K;
      const l1 = l0 + (counts[r >> 1] as number);
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0; // prettier-ignore
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      for (let l = l0; l < l1; l++) {
        const k = lists[l] as number;
        const q = pp + k * NR;
        const a0 = x[xa + k] as number;
        const a1 = x[xb + k] as number;
        const v0 = packed[q] as number;
        const v1 = packed[q + 1] as number;
        const v2 = packed[q + 2] as number;
        const v3 = packed[q + 3] as number;
        s00 += a0 * v0;
        s01 += a0 * v1;
        s02 += a0 * v2;
        s03 += a0 * v3;
        s10 += a1 * v0;
        s11 += a1 * v1;
        s12 += a1 * v2;
        s13 += a1 * v3;
      }
      const o0 = outOff + r * N + j;
      out[o0] = Math.fround(s00 + b0);
      if (width > 1) out[o0 + 1] = Math.fround(s01 + b1);
      if (width > 2) out[o0 + 2] = Math.fround(s02 + b2);
      if (width > 3) out[o0 + 3] = Math.fround(s03 + b3);
      if (!two) continue;
      const o1 = o0 + N;
      out[o1] = Math.fround(s10 + b0);
      if (width > 1) out[o1 + 1] = Math.fround(s11 + b1);
      if (width > 2) out[o1 + 2] = Math.fround(s12 + b2);
      if (width > 3) out[o1 + 3] = Math.fround(s13 + b3);
    }
  }
}

/**
 * Lists, for each pair of n rows of width K from x[xOff] (and an odd last row), the k where a
 * row of it is nonzero (a NaN is not zero): list s at lists[s·K], its length in counts[s].
 * Returns whether some list is shorter than DENSE_SHARE of K (else the dense loop is as fast).
 */
function listNonzero(
  x: Float32Array,
  xOff: number,
  n: number,
  K: number,
  lists: Int32Array,
  counts: Int32Array,
): boolean {
  let sparse = false;
  for (let r = 0; r < n; r += 2) {
    const a = xOff + r * K;
    const b = r + 2 <= n ? a + K : a;
    let c = (r >> 1) * K;
    const start = c;
    for (let k = 0; k < K; k++) {
      lists[c] = k;
      if ((x[a + k] as number) !== 0 || (x[b + k] as number) !== 0) c++;
    }
    counts[r >> 1] = c - start;
    if (c - start < K * DENSE_SHARE) sparse = true;
  }
  return sparse;
}

/** A pair of rows whose nonzero list is at least this share of K runs the dense loop. */
const DENSE_SHARE = 7 / 8;

/**
 * One element's epilogue, already rounded to float32: relu here, or nothing. Another activation
 * is applied to the stored rows afterwards by activateRange, which passes no float64 through a
 * call (V8 boxes one when it does not inline the call): a forward with an out argument then
 * allocates nothing, whatever the activation (test/allocation.test.ts).
 */
function epi(v: number, mode: number): number {
  return mode === RELU && v < 0 ? 0 : v;
}

// Tokens per block: the hidden values of one block are computed, then condensed, so the
// scratch is ROW_BLOCK x dHidden (per expanding map) whatever the batch, and each weight panel
// is read once per block. The block size changes which rows share a pass over the weights,
// never one element's sum.
const ROW_BLOCK = 32;

/**
 * The plain JavaScript kernel of any layer shape: each map is linearJs (a float64 sum over k
 * in increasing order, plus the bias, rounded once to float32), the activation is applied to
 * that float32 value as the standalone op applies it, and each further expanding map's values
 * multiply the hidden ones with one float32 multiplication. Nothing depends on which rows
 * share a block, so a token's row is the same bits in any batch.
 *
 * 16-bit weights (bf16, f16) are kept as their bits, and each panel is widened to float32
 * (exact) into a scratch panel for each block of tokens, then computed as above: the same bits
 * as the kernel on the widened weights.
 */
export class JsKernel implements Kernel {
  readonly name = "js" as const;
  readonly threadsInUse = 1;
  readonly unavailable = null;
  readonly #shape: LayerShape;
  readonly #w: (Float32Array | Uint16Array)[]; // packed panels of each map
  readonly #b: (Float32Array | null)[];
  readonly #hidden: Float32Array[]; // ROW_BLOCK x dHidden for each expanding map
  readonly #panel: Float32Array; // one widened panel of 16-bit weights (else empty)
  readonly #panelBits: Uint32Array;
  readonly #half: Uint32Array | null; // f16's float32 bits, for f16 weights
  readonly #q: QuantMaps | null; // a quantized layer's maps and scratch
  readonly #skip: boolean; // the last map may skip zero hidden units (every weight finite)
  readonly #lists: Int32Array; // ROW_BLOCK / 2 lists of dHidden (else empty)
  readonly #counts: Int32Array;

  constructor(shape: LayerShape, source: WeightSource) {
    this.#shape = shape;
    this.#w = [];
    this.#b = [];
    this.#q = isQuant(shape.dtype) ? quantMaps(shape, source, this.#b) : null;
    const wide = is16(shape.dtype);
    for (let i = 0; i <= shape.expand && this.#q === null; i++) {
      const { rows, cols } = mapDims(shape, i);
      const n = packedLength(rows, cols);
      const w = wide ? new Uint16Array(n) : new Float32Array(n);
      packMap(source, shape, i, NR, w, 0);
      this.#w.push(w);
      const b = shape.hasBias ? new Float32Array(cols) : null;
      if (b !== null) source.bias(i, b);
      this.#b.push(b);
    }
    this.#hidden = [];
    for (let i = 0; i < shape.expand; i++)
      this.#hidden.push(new Float32Array(ROW_BLOCK * shape.dHidden));
    this.#panel = new Float32Array(wide ? NR * Math.max(shape.dModel, shape.dHidden) : 0);
    this.#panelBits = new Uint32Array(this.#panel.buffer);
    this.#half = shape.dtype === "f16" ? halfTable() : null;
    const last = this.#w[shape.expand];
    this.#skip =
      this.#q === null && last !== undefined && skipsZeros(shape) && allFinite(last, shape.dtype);
    this.#lists = new Int32Array(this.#skip ? (ROW_BLOCK / 2) * shape.dHidden : 0);
    this.#counts = new Int32Array(ROW_BLOCK / 2);
  }

  forward(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void {
    if (this.#q !== null) {
      this.#forwardQuant(this.#q, x, xOff, rows, out, outOff, count);
      return;
    }
    const { dModel: d, dHidden: h, expand, activation } = this.#shape;
    const hidden = this.#hidden;
    const main = hidden[0] as Float32Array;
    for (let r0 = 0; r0 < rows; r0 += ROW_BLOCK) {
      const n = Math.min(ROW_BLOCK, rows - r0);
      const xo = xOff + r0 * d;
      for (let i = 0; i < expand; i++) {
        const dst = hidden[i] as Float32Array;
        this.#linear(i, x, xo, n, d, h, i === 0 ? activation : "none", dst, 0);
        if (i > 0)
          for (let e = 0; e < n * h; e++) main[e] = (main[e] as number) * (dst[e] as number);
      }
      if (count !== undefined) for (let e = 0; e < n * h; e++) if (main[e] === 0) count.zeros++;
      const sparse = this.#skip && listNonzero(main, 0, n, h, this.#lists, this.#counts);
      this.#linear(expand, main, 0, n, h, d, "none", out, outOff + r0 * d, sparse);
    }
  }

  /** Map i on n rows (linearJs over all its panels), widening 16-bit panels one at a time. */
  #linear(
    i: number,
    x: Float32Array,
    xOff: number,
    n: number,
    K: number,
    N: number,
    epilogue: Epilogue,
    out: Float32Array,
    outOff: number,
    sparse = false,
  ): void {
    const w = this.#w[i] as Float32Array | Uint16Array;
    const b = this.#b[i] ?? null;
    const panels = Math.ceil(N / NR);
    const [lists, counts] = [this.#lists, this.#counts];
    if (w instanceof Float32Array) {
      if (sparse) linearSparseJs(x, xOff, n, K, w, 0, N, b, lists, counts, out, outOff, 0, panels);
      else linearJs(x, xOff, n, K, w, 0, N, b, epilogue, out, outOff, 0, panels);
      return;
    }
    const bits = this.#panelBits;
    const half = this.#half;
    const size = K * NR;
    for (let p = 0; p < panels; p++) {
      const from = p * size;
      if (half === null) for (let e = 0; e < size; e++) bits[e] = (w[from + e] as number) << 16;
      else for (let e = 0; e < size; e++) bits[e] = half[w[from + e] as number] as number;
      const panel = this.#panel;
      if (sparse)
        linearSparseJs(x, xOff, n, K, panel, 0, N, b, lists, counts, out, outOff, p, p + 1);
      else linearJs(x, xOff, n, K, panel, 0, N, b, epilogue, out, outOff, p, p + 1);
    }
  }

  /**
   * A quantized layer, one token at a time: its row quantized to Q8_0, each expanding map's
   * sums (quantDotRow) with the bias, the activation and the products, the hidden row quantized
   * in turn, and the last map's sums with its bias. (No rows are skipped: every block is read.)
   */
  #forwardQuant(
    q: QuantMaps,
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void {
    const { dModel: d, dHidden: h, expand, activation } = this.#shape;
    const dtype = this.#shape.dtype as QuantDtype;
    const hidden = this.#hidden;
    const main = hidden[0] as Float32Array;
    for (let r = 0; r < rows; r++) {
      quantizeActivations(x, xOff + r * d, 1, d, q.xq, 0, q.xd, 0);
      for (let i = 0; i < expand; i++) {
        const dst = hidden[i] as Float32Array;
        quantDotRow(
          dtype,
          q.blocks[i] as Uint8Array,
          q.q8[i] as Int8Array,
          q.scales[i] as Float32Array,
          d,
          q.xq,
          q.xd,
          this.#b[i] ?? null,
          dst,
          0,
          0,
          h,
        );
        if (i === 0) {
          if (activation === "relu")
            for (let e = 0; e < h; e++) dst[e] = epi(dst[e] as number, RELU);
          else activateRange(dst, 0, h, activation);
        } else for (let e = 0; e < h; e++) main[e] = (main[e] as number) * (dst[e] as number);
      }
      if (count !== undefined) for (let e = 0; e < h; e++) if (main[e] === 0) count.zeros++;
      quantizeActivations(main, 0, 1, h, q.xq, 0, q.xd, 0);
      const b = this.#b[expand] ?? null;
      const blocks = q.blocks[expand] as Uint8Array;
      const scales = q.scales[expand] as Float32Array;
      const q8 = q.q8[expand] as Int8Array;
      quantDotRow(dtype, blocks, q8, scales, h, q.xq, q.xd, b, out, outOff + r * d, 0, d);
    }
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
    const q = this.#q;
    if (q !== null) {
      return q.blocks.map((w, i) => {
        const b = this.#b[i] ?? null;
        return { w: w.slice(), b: b === null ? null : b.slice() };
      });
    }
    return this.#w.map((w, i) => {
      const { rows, cols } = mapDims(this.#shape, i);
      const b = this.#b[i] ?? null;
      return { w: unpackRows(w, 0, rows, cols, NR), b: b === null ? null : b.slice() };
    });
  }

  dispose(): void {}
}

/** A quantized layer's maps in the js kernel, and one token's Q8_0 activations. */
interface QuantMaps {
  /** Each map's ggml blocks (quant.ts), the same bytes as signed ones, and their scales. */
  blocks: Uint8Array[];
  q8: Int8Array[];
  scales: Float32Array[];
  xq: Int16Array;
  xd: Float32Array;
}

/** A quantized layer's maps from a source (pushing each bias onto `biases`). */
function quantMaps(
  shape: LayerShape,
  source: WeightSource,
  biases: (Float32Array | null)[],
): QuantMaps {
  const dtype = shape.dtype as QuantDtype;
  const q: QuantMaps = {
    blocks: [],
    q8: [],
    scales: [],
    xq: new Int16Array(0),
    xd: new Float32Array(0),
  };
  for (let i = 0; i <= shape.expand; i++) {
    const blocks = quantizeMap(source, shape, i);
    q.blocks.push(blocks);
    q.q8.push(new Int8Array(blocks.buffer, blocks.byteOffset, blocks.length));
    q.scales.push(blockScales(blocks, dtype));
    const b = shape.hasBias ? new Float32Array(mapDims(shape, i).cols) : null;
    if (b !== null) source.bias(i, b);
    biases.push(b);
  }
  const k = Math.max(shape.dModel, shape.dHidden);
  q.xq = new Int16Array(k);
  q.xd = new Float32Array(k / QUANT_BLOCK);
  return q;
}

/**
 * Whether every weight of a packed map is finite: float32 values, or the bits of bf16 or f16
 * ones (an all-ones exponent is an infinity or a NaN).
 */
function allFinite(w: Float32Array | Uint16Array, dtype: LayerShape["dtype"]): boolean {
  if (w instanceof Float32Array) {
    for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i] as number)) return false;
    return true;
  }
  const e = dtype === "f16" ? 0x7c00 : 0x7f80;
  for (let i = 0; i < w.length; i++) if (((w[i] as number) & e) === e) return false;
  return true;
}

/**
 * Bytes the js kernel allocates for a shape: its packed weights (of the shape's dtype), biases,
 * hidden blocks and, for 16-bit weights, the widened panel.
 */
export function jsKernelBytes(shape: LayerShape): number {
  const { dModel: d, dHidden: h } = shape;
  if (isQuant(shape.dtype)) {
    // The blocks, a float32 scale for each, biases, hidden blocks and one token's Q8_0 row.
    let bytes = 0;
    for (let i = 0; i <= shape.expand; i++) {
      const { rows, cols } = mapDims(shape, i);
      bytes +=
        dtypeBytes(shape.dtype) * rows * cols + (rows * cols) / 8 + (shape.hasBias ? 4 * cols : 0);
    }
    const k = Math.max(d, h);
    return bytes + 4 * shape.expand * ROW_BLOCK * h + 2 * k + k / 8;
  }
  let bytes = 0;
  for (let i = 0; i <= shape.expand; i++) {
    const { rows, cols } = mapDims(shape, i);
    bytes += dtypeBytes(shape.dtype) * packedLength(rows, cols) + (shape.hasBias ? 4 * cols : 0);
  }
  const panel = is16(shape.dtype) ? NR * Math.max(d, h) : 0;
  const lists = skipsZeros(shape) ? (ROW_BLOCK / 2) * h : 0;
  return bytes + 4 * (shape.expand * ROW_BLOCK * h + panel + lists + ROW_BLOCK / 2);
}
