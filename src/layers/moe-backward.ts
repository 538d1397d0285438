// The backward pass of a mixture of experts, in plain JavaScript on its unpacked weights.
//
// The routing is recomputed from x (the same arithmetic as the forward's, so the same experts
// and weights), the experts' outputs with the js kernel. With c_e = dY · expert_e(x) for each
// chosen expert e of a token, and w_e = scale · s_e (/ Σ_chosen s if normalized):
//   dL/ds_e = scale · c_e, or normalized (scale / Z) · (c_e − Σ_chosen c_i s_i / Z), Z = Σ_chosen s;
//   softmax: dL/dl_j = s_j · (dL/ds_j − Σ_chosen s_i dL/ds_i) for every expert j;
//   sigmoid: dL/dl_e = s_e (1 − s_e) · dL/ds_e for a chosen e, 0 for the others.
// The selection bias chooses the experts and has no gradient. Each expert's gradients are a
// gated layer's (backward.ts) on the tokens that chose it, with upstream gradient
// w_e · dY (exact in float64); the shared expert's with g · dY, g = sigmoid(x · sharedGate), whose
// logit gets c · g (1 − g). dX of a token is one float64 sum, rounded once: its experts' dX in
// increasing index, the shared expert's, the router's (Σ_e dL/dl_e · router[:, e]), the
// shared gate's. Weight gradients sum over the tokens in increasing order.
import { sigmoid64 } from "../kernels/activation";
import { JsKernel } from "../kernels/js";
import type { LayerShape, MapTensors } from "../kernels/kernel";
import { rawSource } from "../kernels/source";
import { gatedBackward } from "./backward";
import type { MoEBuilt } from "./moe-build";
import { MOE_BLOCK } from "./moe-forward";
import { RouteScratch, routeRows, unpackRouter } from "./moe-route";
import type { MixtureOfExpertsGradients } from "./moe-types";

type ExpertGradients = MixtureOfExpertsGradients["dExperts"][number];

/** One expert's gradients for the tokens that chose it; adds their dX into dX64, sets c. */
function expert(
  shape: LayerShape,
  maps: MapTensors[],
  x: Float32Array,
  dY: Float32Array,
  tokens: number[],
  scale: ArrayLike<number>,
  dX64: Float64Array,
  c: Float64Array,
): ExpertGradients {
  const d = shape.dModel;
  const n = tokens.length;
  const xe = new Float32Array(n * d);
  const dYe = new Float64Array(n * d); // w · dY, exact: two float32 factors
  tokens.forEach((t, r) => {
    xe.set(x.subarray(t * d, (t + 1) * d), r * d);
    for (let j = 0; j < d; j++) dYe[r * d + j] = (scale[r] as number) * (dY[t * d + j] as number);
  });
  const [g, u, dn] = maps as [MapTensors, MapTensors, MapTensors];
  const p = { ...shape, wGate: g.w, bGate: g.b, wUp: u.w, bUp: u.b, wDown: dn.w, bDown: dn.b };
  const grads = gatedBackward(p, xe, n, dYe);
  const y = new Float32Array(n * d);
  new JsKernel(shape, rawSource(shape, maps)).forward(xe, 0, n, y, 0);
  tokens.forEach((t, r) => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      dX64[t * d + j] = (dX64[t * d + j] as number) + (grads.dX.data[r * d + j] as number);
      s += (dY[t * d + j] as number) * (y[r * d + j] as number);
    }
    c[r] = s;
  });
  const { dX: _dX, ...rest } = grads;
  return rest;
}

