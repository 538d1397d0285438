// MixtureOfExperts.backward against central finite differences of the float64 model
// (test/support/moe64.ts), every gradient element within a derived allowance: the finite
// difference's own error (truncation h²/6 · M3 with M3 a bound on the loss's third derivative
// along the parameter, plus the float64 losses' errors over 2h), and the layer's error against
// the exact gradient, bounded as follows.
//
// - An expert's weights: the layer runs the gated layer's backward on the tokens that chose it
//   with upstream ŵ · dY (exact in float64); gatedGrad64 bounds that against the exact gradient
//   at the same upstream, and the weight's own error ŵ = w (1 + ρ), |ρ| ≤ wErr / |ŵ|, moves
//   token t's part of the gradient by at most ρ_t · |its gradient|.
// - The router, its bias, the shared gate: the layer's formula (moe-backward.ts) evaluated on
//   values carried with error bounds (class B below): the scores (within sErr of exact), each
//   c = dY · Y (within Σ|dY|·(the expert's bound) of exact), each float64 operation adding
//   2^-52 of its result; then the sums over tokens, rounded once.
// - dX: the experts' dX as above, plus the router's and the gate's terms, rounded once.
//
// M3: along one parameter the selection is fixed (the model's choice is recomputed at θ ± h
// and must be the base's); every chosen weight's third derivative along one logit is at most
// 1/8 (a softmax or sigmoid weight is a sigmoid of that logit, shifted, times a factor in
// [0, 1], before normalisation and after), and along the logit direction v of an input
// element at most 25·|v|³ (from the cumulants of v: docs/moe.md); each expert's c as the
// gated layer's test bounds it.
import { describe, expect, it } from "vitest";
import {
  type ActivationName,
  type GatedFeedForwardWeights,
  MixtureOfExperts,
  type MixtureOfExpertsWeights,
  matrix,
} from "../../src/index";
import { ACT64_REL, ETA, LIPSCHITZ, U, U64, WIDEN, gamma, linear64 } from "../support/layer64";
import { type Grad64, centralDifference, gatedGrad64 } from "../support/grad64";
import { type Expert64, type MoE64, moe64 } from "../support/moe64";
import { seededFloats as seeded } from "../helpers/arbitraries";

const H_STEP = 2 ** -16;
const T = 3;
const D = 4;
const H = 5;
const E = 4;
const HS = 3;

interface Case {
  name: string;
  scoring: "softmax" | "sigmoid";
  normalize: boolean;
  topK: number;
  routedScale: number;
  activation: ActivationName;
  shared: "none" | "plain" | "gated";
  routerBias: boolean;
  selectionBias: boolean;
  bias: boolean;
}

const CASES: Case[] = [
  {
    name: "Mixtral-like: softmax, renormalised, router bias",
    scoring: "softmax",
    normalize: true,
    topK: 2,
    routedScale: 1,
    activation: "silu",
    shared: "none",
    routerBias: true,
    selectionBias: false,
    bias: false,
  },
  {
    name: "Qwen2-MoE-like: softmax, not renormalised, gated shared expert",
    scoring: "softmax",
    normalize: false,
    topK: 2,
    routedScale: 1,
    activation: "silu",
    shared: "gated",
    routerBias: false,
    selectionBias: false,
    bias: false,
  },
  {
    name: "DeepSeek-like: sigmoid, renormalised, selection bias, scale, shared expert",
    scoring: "sigmoid",
    normalize: true,
    topK: 3,
    routedScale: 2.5,
    activation: "gelu",
    shared: "plain",
    routerBias: true,
    selectionBias: true,
    bias: true,
  },
  {
    name: "sigmoid, not renormalised, geluTanh, biases",
    scoring: "sigmoid",
    normalize: false,
    topK: 2,
    routedScale: 1,
    activation: "geluTanh",
    shared: "gated",
    routerBias: false,
    selectionBias: false,
    bias: true,
  },
];

