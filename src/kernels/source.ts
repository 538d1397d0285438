// Where a kernel's weights come from. A kernel reads them row by row, in one fixed order,
// straight into its packed layout, so no full unpacked copy of the weights is ever held: the
// seeded initialisation draws each row as it is packed.
import { Random } from "../random";
import type { RawWeights } from "./kernel";

export interface WeightSource {
  readonly hasBias: boolean;
  /**
   * The rows, in this order only: w1 rows k = 0 .. dModel-1 (each dHidden long), b1, w2 rows
   * k = 0 .. dHidden-1 (each dModel long), b2. The biases are read only when hasBias.
   */
  w1Row(k: number, dst: Float32Array): void;
  b1(dst: Float32Array): void;
  w2Row(k: number, dst: Float32Array): void;
  b2(dst: Float32Array): void;
}

/** Rows copied out of existing arrays (tokenwise layout). */
export function rawSource(raw: RawWeights, dModel: number, dHidden: number): WeightSource {
  return {
    hasBias: raw.b1 !== null,
    w1Row: (k, dst) => dst.set(raw.w1.subarray(k * dHidden, (k + 1) * dHidden)),
    b1: (dst) => dst.set(raw.b1 as Float32Array),
    w2Row: (k, dst) => dst.set(raw.w2.subarray(k * dModel, (k + 1) * dModel)),
    b2: (dst) => dst.set(raw.b2 as Float32Array),
  };
}

/**
 * PyTorch's nn.Linear default initialisation, drawn from Random(seed) in the source order:
 * w1 and b1 uniform in ±1/sqrt(dModel), w2 and b2 uniform in ±1/sqrt(dHidden).
 */
export function seededSource(seed: number, dModel: number, dHidden: number): WeightSource {
  const rng = new Random(seed);
  const bound1 = 1 / Math.sqrt(dModel);
  const bound2 = 1 / Math.sqrt(dHidden);
  return {
    hasBias: true,
    w1Row: (_k, dst) => rng.fillUniform(dst, bound1),
    b1: (dst) => rng.fillUniform(dst, bound1),
    w2Row: (_k, dst) => rng.fillUniform(dst, bound2),
    b2: (dst) => rng.fillUniform(dst, bound2),
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
