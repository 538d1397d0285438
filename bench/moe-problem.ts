// The mixture bench's problem, its float64 reference and its check (bench/moe.ts).
//
// Every contender computes its own router logits in float32, each within
//   Δ_e = γ_D Σ_k |x_k| |R_ke|   (Higham, section 3.1; any order of summation)
// of the exact ones. A token whose k-th and (k+1)-th logits are closer than Δ_k + Δ_(k+1) could
// legitimately go to another expert in another contender. So the problem has no such near-tie:
// each token is drawn, its logits computed in float64, and the token drawn again (from the same
// stream, so the problem is still a function of the seed) until the gap between its k-th and
// (k+1)-th logits is at least TIE_MARGIN times what the contenders' float32 errors could close
// (MoEReference.gaps says by how much each row clears it). Then every correct contender picks
// the same experts, and its output is checked against the float64 mixture within a derived
// bound, element by element.
//
// The bound. Let f_i be expert i's output (the gated layer; bench/reference.ts derives its bound
// B_i) and w_i its router weight (a softmax probability, renormalised over the chosen k or not).
// A float32 contender's weight is within ρ·w_i, where, with Δ' = max_e Δ_e + 2u·max_e |l_e| (the
// logits' error and the rounding of l_e − max l) and α = 8 ulps for a float32 exp (as the
// activations' α in bench/reference.ts):
//   softmax over all E:     ρ1 = e^(2Δ') − 1 + (α + E + 2)·u·1.01
//   renormalised over k:    ρ  = 2ρ1 / (1 − ρ1) + (k + 2)·u·1.01
//   (a softmax of the chosen logits alone is within ρ1 with k for E, so within ρ too)
// and y_j = Σ_i w_i f_ij summed in float32 in any order (or in float64 and rounded once) is
// within
//   Σ_i w_i (B_ij + ρ (|f_ij| + B_ij)) + γ_(k+1) Σ_i w_i (1 + ρ)(|f_ij| + B_ij)
// of the exact mixture; every γ and u gets its float64 twin added for the reference's own
// arithmetic, as in bench/reference.ts.
import type { GatedProblemWeights } from "./problem";
import { ACTIVATION_REF, ALPHA32, ALPHA64, LIPSCHITZ, checkRows, gamma } from "./reference";

const U32 = 2 ** -24;
const U64 = 2 ** -53;
/** α of a float32 exp (ulps), as ALPHA32 of the activations. */
const EXP_ULPS = 8;
/** How many times the largest float32 error a token's top-k gap must be. */
export const TIE_MARGIN = 8;
/** Draws of one token before giving up (a shape whose logits cannot be separated). */
const MAX_DRAWS = 10_000;

/** A mixture of experts as the bench times it: gated silu experts, softmax routing, no biases. */
export interface MoEShape {
  name: string;
  dModel: number;
  dHidden: number;
  experts: number;
  topK: number;
  /** Renormalise the chosen weights to sum 1 (Mixtral) or keep the probabilities (OLMoE). */
  normalize: boolean;
}

/** The weights and the input, row-major in tokenwise's (in, out) layout. */
export interface MoEProblem {
  shape: MoEShape;
  tokens: number;
  /** (tokens, dModel) */
  x: Float32Array;
  /** (dModel, experts) */
  router: Float32Array;
  experts: GatedProblemWeights[];
}

/** A xorshift32 stream of uniform values in [−scale, scale). */
function uniform(seed: number): (scale: number) => number {
  let s = seed >>> 0 || 1;
  return (scale) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  };
}

function fill(n: number, next: (scale: number) => number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = next(scale);
  return a;
}

/** The weights of a shape from a seed (the same for every token count). */
export function moeWeights(shape: MoEShape, seed: number): Pick<MoEProblem, "router" | "experts"> {
  const { dModel: d, dHidden: h, experts: E } = shape;
  const next = uniform(seed * 2654435761 + 1);
  // Logits of standard deviation about 2.3: routing weights neither uniform nor one-hot.
  const router = fill(d * E, next, 4 / Math.sqrt(d));
  const experts = Array.from({ length: E }, () => ({
    wGate: fill(d * h, next, 1 / Math.sqrt(d)),
    wUp: fill(d * h, next, 1 / Math.sqrt(d)),
    wDown: fill(h * d, next, 1 / Math.sqrt(h)),
  }));
  return { router, experts };
}