const f64 = (v: Float32Array | undefined) => (v === undefined ? null : Float64Array.from(v));

function expertW(d: number, h: number, seed: number, bias: boolean): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: matrix(d, h, seeded(d * h, seed, 0.8)),
    wUp: matrix(d, h, seeded(d * h, seed + 1, 0.8)),
    wDown: matrix(h, d, seeded(h * d, seed + 2, 0.8)),
  };
  if (bias)
    [w.bGate, w.bUp, w.bDown] = [
      seeded(h, seed + 3, 0.5),
      seeded(h, seed + 4, 0.5),
      seeded(d, seed + 5, 0.5),
    ];
  return w;
}

function weightsOf(c: Case, seed: number): MixtureOfExpertsWeights {
  const w: MixtureOfExpertsWeights = {
    router: matrix(D, E, seeded(D * E, seed, 1)),
    experts: Array.from({ length: E }, (_, e) => expertW(D, H, seed + 10 * (e + 1), c.bias)),
  };
  if (c.routerBias) w.routerBias = seeded(E, seed + 3, 0.5);
  if (c.selectionBias) w.selectionBias = seeded(E, seed + 4, 0.2);
  if (c.shared !== "none") w.shared = expertW(D, HS, seed + 5, c.bias);
  if (c.shared === "gated") w.sharedGate = matrix(D, 1, seeded(D, seed + 6, 1));
  return w;
}

const expert64 = (g: GatedFeedForwardWeights): Expert64 => ({
  dHidden: g.wGate.cols,
  wGate: Float64Array.from(g.wGate.data),
  bGate: f64(g.bGate),
  wUp: Float64Array.from(g.wUp.data),
  bUp: f64(g.bUp),
  wDown: Float64Array.from(g.wDown.data),
  bDown: f64(g.bDown),
});

function model(c: Case, w: MixtureOfExpertsWeights): MoE64 {
  return {
    dModel: D,
    activation: c.activation,
    topK: c.topK,
    scoring: c.scoring,
    normalize: c.normalize,
    routedScale: c.routedScale,
    router: Float64Array.from(w.router.data),
    routerBias: f64(w.routerBias),
    selectionBias: f64(w.selectionBias),
    experts: w.experts.map(expert64),
    shared: w.shared === undefined ? null : expert64(w.shared),
    sharedGate: f64(w.sharedGate?.data),
  };
}

/** A float64 value with a bound on |computed − exact|; each operation adds its own rounding. */
class B {
  constructor(
    readonly v: number,
    readonly e: number,
  ) {}
  get abs(): number {
    return Math.abs(this.v) + this.e;
  }
  static of(v: number, e = 0): B {
    return new B(v, e);
  }
  add(b: B): B {
    const v = this.v + b.v;
    return new B(v, this.e + b.e + 2 * U64 * Math.abs(v));
  }
  sub(b: B): B {
    return this.add(new B(-b.v, b.e));
  }
  mul(b: B): B {
    const v = this.v * b.v;
    return new B(v, this.abs * b.e + Math.abs(b.v) * this.e + 2 * U64 * Math.abs(v));
  }
  div(b: B): B {
    const low = Math.abs(b.v) - b.e;
    if (!(low > 0)) throw new Error("a divisor's bound reaches 0");
    const v = this.v / b.v;
    return new B(v, (this.e + Math.abs(v) * b.e) / low + 2 * U64 * Math.abs(v));
  }
}

/** Where a gradient is further from a reference than allowed. */
function beyond(got: Float32Array, want: ArrayLike<number>, allowed: ArrayLike<number>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= allowed[i]!)) bad.push(`[${i}] ${got[i]} vs ${want[i]}: error ${e} > ${allowed[i]}`);
  }
  return bad;
}

