// Where a kernel's weights come from. A kernel reads them row by row, in one fixed order,
// straight into its packed layout, so no full unpacked copy of the weights is ever held: the
// seeded initialisation draws each row as it is packed, and weights given in PyTorch's
// (out, in) layout are read a column at a time. A layer of a 16-bit type packs 16-bit rows:
// a source's own 16-bit rows of that type as they are (no float32 step), or its float32 rows
// narrowed to nearest even.
import { type Dtype16, type QuantDtype, is16, narrowInto, widenInto } from "../dtype";
import { Random } from "../random";
import { type LayerShape, type MapTensors, mapDims } from "./kernel";
import { dequantizeMap } from "./quant";

export interface WeightSource {
  readonly hasBias: boolean;
  /**
   * The rows, in this order only: for each map i in turn, its rows k = 0 .. in-1 (each `out`
   * long, tokenwise's (in, out) layout), then its bias (read only when hasBias).
   */
  row(map: number, k: number, dst: Float32Array): void;
  /**
   * Present when the weights are 16-bit values of `dtype`: the same rows, in the same order, as
   * those values' bits, which a layer of that type packs as they are (row gives them widened).
   */
  readonly bits?: {
    readonly dtype: Dtype16;
    row(map: number, k: number, dst: Uint16Array): void;
  };
  /**
   * Present when the weights are ggml blocks of `dtype`: map i's blocks (out rows of in / 32
   * blocks), which a layer of that type keeps as they are (row gives them dequantized).
   */
  readonly blocks?: {
    readonly dtype: QuantDtype;
    map(i: number): Uint8Array;
  };
  bias(map: number, dst: Float32Array): void;
}

/** One map's weights as ggml blocks of a {@link QuantDtype} (out rows of in / 32 blocks), with its float32 bias. */
export interface MapBlocks {
  w: Uint8Array;
  b: Float32Array | null;
}

/**
 * Weights given as ggml blocks of `dtype` (a quantized layer's JSON, a GGUF file's Q8_0 and
 * Q4_0 tensors): a layer of that type keeps them as they are; any other reads their
 * dequantized rows (each map dequantized once, when its first row is read).
 */
export function blockSource(
  shape: LayerShape,
  maps: readonly MapBlocks[],
  dtype: QuantDtype,
): WeightSource {
  const wide: (Float32Array | null)[] = maps.map(() => null);
  return {
    hasBias: shape.hasBias,
    blocks: { dtype, map: (i) => (maps[i] as MapBlocks).w },
    row(i, k, dst) {
      const { rows, cols } = mapDims(shape, i);
      let w = wide[i] ?? null;
      if (w === null) {
        w = dequantizeMap((maps[i] as MapBlocks).w, dtype, rows, cols);
        wide[i] = w;
        if (i > 0) wide[i - 1] = null;
      }
      dst.set(w.subarray(k * cols, (k + 1) * cols));
    },
    bias: (i, dst) => dst.set((maps[i] as MapBlocks).b as Float32Array),
  };
}

/** One map's weights as 16-bit values (bits of a {@link Dtype16}), with its float32 bias. */
export interface MapTensors16 {
  w: Uint16Array;
  b: Float32Array | null;
}

/**
 * Rows copied out of 16-bit arrays of `dtype` (each map's w in tokenwise's (in, out) layout,
 * or with `transposed` in nn.Linear's (out, in) layout): a layer of that type takes their bits
 * as they are, any other widens them to float32 (exact) first. A loader hands a checkpoint's
 * F16 or BF16 tensors to a layer this way, with no float32 copy.
 */
export function raw16Source(
  shape: LayerShape,
  maps: readonly MapTensors16[],
  dtype: Dtype16,
  transposed = false,
): WeightSource {
  const row16 = (i: number, k: number, dst: Uint16Array) => {
    const w = (maps[i] as MapTensors16).w;
    const { rows, cols } = mapDims(shape, i);
    if (!transposed) {
      dst.set(w.subarray(k * cols, (k + 1) * cols));
      return;
    }
    for (let j = 0; j < cols; j++) dst[j] = w[j * rows + k] as number;
  };
  let scratch = new Uint16Array(0);
  return {
    hasBias: shape.hasBias,
    bits: { dtype, row: row16 },
    row(i, k, dst) {
      if (scratch.length !== dst.length) scratch = new Uint16Array(dst.length);
      row16(i, k, scratch);
      widenInto(dtype, scratch, dst);
    },
    bias: (i, dst) => dst.set((maps[i] as MapTensors16).b as Float32Array),
  };
}

/**
 * Rows copied out of existing arrays: each map's w in tokenwise's (in, out) layout, or with
 * `transposed` in nn.Linear's (out, in) layout, read a column at a time. Either way the values
 * are copied as bit patterns (NaN payloads kept).
 */
export function rawSource(
  shape: LayerShape,
  maps: readonly MapTensors[],
  transposed = false,
): WeightSource {
  const bits = maps.map((m) => new Uint32Array(m.w.buffer, m.w.byteOffset, m.w.length));
  return {
    hasBias: shape.hasBias,
    row(i, k, dst) {
      const w = (maps[i] as MapTensors).w;
      const { rows, cols } = mapDims(shape, i);
      if (!transposed) {
        dst.set(w.subarray(k * cols, (k + 1) * cols));
        return;
      }
      const from = bits[i] as Uint32Array;
      const to = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
      for (let j = 0; j < cols; j++) to[j] = from[j * rows + k] as number;
    },
    bias: (i, dst) => dst.set((maps[i] as MapTensors).b as Float32Array),
  };
}