/** Token t's float64 logits into l and Σ_k |x_k| |R_ke| into a. */
function logits64(
  x: Float32Array,
  xOff: number,
  router: Float32Array,
  d: number,
  E: number,
  l: Float64Array,
  a: Float64Array,
): void {
  l.fill(0);
  a.fill(0);
  for (let k = 0; k < d; k++) {
    const xv = x[xOff + k] as number;
    const ax = Math.abs(xv);
    for (let e = 0; e < E; e++) {
      const r = router[k * E + e] as number;
      l[e] = (l[e] as number) + xv * r;
      a[e] = (a[e] as number) + ax * Math.abs(r);
    }
  }
}

/** The experts of the k largest logits, ties to the lower index (none occur here). */
function topK(l: Float64Array, k: number): number[] {
  return Array.from(l.keys())
    .sort((p, q) => (l[q] as number) - (l[p] as number) || p - q)
    .slice(0, k);
}

/** What a token's routing can be off by in float32: its logits' bound, ρ, and its top-k gap. */
interface Routing {
  chosen: number[];
  weights: number[];
  rho: number;
  /** (k-th logit − (k+1)-th logit) / what float32 errors could close; Infinity for k = E. */
  gap: number;
}

function route(shape: MoEShape, l: Float64Array, a: Float64Array): Routing {
  const { dModel: d, experts: E, topK: k, normalize } = shape;
  const gD = gamma(d, U32) + gamma(d, U64);
  let delta = 0;
  let big = 0;
  for (let e = 0; e < E; e++) {
    delta = Math.max(delta, gD * (a[e] as number));
    big = Math.max(big, Math.abs(l[e] as number));
  }
  const dl = delta + 2 * (U32 + U64) * big;
  const rho1 = Math.expm1(2 * dl) + (EXP_ULPS + E + 2) * U32 * 1.01;
  const rho = (normalize ? (2 * rho1) / (1 - rho1) + (k + 2) * U32 * 1.01 : rho1) + 64 * U64;
  const order = topK(l, Math.min(E, k + 1));
  const chosen = order.slice(0, k).sort((p, q) => p - q);
  // The peers may rank logits (within 2Δ of each other) or probabilities (within ρ1 relative,
  // so log-ratios within 2ρ1): a gap above both cannot close.
  const closable = Math.max(2 * dl, 2.01 * rho1);
  const gap =
    k < E
      ? ((l[order[k - 1] as number] as number) - (l[order[k] as number] as number)) / closable
      : Infinity;
  let m = -Infinity;
  for (let e = 0; e < E; e++) m = Math.max(m, l[e] as number);
  let z = 0;
  for (let e = 0; e < E; e++) z += Math.exp((l[e] as number) - m);
  const p = chosen.map((e) => Math.exp((l[e] as number) - m) / z);
  const s = p.reduce((u, v) => u + v, 0);
  return { chosen, weights: normalize ? p.map((v) => v / s) : p, rho, gap };
}

/**
 * The problem of a shape at `tokens` tokens: the weights of moeWeights, and tokens drawn until
 * each clears the tie margin (see the top of this file).
 */
export function makeMoEProblem(
  shape: MoEShape,
  tokens: number,
  seed: number,
  weights: Pick<MoEProblem, "router" | "experts"> = moeWeights(shape, seed),
): MoEProblem {
  const { dModel: d, experts: E } = shape;
  const next = uniform(seed * 40503 + tokens);
  const x = new Float32Array(tokens * d);
  const l = new Float64Array(E);
  const a = new Float64Array(E);
  for (let t = 0; t < tokens; t++) {
    for (let draw = 0; ; draw++) {
      if (draw === MAX_DRAWS) {
        throw new RangeError(
          `makeMoEProblem: ${shape.name}: no token in ${MAX_DRAWS} draws clears the tie margin`,
        );
      }
      for (let k = 0; k < d; k++) x[t * d + k] = next(1);
      logits64(x, t * d, weights.router, d, E, l, a);
      if (route(shape, l, a).gap >= TIE_MARGIN) break;
    }
  }
  return { shape, tokens, x, ...weights };
}

/** The float64 mixture and its bound on some rows. */
export interface MoEReference {
  rows: number[];
  /** rows.length · dModel */
  expected: Float64Array;
  bound: Float64Array;
  /** Each row's chosen experts, increasing. */
  chosen: number[][];
  /** The smallest top-k gap over the rows, in units of what float32 errors could close. */
  minGap: number;
}