describe.each(CASES)("MixtureOfExperts.backward, $name", (c) => {
  it("every gradient element is within the derived allowance of central finite differences", () => {
    const w = weightsOf(c, 300 + CASES.indexOf(c) * 50);
    const x = seeded(T * D, 7, 1.5);
    const dY = seeded(T * D, 8, 1.5);
    const opts = {
      topK: c.topK,
      scoring: c.scoring,
      normalize: c.normalize,
      routedScale: c.routedScale,
      activation: c.activation,
    };
    const layer = MixtureOfExperts.fromWeights(w, { ...opts, kernel: "js" });
    const g = layer.backward(matrix(T, D, x), matrix(T, D, dY));
    // The same gradients whatever the kernel (backward reads unpacked weights).
    const gw = MixtureOfExperts.fromWeights(w, { ...opts, kernel: "wasm" }).backward(
      matrix(T, D, x),
      matrix(T, D, dY),
    );
    expect(gw).toEqual(g);

    const p = model(c, w);
    const base = moe64(p, x, T, "f64");
    expect(
      base.chosen.every((s) => s !== null),
      "the base point's experts are clear of ties",
    ).toBe(true);
    const route = layer.route(matrix(T, D, x));
    const k = c.topK;
    // The layer's float32 weights by (token, expert), and the model's detail.
    const wHat = (t: number, e: number) => {
      for (let i = 0; i < k; i++)
        if (route.experts[t * k + i] === e) return route.weights[t * k + i]!;
      throw new Error(`expert ${e} not chosen by token ${t}`);
    };
    const det = base.detail;
    // The shared expert's float32 weight as the layer forms it: fl32(σ(fl32(x · sharedGate))).
    const gHat = (t: number) => {
      if (p.sharedGate === null) return 1;
      let z = 0;
      for (let j = 0; j < D; j++) z += x[t * D + j]! * p.sharedGate[j]!;
      return Math.fround(1 / (1 + Math.exp(-Math.fround(z))));
    };
    for (let t = 0; t < T; t++) expect(det[t]!.pick).toEqual(base.chosen[t]);

    const lossAt = (q: MoE64, xs: Float64Array) => {
      const m = moe64(q, xs, T, "f64");
      expect(m.chosen).toEqual(base.chosen); // the selection is fixed over the step
      let L = 0;
      let S = 0;
      let prop = 0;
      for (let i = 0; i < m.y.length; i++) {
        L += dY[i]! * m.y[i]!;
        S += Math.abs(dY[i]!) * (Math.abs(m.y[i]!) + m.modelBound[i]!);
        prop += Math.abs(dY[i]!) * m.modelBound[i]!;
      }
      return { L, err: (gamma(m.y.length) * S + prop) * WIDEN };
    };
    const clone = (): MoE64 => structuredClone(p);
    const xs0 = Float64Array.from(x);
    const check = (
      name: string,
      got: Float32Array | undefined,
      err: ArrayLike<number>,
      fd: (i: number) => { value: number; err: number },
    ) => {
      expect(got, name).toBeDefined();
      const want = new Float64Array(got!.length);
      const allowed = new Float64Array(got!.length);
      for (let i = 0; i < got!.length; i++) {
        const d = fd(i);
        want[i] = d.value;
        allowed[i] = err[i]! + d.err;
      }
      expect(beyond(got!, want, allowed), name).toEqual([]);
    };

    // c_te = dY_t · Y_e(x_t) for each chosen expert, with the layer's error (its Ŷ within the
    // expert's bound of the model, the model within its own bound of exact).
    const cOf = (
      mm: { y: Float64Array; bound: Float64Array; modelBound: Float64Array },
      t: number,
    ) => {
      let v = 0;
      let e = 0;
      let mag = 0;
      for (let j = 0; j < D; j++) {
        const d = dY[t * D + j]!;
        v += d * mm.y[j]!;
        e += Math.abs(d) * (mm.bound[j]! + mm.modelBound[j]!);
        mag += Math.abs(d) * (Math.abs(mm.y[j]!) + mm.bound[j]!);
      }
      return B.of(v, e + 2 * gamma(D) * mag);
    };

    // ---- the router's logit gradients, as moe-backward.ts forms them, with bounds
    const dl: B[][] = [];
    const dz: B[] = [];
    const cAbs: number[][] = []; // |c| bounds for M3
    const csAbs: number[] = [];
    for (let t = 0; t < T; t++) {
      const dt = det[t]!;
      const cs = dt.experts.map((m) => cOf(m, t));
      cAbs.push(cs.map((b) => b.abs));
      const sc = dt.pick.map((e) => B.of(dt.s[e]!, dt.sErr[e]!));
      let Z = B.of(0);
      for (const s of sc) Z = Z.add(s);
      let mean = B.of(0);
      cs.forEach((ci, i) => (mean = mean.add(ci.mul(sc[i]!))));
      mean = mean.div(Z);
      const scale = B.of(c.routedScale);
      const ds = cs.map((ci) => (c.normalize ? scale.div(Z).mul(ci.sub(mean)) : scale.mul(ci)));
      const row: B[] = [];
      if (c.scoring === "softmax") {
        let dot = B.of(0);
        ds.forEach((d, i) => (dot = dot.add(sc[i]!.mul(d))));
        for (let j = 0; j < E; j++) {
          let v = B.of(-dt.s[j]!, dt.sErr[j]!).mul(dot);
          const i = dt.pick.indexOf(j);
          if (i >= 0) v = v.add(sc[i]!.mul(ds[i]!));
          row.push(v);
        }
      } else {
        for (let j = 0; j < E; j++) {
          const i = dt.pick.indexOf(j);
          row.push(i < 0 ? B.of(0) : sc[i]!.mul(B.of(1).sub(sc[i]!)).mul(ds[i]!));
        }
      }
      dl.push(row);
      if (dt.shared !== null) {
        const cs0 = cOf(dt.shared, t);
        csAbs.push(cs0.abs);
        if (p.sharedGate !== null) {
          // The layer's σ of fl32(z): within 1/4 · |fl32(z) − z| of σ(z), and its own rounding.
          const lin = linear64(x, t * D, D, p.sharedGate, 1, null, "f64");
          const z = lin.value[0]!;
          const sg = 1 / (1 + Math.exp(-z));
          const sgE = 0.25 * (lin.kernelErr[0]! + lin.err[0]!) + 2 ** -50;
          const s = B.of(sg, sgE);
          dz.push(cs0.mul(s).mul(B.of(1).sub(s)));
        } else dz.push(B.of(0));
      } else {
        csAbs.push(0);
        dz.push(B.of(0));
      }
    }
    /** Σ_t a_t · b_t over tokens in float64, rounded once: the bound of the result. */
    const tokenSum = (terms: { a: number; b: B }[]) => {
      let v = 0;
      let e = 0;
      let mag = 0;
      for (const { a, b } of terms) {
        v += a * b.v;
        e += Math.abs(a) * b.e;
        mag += Math.abs(a) * b.abs;
      }
      const g0 = gamma(terms.length + 1) * mag; // T products rounded, T additions
      return (e + g0 + U * (Math.abs(v) + e + g0) + ETA) * WIDEN;
    };

    const { L1, L2, L3 } = LIPSCHITZ[c.activation];
    // ---- the router and its bias: M3 ≤ scale/8 · Σ_t |slope|³ Σ_chosen |c|
    const routerM3 = (slope: (t: number) => number) => {
      let m3 = 0;
      for (let t = 0; t < T; t++)
        m3 += Math.abs(slope(t)) ** 3 * cAbs[t]!.reduce((a, b) => a + b, 0);
      return (c.routedScale / 8) * m3;
    };
    const dRErr = Array.from({ length: D * E }, (_, i) =>
      tokenSum(
        Array.from({ length: T }, (_, t) => ({
          a: x[t * D + Math.floor(i / E)]!,
          b: dl[t]![i % E]!,
        })),
      ),
    );
    check("dRouter", g.dRouter.data, dRErr, (i) => {
      const kk = Math.floor(i / E);
      const f = (th: number) => {
        const q = clone();
        (q.router as Float64Array)[i] = th;
        return lossAt(q, xs0);
      };
      return centralDifference(
        f,
        p.router[i]!,
        H_STEP,
        routerM3((t) => x[t * D + kk]!),
      );
    });
    if (c.routerBias) {
      const dBErr = Array.from({ length: E }, (_, e) =>
        tokenSum(Array.from({ length: T }, (_, t) => ({ a: 1, b: dl[t]![e]! }))),
      );
      check("dRouterBias", g.dRouterBias, dBErr, (e) => {
        const f = (th: number) => {
          const q = clone();
          (q.routerBias as Float64Array)[e] = th;
          return lossAt(q, xs0);
        };
        return centralDifference(
          f,
          p.routerBias![e]!,
          H_STEP,
          routerM3(() => 1),
        );
      });
    } else expect(g.dRouterBias).toBeUndefined();

    // ---- the shared gate: M3 ≤ 1/8 · Σ_t |x_tk|³ |c_s|
    if (c.shared === "gated") {
      const dGErr = Array.from({ length: D }, (_, kk) =>
        tokenSum(Array.from({ length: T }, (_, t) => ({ a: x[t * D + kk]!, b: dz[t]! }))),
      );
      check("dSharedGate", g.dSharedGate?.data, dGErr, (kk) => {
        let m3 = 0;
        for (let t = 0; t < T; t++) m3 += Math.abs(x[t * D + kk]!) ** 3 * csAbs[t]!;
        const f = (th: number) => {
          const q = clone();
          (q.sharedGate as Float64Array)[kk] = th;
          return lossAt(q, xs0);
        };
        return centralDifference(f, p.sharedGate![kk]!, H_STEP, m3 / 8);
      });
    } else expect(g.dSharedGate).toBeUndefined();

    // ---- each expert (and the shared one): the gated layer's gradients on its tokens
    const dXErr = new Float64Array(T * D); // the experts' parts of dX's error
    const dXMag = new Float64Array(T * D); // and their magnitudes
    const expertCheck = (
      name: string,
      e: number | "shared",
      grads: (typeof g.dExperts)[number],
    ) => {
      const ex = e === "shared" ? p.shared! : p.experts[e]!;
      const tokens = e === "shared" ? [0, 1, 2] : [0, 1, 2].filter((t) => det[t]!.pick.includes(e));
      const scaleOf = (t: number) => (e === "shared" ? gHat(t) : wHat(t, e));
      const errOfScale = (t: number) =>
        e === "shared" ? det[t]!.gErr + 2 ** -40 : det[t]!.wErr[det[t]!.pick.indexOf(e)]!;
      const rho = (t: number) => errOfScale(t) / Math.abs(scaleOf(t));
      const n = tokens.length;
      const xe = new Float64Array(n * D);
      const up = new Float64Array(n * D);
      tokens.forEach((t, r) => {
        for (let j = 0; j < D; j++) {
          xe[r * D + j] = x[t * D + j]!;
          up[r * D + j] = scaleOf(t) * dY[t * D + j]!;
        }
      });
      const gp = { dModel: D, activation: c.activation, ...ex };
      const all = gatedGrad64(gp, xe, n, up);
      const per = tokens.map((_, r) =>
        gatedGrad64(gp, xe.subarray(r * D, (r + 1) * D), 1, up.subarray(r * D, (r + 1) * D)),
      );
      const errOf = (key: keyof typeof all, len: number) =>
        Float64Array.from({ length: len }, (_, i) => {
          let s = (all[key] as Grad64).kernelErr[i]!;
          per.forEach((q, r) => {
            const v = q[key] as Grad64;
            s += rho(tokens[r]!) * (Math.abs(v.value[i]!) + v.modelErr[i]!);
          });
          return s * WIDEN;
        });
      // dX rows of this expert: its part of each token's dX error.
      tokens.forEach((t, r) => {
        for (let j = 0; j < D; j++) {
          const q = per[r]!.dX;
          const part = rho(t) * (Math.abs(q.value[j]!) + q.modelErr[j]!);
          const ke = all.dX.kernelErr[r * D + j]!;
          dXErr[t * D + j] = dXErr[t * D + j]! + ke + part;
          dXMag[t * D + j] = dXMag[t * D + j]! + Math.abs(q.value[j]!) + q.modelErr[j]! + ke + part;
        }
      });
      // M3 as the gated layer's test: per token, scaled by |its weight|.
      const dMabs = tokens.map((t) =>
        Float64Array.from({ length: ex.dHidden }, (_, h) => {
          let s = 0;
          for (let j = 0; j < D; j++)
            s += Math.abs(dY[t * D + j]!) * Math.abs(ex.wDown[h * D + j]!);
          return s * (1 + gamma(D)) * (Math.abs(scaleOf(t)) + errOfScale(t));
        }),
      );
      const upLin = tokens.map((t) => linear64(xs0, t * D, D, ex.wUp, ex.dHidden, ex.bUp));
      const uAbs = (r: number, h: number) => upLin[r]!.abs[h]!;
      const Hh = ex.dHidden;
      const setter = (field: keyof Expert64) => (i: number) => (th: number) => {
        const q = clone();
        const target = e === "shared" ? q.shared! : q.experts[e]!;
        (target[field] as Float64Array)[i] = th;
        return lossAt(q, xs0);
      };
      check(`${name}.dWGate`, grads.dWGate.data, errOf("dWGate", D * Hh), (i) => {
        const kk = Math.floor(i / Hh);
        const h = i % Hh;
        let m3 = 0;
        tokens.forEach(
          (t, r) => (m3 += dMabs[r]![h]! * uAbs(r, h) * Math.abs(x[t * D + kk]!) ** 3),
        );
        return centralDifference(setter("wGate")(i), ex.wGate[i]!, H_STEP, L3 * m3);
      });
      check(`${name}.dWUp`, grads.dWUp.data, errOf("dWUp", D * Hh), (i) =>
        centralDifference(setter("wUp")(i), ex.wUp[i]!, H_STEP, 0),
      );
      check(`${name}.dWDown`, grads.dWDown.data, errOf("dWDown", Hh * D), (i) =>
        centralDifference(setter("wDown")(i), ex.wDown[i]!, H_STEP, 0),
      );
      if (c.bias) {
        check(`${name}.dbGate`, grads.dbGate, errOf("dbGate", Hh), (h) => {
          let m3 = 0;
          tokens.forEach((_, r) => (m3 += dMabs[r]![h]! * uAbs(r, h)));
          return centralDifference(setter("bGate")(h), ex.bGate![h]!, H_STEP, L3 * m3);
        });
        check(`${name}.dbUp`, grads.dbUp, errOf("dbUp", Hh), (h) =>
          centralDifference(setter("bUp")(h), ex.bUp![h]!, H_STEP, 0),
        );
        check(`${name}.dbDown`, grads.dbDown, errOf("dbDown", D), (j) =>
          centralDifference(setter("bDown")(j), ex.bDown![j]!, H_STEP, 0),
        );
      }
    };
    g.dExperts.forEach((grads, e) => expertCheck(`dExperts[${e}]`, e, grads));
    if (c.shared !== "none") expertCheck("dShared", "shared", g.dShared!);
    else expect(g.dShared).toBeUndefined();

    // ---- dX: the experts' parts, the router's, the gate's; M3 by Leibniz along x_tk
    const dXAllowed = Float64Array.from({ length: T * D }, (_, i) => {
      const t = Math.floor(i / D);
      const kk = i % D;
      let e = dXErr[i]!;
      let mag = 0;
      for (let j = 0; j < E; j++) {
        const r = Math.abs(p.router[kk * E + j]!);
        e += r * dl[t]![j]!.e;
        mag += r * dl[t]![j]!.abs;
      }
      if (p.sharedGate !== null) {
        e += Math.abs(p.sharedGate[kk]!) * dz[t]!.e;
        mag += Math.abs(p.sharedGate[kk]!) * dz[t]!.abs;
      }
      const g0 = gamma(2 * (E + c.topK + 2)) * (mag + dXMag[i]!);
      return (e + g0 + U * (Math.abs(g.dX.data[i]!) + e + g0) + ETA) * WIDEN;
    });
    /** Bounds of c = dY · Y(x) and its first three derivatives along x_k, over the step. */
    const cDerivs = (ex: Expert64, t: number, kk: number) => {
      const Hh = ex.dHidden;
      const gl = linear64(xs0, t * D, D, ex.wGate, Hh, ex.bGate);
      const ul = linear64(xs0, t * D, D, ex.wUp, Hh, ex.bUp);
      let [C0, C1, C2, C3] = [0, 0, 0, 0];
      for (let h = 0; h < Hh; h++) {
        let dM = 0;
        for (let j = 0; j < D; j++) dM += Math.abs(dY[t * D + j]!) * Math.abs(ex.wDown[h * D + j]!);
        dM *= 1 + gamma(D);
        const gp = Math.abs(ex.wGate[kk * Hh + h]!);
        const upp = Math.abs(ex.wUp[kk * Hh + h]!);
        const um = ul.abs[h]! + H_STEP * upp;
        const phi = Math.abs(gl.value[h]!) * L1 * (1 + ACT64_REL) + L1 * (gl.err[h]! + H_STEP * gp); // |φ(g)| ≤ L1 |g|
        C0 += dM * phi * um;
        C1 += dM * (L1 * gp * um + phi * upp);
        C2 += dM * (L2 * gp * gp * um + 2 * L1 * gp * upp);
        C3 += dM * (L3 * gp ** 3 * um + 3 * L2 * gp * gp * upp);
      }
      if (ex.bDown !== null)
        for (let j = 0; j < D; j++) C0 += Math.abs(dY[t * D + j]!) * Math.abs(ex.bDown[j]!);
      return [C0, C1, C2, C3] as const;
    };
    check("dX", g.dX.data, dXAllowed, (i) => {
      const t = Math.floor(i / D);
      const kk = i % D;
      let V = 0;
      for (let j = 0; j < E; j++) V = Math.max(V, Math.abs(p.router[kk * E + j]!));
      const [W1, W2, W3] = [2 * V, 5.5 * V * V, 25 * V ** 3].map((v) => v * c.routedScale);
      const sc = c.routedScale;
      let m3 = 0;
      for (const e of det[t]!.pick) {
        const [C0, C1, C2, C3] = cDerivs(p.experts[e]!, t, kk);
        m3 += W3! * C0 + 3 * W2! * C1 + 3 * W1! * C2 + sc * C3;
      }
      if (p.shared !== null) {
        const [C0, C1, C2, C3] = cDerivs(p.shared, t, kk);
        const G = p.sharedGate === null ? 0 : Math.abs(p.sharedGate[kk]!);
        m3 += (G ** 3 / 8) * C0 + 3 * 0.1 * G * G * C1 + 3 * (G / 4) * C2 + C3;
      }
      const f = (th: number) => {
        const xs = xs0.slice();
        xs[i] = th;
        return lossAt(p, xs);
      };
      return centralDifference(f, x[i]!, H_STEP, m3);
    });
  });
});
