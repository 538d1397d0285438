// The exact check: a second problem, drawn so that float32 arithmetic on it is exact in every
// summation order, where every correct kernel must return the exact output, bit for bit. The
// forward-error bound of reference.ts is rigorous for any summation order, which at real widths
// makes it thousands of times wider than the errors kernels make: a kernel that drops a term of
// every dot product can pass it. On this problem it cannot: there is no rounding to hide in.
//
// Every value is a small integer times a power of two:
//
//   x          = p / 2,         p in ±{1, 2}; each row after the first adds 1 to |p| at one
//                               coordinate of its own (row r: coordinate r − 1, cycling); the
//                               gated layer's last B coordinates are p = ±32^i (i < B)
//   W1, Wg, Wu = q · 512,       q in ±{1, 2} (±1 to ±127 in the gated layer's last B rows),
//                               so every product x·w is a multiple of 256
//   b1         = a multiple of 256, chosen so that row 0's hidden value is exactly its target
//   W2         = r · 2^-12,     r in ±{1, 2}, so h·W2 is a multiple of 1/16
//   Wd         = r · 2^-20,     r = ±1, the gated layer's (act(g)·v is a multiple of 2^16)
//   b2         = m / 16,        m in ±{1..8}
//
// A float32 sum of such terms is exact, in any order, while every partial sum stays below 2^24
// units (1/16 for outputs, 256 for hidden values): any partial sum is bounded by the sum of the
// terms' magnitudes, which the generator bounds for every output and hidden value (and throws
// where it cannot). FMA or not, float64 accumulators or float32, blocked or pairwise: a correct
// kernel computes these sums exactly, and so must return exactly the integer-arithmetic result.
//
// The hidden values are targets, positive and distinct among neighbours: row 0's hidden value of
// column i is exactly t_i = 8 + π(i mod M) units, π a random permutation of 0..M−1, M as large
// as the sums allow (hundreds for the FeedForward, dozens for the gated layer's two factors).
// The FeedForward's bias b1 makes it so; the gated layer, which has no bias, uses its input's
// last B coordinates as one, written in base 32: |p| = 32^i at the i-th of them, whose weight
// rows hold the digits a_i (1 ≤ |a_i| ≤ 127) of the difference between the target and the sum
// of the other terms, so no weight is zero and every weight is a small integer times a power of
// two that bf16 and f16 both hold (at most 7 significant bits, at most 127 · 512 = 65024 in
// magnitude; Wd's 2^-20 is an f16 subnormal, exact): a run with `--dtype bf16,f16` checks the
// 16-bit layers on this very problem. No row changes those coordinates. Another row's hidden value differs from row 0's by the one term of
// its changed coordinate (at most 2 units), so every hidden value is at least 6 units: positive,
// so every term of the first product reaches the output through the activation; distinct from
// its M − 1 neighbours in row 0, so two hidden columns swapped (within a vector, a panel) change
// the output; and nonzero weights and inputs everywhere, so a term dropped anywhere changes it.
// The gated layer's up values take a random sign (they are not activated).
//
// Activations: relu is exact. gelu, geluTanh and silu are not, but every hidden value here is a
// multiple of 256 of at least 1536, where they saturate: act(h) = h for h ≥ 256 (Φ, (1 + tanh)/2
// and σ are exactly 1 in float32 and in float64 there). So the exact output is the same for every
// activation, and a correct kernel of any activation returns it. This problem does not test the
// activation itself (nor its negative side): the bound check does, on the ordinary problem.
//
// A shape of several layers (D1) draws one such problem per layer, each with its own input;
// the harness runs each layer's instance of the contender on its own input (the chain of
// layers is the harness's own code, checked by the bound check).
import { Random } from "../src/random";
import type { Variant } from "./layer";
import type { LayerWeights } from "./problem";
import { chooseRows } from "./reference";
import { type Shape, layersOf } from "./shapes";

