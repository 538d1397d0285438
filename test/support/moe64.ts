// A float64 model of MixtureOfExperts with a per-element bound on |layer − model|, derived in
// docs/moe.md ("The forward-error bound"), in the notation of layer64.ts:
//
//   logits: linear64 (value, model error, the js formula's error: the router always sums in
//   float64 and rounds once, whatever the experts' kernel). With δ the largest logit error of
//   a token (the layer's plus the model's), every chosen weight w_e — softmax or sigmoid,
//   normalized or not — moves by a factor within [e^(−2δ), e^(2δ)] (a softmax over all experts
//   or over the chosen ones, or σ(l + Δ)/σ(l) ∈ [e^(−|Δ|), e^(|Δ|)], and a ratio of two such),
//   so |ŵ_e − w64_e| ≤ w_e (e^(2δ) − 1) (1 + u) + u w_e + 2^-46 w_e (the float32 rounding of ŵ,
//   and the float64 operations of both, a few ulps of float64 each).
//   The experts: gated64 (its bound covers the kernel and the model).
//   The sum: ŷ = fl32(Σ ŵ_e Ŷ_e + ĝ Ŝ), products exact in float64, a float64 sum of k + 1
//   terms: |ŷ − Σ ŵ Ŷ| ≤ u |ŷ| + γ_(k+1) Σ |ŵ Ŷ| + η, and the model's own float64 sum as much.
// The chosen experts agree when the model's chosen keys exceed its unchosen ones by more than
// both keys' error bounds; a token for which that cannot be shown is reported as ambiguous.
import { exp64, sigmoid64 } from "../../src/kernels/activation";
import { gpuForward64 } from "../helpers/gpu64";
import { ETA, type Model64, U, type Vec, WIDEN, gamma, gated64, linear64 } from "./layer64";
import type {
  ActivationName,
  GatedFeedForwardWeights,
  MixtureOfExpertsWeights,
} from "../../src/index";
import { outside } from "./layer64";

/** An expert's weights: float32, or float64 for the perturbed weights of finite differences. */
export interface Expert64 {
  dHidden: number;
  wGate: Vec;
  bGate: Vec | null;
  wUp: Vec;
  bUp: Vec | null;
  wDown: Vec;
  bDown: Vec | null;
}

export interface MoE64 {
  dModel: number;
  activation: ActivationName;
  topK: number;
  scoring: "softmax" | "sigmoid";
  normalize: boolean;
  routedScale: number;
  /** (dModel, experts) */
  router: Vec;
  routerBias: Vec | null;
  selectionBias: Vec | null;
  experts: Expert64[];
  shared: Expert64 | null;
  /** (dModel) */
  sharedGate: Vec | null;
}

/** One token's routing in the model, with the layer's error against the exact values. */
export interface TokenDetail {
  /** The chosen experts in increasing index. */
  pick: number[];
  /** Every expert's score, and how far the layer's may be from the exact one. */
  s: number[];
  sErr: number[];
  /** The chosen experts' weights, and how far the layer's float32 weights may be from exact. */
  w: number[];
  wErr: number[];
  /** The shared expert's weight (1 without a gate), and the layer's error. */
  g: number;
  gErr: number;
  /** Each chosen expert's model (one row), then the shared expert's. */
  experts: Model64[];
  shared: Model64 | null;
}

export interface MoEModel64 extends Model64 {
  /** Per token: the model's chosen experts in increasing index, or null where ambiguous. */
  chosen: (number[] | null)[];
  /** Per token, in the same order: the model's weights. */
  weights: number[][];
  detail: TokenDetail[];
}

/** Relative slack for the float64 operations on a weight or score (a few ulps each). */
const F64 = 2 ** -46;

/**
 * How the experts' kernel computes: "f64" (js), "f32" (wasm), or "gpu" (webgpu: an expert is a
 * gated layer on the GPU, bounded as test/helpers/gpu64.ts bounds the layers there; its bound
 * covers the kernel and the model at once, so it stands for the model's own bound too).
 */
export type ExpertsArithmetic = "f64" | "f32" | "gpu";

