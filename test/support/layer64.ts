// Float64 models of the FeedForward layer (any activation) and of the gated layer, each with a
// per-element forward-error bound for the JS kernel, derived in docs/activations.md:
//
//   u = 2^-24, η = 2^-150 (a float32 rounding that underflows), γ_n = n·2^-53 / (1 − n·2^-53).
//   A float64 sum of n float32 products (exact in float64) has error ≤ γ_n·Σ|terms|; the
//   kernel rounds it once to float32: |fl32(s) − s| ≤ u|s| + η.
//   The float32 activation is within (u + 2^-40)·|φ(v)| + η of φ(v): the float64 evaluation is
//   within 1027·2^-53 < 2^-42 relative (test/ops/activations.test.ts), then one rounding.
//   φ is L1-Lipschitz: L1 = 1 (relu), 1.13 (gelu, geluTanh: max φ' = 1.1290), 1.1 (silu:
//   1.0998).
//   For the WebAssembly kernel (Accumulation "f32"), each sum of n terms is instead within
//   γ32_n·Σ|terms| + n·η, γ32_n = n·u / (1 − n·u), whatever the order, as in docs/numerics.md.
//
// Each bound is (kernel's error against the exact value) + (this model's own error against
// the exact value), the magnitudes taken from the model plus its own error so that nothing is
// underestimated, then widened by 2^-30 for the rounding of the bound's own evaluation.
import { type ActivationName, gelu64, geluTanh64, silu64 } from "../../src/kernels/activation";

export const U = 2 ** -24;
export const U64 = 2 ** -53;
export const ETA = 2 ** -150;
/** The float32 activation's relative error (plus η), see above. */
export const ACT_REL = U + 2 ** -40;
/** The float64 activation's relative error, below 1027·2^-53. */
export const ACT64_REL = 2 ** -40;

export function gamma(n: number): number {
  return (n * U64) / (1 - n * U64);
}

/**
 * How a kernel accumulates: "f64" is the JS kernel (float64 sum, one rounding); "f32" is the
 * WebAssembly kernel (every product and every addition rounded to float32, in any order), whose
 * sum of n terms is within γ32_n·Σ|terms| + n·η of exact, γ32_n = n·u / (1 − n·u).
 */
export type Accumulation = "f64" | "f32";

export function gamma32(n: number): number {
  return (n * U) / (1 - n * U);
}

/** Lipschitz constants of φ, φ' and φ'' (max |φ'|, |φ''|, |φ'''| over the reals). */
export const LIPSCHITZ: Record<ActivationName, { L1: number; L2: number; L3: number }> = {
  relu: { L1: 1, L2: 0, L3: 0 },
  gelu: { L1: 1.13, L2: 0.8, L3: 0.78 },
  geluTanh: { L1: 1.13, L2: 0.8, L3: 0.78 },
  silu: { L1: 1.1, L2: 0.5, L3: 0.31 },
};

/** The activations in float64, for models and finite differences. */
export const ACT64: Record<ActivationName, (v: number) => number> = {
  relu: (v) => (v > 0 ? v : 0),
  gelu: gelu64,
  geluTanh: geluTanh64,
  silu: silu64,
};

export const WIDEN = 1 + 2 ** -30;

/** Float32 data, or float64 data for the perturbed weights of finite differences. */
export type Vec = Float32Array | Float64Array;

export interface Model64 {
  /** (rows, dModel): the layer in float64. */
  y: Float64Array;
  /** (rows, dModel): the largest |JS kernel − y| the analysis allows, per element. */
  bound: Float64Array;
  /** (rows, dModel): the largest |y − exact| of the model itself. */
  modelBound: Float64Array;
}

/** A float64 model's values with their bounds, elementwise. */
export interface Bounded {
  /** The model's value (e.g. of x·w + b), its error bound against exact, and |exact| ≤ abs. */
  value: Float64Array;
  err: Float64Array;
  abs: Float64Array;
  /** The JS kernel's error bound against exact, after its rounding to float32. */
  kernelErr: Float64Array;
}

type Linear64 = Bounded;

/** One row of x (length K) times w (K, N) plus b, in float64, with bounds. */
export function linear64(
  x: Vec,
  xo: number,
  K: number,
  w: Vec,
  N: number,
  b: Vec | null,
  acc: Accumulation = "f64",
): Linear64 {
  const value = new Float64Array(N);
  const err = new Float64Array(N);
  const abs = new Float64Array(N);
  const kernelErr = new Float64Array(N);
  const g = gamma(K + 1);
  for (let n = 0; n < N; n++) {
    let s = b === null ? 0 : (b[n] as number);
    let S = Math.abs(s);
    for (let k = K - 1; k >= 0; k--) {
      const p = (x[xo + k] as number) * (w[k * N + n] as number);
      s += p;
      S += Math.abs(p);
    }
    const e = g * S;
    value[n] = s;
    err[n] = e;
    abs[n] = Math.abs(s) + e;
    kernelErr[n] =
      acc === "f64"
        ? U * (abs[n] as number) + (1 + U) * e + ETA
        : gamma32(K + 1) * S * WIDEN + (K + 1) * ETA;
  }
  return { value, err, abs, kernelErr };
}