/** The gradients of a mixture (see above). Trusts its input. */
export function moeBackward(
  b: MoEBuilt,
  unpack: (e: number) => MapTensors[],
  x: Float32Array,
  T: number,
  dY: Float32Array,
): MixtureOfExpertsGradients {
  const r = b.router;
  const { dModel: d, experts: E, topK: k } = r;
  const chosen = new Int32Array(T * k);
  const weights = new Float32Array(T * k);
  const scores = new Float64Array(T * E);
  const gates = new Float32Array(T).fill(1); // 1: a shared expert without a gate
  const scratch = new RouteScratch(Math.min(T, MOE_BLOCK), E, k);
  for (let t0 = 0; t0 < T; t0 += MOE_BLOCK) {
    const n = Math.min(MOE_BLOCK, T - t0);
    const sub = <A extends Int32Array | Float32Array | Float64Array>(a: A, w: number) =>
      a.subarray(t0 * w, (t0 + n) * w) as A;
    routeRows(
      r,
      x,
      t0 * d,
      n,
      scratch,
      sub(chosen, k),
      sub(weights, k),
      sub(gates, 1),
      sub(scores, E),
    );
  }
  const dX64 = new Float64Array(T * d);
  const c = new Float64Array(T * k); // dY · expert_e(x) for each chosen (token, slot)
  const dExperts: ExpertGradients[] = [];
  for (let e = 0; e < E; e++) {
    const slots: number[] = [];
    for (let i = 0; i < T * k; i++) if (chosen[i] === e) slots.push(i);
    const ce = new Float64Array(slots.length);
    const tokens = slots.map((i) => Math.floor(i / k));
    const ws = slots.map((i) => weights[i] as number);
    dExperts.push(expert(b.shapes[e] as LayerShape, unpack(e), x, dY, tokens, ws, dX64, ce));
    slots.forEach((i, j) => (c[i] = ce[j] as number));
  }
  const g: Omit<MixtureOfExpertsGradients, "dX" | "dRouter"> = { dExperts };
  const dz = new Float64Array(T); // the shared gate's logit
  if (b.shapes.length > E) {
    const all = Array.from({ length: T }, (_, t) => t);
    const cs = new Float64Array(T);
    const shape = b.shapes[E] as LayerShape;
    g.dShared = expert(shape, unpack(E), x, dY, all, gates, dX64, cs);
    if (r.sharedGate !== null) {
      const G = r.sharedGate;
      for (let t = 0; t < T; t++) {
        let z = 0;
        for (let j = 0; j < d; j++) z += (x[t * d + j] as number) * (G[j] as number);
        const s = sigmoid64(Math.fround(z));
        dz[t] = (cs[t] as number) * s * (1 - s);
      }
    }
  }
  // The router: dL/dl for every token and expert.
  const dl = new Float64Array(T * E);
  const ds = new Float64Array(k);
  for (let t = 0; t < T; t++) {
    const sc = (i: number) => scores[t * E + (chosen[t * k + i] as number)] as number;
    let Z = 0;
    let mean = 0;
    for (let i = 0; i < k; i++) Z += sc(i);
    for (let i = 0; i < k; i++) mean += (c[t * k + i] as number) * sc(i);
    mean /= Z;
    for (let i = 0; i < k; i++) {
      const ci = c[t * k + i] as number;
      ds[i] = r.normalize ? (r.scale / Z) * (ci - mean) : r.scale * ci;
    }
    if (r.scoring === "softmax") {
      let dot = 0;
      for (let i = 0; i < k; i++) dot += sc(i) * (ds[i] as number);
      for (let j = 0; j < E; j++) dl[t * E + j] = -(scores[t * E + j] as number) * dot;
      for (let i = 0; i < k; i++) {
        const at = t * E + (chosen[t * k + i] as number);
        dl[at] = (dl[at] as number) + sc(i) * (ds[i] as number);
      }
    } else {
      for (let i = 0; i < k; i++) {
        const s = sc(i);
        dl[t * E + (chosen[t * k + i] as number)] = s * (1 - s) * (ds[i] as number);
      }
    }
  }
  const R = unpackRouter(r);
  const dR = new Float64Array(d * E);
  const dB = new Float64Array(E);
  const dG = new Float64Array(d);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < d; j++) {
      const xv = x[t * d + j] as number;
      let s = dX64[t * d + j] as number;
      for (let e = 0; e < E; e++) {
        const v = dl[t * E + e] as number;
        s += v * (R[j * E + e] as number);
        dR[j * E + e] = (dR[j * E + e] as number) + xv * v;
      }
      if (r.sharedGate !== null) {
        s += (dz[t] as number) * (r.sharedGate[j] as number);
        dG[j] = (dG[j] as number) + xv * (dz[t] as number);
      }
      dX64[t * d + j] = s;
    }
    for (let e = 0; e < E; e++) dB[e] = (dB[e] as number) + (dl[t * E + e] as number);
  }
  const out: MixtureOfExpertsGradients = {
    dX: { rows: T, cols: d, data: Float32Array.from(dX64) },
    dRouter: { rows: d, cols: E, data: Float32Array.from(dR) },
    ...g,
  };
  if (r.bias !== null) out.dRouterBias = Float32Array.from(dB);
  if (r.sharedGate !== null) out.dSharedGate = { rows: d, cols: 1, data: Float32Array.from(dG) };
  return out;
}
