// The float64 reference every contender is checked against before it is timed, with a
// forward-error bound per output element. docs/benchmarking.md writes the bounds out.
//
// For the layer y = act(x·W1 + b1)·W2 + b2 computed in float32 by any summation order (blocked,
// pairwise, FMA or not), the standard bound for a dot product of n terms (Higham, Accuracy and
// Stability of Numerical Algorithms, 2nd ed., section 3.1) gives, with u = 2^-24 and
// γ_n = n·u / (1 − n·u):
//
//   E1_i     = γ_{D+1} (Σ_k |x_k| |W1_ki| + |b1_i|)          error of one hidden value h_i
//   Er_i     = L·E1_i + α·u·(|h_i| + E1_i)                    error of r_i = act(h_i)
//   bound_j  = γ_{H+1} (Σ_i (|r_i| + Er_i) |W2_ij| + |b2_j|)  error of the second product
//            + Σ_i |W2_ij| Er_i                              the hidden error carried through
//
// L is the activation's Lipschitz constant (the largest |act'|: relu 1, gelu 1.129 at x = ±√2,
// geluTanh 1.13, silu 1.1 at x ≈ ±2.40), so an error in h grows at most L times. α·u·|v| bounds
// the error of evaluating act(v) in float32: gelu, geluTanh and silu are v·g(v) with g in [0, 1]
// (Φ, (1 + tanh)/2, σ); a contender that gets g within 6u (absolute, its own roundings included:
// a correctly rounded activation, or one built from float32 erf, tanh or exp good to a few ulps)
// and rounds v·g once is off by at most |v|·6u + u·|v|(1 + 6u) < 8u·|v|, so α = 8; relu is exact,
// α = 0. For relu, Er = E1 and the bound is the one this file always had.
//
// The gated layer y = (act(x·Wg) ⊙ (x·Wu))·Wd (no biases) has, for g = x·Wg, v = x·Wu,
// a = act(g) and p = a·v:
//
//   Eg_i = γ_D Σ_k |x_k| |Wg_ki|,   Ev_i = γ_D Σ_k |x_k| |Wu_ki|
//   Ea_i = L·Eg_i + α·u·(|g_i| + Eg_i)
//   Ep_i = (|a_i| + Ea_i) Ev_i + (|v_i| + Ev_i) Ea_i + u·(|a_i| + Ea_i)(|v_i| + Ev_i)
//   bound_j = γ_H Σ_i (|p_i| + Ep_i) |Wd_ij| + Σ_i |Wd_ij| Ep_i
//
// where the last term of Ep is the float32 rounding of the product.
//
// The reference itself is float64, so every γ and u above also gets its float64 twin (u = 2^-53)
// added, and its activations (of its own, below) get α64·u64·|v| with α64 = 1024, a generous count
// of their roundings (the erf series sums at most 200 positive terms); the test
// |y − y_ref| ≤ bound is then rigorous.
import type { ActivationName } from "./layer";
import { type Problem, isGated } from "./problem";

const U32 = 2 ** -24;
const U64 = 2 ** -53;

/** γ_n = n·u / (1 − n·u), the relative error bound of an n-term float dot product. */
export function gamma(n: number, u: number): number {
  const nu = n * u;
  return nu < 1 ? nu / (1 - nu) : Infinity;
}

// ---- the activations in float64, the bench's own (not tokenwise's) ---------------------------

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(t) = 2/√π · e^(−t²) · Σ_n (2t²)^n t / (1·3·5···(2n+1)), a series of positive terms (no
 * cancellation), summed until a term no longer moves the sum; ±1 beyond |t| = 6, where
 * 1 − erf(6) = 2.2e-17 is below float64's resolution of 1.
 */
export function erfRef(t: number): number {
  if (t !== t) return t;
  if (Math.abs(t) > 6) return t < 0 ? -1 : 1;
  const t2 = 2 * t * t;
  let term = t;
  let sum = t;
  for (let n = 1; n < 200; n++) {
    term = (term * t2) / (2 * n + 1);
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-t * t) * sum;
}

/** The activations in float64: gelu by erf, geluTanh and silu by Math.tanh and Math.exp. */
export const ACTIVATION_REF: Readonly<Record<ActivationName, (v: number) => number>> = {
  relu: (v) => (v < 0 ? 0 : v),
  gelu: (v) => 0.5 * v * (1 + erfRef(v * Math.SQRT1_2)),
  geluTanh: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
  silu: (v) => v / (1 + Math.exp(-v)),
};

/** Largest |act'(v)|, rounded up (docs/benchmarking.md derives them; a test checks them). */
export const LIPSCHITZ: Readonly<Record<ActivationName, number>> = {
  relu: 1,
  gelu: 1.129,
  geluTanh: 1.13,
  silu: 1.1,
};

/** α: a float32 activation evaluated within α·u·|v| (see the top of this file). */
export const ALPHA32: Readonly<Record<ActivationName, number>> = {
  relu: 0,
  gelu: 8,
  geluTanh: 8,
  silu: 8,
};

