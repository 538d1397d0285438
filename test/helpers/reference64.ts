// A float64 model of the layer and of matmul, written independently of src/, and the
// forward-error bounds the tests hold the float32 kernels to. docs/numerics.md derives them.
//
// Notation: u = 2^-24 (float32 unit roundoff), γ_n = n·u / (1 − n·u), D = dModel, H = dHidden.
// For float32 inputs the float64 model is not exact either, so each test tolerance is
//   (bound of the float32 kernel against exact) + (bound of this float64 model against exact),
// evaluating |r| and |c| from the model plus its own error so that nothing is underestimated,
// and the sum is then widened by the relative error of evaluating it in float64.

/** Float32 unit roundoff. */
export const U32 = 2 ** -24;
/** Float64 unit roundoff. */
export const U64 = 2 ** -53;
/**
 * Half the float32 subnormal spacing, 2^-150: the absolute error of one float32 rounding whose
 * result underflows (gradual underflow). The standard model fl(a∘b) = (a∘b)(1+δ) holds only
 * above 2^-126; below it, fl(a∘b) = (a∘b)(1+δ) + η with |η| ≤ 2^-150.
 */
export const ETA32 = 2 ** -150;

/** γ_n = n·u / (1 − n·u); Infinity when n·u ≥ 1, where no bound of this form exists. */
export function gamma(n: number, u: number): number {
  const nu = n * u;
  return nu < 1 ? nu / (1 - nu) : Infinity;
}

/**
 * Widens a bound computed in float64 from at most `ops` operations on non-negative terms, so
 * that rounding in evaluating the bound itself cannot make it too small.
 */
function widen(bound: number, ops: number): number {
  return bound * (1 + 2 * gamma(ops, U64));
}

export interface Layer64 {
  dModel: number;
  dHidden: number;
  w1: Float32Array; // (dModel, dHidden) row-major
  b1: Float32Array | null;
  w2: Float32Array; // (dHidden, dModel) row-major
  b2: Float32Array | null;
}

export interface Forward64 {
  /** (rows, dModel): relu(x·W1 + b1)·W2 + b2 in float64, nothing rounded to float32. */
  y: Float64Array;
  /** (rows, dModel): per element, the largest |float32 kernel − y| the bound allows. */
  bound: Float64Array;
}

/**
 * The whole layer in float64 and, per output element, the forward-error bound of any float32
 * kernel (any summation order, with or without FMA) against it:
 *
 *   E1_i = γ_{D+1}·(Σ_k |x_k||W1_ki| + |b1_i|) + (D+1)·2^-149
 *   |ŷ_j − y_j| ≤ γ_{H+1}·(Σ_i (|r_i| + E1_i)|W2_ij| + |b2_j|) + Σ_i |W2_ij|·E1_i + (H+1)·2^-149
 *
 * The n·2^-149 terms cover underflow (n roundings of at most η = 2^-150 each, each grown by at
 * most a factor 1 + γ_n ≤ 2); without subnormals they vanish and this is the bound of
 * docs/numerics.md. Added to it: the float64 model's own error, the same formula with
 * u = 2^-53 and no underflow term (float32 products are exact in float64).
 */