/** x = p · X_SCALE. */
const X_SCALE = 2 ** -1;
/** W1, Wg, Wu = q · W_IN_SCALE. */
const W_IN_SCALE = 2 ** 9;
/** Every hidden value (h, g, v) is an integer multiple of this. */
const H_UNIT = X_SCALE * W_IN_SCALE;
/** Every output (and b2) is an integer multiple of this. */
const Y_UNIT = 2 ** -4;
/** Float32 sums of integers are exact while every partial sum stays below this. */
const EXACT_LIMIT = 2 ** 24;
/** The smallest hidden target, units; a row moves it by at most 2. */
const T0 = 8;
/** Largest spread of targets (M) tried. */
const M_MAX = 4096;

export interface ExactLayer {
  weights: LayerWeights;
  /** This layer's input, (tokens, dModel) row-major. */
  x: Float32Array;
  /** Token rows whose output is compared, increasing. */
  rows: number[];
  /** The exact outputs of those rows, rows.length x dModel (every one a float32). */
  expected: Float32Array;
}

export interface ExactProblem {
  shape: Shape;
  seed: number;
  variant: Variant;
  /** One problem per layer of the shape, each with its own input. */
  layers: ExactLayer[];
  /**
   * The largest sum of term magnitudes of any output or hidden value, in its units: below 2^24
   * (checked), so every partial sum of every summation order is exact in float32.
   */
  largestSum: number;
  /** Row 0's hidden values are distinct among any this many consecutive columns. */
  distinctColumns: number;
}

export interface ExactCheck {
  ok: boolean;
  /** Outputs compared (checked rows x dModel x layers) and how many differed. */
  compared: number;
  mismatches: number;
  rowsChecked: number;
  totalRows: number;
  /** Why the check failed, naming the first output that differs. */
  reason?: string;
}

/** ±1 or ±2, as an integer. */
function small(rng: Random): number {
  const u = rng.uint32();
  const mag = 1 + (u & 1);
  return u & 2 ? -mag : mag;
}

/** ±1 with equal odds. */
function sign(rng: Random): number {
  return rng.uint32() & 1 ? -1 : 1;
}