/** α64: the float64 activations above within α64·u64·|v|. */
export const ALPHA64: Readonly<Record<ActivationName, number>> = {
  relu: 0,
  gelu: 1024,
  geluTanh: 1024,
  silu: 1024,
};

export interface Reference {
  /** Token rows checked, in increasing order. */
  rows: number[];
  /** Expected outputs of those rows, rows.length x dModel, float64. */
  expected: Float64Array;
  /** The forward-error bound of each of those outputs. */
  bound: Float64Array;
  /** Time it took to compute, in milliseconds. */
  ms: number;
}

export interface CheckResult {
  ok: boolean;
  /** Token rows compared with the reference (every output is also checked to be finite). */
  rowsChecked: number;
  totalRows: number;
  /** Largest |y − y_ref| over the checked outputs. */
  maxAbsError: number;
  /** Largest |y − y_ref| / bound: at most 1 for a correct contender. */
  worstRatio: number;
  /** Why the check failed. */
  reason?: string;
  /**
   * Set for a quantized row (bench/quant.ts): the layer its output equals bit for bit
   * ("js q8_0"), which replaces the bound (worstRatio is 0).
   */
  against?: string;
}

/**
 * The rows to check: all of them while the float64 reference costs at most `budget`
 * multiply-adds (`matrices` products of dModel x dHidden a row: 2 for ffn, 3 for gated), else
 * `few` rows spread over the batch (first, last, and between).
 */
export function chooseRows(
  tokens: number,
  dModel: number,
  dHidden: number,
  budget = 1.2e9,
  few = 4,
  matrices = 2,
): number[] {
  const all = Array.from({ length: tokens }, (_, i) => i);
  if (matrices * tokens * dModel * dHidden <= budget || tokens <= few) return all;
  const rows = new Set<number>();
  for (let i = 0; i < few; i++) rows.add(Math.round((i * (tokens - 1)) / (few - 1)));
  return [...rows].sort((a, b) => a - b);
}

/**
 * h = x_row · W + b and Σ_k |x_k| |W_ki| + |b_i| in float64, for one token row; W is (D, H)
 * row-major, b may be absent.
 */
function linearRow(
  x: Float32Array,
  r: number,
  D: number,
  w: Float32Array,
  b: Float32Array | null,
  H: number,
  h: Float64Array,
  abs: Float64Array,
): void {
  for (let i = 0; i < H; i++) {
    const bi = b === null ? 0 : (b[i] as number);
    h[i] = bi;
    abs[i] = Math.abs(bi);
  }
  for (let k = 0; k < D; k++) {
    const xv = x[r * D + k] as number;
    const ax = Math.abs(xv);
    const off = k * H;
    for (let i = 0; i < H; i++) {
      const wv = w[off + i] as number;
      h[i] = (h[i] as number) + xv * wv;
      abs[i] = (abs[i] as number) + ax * Math.abs(wv);
    }
  }
}

/**
 * y = Σ_i p_i W_ij + b_j and its bound γ (Σ_i (|p_i| + E_i) |W_ij| + |b_j|) + Σ_i |W_ij| E_i,
 * for one token row; W is (H, D) row-major.
 */
function outputRow(
  p: Float64Array,
  e: Float64Array,
  w: Float32Array,
  b: Float32Array | null,
  H: number,
  D: number,
  g: number,
  y: Float64Array,
  bound: Float64Array,
  a2: Float64Array,
  e2: Float64Array,
): void {
  for (let j = 0; j < D; j++) {
    const bj = b === null ? 0 : (b[j] as number);
    y[j] = bj;
    a2[j] = Math.abs(bj);
    e2[j] = 0;
  }
  for (let i = 0; i < H; i++) {
    const pi = p[i] as number;
    const E = e[i] as number;
    const c = Math.abs(pi) + E;
    const off = i * D;
    for (let j = 0; j < D; j++) {
      const wv = w[off + j] as number;
      const aw = Math.abs(wv);
      y[j] = (y[j] as number) + pi * wv;
      a2[j] = (a2[j] as number) + c * aw;
      e2[j] = (e2[j] as number) + aw * E;
    }
  }
  for (let j = 0; j < D; j++) bound[j] = g * (a2[j] as number) + (e2[j] as number);
}

/** The absolute error of a float32 result a GPU flushes to zero (WGSL allows it): 2^-126. */
const FLUSH = 2 ** -126;

/**
 * The float64 reference and its bound for the given rows of one layer of the problem (the first
 * unless `layer` says) applied to the problem's input. A shape of several layers in turn is
 * checked layer by layer, each on that input: bounds compounded through a chain of twelve
 * layers would be too wide to tell anything. With `flush` the bound also covers arithmetic that
 * flushes subnormal results to zero (a GPU's: reference-webgpu.ts): 2^-125 per term of every
 * sum, 2^-126 per activation and gated product.
 */
