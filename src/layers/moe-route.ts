// The router of a mixture of experts: for each token, its experts and their weights. Plain
// JavaScript, the same on every kernel, so a token's experts never depend on the kernel, the
// threads or the batch (docs/moe.md gives every step's arithmetic).
import { exp64, sigmoid64 } from "../kernels/activation";
import { NR, linearJs, packedLength } from "../kernels/js";
import { packRows, unpackRows } from "../kernels/source";

/**
 * How the router scores the experts: `"softmax"` over all the experts' logits (Mixtral,
 * Qwen-MoE, OLMoE), or `"sigmoid"` of each logit alone (DeepSeek-V3).
 *
 * @category MixtureOfExperts
 */
export type Scoring = "softmax" | "sigmoid";

/** The router's parameters, checked: the logits' map packed as the js kernel packs a map. */
export interface Router {
  dModel: number;
  experts: number;
  topK: number;
  scoring: Scoring;
  normalize: boolean;
  scale: number;
  /** (dModel, experts) in panels of NR columns (js.ts). */
  packed: Float32Array;
  bias: Float32Array | null;
  selection: Float32Array | null;
  /** (dModel) the shared expert's gate, or null (no gate: the shared expert's weight is 1). */
  sharedGate: Float32Array | null;
}

/** Packs a (dModel, experts) router given in rows (tokenwise's (in, out) layout). */
export function packRouter(w: Float32Array, dModel: number, experts: number): Float32Array {
  const packed = new Float32Array(packedLength(dModel, experts));
  packRows(
    dModel,
    experts,
    NR,
    (k, dst) => dst.set(w.subarray(k * experts, (k + 1) * experts)),
    packed,
    0,
  );
  return packed;
}

/** The router's (dModel, experts) matrix, unpacked: a fresh copy. */
export function unpackRouter(r: Router): Float32Array {
  return unpackRows(r.packed, 0, r.dModel, r.experts, NR);
}

/** True when key a ranks above key b: larger, and any number above NaN. */
function above(a: number, b: number): boolean {
  return a > b || (b !== b && a === a);
}

/** Reusable buffers for routing up to `rows` tokens. */
export class RouteScratch {
  readonly logits: Float32Array;
  readonly score: Float64Array;
  readonly key: Float64Array;
  readonly pick: Int32Array;

  constructor(rows: number, experts: number, topK: number) {
    this.logits = new Float32Array(rows * experts);
    this.score = new Float64Array(experts);
    this.key = new Float64Array(topK);
    this.pick = new Int32Array(topK);
  }
}

/**
 * Routes n tokens of x from xOff: for token t, its k experts in increasing index go to
 * experts[t·k ..], with their float32 weights in weights[t·k ..]; and with a shared gate, the
 * gate's float32 weight goes to gates[t]; with `scores`, token t's float64 scores go to
 * scores[t·experts ..]. See docs/moe.md for each step.
 */
export function routeRows(
  r: Router,
  x: Float32Array,
  xOff: number,
  n: number,
  s: RouteScratch,
  experts: Int32Array,
  weights: Float32Array,
  gates: Float32Array | null,
  scores: Float64Array | null = null,
): void {
  const { dModel: d, experts: E, topK: k, selection } = r;
  const { logits, score, key, pick } = s;
  // l = fl32(Σ_k x_k R_ke + b_e): float64 sums over k in increasing order, as the js kernel.
  linearJs(x, xOff, n, d, r.packed, 0, E, r.bias, "none", logits, 0, 0, Math.ceil(E / NR));
  for (let t = 0; t < n; t++) {
    const lo = t * E;
    if (r.scoring === "softmax") {
      let m = -Infinity;
      for (let e = 0; e < E; e++) if ((logits[lo + e] as number) > m) m = logits[lo + e] as number;
      let z = 0;
      for (let e = 0; e < E; e++) {
        const v = exp64((logits[lo + e] as number) - m);
        score[e] = v;
        z += v;
      }
      for (let e = 0; e < E; e++) score[e] = (score[e] as number) / z;
    } else {
      for (let e = 0; e < E; e++) score[e] = sigmoid64(logits[lo + e] as number);
    }
    if (scores !== null) scores.set(score, t * E);
    // Top k by key (the score, plus the selection bias if any), ties to the lower index: an
    // expert enters the list only by ranking strictly above an entry.
    let have = 0;
    for (let e = 0; e < E; e++) {
      const c =
        selection === null ? (score[e] as number) : (score[e] as number) + (selection[e] as number);
      if (have === k && !above(c, key[k - 1] as number)) continue;
      let i = have < k ? have++ : k - 1;
      for (; i > 0 && above(c, key[i - 1] as number); i--) {
        key[i] = key[i - 1] as number;
        pick[i] = pick[i - 1] as number;
      }
      key[i] = c;
      pick[i] = e;
    }
    // The chosen experts in increasing index: the order of every later sum.
    for (let i = 1; i < k; i++) {
      const p = pick[i] as number;
      let j = i;
      for (; j > 0 && (pick[j - 1] as number) > p; j--) pick[j] = pick[j - 1] as number;
      pick[j] = p;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += score[pick[i] as number] as number;
    const o = t * k;
    for (let i = 0; i < k; i++) {
      const p = score[pick[i] as number] as number;
      experts[o + i] = pick[i] as number;
      weights[o + i] = (r.normalize ? p / sum : p) * r.scale;
    }
  }
  const g = r.sharedGate;
  if (gates === null || g === null) return;
  for (let t = 0; t < n; t++) {
    let v = 0;
    const xo = xOff + t * d;
    for (let j = 0; j < d; j++) v += (x[xo + j] as number) * (g[j] as number);
    gates[t] = sigmoid64(Math.fround(v));
  }
}

/**
 * Reorders each token's k (expert, weight) pairs, given in increasing expert index, into
 * decreasing weight, equal weights in increasing expert index (route's documented order).
 */
export function byWeight(experts: Int32Array, weights: Float32Array, n: number, k: number): void {
  for (let t = 0; t < n; t++) {
    const o = t * k;
    for (let i = 1; i < k; i++) {
      const e = experts[o + i] as number;
      const w = weights[o + i] as number;
      let j = i;
      // Stable: equal weights keep their increasing index. NaN weights go last.
      for (; j > 0 && above(w, weights[o + j - 1] as number); j--) {
        experts[o + j] = experts[o + j - 1] as number;
        weights[o + j] = weights[o + j - 1] as number;
      }
      experts[o + j] = e;
      weights[o + j] = w;
    }
  }
}