function expertModel(p: MoE64, e: Expert64, x: Vec, t: number, acc: ExpertsArithmetic): Model64 {
  const row = x.subarray(t * p.dModel, (t + 1) * p.dModel);
  if (acc !== "gpu")
    return gated64({ dModel: p.dModel, activation: p.activation, ...e }, row, 1, acc);
  const f32 = (v: Vec) => {
    if (!(v instanceof Float32Array)) throw new TypeError("the gpu model takes float32 weights");
    return v;
  };
  const { y, bound } = gpuForward64(
    {
      dModel: p.dModel,
      dHidden: e.dHidden,
      activation: p.activation,
      wIn: [f32(e.wGate), f32(e.wUp)],
      bIn: [e.bGate === null ? null : f32(e.bGate), e.bUp === null ? null : f32(e.bUp)],
      wOut: f32(e.wDown),
      bOut: e.bDown === null ? null : f32(e.bDown),
    },
    f32(row),
    1,
  );
  return { y, bound, modelBound: bound };
}

/** The model of rows tokens of x; acc is how the experts' kernel computes. */
export function moe64(p: MoE64, x: Vec, rows: number, acc: ExpertsArithmetic): MoEModel64 {
  const D = p.dModel;
  const E = p.experts.length;
  const k = p.topK;
  const y = new Float64Array(rows * D);
  const bound = new Float64Array(rows * D);
  const modelBound = new Float64Array(rows * D);
  const chosen: (number[] | null)[] = [];
  const weights: number[][] = [];
  const detail: TokenDetail[] = [];
  for (let t = 0; t < rows; t++) {
    const lin = linear64(x, t * D, D, p.router, E, p.routerBias, "f64");
    let delta = 0; // the layer's logits against the model's
    let deltaM = 0; // the model's against the exact ones
    for (let e = 0; e < E; e++) {
      delta = Math.max(delta, (lin.kernelErr[e] as number) + (lin.err[e] as number));
      deltaM = Math.max(deltaM, lin.err[e] as number);
    }
    const l = Array.from(lin.value);
    let s: number[];
    if (p.scoring === "softmax") {
      const m = Math.max(...l);
      const z = l.map((v) => exp64(v - m));
      const Z = z.reduce((a, b) => a + b, 0);
      s = z.map((v) => v / Z);
    } else {
      s = l.map((v) => sigmoid64(v));
    }
    const grow = p.scoring === "softmax" ? Math.expm1(2 * delta) : Math.expm1(delta);
    const key = s.map((v, e) => v + (p.selectionBias?.[e] ?? 0));
    const keyErr = s.map((v, e) => (v * (grow + F64) + 2 ** -52 * Math.abs(key[e] as number)) * 2);
    const order = key
      .map((_, e) => e)
      .sort((a, b) => (key[b] as number) - (key[a] as number) || a - b);
    const pick = order.slice(0, k).sort((a, b) => a - b);
    const rest = order.slice(k);
    const low = Math.min(...pick.map((e) => (key[e] as number) - (keyErr[e] as number)));
    const high = Math.max(
      -Infinity,
      ...rest.map((e) => (key[e] as number) + (keyErr[e] as number)),
    );
    chosen.push(low > high ? pick : null);
    const Zs = pick.reduce((a, e) => a + (s[e] as number), 0);
    const w = pick.map(
      (e) => (p.normalize ? (s[e] as number) / Zs : (s[e] as number)) * p.routedScale,
    );
    weights.push(w);
    // Every weight's error: the layer's (logits within δ, float64 ops, float32 rounding).
    const wGrow = Math.expm1(2 * delta) * (1 + U) + U + F64;
    const mGrow = Math.expm1(2 * deltaM) + F64; // the model's own weights against exact ones
    const terms: { w: number; wErr: number; wModel: number; m: Model64 }[] = pick.map((e, i) => ({
      w: w[i] as number,
      wErr: Math.abs(w[i] as number) * wGrow * (1 + 2 ** -20),
      wModel: Math.abs(w[i] as number) * mGrow * (1 + 2 ** -20),
      m: expertModel(p, p.experts[e] as Expert64, x, t, acc),
    }));
    if (p.shared !== null) {
      let g = 1;
      let gErr = 0;
      let gModel = 0;
      if (p.sharedGate !== null) {
        const gl = linear64(x, t * D, D, p.sharedGate, 1, null, "f64");
        g = sigmoid64(gl.value[0] as number);
        const dg = (gl.kernelErr[0] as number) + (gl.err[0] as number);
        gErr = g * (Math.expm1(dg) * (1 + U) + U + F64) * (1 + 2 ** -20);
        gModel = g * (Math.expm1(gl.err[0] as number) + F64) * (1 + 2 ** -20);
      }
      terms.push({ w: g, wErr: gErr, wModel: gModel, m: expertModel(p, p.shared, x, t, acc) });
    }
    const routed = terms.slice(0, k);
    const sh = p.shared === null ? null : (terms[k] as (typeof terms)[number]);
    detail.push({
      pick,
      s,
      sErr: s.map((v) => v * (grow + F64) * (1 + 2 ** -20)),
      w,
      wErr: routed.map((r) => r.wErr + r.wModel),
      g: sh?.w ?? 1,
      gErr: sh === null ? 0 : sh.wErr + sh.wModel,
      experts: routed.map((r) => r.m),
      shared: sh?.m ?? null,
    });
    for (let j = 0; j < D; j++) {
      let v = 0;
      let err = 0; // |Σ ŵ Ŷ − Σ w64 Y64|
      let mag = 0; // Σ |ŵ Ŷ|
      let model = 0;
      for (const { w: wv, wErr, wModel, m } of terms) {
        const Y = m.y[j] as number;
        const bY = m.bound[j] as number;
        const mY = m.modelBound[j] as number;
        v += wv * Y;
        err += wErr * (Math.abs(Y) + bY) + Math.abs(wv) * bY;
        mag += (Math.abs(wv) + wErr) * (Math.abs(Y) + bY);
        model += Math.abs(wv) * mY + wModel * (Math.abs(Y) + mY);
      }
      // The layer's float64 sum and the model's each within γ_(k+1) Σ |terms|.
      const sum = 2 * gamma(terms.length) * mag;
      y[t * D + j] = v;
      bound[t * D + j] = (err + sum + U * (Math.abs(v) + err + sum) + ETA) * WIDEN;
      modelBound[t * D + j] = (model + sum / 2) * WIDEN;
    }
  }
  return { y, bound, modelBound, chosen, weights, detail };
}

