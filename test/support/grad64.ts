// The gradients of FeedForward and GatedFeedForward in float64, each element with two bounds
// (docs/activations.md derives them, in the notation of layer64.ts):
//   kernelErr: how far tokenwise's float32 backward may be from the exact gradient;
//   modelErr:  how far this float64 model (or any float64 autograd, PyTorch's) may be from it.
// And central finite differences of the float64 forward, with their own error bound.
import { ACTIVATION_GRAD, type ActivationName } from "../../src/kernels/activation";
import {
  ETA,
  type Bounded,
  type FeedForward64,
  type Gated64,
  LIPSCHITZ,
  U,
  U64,
  type Vec,
  WIDEN,
  activate,
  feedForward64,
  gamma,
  gated64,
  linear64,
  product,
} from "./layer64";

/**
 * The float64 derivatives' absolute error: measured at most 2·2^-53 over 2048 points
 * (test/ops/activations.test.ts); the analysis uses 2^-48, and any value below 2^-30 would
 * move these bounds by less than a thousandth.
 */
export const E_DERIV = 2 ** -48;

export interface Grad64 {
  value: Float64Array;
  modelErr: Float64Array;
  kernelErr: Float64Array;
}

/** A float64 sum Σ a·b of bounded a and exact b, which the kernel rounds once to float32. */
class Sum {
  s = 0;
  S = 0; // Σ (|a| + its larger error)·|b|: bounds the magnitudes of both sums' terms
  pk = 0; // Σ kernel error of a · |b|
  pm = 0; // Σ model error of a · |b|
  n = 0;

  add(value: number, abs: number, err: number, kernelErr: number, b: number): void {
    const ab = Math.abs(b);
    this.s += value * b;
    this.S += (abs + Math.max(err, kernelErr)) * ab;
    this.pk += kernelErr * ab;
    this.pm += err * ab;
    this.n++;
  }

  /** Into out[i]: the model value, its error, and the kernel's (rounded once) error. */
  finish(out: Grad64, i: number): void {
    const g = gamma(Math.max(this.n, 1)) * this.S;
    const model = g + this.pm;
    const kernel = U * (Math.abs(this.s) + model + g + this.pk) + ETA + g + this.pk;
    out.value[i] = this.s;
    out.modelErr[i] = model * WIDEN;
    out.kernelErr[i] = kernel * WIDEN;
  }
}

function grad(n: number): Grad64 {
  return {
    value: new Float64Array(n),
    modelErr: new Float64Array(n),
    kernelErr: new Float64Array(n),
  };
}

function sums(n: number): Sum[] {
  return Array.from({ length: n }, () => new Sum());
}

/** Row t of dY times wᵀ (w is (H, D)), float64, not rounded: value, error (both), |exact|. */
function upstream(dY: Vec, t: number, D: number, w: Vec, H: number) {
  const value = new Float64Array(H);
  const err = new Float64Array(H);
  const abs = new Float64Array(H);
  const g = gamma(D);
  for (let h = 0; h < H; h++) {
    let s = 0;
    let S = 0;
    for (let j = 0; j < D; j++) {
      const p = (dY[t * D + j] as number) * (w[h * D + j] as number);
      s += p;
      S += Math.abs(p);
    }
    value[h] = s;
    err[h] = g * S;
    abs[h] = Math.abs(s) + g * S;
  }
  return { value, err, abs };
}

/** φ'(pre) for a bounded pre-activation: model value, |φ'| bound, model and kernel errors. */
function derivative(pre: Bounded, act: ActivationName, h: number) {
  const { L1, L2 } = LIPSCHITZ[act];
  const p = pre.value[h] as number;
  const e = pre.err[h] as number;
  const ek = pre.kernelErr[h] as number;
  if (act === "relu") {
    // Exact 0 or 1 when the sign of the exact, the model's and the kernel's pre-activation
    // agree; otherwise anything in [0, 1].
    const certain = Math.abs(p) > e + ek;
    return { value: p > 0 ? 1 : 0, abs: 1, err: certain ? 0 : 1, kernelErr: certain ? 0 : 1 };
  }
  const value = ACTIVATION_GRAD[act](p);
  return {
    value,
    abs: Math.min(L1, Math.abs(value) + L2 * e + E_DERIV),
    err: L2 * e + E_DERIV,
    kernelErr: L2 * ek + E_DERIV,
  };
}

export interface FeedForwardGrad64 {
  dX: Grad64;
  dW1: Grad64;
  db1: Grad64;
  dW2: Grad64;
  db2: Grad64;
}