/** A random permutation of 0..n−1 (Fisher–Yates). */
function permutation(rng: Random, n: number): Int32Array {
  const a = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.uint32() % (i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/** Targets t_i = T0 + π(i mod M). */
function targets(rng: Random, H: number, M: number): Int32Array {
  const pi = permutation(rng, M);
  return Int32Array.from({ length: H }, (_, i) => T0 + (pi[i % M] as number));
}

/**
 * An upper bound of Σ_i f(t_i) over H targets T0 + π(i mod M), f increasing: each value
 * T0 + k appears at most ceil(H / M) times.
 */
function targetSum(H: number, M: number, f: (t: number) => number): number {
  let one = 0;
  for (let k = 0; k < M; k++) one += f(T0 + k);
  return Math.ceil(H / M) * one;
}

/** The largest M in [1, min(H, M_MAX)] with fits(M), or 0 if none. */
function largestM(H: number, fits: (M: number) => boolean): number {
  let lo = 0;
  let hi = Math.min(H, M_MAX);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The input: p of row 0 (x = p · X_SCALE) and every row as float32. Rows past the first add 1
 * to |p| at coordinate (r − 1) mod `span`. The last `digits` coordinates (the gated layer's
 * bias, out of the span) have |p| = 32^i, i = 0, 1, ..., with a random sign.
 */
function drawInput(
  rng: Random,
  T: number,
  D: number,
  span: number,
  digits: number,
): { p0: Int32Array; x: Float32Array } {
  const p0 = new Int32Array(D);
  for (let k = 0; k < D; k++) p0[k] = small(rng);
  for (let i = 0; i < digits; i++) p0[D - digits + i] = sign(rng) * DIGIT_BASE ** i;
  const x = new Float32Array(T * D);
  for (let r = 0; r < T; r++) {
    for (let k = 0; k < D; k++) x[r * D + k] = (p0[k] as number) * X_SCALE;
    const k = changedAt(r, span);
    if (k >= 0) {
      const p = p0[k] as number;
      x[r * D + k] = (p + Math.sign(p)) * X_SCALE;
    }
  }
  return { p0, x };
}

/** The coordinate row r changes, or −1 (row 0, or nothing to change). */
function changedAt(r: number, span: number): number {
  return r === 0 || span === 0 ? -1 : (r - 1) % span;
}

/**
 * A hidden value (units) of row r, given row 0's: row r differs by one term, sign(p0_k)·q_ki at
 * its changed coordinate k.
 */
function hiddenOfRow(
  n0: number,
  r: number,
  i: number,
  p0: Int32Array,
  q: Int8Array,
  H: number,
  span: number,
): number {
  const k = changedAt(r, span);
  return k < 0 ? n0 : n0 + Math.sign(p0[k] as number) * (q[k * H + i] as number);
}

/**
 * Σ_k p0_k q_ki over k < K for every column i, and Σ_k |p0_k||q_ki| plus the largest |q_ki| (the
 * term a later row adds): row by row of q, the order memory likes.
 */
function columnSums(
  p0: Int32Array,
  q: Int8Array,
  H: number,
  K: number,
): { sum: Float64Array; abs: Float64Array } {
  const sum = new Float64Array(H);
  const abs = new Float64Array(H);
  const extra = new Float64Array(H);
  for (let k = 0; k < K; k++) {
    const p = p0[k] as number;
    const ap = Math.abs(p);
    const off = k * H;
    for (let i = 0; i < H; i++) {
      const qk = q[off + i] as number;
      sum[i] = (sum[i] as number) + p * qk;
      abs[i] = (abs[i] as number) + ap * Math.abs(qk);
      if (Math.abs(qk) > (extra[i] as number)) extra[i] = Math.abs(qk);
    }
  }
  for (let i = 0; i < H; i++) abs[i] = (abs[i] as number) + (extra[i] as number);
  return { sum, abs };
}

/**
 * Column i of q (rows k < K) drawn again; returns its new row-0 sum and sum of term magnitudes
 * (plus the largest |q|, as columnSums).
 */
function redrawColumn(
  rng: Random,
  p0: Int32Array,
  q: Int8Array,
  H: number,
  i: number,
  K: number,
): { sum: number; abs: number } {
  let sum = 0;
  let abs = 0;
  let extra = 0;
  for (let k = 0; k < K; k++) {
    const v = small(rng);
    q[k * H + i] = v;
    sum += (p0[k] as number) * v;
    abs += Math.abs((p0[k] as number) * v);
    extra = Math.max(extra, Math.abs(v));
  }
  return { sum, abs: abs + extra };
}

function assertExact(sum: number, what: string, shape: Shape): void {
  if (!(sum < EXACT_LIMIT)) {
    throw new RangeError(
      `exact problem at ${shape.name}: ${what} needs sums up to ${sum} units, beyond float32's exact 2^24; the shape is too large for the exact check`,
    );
  }
}

interface Drawn {
  layer: ExactLayer;
  sum: number;
  distinct: number;
}

function ffnLayer(rng: Random, shape: Shape, rows: number[]): Drawn {
  const { tokens: T, dModel: D, dHidden: H } = shape;
  // Every row's hidden value is within 2 of its target, so Σ_i (t_i + 2)·2 + 8 bounds every
  // output's sum of term magnitudes (|r| ≤ 2, |m| ≤ 8).
  const M = largestM(H, (m) => 2 * targetSum(H, m, (t) => t + 2) + 8 < EXACT_LIMIT);
  if (M === 0) assertExact(2 * (T0 + 2) * H + 8, "h·W2 + b2", shape);
  const { p0, x } = drawInput(rng, T, D, D, 0);
  const q = new Int8Array(D * H);
  for (let j = 0; j < q.length; j++) q[j] = small(rng);
  const { sum: s0, abs: abs1 } = columnSums(p0, q, H, D);
  const t = targets(rng, H, M);
  const b1 = new Float32Array(H);
  let sum = 0;
  for (let i = 0; i < H; i++) {
    // b1 must not be 0: a bias added twice must show.
    while ((s0[i] as number) === (t[i] as number)) {
      const again = redrawColumn(rng, p0, q, H, i, D);
      s0[i] = again.sum;
      abs1[i] = again.abs;
    }
    const bias = (t[i] as number) - (s0[i] as number);
    b1[i] = bias * H_UNIT;
    sum = Math.max(sum, (abs1[i] as number) + Math.abs(bias));
  }
  assertExact(sum, "x·W1 + b1", shape);
  const r2 = new Int8Array(H * D);
  for (let j = 0; j < r2.length; j++) r2[j] = small(rng);
  const m = new Int8Array(D);
  for (let j = 0; j < D; j++) m[j] = (1 + (rng.uint32() % 8)) * sign(rng);
  sum = Math.max(sum, 2 * targetSum(H, M, (v) => v + 2) + 8);
  assertExact(sum, "h·W2 + b2", shape);

  const expected = new Float32Array(rows.length * D);
  const n = new Float64Array(H);
  const y = new Float64Array(D);
  rows.forEach((r, at) => {
    for (let i = 0; i < H; i++) n[i] = hiddenOfRow(t[i] as number, r, i, p0, q, H, D);
    for (let j = 0; j < D; j++) y[j] = m[j] as number;
    for (let i = 0; i < H; i++) {
      const ni = n[i] as number; // positive: relu (or a saturated activation) keeps it
      const off = i * D;
      for (let j = 0; j < D; j++) y[j] = (y[j] as number) + ni * (r2[off + j] as number);
    }
    for (let j = 0; j < D; j++) expected[at * D + j] = (y[j] as number) * Y_UNIT;
  });
  const w1 = new Float32Array(D * H);
  for (let j = 0; j < w1.length; j++) w1[j] = (q[j] as number) * W_IN_SCALE;
  const w2 = new Float32Array(H * D);
  for (let j = 0; j < w2.length; j++) w2[j] = (r2[j] as number) * (Y_UNIT / H_UNIT);
  const b2 = new Float32Array(D);
  for (let j = 0; j < D; j++) b2[j] = (m[j] as number) * Y_UNIT;
  return { layer: { weights: { w1, b1, w2, b2 }, x, rows, expected }, sum, distinct: M };
}

/** The base of the gated layer's bias digits. */
const DIGIT_BASE = 32;
/** The largest magnitude of a bias digit: 127 · 512 = 65024 is within f16's range. */
const DIGIT_MAX = 127;

/**
 * How many bias digits reach every difference up to `most` in magnitude: the lower digits take
 * |d| down to at most |d| / 32^(B−1) + 2 (see {@link biasDigits}), which must stay ≤ 127.
 */
function digitCount(most: number): number {
  let B = 1;
  while (most / DIGIT_BASE ** (B - 1) + 2 > DIGIT_MAX) B++;
  return B;
}

/**
 * d as B digits a_i with Σ a_i · 32^i = d, every a_i nonzero and |a_i| ≤ 127 (so a weight
 * dropped there shows, and a_i · 512 is exact in bf16 and f16), or null when none (B = 1 and
 * d = 0, or d out of reach). The lower digits are d's residues mod 32 in [−16, 15], 32 for a 0;
 * a last digit that would be 0 takes −1, its neighbour 32 more.
 */
function biasDigits(d: number, B: number): number[] | null {
  const a: number[] = [];
  let rest = d;
  for (let i = 0; i < B - 1; i++) {
    let ai = ((((rest + 16) % DIGIT_BASE) + DIGIT_BASE) % DIGIT_BASE) - 16;
    if (ai === 0) ai = DIGIT_BASE;
    a.push(ai);
    rest = (rest - ai) / DIGIT_BASE;
  }
  if (rest === 0 && B > 1) {
    a[B - 2] = (a[B - 2] as number) + DIGIT_BASE;
    rest = -1;
  }
  if (rest === 0 || Math.abs(rest) > DIGIT_MAX) return null;
  a.push(rest);
  return a;
}

/**
 * q (D x H) for Wgate or Wup: random ±1, ±2 but for the last B rows, which make row 0's sum of
 * column i exactly target_i (p0 is ±32^j there): their values are the digits of the difference
 * (times p0's sign). Returns those rows (B x H) and the largest sum of term magnitudes.
 */
function targetColumns(
  rng: Random,
  p0: Int32Array,
  q: Int8Array,
  H: number,
  target: Int32Array,
  B: number,
): { last: Float64Array; abs: number } {
  const D = p0.length;
  const c = D - B;
  const { sum: s, abs } = columnSums(p0, q, H, c);
  const last = new Float64Array(B * H);
  let most = 0;
  for (let i = 0; i < H; i++) {
    let a = biasDigits((target[i] as number) - (s[i] as number), B);
    // Only B = 1 and a sum already on target leaves no digits: draw the column again.
    while (a === null) {
      const again = redrawColumn(rng, p0, q, H, i, c);
      s[i] = again.sum;
      abs[i] = again.abs;
      a = biasDigits((target[i] as number) - (s[i] as number), B);
    }
    let terms = abs[i] as number;
    for (let j = 0; j < B; j++) {
      const p = p0[c + j] as number;
      last[j * H + i] = (a[j] as number) * Math.sign(p);
      terms += Math.abs(a[j] as number) * Math.abs(p);
    }
    most = Math.max(most, terms);
  }
  return { last, abs: most };
}

function gatedLayer(rng: Random, shape: Shape, rows: number[]): Drawn {
  const { tokens: T, dModel: D, dHidden: H } = shape;
  // |g|, |v| ≤ their targets + 2 in every row, |Wd| = 1: Σ_i (tg_i + 2)(tv_i + 2) bounds every
  // output's sum, and by the rearrangement inequality Σ (t + 2)^2 bounds that.
  const M = largestM(H, (m) => targetSum(H, m, (t) => (t + 2) ** 2) < EXACT_LIMIT);
  if (M === 0) assertExact((T0 + 2) ** 2 * H, "(act(x·Wgate) ⊙ x·Wup)·Wdown", shape);
  // Row 0's sums over the other coordinates are at most 4 (D − 1) in magnitude, the targets
  // T0 + M − 1: the bias digits must reach their difference.
  const B = digitCount(4 * (D - 1) + T0 + M);
  if (B > D) {
    throw new RangeError(
      `exact problem at ${shape.name}: the gated layer's bias needs ${B} input coordinates, more than dModel = ${D}`,
    );
  }
  const span = D - B;
  const { p0, x } = drawInput(rng, T, D, span, B);
  const qg = new Int8Array(D * H);
  const qu = new Int8Array(D * H);
  for (let k = 0; k < span; k++) {
    for (let i = 0; i < H; i++) {
      qg[k * H + i] = small(rng);
      qu[k * H + i] = small(rng);
    }
  }
  const tg = targets(rng, H, M);
  const tu = targets(rng, H, M);
  for (let i = 0; i < H; i++) tu[i] = (tu[i] as number) * sign(rng);
  const g = targetColumns(rng, p0, qg, H, tg, B);
  const u = targetColumns(rng, p0, qu, H, tu, B);
  let sum = Math.max(g.abs, u.abs);
  assertExact(sum, "x·Wgate and x·Wup", shape);
  const rd = new Int8Array(H * D);
  for (let j = 0; j < rd.length; j++) rd[j] = sign(rng);
  sum = Math.max(
    sum,
    targetSum(H, M, (t) => (t + 2) ** 2),
  );
  assertExact(sum, "(act(x·Wgate) ⊙ x·Wup)·Wdown", shape);

  const expected = new Float32Array(rows.length * D);
  const p = new Float64Array(H);
  const y = new Float64Array(D);
  rows.forEach((r, at) => {
    for (let i = 0; i < H; i++) {
      const gi = hiddenOfRow(tg[i] as number, r, i, p0, qg, H, span); // positive
      p[i] = gi * hiddenOfRow(tu[i] as number, r, i, p0, qu, H, span);
    }
    y.fill(0);
    for (let i = 0; i < H; i++) {
      const pi = p[i] as number;
      const off = i * D;
      for (let j = 0; j < D; j++) y[j] = (y[j] as number) + pi * (rd[off + j] as number);
    }
    for (let j = 0; j < D; j++) expected[at * D + j] = (y[j] as number) * Y_UNIT;
  });
  const wGate = new Float32Array(D * H);
  const wUp = new Float32Array(D * H);
  for (let j = 0; j < span * H; j++) {
    wGate[j] = (qg[j] as number) * W_IN_SCALE;
    wUp[j] = (qu[j] as number) * W_IN_SCALE;
  }
  for (let j = 0; j < B * H; j++) {
    wGate[span * H + j] = (g.last[j] as number) * W_IN_SCALE;
    wUp[span * H + j] = (u.last[j] as number) * W_IN_SCALE;
  }
  const wDown = new Float32Array(H * D);
  for (let j = 0; j < wDown.length; j++)
    wDown[j] = (rd[j] as number) * (Y_UNIT / (H_UNIT * H_UNIT));
  return { layer: { weights: { wGate, wUp, wDown }, x, rows, expected }, sum, distinct: M };
}

/**
 * The exact problem of a shape: per layer, weights, an input and the exact output of the
 * checked rows (all of them while the integer reference costs at most `budget` multiply-adds,
 * as reference.ts chooses them). Throws a RangeError at a shape too large for float32 to stay
 * exact (dHidden over about 800,000 for the FeedForward, 160,000 for the gated layer).
 */
export function makeExactProblem(
  shape: Shape,
  seed: number,
  variant: Variant,
  budget = 1.2e9,
): ExactProblem {
  // Another stream than makeProblem's, so the two problems share nothing.
  const rng = new Random((seed ^ 0x5eed_e8ac) >>> 0);
  const gated = variant.layer === "gated";
  const rows = chooseRows(
    shape.tokens,
    shape.dModel,
    shape.dHidden,
    budget,
    4,
    (gated ? 3 : 2) * layersOf(shape),
  );
  const layers: ExactLayer[] = [];
  let largestSum = 0;
  let distinctColumns = Infinity;
  for (let l = 0; l < layersOf(shape); l++) {
    const { layer, sum, distinct } = gated
      ? gatedLayer(rng, shape, rows)
      : ffnLayer(rng, shape, rows);
    layers.push(layer);
    largestSum = Math.max(largestSum, sum);
    distinctColumns = Math.min(distinctColumns, distinct);
  }
  return { shape, seed, variant, layers, largestSum, distinctColumns };
}

/** Why an output cannot be compared at all (kind, length, a non-finite value), or null. */
export function outputTrouble(output: unknown, T: number, D: number): string | null {
  if (!(output instanceof Float32Array)) {
    const kind =
      output === null || typeof output !== "object" ? String(output) : output.constructor.name;
    return `returned ${kind}, expected a Float32Array`;
  }
  if (output.length !== T * D)
    return `returned ${output.length} values, expected T·dModel = ${T * D}`;
  for (let i = 0; i < output.length; i++) {
    if (!Number.isFinite(output[i])) {
      return `output (${Math.floor(i / D)}, ${i % D}) is ${output[i]}; every output must be finite here`;
    }
  }
  return null;
}

/**
 * Compares a contender's outputs on the exact problem, one per layer (each layer's instance run
 * on that layer's input), with the exact ones: equal as numbers (−0 equals +0), every one.
 */
export function checkExact(outputs: readonly unknown[], exact: ExactProblem): ExactCheck {
  const { tokens: T, dModel: D } = exact.shape;
  const rows = exact.layers[0]?.rows ?? [];
  const n = exact.layers.length;
  const base = { rowsChecked: rows.length, totalRows: T, compared: 0, mismatches: 0 };
  const where = (l: number) => (n > 1 ? ` of layer ${l + 1}` : "");
  if (outputs.length !== n) {
    return { ...base, ok: false, reason: `exact check: ${outputs.length} outputs for ${n} layers` };
  }
  let first: string | undefined;
  let compared = 0;
  let mismatches = 0;
  for (let l = 0; l < n; l++) {
    const layer = exact.layers[l] as ExactLayer;
    const out = outputs[l];
    const trouble = outputTrouble(out, T, D);
    if (trouble !== null) {
      return { ...base, ok: false, reason: `exact check${where(l)}: ${trouble}` };
    }
    const y = out as Float32Array;
    layer.rows.forEach((r, at) => {
      for (let j = 0; j < D; j++) {
        const want = layer.expected[at * D + j] as number;
        const got = y[r * D + j] as number;
        compared++;
        if (got !== want) {
          mismatches++;
          first ??= `output (${r}, ${j})${where(l)} is ${got}, expected exactly ${want}`;
        }
      }
    });
  }
  const result = { ...base, compared, mismatches };
  if (first === undefined) return { ...result, ok: true };
  return {
    ...result,
    ok: false,
    reason: `exact check: ${first} (${mismatches} of ${compared} outputs differ; on this problem float32 arithmetic is exact in any order)`,
  };
}
