// The plain JavaScript kernel: register-blocked, on weights packed into column panels.
//
// Numerics (docs/numerics.md): every output element is the float64 sum over k = 0..K-1, in
// increasing order, of x[r, k] * w[k, j] (exact float64 products of float32 values), plus the
// bias in float64, rounded once to float32, then the activation. That is the reference's
// formula; tiling over rows and columns changes which elements are computed together, never
// the order of one element's sum, so a token's row is the same bits whatever batch it is in.

import { type ActivationName, activateRange } from "./activation";
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
 * One element's epilogue, already rounded to float32: relu here, or nothing. Another activation
 * is applied to the stored rows afterwards by activateRange, which passes no float64 through a
 * call (V8 boxes one when it does not inline the call): a forward with an out argument then
 * allocates nothing, whatever the activation (test/allocation.test.ts).
 */
function epi(v: number, mode: number): number {
  return mode === RELU && v < 0 ? 0 : v;
}