export function computeReference(
  problem: Problem,
  rows: number[],
  layer = 0,
  flush = false,
): Reference {
  const start = performance.now();
  const { dModel: D, dHidden: H } = problem.shape;
  const act = problem.variant.activation;
  const f = ACTIVATION_REF[act];
  const L = LIPSCHITZ[act];
  const alpha32 = ALPHA32[act] * U32;
  const alpha64 = ALPHA64[act] * U64;
  const x = problem.x;
  const w = problem.layers[layer];
  if (w === undefined) throw new RangeError(`computeReference: the problem has no layer ${layer}`);
  const expected = new Float64Array(rows.length * D);
  const bound = new Float64Array(rows.length * D);
  const h = new Float64Array(H);
  const a1 = new Float64Array(H);
  const v = new Float64Array(H);
  const av = new Float64Array(H);
  const p = new Float64Array(H);
  const e = new Float64Array(H);
  const a2 = new Float64Array(D);
  const e2 = new Float64Array(D);
  /** The error bound of act(h) given h's error E (see the top of this file). */
  const flushed = flush ? FLUSH : 0;
  const actError = (hv: number, E: number) =>
    L * E + alpha32 * (Math.abs(hv) + E) + alpha64 * Math.abs(hv) + flushed;
  rows.forEach((r, n) => {
    const y = expected.subarray(n * D, (n + 1) * D);
    const yb = bound.subarray(n * D, (n + 1) * D);
    if (isGated(w)) {
      const gD = gamma(D, U32) + gamma(D, U64);
      linearRow(x, r, D, w.wGate, null, H, h, a1);
      linearRow(x, r, D, w.wUp, null, H, v, av);
      for (let i = 0; i < H; i++) {
        const gi = h[i] as number;
        const vi = v[i] as number;
        const Eg = gD * (a1[i] as number) + 2 * D * flushed;
        const Ev = gD * (av[i] as number) + 2 * D * flushed;
        const ai = f(gi);
        const Ea = actError(gi, Eg);
        const A = Math.abs(ai) + Ea;
        const V = Math.abs(vi) + Ev;
        p[i] = ai * vi;
        e[i] = A * Ev + V * Ea + (U32 + U64) * A * V + flushed;
      }
      outputRow(p, e, w.wDown, null, H, D, gamma(H, U32) + gamma(H, U64), y, yb, a2, e2);
      for (let j = 0; j < D; j++) yb[j] = (yb[j] as number) + 2 * H * flushed;
    } else {
      const g1 = gamma(D + 1, U32) + gamma(D + 1, U64);
      linearRow(x, r, D, w.w1, w.b1, H, h, a1);
      for (let i = 0; i < H; i++) {
        const hi = h[i] as number;
        p[i] = f(hi);
        e[i] = actError(hi, g1 * (a1[i] as number) + 2 * (D + 1) * flushed);
      }
      outputRow(p, e, w.w2, w.b2, H, D, gamma(H + 1, U32) + gamma(H + 1, U64), y, yb, a2, e2);
      for (let j = 0; j < D; j++) yb[j] = (yb[j] as number) + 2 * (H + 1) * flushed;
    }
  });
  return { rows, expected, bound, ms: performance.now() - start };
}

/** Compares a contender's output with the reference. */
export function checkOutput(output: unknown, problem: Problem, ref: Reference): CheckResult {
  return checkRows(output, problem.shape.tokens, problem.shape.dModel, ref);
}

/**
 * Compares an output of T rows of D values with a reference's rows, each output within its
 * bound: what {@link checkOutput} does for a layer, and bench/moe-problem.ts for a mixture.
 */
export function checkRows(
  output: unknown,
  T: number,
  D: number,
  ref: Pick<Reference, "rows" | "expected" | "bound">,
): CheckResult {
  const result: CheckResult = {
    ok: false,
    rowsChecked: ref.rows.length,
    totalRows: T,
    maxAbsError: NaN,
    worstRatio: NaN,
  };
  if (!(output instanceof Float32Array)) {
    const kind =
      output === null || typeof output !== "object" ? String(output) : output.constructor.name;
    return { ...result, reason: `returned ${kind}, expected a Float32Array` };
  }
  if (output.length !== T * D) {
    return { ...result, reason: `returned ${output.length} values, expected T·dModel = ${T * D}` };
  }
  for (let i = 0; i < output.length; i++) {
    if (!Number.isFinite(output[i])) {
      return {
        ...result,
        reason: `output (${Math.floor(i / D)}, ${i % D}) is ${output[i]}; every output must be finite here`,
      };
    }
  }
  let maxAbsError = 0;
  let worstRatio = 0;
  let firstBad: string | undefined;
  ref.rows.forEach((r, n) => {
    for (let j = 0; j < D; j++) {
      const want = ref.expected[n * D + j] as number;
      const b = ref.bound[n * D + j] as number;
      const got = output[r * D + j] as number;
      const err = Math.abs(got - want);
      maxAbsError = Math.max(maxAbsError, err);
      worstRatio = Math.max(worstRatio, b > 0 ? err / b : err === 0 ? 0 : Infinity);
      if (!(err <= b) && firstBad === undefined) {
        firstBad = `output (${r}, ${j}) is ${got}, expected ${want} within ${b.toExponential(2)} (off by ${err.toExponential(2)})`;
      }
    }
  });
  const checked = { ...result, maxAbsError, worstRatio };
  return firstBad === undefined ? { ...checked, ok: true } : { ...checked, reason: firstBad };
}