/** The gradients of L = Σ dY ⊙ (act(x W1 + b1) W2 + b2), with both bounds per element. */
export function feedForwardGrad64(p: FeedForward64, x: Vec, T: number, dY: Vec): FeedForwardGrad64 {
  const { dModel: D, dHidden: H, activation: act } = p;
  const out = { dX: grad(T * D), dW1: grad(D * H), db1: grad(H), dW2: grad(H * D), db2: grad(D) };
  const w1 = sums(D * H);
  const b1 = sums(H);
  const w2 = sums(H * D);
  const b2 = sums(D);
  for (let t = 0; t < T; t++) {
    const pre = linear64(x, t * D, D, p.w1, H, p.b1);
    const a = activate(pre, act);
    const dA = upstream(dY, t, D, p.w2, H);
    const dH: Bounded = {
      value: new Float64Array(H),
      err: new Float64Array(H),
      abs: new Float64Array(H),
      kernelErr: new Float64Array(H),
    };
    for (let h = 0; h < H; h++) {
      const d = derivative(pre, act, h);
      const dAabs = dA.abs[h] as number;
      const edA = dA.err[h] as number;
      const qAbs = (d.abs + d.kernelErr) * (dAabs + edA);
      dH.value[h] = d.value * (dA.value[h] as number);
      dH.abs[h] = d.abs * dAabs;
      dH.err[h] = d.err * (dAabs + edA) + d.abs * edA + U64 * (d.abs + d.err) * (dAabs + edA);
      dH.kernelErr[h] = U * qAbs + ETA + d.kernelErr * (dAabs + edA) + d.abs * edA + U64 * qAbs;
    }
    for (let k = 0; k < D; k++) {
      const s = new Sum();
      for (let h = 0; h < H; h++) {
        s.add(
          dH.value[h] as number,
          dH.abs[h] as number,
          dH.err[h] as number,
          dH.kernelErr[h] as number,
          p.w1[k * H + h] as number,
        );
      }
      s.finish(out.dX, t * D + k);
    }
    for (let h = 0; h < H; h++) {
      const [v, ab, e, ek] = [dH.value[h], dH.abs[h], dH.err[h], dH.kernelErr[h]] as number[];
      for (let k = 0; k < D; k++) w1[k * H + h]!.add(v!, ab!, e!, ek!, x[t * D + k] as number);
      b1[h]!.add(v!, ab!, e!, ek!, 1);
      const [av, aab, ae, aek] = [a.value[h], a.abs[h], a.err[h], a.kernelErr[h]] as number[];
      for (let j = 0; j < D; j++) w2[h * D + j]!.add(av!, aab!, ae!, aek!, dY[t * D + j] as number);
    }
    for (let j = 0; j < D; j++) {
      const v = dY[t * D + j] as number;
      b2[j]!.add(v, Math.abs(v), 0, 0, 1);
    }
  }
  w1.forEach((s, i) => s.finish(out.dW1, i));
  b1.forEach((s, i) => s.finish(out.db1, i));
  w2.forEach((s, i) => s.finish(out.dW2, i));
  b2.forEach((s, i) => s.finish(out.db2, i));
  return out;
}

export interface GatedGrad64 {
  dX: Grad64;
  dWGate: Grad64;
  dbGate: Grad64;
  dWUp: Grad64;
  dbUp: Grad64;
  dWDown: Grad64;
  dbDown: Grad64;
}

