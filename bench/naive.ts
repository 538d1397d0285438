// The floor: the triple loop anyone would write first, in plain JavaScript, with no blocking,
// packing or unrolling. Row-major (i, k, j) order with a float64 accumulator row.
import type { Contender } from "./contender";

function linear(
  x: Float32Array,
  rows: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array,
  relu: boolean,
): Float32Array {
  const out = new Float32Array(rows * N);
  const acc = new Float64Array(N);
  for (let r = 0; r < rows; r++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const xv = x[r * K + k] as number;
      for (let j = 0; j < N; j++) acc[j] = (acc[j] as number) + xv * (w[k * N + j] as number);
    }
    for (let j = 0; j < N; j++) {
      const v = (acc[j] as number) + (bias[j] as number);
      out[r * N + j] = relu && v < 0 ? 0 : v;
    }
  }
  return out;
}

export function naiveContender(): Contender {
  return {
    id: "naive",
    label: "naive JS loop",
    group: "floor",
    threads: 1,
    library: "plain JavaScript triple loop (bench/naive.ts)",
    host: { kind: "naive" },
    async setup(shape, weights) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      const { w1, b1, w2, b2 } = weights;
      return {
        forward: (x) => linear(linear(x, T, D, w1, H, b1, true), T, H, w2, D, b2, false),
      };
    },
  };
}
