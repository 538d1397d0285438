// The plain JavaScript kernel: register-blocked, on weights packed into column panels.
//
// Numerics (docs/numerics.md): every output element is the float64 sum over k = 0..K-1, in
// increasing order, of x[r, k] * w[k, j] (exact float64 products of float32 values), plus the
// bias in float64, rounded once to float32, then the activation. That is the reference's
// formula; tiling over rows and columns changes which elements are computed together, never
// the order of one element's sum, so a token's row is the same bits whatever batch it is in.

import { ACTIVATION_SCALAR } from "./activation";
import type { Epilogue } from "./reference";

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
  const act = epilogue === "none" ? null : ACTIVATION_SCALAR[epilogue];
  for (let p = p0; p < p1; p++) {
    const pp = packedOff + (p - p0) * K * NR;
    const j = p * NR;
    const width = Math.min(NR, N - j);
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
      store4(out, o0, width, s00, s01, s02, s03, bias, j, act);
      store4(out, o0 + N, width, s10, s11, s12, s13, bias, j, act);
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
      store4(out, outOff + r * N + j, width, s00, s01, s02, s03, bias, j, act);
    }
  }
}

type Activation = ((v: number) => number) | null;

function finish(s: number, bias: Float32Array | null, j: number, act: Activation): number {
  const v = Math.fround(bias === null ? s : s + (bias[j] as number));
  return act === null ? v : act(v);
}

function store4(
  out: Float32Array,
  o: number,
  width: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  bias: Float32Array | null,
  j: number,
  act: Activation,
): void {
  out[o] = finish(s0, bias, j, act);
  if (width > 1) out[o + 1] = finish(s1, bias, j + 1, act);
  if (width > 2) out[o + 2] = finish(s2, bias, j + 2, act);
  if (width > 3) out[o + 3] = finish(s3, bias, j + 3, act);
}