/**
 * PyTorch's nn.Linear default initialisation, drawn from Random(seed) in the source order:
 * each map's weights and bias uniform in ±1/sqrt(in).
 */
export function seededSource(seed: number, shape: LayerShape): WeightSource {
  const rng = new Random(seed);
  const bound = (i: number) => 1 / Math.sqrt(mapDims(shape, i).rows);
  return {
    hasBias: shape.hasBias,
    row: (i, _k, dst) => void rng.fillUniform(dst, bound(i)),
    bias: (i, dst) => void rng.fillUniform(dst, bound(i)),
  };
}

/** A float32 array or an array of 16-bit weights' bits: what a kernel packs weights into. */
type Packed = Float32Array | Uint16Array;

/** An array's elements as unsigned integers of its width (a view, for a Float32Array). */
const bitsOf = (a: Packed): Uint32Array | Uint16Array =>
  a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a;

/**
 * Reads K rows of a (K, N) matrix from `row` and writes them into panels of `nr` columns, each
 * panel's rows `ld` elements apart (at least nr; nr by default): element (k, j) goes to
 * out[outOff + floor(j / nr) * K * ld + k * ld + slot(j % nr)], where slot is `slots` (a
 * permutation of 0 .. nr-1) or the identity. Padding columns past N, and the ld - nr elements
 * after each row, are left as they are (zero in a fresh buffer). Elements are copied as bit
 * patterns, so every NaN payload, a signalling NaN's too, is kept (a float32 read into a
 * JavaScript number may be quieted).
 */
export function packRows<T extends Packed>(
  K: number,
  N: number,
  nr: number,
  row: (k: number, dst: T) => void,
  out: T,
  outOff: number,
  slots: readonly number[] | null = null,
  ld = nr,
): void {
  // Rows are read a block at a time, and each panel's part of the block written as one run:
  // row by row, each row's 16 elements would land in a different page per panel.
  const B = Math.min(K, ROW_BLOCK);
  const scratch = (
    out instanceof Uint16Array ? new Uint16Array(B * N) : new Float32Array(B * N)
  ) as T;
  const from = bitsOf(scratch);
  const to = bitsOf(out);
  const slot = Int32Array.from({ length: nr }, (_, c) =>
    slots === null ? c : (slots[c] as number),
  );
  for (let k0 = 0; k0 < K; k0 += B) {
    const rows = Math.min(B, K - k0);
    for (let r = 0; r < rows; r++) row(k0 + r, scratch.subarray(r * N, (r + 1) * N) as T);
    // Panel p's rows k0 .. k0 + rows - 1 start at outOff + p·K·ld + k0·ld.
    for (let j0 = 0, p = 0; j0 < N; j0 += nr, p++) {
      const width = Math.min(nr, N - j0);
      let at = outOff + p * K * ld + k0 * ld;
      for (let r = 0, src = j0; r < rows; r++, src += N, at += ld) {
        for (let c = 0; c < width; c++) to[at + (slot[c] as number)] = from[src + c] as number;
      }
    }
  }
}

/** Rows packRows reads before it writes them into the panels. */
const ROW_BLOCK = 32;

/**
 * Map i of a source into panels of `nr` columns, rows `ld` apart (see {@link packRows}; float32
 * only: 16-bit panels' rows are nr apart), in the shape's dtype:
 * float32 into a Float32Array; 16-bit into a Uint16Array, from the source's own 16-bit rows
 * when they are of that type, else from its float32 rows rounded to nearest even.
 */
export function packMap(
  source: WeightSource,
  shape: LayerShape,
  i: number,
  nr: number,
  out: Packed,
  outOff: number,
  slots: readonly number[] | null = null,
  ld = nr,
): void {
  const { rows, cols } = mapDims(shape, i);
  const dtype = shape.dtype;
  if (!is16(dtype)) {
    const row = (k: number, dst: Float32Array) => source.row(i, k, dst);
    packRows(rows, cols, nr, row, out as Float32Array, outOff, slots, ld);
    return;
  }
  const bits = source.bits;
  if (bits !== undefined && bits.dtype === dtype) {
    packRows(
      rows,
      cols,
      nr,
      (k, dst: Uint16Array) => bits.row(i, k, dst),
      out as Uint16Array,
      outOff,
      slots,
    );
    return;
  }
  const f32 = new Float32Array(cols);
  const row = (k: number, dst: Uint16Array) => {
    source.row(i, k, f32);
    narrowInto(dtype, f32, dst);
  };
  packRows(rows, cols, nr, row, out as Uint16Array, outOff, slots);
}

/**
 * Inverse of {@link packRows} (the same nr, slots and ld): the (K, N) matrix, row-major, in a new
 * array of the packed array's type, its elements copied as bit patterns.
 */
export function unpackRows<T extends Packed>(
  packed: T,
  packedOff: number,
  K: number,
  N: number,
  nr: number,
  slots: readonly number[] | null = null,
  ld = nr,
): T {
  const w = (packed instanceof Uint16Array ? new Uint16Array(K * N) : new Float32Array(K * N)) as T;
  const from = bitsOf(packed);
  const to = bitsOf(w);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      const c = j % nr;
      const at =
        packedOff +
        Math.floor(j / nr) * K * ld +
        k * ld +
        (slots === null ? c : (slots[c] as number));
      to[k * N + j] = from[at] as number;
    }
  }
  return w;
}
