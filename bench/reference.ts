// The float64 reference every contender is checked against before it is timed, with a
// forward-error bound per output element.
//
// For the layer y = relu(x·W1 + b1)·W2 + b2 computed in float32 by any summation order (blocked,
// pairwise, FMA or not), the standard bound for a dot product of n terms (Higham, Accuracy and
// Stability of Numerical Algorithms, 2nd ed., section 3.1) gives, with u = 2^-24 and
// γ_n = n·u / (1 − n·u):
//
//   E1_i     = γ_{D+1} (Σ_k |x_k| |W1_ki| + |b1_i|)          error of one hidden value
//   bound_j  = γ_{H+1} (Σ_i (|r_i| + E1_i) |W2_ij| + |b2_j|)  error of the second product
//            + Σ_i |W2_ij| E1_i                              the hidden error carried through
//
// where r = relu(h) of the exact hidden vector (relu is 1-Lipschitz, so it never grows an error).
// The reference itself is computed in float64; its own error is the same bound with u = 2^-53,
// so each γ here is γ(u32) + γ(u64) and the test |y − y_ref| ≤ bound is rigorous.
import type { Problem } from "./problem";

const U32 = 2 ** -24;
const U64 = 2 ** -53;

/** γ_n = n·u / (1 − n·u), the relative error bound of an n-term float dot product. */
export function gamma(n: number, u: number): number {
  const nu = n * u;
  return nu < 1 ? nu / (1 - nu) : Infinity;
}

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
}

/**
 * The rows to check: all of them while the float64 reference costs at most `budget`
 * multiply-adds, else `few` rows spread over the batch (first, last, and between).
 */
export function chooseRows(
  tokens: number,
  dModel: number,
  dHidden: number,
  budget = 1.2e9,
  few = 4,
): number[] {
  const all = Array.from({ length: tokens }, (_, i) => i);
  if (2 * tokens * dModel * dHidden <= budget || tokens <= few) return all;
  const rows = new Set<number>();
  for (let i = 0; i < few; i++) rows.add(Math.round((i * (tokens - 1)) / (few - 1)));
  return [...rows].sort((a, b) => a - b);
}

/** The float64 reference and its bound for the given rows of the problem. */
export function computeReference(problem: Problem, rows: number[]): Reference {
  const start = performance.now();
  const { dModel: D, dHidden: H } = problem.shape;
  const { w1, b1, w2, b2 } = problem.weights;
  const x = problem.x;
  const g1 = gamma(D + 1, U32) + gamma(D + 1, U64);
  const g2 = gamma(H + 1, U32) + gamma(H + 1, U64);
  const expected = new Float64Array(rows.length * D);
  const bound = new Float64Array(rows.length * D);
  const h = new Float64Array(H);
  const a1 = new Float64Array(H);
  const a2 = new Float64Array(D);
  const e2 = new Float64Array(D);
  rows.forEach((r, n) => {
    for (let i = 0; i < H; i++) {
      h[i] = b1[i] as number;
      a1[i] = Math.abs(b1[i] as number);
    }
    for (let k = 0; k < D; k++) {
      const xv = x[r * D + k] as number;
      const ax = Math.abs(xv);
      const off = k * H;
      for (let i = 0; i < H; i++) {
        const w = w1[off + i] as number;
        h[i] = (h[i] as number) + xv * w;
        a1[i] = (a1[i] as number) + ax * Math.abs(w);
      }
    }
    const y = expected.subarray(n * D, (n + 1) * D);
    for (let j = 0; j < D; j++) {
      y[j] = b2[j] as number;
      a2[j] = Math.abs(b2[j] as number);
      e2[j] = 0;
    }
    for (let i = 0; i < H; i++) {
      const hi = h[i] as number;
      const ri = hi < 0 ? 0 : hi;
      const E1 = g1 * (a1[i] as number);
      const c = ri + E1;
      const off = i * D;
      for (let j = 0; j < D; j++) {
        const w = w2[off + j] as number;
        const aw = Math.abs(w);
        y[j] = (y[j] as number) + ri * w;
        a2[j] = (a2[j] as number) + c * aw;
        e2[j] = (e2[j] as number) + aw * E1;
      }
    }
    for (let j = 0; j < D; j++) bound[n * D + j] = g2 * (a2[j] as number) + (e2[j] as number);
  });
  return { rows, expected, bound, ms: performance.now() - start };
}

/** Compares a contender's output with the reference. */
export function checkOutput(output: unknown, problem: Problem, ref: Reference): CheckResult {
  const { tokens: T, dModel: D } = problem.shape;
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
