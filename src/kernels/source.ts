// Where a kernel's weights come from. A kernel reads them row by row, in one fixed order,
// straight into its packed layout, so no full unpacked copy of the weights is ever held: the
// seeded initialisation draws each row as it is packed, and weights given in PyTorch's
// (out, in) layout are read a column at a time.
import { Random } from "../random";
import { type LayerShape, type MapTensors, mapDims } from "./kernel";

export interface WeightSource {
  readonly hasBias: boolean;
  /**
   * The rows, in this order only: for each map i in turn, its rows k = 0 .. in-1 (each `out`
   * long, tokenwise's (in, out) layout), then its bias (read only when hasBias).
   */
  row(map: number, k: number, dst: Float32Array): void;
  bias(map: number, dst: Float32Array): void;
}

/**
 * Rows copied out of existing arrays: each map's w in tokenwise's (in, out) layout, or with
 * `transposed` in nn.Linear's (out, in) layout, read a column at a time.
 */
export function rawSource(
  shape: LayerShape,
  maps: readonly MapTensors[],
  transposed = false,
): WeightSource {
  return {
    hasBias: shape.hasBias,
    row(i, k, dst) {
      const w = (maps[i] as MapTensors).w;
      const { rows, cols } = mapDims(shape, i);
      if (!transposed) {
        dst.set(w.subarray(k * cols, (k + 1) * cols));
        return;
      }
      for (let j = 0; j < cols; j++) dst[j] = w[j * rows + k] as number;
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

/**
 * Reads K rows of a (K, N) matrix from `row` and writes them into panels of `nr` columns:
 * element (k, j) goes to out[outOff + floor(j / nr) * K * nr + k * nr + j % nr]. Padding
 * columns past N are left as they are (zero in a fresh buffer).
 */
export function packRows(
  K: number,
  N: number,
  nr: number,
  row: (k: number, dst: Float32Array) => void,
  out: Float32Array,
  outOff: number,
): void {
  const scratch = new Float32Array(N);
  for (let k = 0; k < K; k++) {
    row(k, scratch);
    for (let j = 0; j < N; j++) {
      out[outOff + Math.floor(j / nr) * K * nr + k * nr + (j % nr)] = scratch[j] as number;
    }
  }
}

/** Map i of a source into panels of `nr` columns (see {@link packRows}). */
export function packMap(
  source: WeightSource,
  shape: LayerShape,
  i: number,
  nr: number,
  out: Float32Array,
  outOff: number,
): void {
  const { rows, cols } = mapDims(shape, i);
  packRows(rows, cols, nr, (k, dst) => source.row(i, k, dst), out, outOff);
}

/** Inverse of {@link packRows}: the (K, N) matrix, row-major, in a new array. */
export function unpackRows(
  packed: Float32Array,
  packedOff: number,
  K: number,
  N: number,
  nr: number,
): Float32Array {
  const w = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      w[k * N + j] = packed[packedOff + Math.floor(j / nr) * K * nr + k * nr + (j % nr)] as number;
    }
  }
  return w;
}