/** Expert e of the gated silu layer on token r in float64, and its bound B (reference.ts). */
function expert64(
  p: MoEProblem,
  w: GatedProblemWeights,
  r: number,
  y: Float64Array,
  b: Float64Array,
): void {
  const { dModel: D, dHidden: H } = p.shape;
  const f = ACTIVATION_REF.silu;
  const L = LIPSCHITZ.silu;
  const al32 = ALPHA32.silu * U32;
  const al64 = ALPHA64.silu * U64;
  const g = new Float64Array(H);
  const ag = new Float64Array(H);
  const v = new Float64Array(H);
  const av = new Float64Array(H);
  for (let k = 0; k < D; k++) {
    const xv = p.x[r * D + k] as number;
    const ax = Math.abs(xv);
    const o = k * H;
    for (let i = 0; i < H; i++) {
      const wg = w.wGate[o + i] as number;
      const wu = w.wUp[o + i] as number;
      g[i] = (g[i] as number) + xv * wg;
      ag[i] = (ag[i] as number) + ax * Math.abs(wg);
      v[i] = (v[i] as number) + xv * wu;
      av[i] = (av[i] as number) + ax * Math.abs(wu);
    }
  }
  const gD = gamma(D, U32) + gamma(D, U64);
  const gH = gamma(H, U32) + gamma(H, U64);
  y.fill(0);
  b.fill(0);
  const carried = new Float64Array(D);
  for (let i = 0; i < H; i++) {
    const gi = g[i] as number;
    const vi = v[i] as number;
    const Eg = gD * (ag[i] as number);
    const Ev = gD * (av[i] as number);
    const ai = f(gi);
    const Ea = L * Eg + al32 * (Math.abs(gi) + Eg) + al64 * Math.abs(gi);
    const A = Math.abs(ai) + Ea;
    const V = Math.abs(vi) + Ev;
    const pi = ai * vi;
    const Ep = A * Ev + V * Ea + (U32 + U64) * A * V;
    const c = Math.abs(pi) + Ep;
    const o = i * D;
    for (let j = 0; j < D; j++) {
      const wd = w.wDown[o + j] as number;
      const aw = Math.abs(wd);
      y[j] = (y[j] as number) + pi * wd;
      b[j] = (b[j] as number) + c * aw;
      carried[j] = (carried[j] as number) + aw * Ep;
    }
  }
  for (let j = 0; j < D; j++) b[j] = gH * (b[j] as number) + (carried[j] as number);
}

/** The float64 mixture on the given rows, with each element's bound. */
export function moeReference(p: MoEProblem, rows: readonly number[]): MoEReference {
  const { dModel: D, experts: E, topK: k } = p.shape;
  const expected = new Float64Array(rows.length * D);
  const bound = new Float64Array(rows.length * D);
  const l = new Float64Array(E);
  const a = new Float64Array(E);
  const f = new Float64Array(D);
  const fb = new Float64Array(D);
  const g = gamma(k + 1, U32) + gamma(k + 1, U64);
  const chosen: number[][] = [];
  let minGap = Infinity;
  rows.forEach((r, n) => {
    logits64(p.x, r * D, p.router, D, E, l, a);
    const rt = route(p.shape, l, a);
    chosen.push(rt.chosen);
    minGap = Math.min(minGap, rt.gap);
    const y = expected.subarray(n * D, (n + 1) * D);
    const yb = bound.subarray(n * D, (n + 1) * D);
    const sum = new Float64Array(D);
    rt.chosen.forEach((e, i) => {
      const w = rt.weights[i] as number;
      expert64(p, p.experts[e] as GatedProblemWeights, r, f, fb);
      for (let j = 0; j < D; j++) {
        const fj = f[j] as number;
        const bj = fb[j] as number;
        y[j] = (y[j] as number) + w * fj;
        yb[j] = (yb[j] as number) + w * (bj + rt.rho * (Math.abs(fj) + bj));
        sum[j] = (sum[j] as number) + w * (1 + rt.rho) * (Math.abs(fj) + bj);
      }
    });
    for (let j = 0; j < D; j++) yb[j] = (yb[j] as number) + g * (sum[j] as number);
  });
  return { rows: [...rows], expected, bound, chosen, minGap };
}

/** The check of one contender's output: ok, or the first element out of its bound. */
export interface MoECheck {
  ok: boolean;
  /** Largest |y − y_ref| / bound over the checked elements: at most 1 for a correct one. */
  worstRatio: number;
  reason?: string;
}

/** Compares an output (tokens · dModel) with the reference on its rows. */
export function checkMoE(output: unknown, p: MoEProblem, ref: MoEReference): MoECheck {
  const c = checkRows(output, p.tokens, p.shape.dModel, ref);
  return c.reason === undefined
    ? { ok: c.ok, worstRatio: c.worstRatio }
    : { ok: c.ok, worstRatio: c.worstRatio, reason: c.reason };
}

/** The rows checked at `tokens` tokens: all up to 8, else 8 spread over the batch. */
export function moeRows(tokens: number): number[] {
  if (tokens <= 8) return Array.from({ length: tokens }, (_, i) => i);
  return Array.from({ length: 8 }, (_, i) => Math.round((i * (tokens - 1)) / 7));
}