export function forward64(layer: Layer64, x: Float32Array, rows: number): Forward64 {
  const { dModel: D, dHidden: H, w1, b1, w2, b2 } = layer;
  const g1 = gamma(D + 1, U32);
  const g2 = gamma(H + 1, U32);
  const g1r = gamma(D + 1, U64);
  const g2r = gamma(H + 1, U64);
  const y = new Float64Array(rows * D);
  const bound = new Float64Array(rows * D);
  const r = new Float64Array(H);
  const e1 = new Float64Array(H); // float32 kernel's bound on |r̂_i − r_i|
  const e1r = new Float64Array(H); // float64 model's bound on |r64_i − r_i|
  for (let t = 0; t < rows; t++) {
    const xo = t * D;
    for (let i = 0; i < H; i++) {
      let h = b1 === null ? 0 : (b1[i] as number);
      let a = b1 === null ? 0 : Math.abs(b1[i] as number);
      for (let k = 0; k < D; k++) {
        const p = (x[xo + k] as number) * (w1[k * H + i] as number);
        h += p;
        a += Math.abs(p);
      }
      r[i] = h > 0 ? h : 0;
      e1[i] = g1 * a + (D + 1) * 2 * ETA32;
      e1r[i] = g1r * a;
    }
    for (let j = 0; j < D; j++) {
      let s = b2 === null ? 0 : (b2[j] as number);
      let a = b2 === null ? 0 : Math.abs(b2[j] as number); // Σ (|r_i| + E1_i)|W2_ij| + |b2_j|
      let ar = a; // the same with the float64 model's own error in place of E1
      let prop = 0; // Σ |W2_ij| E1_i
      let propr = 0;
      for (let i = 0; i < H; i++) {
        const w = w2[i * D + j] as number;
        const aw = Math.abs(w);
        s += (r[i] as number) * w;
        // |r_i| of the exact layer is at most |r64_i| + e1r_i.
        const rAbs = (r[i] as number) + (e1r[i] as number);
        a += (rAbs + (e1[i] as number)) * aw;
        ar += (rAbs + (e1r[i] as number)) * aw;
        prop += aw * (e1[i] as number);
        propr += aw * (e1r[i] as number);
      }
      y[t * D + j] = s;
      const kernel = g2 * a + prop + (H + 1) * 2 * ETA32;
      const model = g2r * ar + propr;
      bound[t * D + j] = widen(kernel + model, 4 * (D + H + 4));
    }
  }
  return { y, bound };
}

export interface Matmul64 {
  /** (m, n): a·b in float64. */
  c: Float64Array;
  /** Bound of any float32 kernel: γ_K·(|a||b|)_ij + K·2^-149, plus the model's error. */
  bound: Float64Array;
  /**
   * Bound of a kernel that sums in float64 and rounds once to float32 (the JS kernel):
   * u·|c_ij| + 2^-150 + its float64 summation error, plus the model's error.
   */
  boundFloat64Sum: Float64Array;
}

/** a (m, k) times b (k, n), row-major, in float64, with the bounds of {@link Matmul64}. */
export function matmul64(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
): Matmul64 {
  const c = new Float64Array(m * n);
  const bound = new Float64Array(m * n);
  const boundFloat64Sum = new Float64Array(m * n);
  const g = gamma(k, U32);
  const gr = gamma(k, U64);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let abs = 0;
      // Summed from the last k down, unlike the kernels, so the model shares no order with them.
      for (let p = k - 1; p >= 0; p--) {
        const v = (a[i * k + p] as number) * (b[p * n + j] as number);
        s += v;
        abs += Math.abs(v);
      }
      c[i * n + j] = s;
      const model = gr * abs; // |c64 − c|: products exact, k − 1 float64 additions
      bound[i * n + j] = widen(g * abs + k * 2 * ETA32 + model, 2 * k + 8);
      // ĉ = fl32(s) with |s − c| ≤ γ64_k·abs, so |ĉ − c| ≤ u·|s| + η + γ64_k·abs and
      // |s| ≤ |c64| + 2·γ64_k·abs.
      const sAbs = Math.abs(s) + 2 * gr * abs;
      boundFloat64Sum[i * n + j] = widen(U32 * sAbs + ETA32 + gr * abs + model, 2 * k + 8);
    }
  }
  return { c, bound, boundFloat64Sum };
}

/** Indices where |got − want| exceeds the bound (or either is not finite); [] when all fit. */
export function outsideBound(
  got: Float32Array,
  want: Float64Array,
  bound: Float64Array,
): { index: number; got: number; want: number; error: number; bound: number }[] {
  const bad = [];
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const b = bound[i] as number;
    const error = Math.abs(g - w);
    if (!(error <= b)) bad.push({ index: i, got: g, want: w, error, bound: b });
  }
  return bad;
}