/** The gradients of L = Σ dY ⊙ ((act(x Wg + bg) ⊙ (x Wu + bu)) Wd + bd), with both bounds. */
export function gatedGrad64(p: Gated64, x: Vec, T: number, dY: Vec): GatedGrad64 {
  const { dModel: D, dHidden: H, activation: act } = p;
  const out = {
    dX: grad(T * D),
    dWGate: grad(D * H),
    dbGate: grad(H),
    dWUp: grad(D * H),
    dbUp: grad(H),
    dWDown: grad(H * D),
    dbDown: grad(D),
  };
  const wg = sums(D * H);
  const bg = sums(H);
  const wu = sums(D * H);
  const bu = sums(H);
  const wd = sums(H * D);
  const bd = sums(D);
  const empty = (): Bounded => ({
    value: new Float64Array(H),
    err: new Float64Array(H),
    abs: new Float64Array(H),
    kernelErr: new Float64Array(H),
  });
  for (let t = 0; t < T; t++) {
    const g = linear64(x, t * D, D, p.wGate, H, p.bGate);
    const u = linear64(x, t * D, D, p.wUp, H, p.bUp);
    const a = activate(g, act);
    const m = product(a, u);
    const dM = upstream(dY, t, D, p.wDown, H);
    const dG = empty();
    const dU = empty();
    for (let h = 0; h < H; h++) {
      const d = derivative(g, act, h);
      const dm = dM.value[h] as number;
      const dmAbs = dM.abs[h] as number;
      const edm = dM.err[h] as number;
      const uAbs = u.abs[h] as number;
      const eu = u.err[h] as number;
      const euk = u.kernelErr[h] as number;
      const aAbs = a.abs[h] as number;
      const ea = a.err[h] as number;
      const eak = a.kernelErr[h] as number;
      // dG = dM · u · φ'(g): three factors, each with its error.
      const gAbs = dmAbs * uAbs * d.abs;
      const gq = (dmAbs + edm) * (uAbs + euk) * (d.abs + d.kernelErr);
      dG.value[h] = dm * (u.value[h] as number) * d.value;
      dG.abs[h] = gAbs;
      dG.err[h] =
        edm * (uAbs + eu) * (d.abs + d.err) +
        dmAbs * eu * (d.abs + d.err) +
        dmAbs * uAbs * d.err +
        2 * U64 * (dmAbs + edm) * (uAbs + eu) * (d.abs + d.err);
      dG.kernelErr[h] =
        U * gq +
        ETA +
        edm * (uAbs + euk) * (d.abs + d.kernelErr) +
        dmAbs * euk * (d.abs + d.kernelErr) +
        dmAbs * uAbs * d.kernelErr +
        2 * U64 * gq;
      // dU = dM · act(g).
      const uq = (dmAbs + edm) * (aAbs + eak);
      dU.value[h] = dm * (a.value[h] as number);
      dU.abs[h] = dmAbs * aAbs;
      dU.err[h] = edm * (aAbs + ea) + dmAbs * ea + U64 * (dmAbs + edm) * (aAbs + ea);
      dU.kernelErr[h] = U * uq + ETA + edm * (aAbs + eak) + dmAbs * eak + U64 * uq;
    }
    for (let k = 0; k < D; k++) {
      const s = new Sum();
      for (const [v, w] of [
        [dG, p.wGate],
        [dU, p.wUp],
      ] as const) {
        for (let h = 0; h < H; h++) {
          s.add(
            v.value[h] as number,
            v.abs[h] as number,
            v.err[h] as number,
            v.kernelErr[h] as number,
            w[k * H + h] as number,
          );
        }
      }
      s.finish(out.dX, t * D + k);
    }
    for (let h = 0; h < H; h++) {
      for (const [v, ws, bs] of [
        [dG, wg, bg],
        [dU, wu, bu],
      ] as const) {
        const [vv, ab, e, ek] = [v.value[h], v.abs[h], v.err[h], v.kernelErr[h]] as number[];
        for (let k = 0; k < D; k++) ws[k * H + h]!.add(vv!, ab!, e!, ek!, x[t * D + k] as number);
        bs[h]!.add(vv!, ab!, e!, ek!, 1);
      }
      const [mv, mab, me, mek] = [m.value[h], m.abs[h], m.err[h], m.kernelErr[h]] as number[];
      for (let j = 0; j < D; j++) wd[h * D + j]!.add(mv!, mab!, me!, mek!, dY[t * D + j] as number);
    }
    for (let j = 0; j < D; j++) {
      const v = dY[t * D + j] as number;
      bd[j]!.add(v, Math.abs(v), 0, 0, 1);
    }
  }
  wg.forEach((s, i) => s.finish(out.dWGate, i));
  bg.forEach((s, i) => s.finish(out.dbGate, i));
  wu.forEach((s, i) => s.finish(out.dWUp, i));
  bu.forEach((s, i) => s.finish(out.dbUp, i));
  wd.forEach((s, i) => s.finish(out.dWDown, i));
  bd.forEach((s, i) => s.finish(out.dbDown, i));
  return out;
}

/**
 * The loss L = Σ dY ⊙ y of the float64 model, and a bound on its error against the exact
 * loss: Σ |dY|·(model bound of y) plus the float64 dot product's own γ·Σ|dY ⊙ y|.
 */
export function loss64(
  layer: { kind: "ffn"; p: FeedForward64 } | { kind: "gated"; p: Gated64 },
  x: Vec,
  T: number,
  dY: Vec,
): { L: number; err: number } {
  const model = layer.kind === "ffn" ? feedForward64(layer.p, x, T) : gated64(layer.p, x, T);
  let L = 0;
  let S = 0;
  let prop = 0;
  for (let i = 0; i < model.y.length; i++) {
    const d = dY[i] as number;
    L += d * (model.y[i] as number);
    S += Math.abs(d) * (Math.abs(model.y[i] as number) + (model.modelBound[i] as number));
    prop += Math.abs(d) * (model.modelBound[i] as number);
  }
  return { L, err: (gamma(model.y.length) * S + prop) * WIDEN };
}

/**
 * (L(θ + h) − L(θ − h)) / 2h and its error against dL/dθ: the truncation h²/6 · M3, where
 * M3 bounds |d³L/dθ³| on [θ − h, θ + h], plus the two losses' errors over 2h, plus the
 * rounding of the quotient.
 */
export function centralDifference(
  lossAt: (theta: number) => { L: number; err: number },
  theta: number,
  h: number,
  m3: number,
): { value: number; err: number } {
  const plus = lossAt(theta + h);
  const minus = lossAt(theta - h);
  const value = (plus.L - minus.L) / (2 * h);
  const err = ((h * h) / 6) * m3 + (plus.err + minus.err) / (2 * h) + 4 * U64 * Math.abs(value);
  return { value, err: err * WIDEN };
}