/** The activation of a linear64 result: model value, model error, |exact| bound, kernel error. */
export function activate(lin: Linear64, act: ActivationName): Bounded {
  const { L1 } = LIPSCHITZ[act];
  const f = ACT64[act];
  const N = lin.value.length;
  const value = new Float64Array(N);
  const err = new Float64Array(N);
  const abs = new Float64Array(N);
  const kernelErr = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const a = f(lin.value[n] as number);
    const aAbs = Math.abs(a) * (1 + ACT64_REL) + L1 * (lin.err[n] as number);
    const ep = lin.kernelErr[n] as number;
    value[n] = a;
    abs[n] = aAbs;
    err[n] = L1 * (lin.err[n] as number) + ACT64_REL * aAbs;
    kernelErr[n] = ACT_REL * (aAbs + L1 * ep) + ETA + L1 * ep;
  }
  return { value, err, abs, kernelErr };
}

/** The last linear map of a row, from hidden values with their bounds, into y and bound. */
function output64(
  hidden: Bounded,
  H: number,
  w: Vec,
  D: number,
  b: Vec | null,
  y: Float64Array,
  bound: Float64Array,
  modelBound: Float64Array,
  yo: number,
  acc: Accumulation = "f64",
): void {
  const g = gamma(H + 1);
  for (let j = 0; j < D; j++) {
    let s = b === null ? 0 : (b[j] as number);
    let S = Math.abs(s); // Σ (|h| + kernel error)|w| + |b|: covers both the kernel's sum and ours
    let prop = 0; // Σ |w| · kernel error of h
    let propr = 0; // Σ |w| · model error of h
    for (let i = H - 1; i >= 0; i--) {
      const wv = w[i * D + j] as number;
      const aw = Math.abs(wv);
      s += (hidden.value[i] as number) * wv;
      S += ((hidden.abs[i] as number) + (hidden.kernelErr[i] as number)) * aw;
      prop += aw * (hidden.kernelErr[i] as number);
      propr += aw * (hidden.err[i] as number);
    }
    const model = g * S + propr;
    const yAbs = Math.abs(s) + model;
    const kernel =
      acc === "f64"
        ? U * (yAbs + prop + g * S) + ETA + g * S + prop
        : gamma32(H + 1) * S + (H + 1) * ETA + prop;
    y[yo + j] = s;
    bound[yo + j] = (kernel + model) * WIDEN;
    modelBound[yo + j] = model * WIDEN;
  }
}

export interface FeedForward64 {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  w1: Vec;
  b1: Vec | null;
  w2: Vec;
  b2: Vec | null;
}

/**
 * act(x W1 + b1) W2 + b2 in float64, with the bound per element of the JS kernel ("f64") or of
 * the WebAssembly kernel ("f32").
 */
export function feedForward64(
  p: FeedForward64,
  x: Vec,
  rows: number,
  acc: Accumulation = "f64",
): Model64 {
  const { dModel: D, dHidden: H } = p;
  const y = new Float64Array(rows * D);
  const bound = new Float64Array(rows * D);
  const modelBound = new Float64Array(rows * D);
  for (let t = 0; t < rows; t++) {
    const pre = linear64(x, t * D, D, p.w1, H, p.b1, acc);
    output64(activate(pre, p.activation), H, p.w2, D, p.b2, y, bound, modelBound, t * D, acc);
  }
  return { y, bound, modelBound };
}

export interface Gated64 {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  wGate: Vec;
  bGate: Vec | null;
  wUp: Vec;
  bUp: Vec | null;
  wDown: Vec;
  bDown: Vec | null;
}

/**
 * (act(x Wg + bg) ⊙ (x Wu + bu)) Wd + bd in float64, with the JS kernel's bound. The product
 * m = a·u: the kernel's m̂ = fl32(â·û) is within u|â û| + η + |â − a||û| + |a||û − u| of m.
 */
export function gated64(p: Gated64, x: Vec, rows: number, acc: Accumulation = "f64"): Model64 {
  const { dModel: D, dHidden: H } = p;
  const y = new Float64Array(rows * D);
  const bound = new Float64Array(rows * D);
  const modelBound = new Float64Array(rows * D);
  for (let t = 0; t < rows; t++) {
    const a = activate(linear64(x, t * D, D, p.wGate, H, p.bGate, acc), p.activation);
    const u = linear64(x, t * D, D, p.wUp, H, p.bUp, acc);
    output64(product(a, u), H, p.wDown, D, p.bDown, y, bound, modelBound, t * D, acc);
  }
  return { y, bound, modelBound };
}

/** The elementwise product of two bounded vectors, as the kernel forms it: fl32(â · û). */
export function product(a: Bounded, u: Bounded): Bounded {
  const H = a.value.length;
  const m: Bounded = {
    value: new Float64Array(H),
    err: new Float64Array(H),
    abs: new Float64Array(H),
    kernelErr: new Float64Array(H),
  };
  for (let h = 0; h < H; h++) {
    const aAbs = a.abs[h] as number;
    const uAbs = u.abs[h] as number;
    const ea = a.kernelErr[h] as number;
    const eu = u.kernelErr[h] as number;
    const ear = a.err[h] as number;
    const eur = u.err[h] as number;
    m.value[h] = (a.value[h] as number) * (u.value[h] as number);
    m.abs[h] = aAbs * uAbs;
    m.kernelErr[h] = U * (aAbs + ea) * (uAbs + eu) + ETA + ea * (uAbs + eu) + aAbs * eu;
    m.err[h] = ear * (uAbs + eur) + aAbs * eur + U64 * (aAbs + ear) * (uAbs + eur);
  }
  return m;
}

/** Indices where |got − want| exceeds the bound (or either is not finite). */
export function outside(
  got: Float32Array,
  want: Float64Array,
  bound: Float64Array,
): { index: number; got: number; want: number; bound: number }[] {
  const bad = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const b = bound[i] as number;
    if (!(Math.abs(g - w) <= b)) bad.push({ index: i, got: g, want: w, bound: b });
  }
  return bad;
}
