// A float64 model of both layers with every activation, and the forward-error bound the webgpu
// kernel is held to against it (docs/kernels.md, "Accuracy", derives it). The kernel runs on a
// GPU, whose float32 + and * are correctly rounded (WGSL), may be fused into FMAs, and may flush
// subnormal results to zero; its exp has an error of at most 3 + 2|x| ulp (WGSL's bound).
//
// Notation as reference64.ts: u = 2^-24, γ_n = n·u / (1 − n·u), D = dModel, H = dHidden.
// Every test input and weight is a normal float32 or zero (a GPU may flush a subnormal input).
import { gelu64, geluTanh64, silu64 } from "../../src/kernels/activation";
import type { ActivationName } from "../../src/index";
import { U32, U64, gamma } from "./reference64";

/** The absolute error of one float32 operation whose result a GPU flushes to zero, or underflows. */
const FLUSH = 2 ** -126;
/** What an activation may lose to underflow and flushing: far below any other term here. */
const TINY = 2 ** -120;

export const ACT64: Record<ActivationName, (v: number) => number> = {
  relu: (v) => (v < 0 ? 0 : v),
  gelu: gelu64,
  geluTanh: geluTanh64,
  silu: silu64,
};

/** A Lipschitz constant of each activation (max |act'|: 1, 1.0998, 1.1289, 1.1293). */
const LIPSCHITZ: Record<ActivationName, number> = {
  relu: 1,
  gelu: 1.13,
  geluTanh: 1.13,
  silu: 1.1,
};

/** Σ |c_n| a^(2n+1) over the 22 terms of erf's series the kernel sums: its Horner error scale. */
function erfSeriesScale(a: number): number {
  let s = 0;
  for (let n = 0, f = 1; n < 22; n++, f *= n)
    s += (1.1283791670955126 * a ** (2 * n + 1)) / (f * (2 * n + 1));
  return s;
}

/**
 * A bound on |act_gpu(v) − act(v)| for a float32 input v with |v| ≤ vAbs and |act(v)| ≤ fAbs:
 *  - relu: 0 (a select).
 *  - silu v / (1 + e^-v): exp (3 + 2|v|) ulp, the sum 1, the division 2.5 (WGSL) ulps, relative.
 *  - geluTanh v / (1 + e^-s), s = 2√(2/π)(v + 0.044715 v³): s is 7 roundings from v, so e^-s
 *    is off by 7u|s| relative from its argument and (3 + 2|s|) ulp of its own; then 3.5 ulps.
 *  - gelu, a = |v|/√2 < 2: 22-term Horner in a² loses at most (2·22 + 4)u·S(a), S = Σ|c_n|a^(2n+1),
 *    plus the truncation, below 7u, and a's own rounding (2u·a·max erf' 1.13); times |v|/2; then
 *    3 roundings of the result. a ≥ 2: c = erfc(a) by 16 levels of the continued fraction
 *    (3 roundings a level, the recurrence not amplifying them: 48u) and exp(-a²) ((3 + 4a²)u),
 *    5 more roundings: (56 + 4a²)u relative on c, times |v|/2.
 *  - plus TINY for underflow and flushing.
 */
export function activationError(name: ActivationName, vAbs: number, fAbs: number): number {
  const u = U32;
  switch (name) {
    case "relu":
      return 0;
    case "silu":
      return (6.5 + 2 * vAbs) * u * fAbs + TINY;
    case "geluTanh": {
      const s = 2 * 0.7978845608028654 * (vAbs + 0.044715 * vAbs ** 3);
      return (6.5 + 9 * s) * u * fAbs + TINY;
    }
    case "gelu": {
      const a = vAbs * Math.SQRT1_2;
      if (a < 2)
        return 0.5 * vAbs * (48 * erfSeriesScale(a) + 7 + 2.3 * a) * u + 3 * u * fAbs + TINY;
      // c ≤ erfc(2) ≈ 0.00468 throughout; bounded by its value at a.
      const c = Math.min(0.0047, (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * 1.01);
      return 0.5 * vAbs * c * (56 + 4 * a * a) * u + 3 * u * fAbs + TINY;
    }
  }
}

export interface GpuLayer64 {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  /** (dModel, dHidden) each: [w1] or [wGate, wUp]. */
  wIn: Float32Array[];
  bIn: (Float32Array | null)[];
  /** (dHidden, dModel). */
  wOut: Float32Array;
  bOut: Float32Array | null;
}

/** The layer in float64 and, per output element, the bound on the webgpu kernel's error. */
export function gpuForward64(
  layer: GpuLayer64,
  x: Float32Array,
  rows: number,
): { y: Float64Array; bound: Float64Array } {
  const { dModel: D, dHidden: H, activation, wIn, bIn, wOut, bOut } = layer;
  const act = ACT64[activation];
  const L = LIPSCHITZ[activation];
  const g1 = gamma(D + 1, U32);
  const g2 = gamma(H + 1, U32);
  const y = new Float64Array(rows * D);
  const bound = new Float64Array(rows * D);
  const h = new Float64Array(H);
  const eh = new Float64Array(H);
  const z = [0, 0];
  const ez = [0, 0];
  for (let t = 0; t < rows; t++) {
    for (let i = 0; i < H; i++) {
      for (let m = 0; m < wIn.length; m++) {
        const w = wIn[m] as Float32Array;
        const b = bIn[m] ?? null;
        let s = b === null ? 0 : (b[i] as number);
        let a = Math.abs(s);
        for (let k = 0; k < D; k++) {
          const p = (x[t * D + k] as number) * (w[k * H + i] as number);
          s += p;
          a += Math.abs(p);
        }
        z[m] = s;
        // float32 kernel's error, then the float64 model's own (products exact, D + 1 sums).
        ez[m] = g1 * a + (D + 1) * 2 * FLUSH + gamma(D + 1, U64) * a;
      }
      const zg = z[0] as number;
      const eg = ez[0] as number;
      const f = act(zg);
      // |act_gpu(ẑ) − act(z)| ≤ L·|ẑ − z| + activationError at ẑ; the model's act: 16 ulps of float64.
      const ea =
        L * eg +
        activationError(activation, Math.abs(zg) + eg, Math.abs(f) + L * eg) +
        16 * U64 * Math.abs(f);
      if (wIn.length === 1) {
        h[i] = f;
        eh[i] = ea;
      } else {
        const up = z[1] as number;
        const eu = ez[1] as number;
        h[i] = f * up;
        const fa = Math.abs(f) + ea;
        const ua = Math.abs(up) + eu;
        eh[i] = Math.abs(f) * eu + ua * ea + U32 * fa * ua + FLUSH + U64 * fa * ua;
      }
    }
    for (let j = 0; j < D; j++) {
      let s = bOut === null ? 0 : (bOut[j] as number);
      let a = Math.abs(s);
      let prop = 0;
      let exact = Math.abs(s);
      for (let i = 0; i < H; i++) {
        const w = wOut[i * D + j] as number;
        s += (h[i] as number) * w;
        a += (Math.abs(h[i] as number) + 2 * (eh[i] as number)) * Math.abs(w);
        exact += Math.abs((h[i] as number) * w);
        prop += (eh[i] as number) * Math.abs(w);
      }
      y[t * D + j] = s;
      const b = g2 * a + prop + (H + 1) * 2 * FLUSH + gamma(H + 1, U64) * exact;
      bound[t * D + j] = b * (1 + 1e-12);
    }
  }
  return { y, bound };
}