/** An expert's float32 weights as the model takes them. */
export function expert64(g: GatedFeedForwardWeights): Expert64 {
  return {
    dHidden: g.wGate.cols,
    wGate: g.wGate.data,
    bGate: g.bGate ?? null,
    wUp: g.wUp.data,
    bUp: g.bUp ?? null,
    wDown: g.wDown.data,
    bDown: g.bDown ?? null,
  };
}

/** The model's parameters for a mixture's weights and its routing options. */
export function moe64Of(
  w: MixtureOfExpertsWeights,
  o: Pick<MoE64, "dModel" | "activation" | "topK" | "scoring" | "normalize" | "routedScale">,
): MoE64 {
  return {
    ...o,
    router: w.router.data,
    routerBias: w.routerBias ?? null,
    selectionBias: w.selectionBias ?? null,
    experts: w.experts.map(expert64),
    shared: w.shared === undefined ? null : expert64(w.shared),
    sharedGate: w.sharedGate?.data ?? null,
  };
}

/**
 * A layer's routes and outputs against the model, token by token: for each token whose
 * experts the model could decide, whether the layer chose the same ones (in any order) and
 * every output lies within the model's bound. Returns how many tokens were checked, how many
 * were ambiguous, and what disagreed (empty when all agree).
 */
export function againstModel(
  model: MoEModel64,
  experts: Int32Array,
  got: Float32Array,
  rows: number,
  topK: number,
  dModel: number,
): { checked: number; ambiguous: number; wrong: string[] } {
  let checked = 0;
  let ambiguous = 0;
  const wrong: string[] = [];
  for (let t = 0; t < rows; t++) {
    const want = model.chosen[t];
    if (want === null || want === undefined) {
      ambiguous++;
      continue;
    }
    checked++;
    const mine = Array.from(experts.subarray(t * topK, (t + 1) * topK)).sort((a, b) => a - b);
    if (mine.join() !== want.join())
      wrong.push(`token ${t}'s experts: ${mine.join()}, the model's ${want.join()}`);
    const s = t * dModel;
    const e = s + dModel;
    const bad = outside(got.subarray(s, e), model.y.subarray(s, e), model.bound.subarray(s, e));
    if (bad.length > 0) wrong.push(`token ${t} outside the bound: ${JSON.stringify(bad)}`);
  }
  return { checked, ambiguous, wrong };
}
