// The floor: the triple loop anyone would write first, in plain JavaScript, with no blocking,
// packing or unrolling. Row-major (i, k, j) order with a float64 accumulator row. The activation
// is tokenwise's float32 scalar function (JavaScript has no erf to write gelu with).
import { ACTIVATION_SCALAR } from "../src/kernels/activation";
import type { Contender } from "./contender";
import type { Variant } from "./layer";
import { ffnWeights, gatedWeights } from "./problem";

function linear(
  x: Float32Array,
  rows: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array | null,
  act: ((v: number) => number) | null,
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
      const v = Math.fround((acc[j] as number) + (bias === null ? 0 : (bias[j] as number)));
      out[r * N + j] = act === null ? v : act(v);
    }
  }
  return out;
}

export function naiveContender(variant: Variant): Contender {
  const act = ACTIVATION_SCALAR[variant.activation];
  return {
    id: "naive",
    label: "naive JS loop",
    group: "floor",
    threads: 1,
    library: "plain JavaScript triple loop (bench/naive.ts)",
    host: { kind: "naive" },
    async setup(shape, weights) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      if (variant.layer === "gated") {
        const { wGate, wUp, wDown } = gatedWeights(weights, "naive");
        return {
          forward: (x) => {
            const g = linear(x, T, D, wGate, H, null, act);
            const u = linear(x, T, D, wUp, H, null, null);
            for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * (u[i] as number);
            return linear(g, T, H, wDown, D, null, null);
          },
        };
      }
      const { w1, b1, w2, b2 } = ffnWeights(weights, "naive");
      return {
        forward: (x) => linear(linear(x, T, D, w1, H, b1, act), T, H, w2, D, b2, null),
      };
    },
  };
}
