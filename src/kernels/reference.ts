// The oracle. A plain triple loop, kept forever, that every other kernel is tested against.
//
// out[r, j] = act(fl32( sum_{k=0..K-1} x[r, k] * w[k, j]  +  bias[j] ))
//
// x is (rows, K), w is (K, N) row-major, out is (rows, N). The sum runs over k in increasing
// order in float64 (each float32 product is exact in float64), the bias is added in float64,
// and the result is rounded to float32 once. The JS kernel computes exactly this, bit for bit.

import { ACTIVATION_SCALAR, type ActivationName } from "./activation";

export { reluScalar } from "./activation";

/**
 * Activation applied to each output element after the bias: the float32 sum is the input of
 * the float32 activation of src/kernels/activation.ts, exactly as the standalone op applies it.
 */
export type Epilogue = "none" | ActivationName;

export function linearReference(
  x: Float32Array,
  rows: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array | null,
  epilogue: Epilogue,
  out: Float32Array,
): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (x[r * K + k] as number) * (w[k * N + j] as number);
      if (bias !== null) s += bias[j] as number;
      const v = Math.fround(s);
      out[r * N + j] = epilogue === "none" ? v : ACTIVATION_SCALAR[epilogue](v);
    }
  }
}

/** The whole layer by the oracle: act(x W1 + b1) W2 + b2, with a float32 hidden vector. */
export function feedForwardReference(
  x: Float32Array,
  rows: number,
  dModel: number,
  dHidden: number,
  w1: Float32Array,
  b1: Float32Array | null,
  w2: Float32Array,
  b2: Float32Array | null,
  out: Float32Array,
  activation: ActivationName = "relu",
): void {
  const hidden = new Float32Array(rows * dHidden);
  linearReference(x, rows, dModel, w1, dHidden, b1, activation, hidden);
  linearReference(hidden, rows, dHidden, w2, dModel, b2, "none", out);
}
