// A mixture's weights, JSON, parameter count and routes, read back out of its router and
// experts kernel.
import { encodeFloat32 } from "../base64";
import type { ExpertsKernel } from "../kernels/experts";
import { is16 } from "../dtype";
import type { LayerShape, MapTensors, StoredTensors } from "../kernels/kernel";
import { float32Maps } from "../kernels/unpack";
import { GATED } from "./gated";
import type { GatedFeedForwardWeights } from "./gated";
import type { MoEBuilt } from "./moe-build";
import { MOE_BLOCK } from "./moe-forward";
import { RouteScratch, type Router, byWeight, routeRows, unpackRouter } from "./moe-route";
import type {
  ExpertJSON,
  MixtureOfExpertsJSON,
  MixtureOfExpertsWeights,
  Routes,
} from "./moe-types";

/** Weights and biases: the router's, each expert's, the shared gate's. */
export function parameterCount(b: MoEBuilt): number {
  const r = b.router;
  let n = r.dModel * r.experts + (r.bias?.length ?? 0) + (r.selection?.length ?? 0);
  n += r.sharedGate?.length ?? 0;
  for (const s of b.shapes) {
    n += 3 * s.dModel * s.dHidden + (s.hasBias ? 2 * s.dHidden + s.dModel : 0);
  }
  return n;
}

/** A copy of every weight in tokenwise's (in, out) layout. */
export function weightsOf(b: MoEBuilt, kernel: ExpertsKernel): MixtureOfExpertsWeights {
  const r = b.router;
  const d = r.dModel;
  const expert = (e: number): GatedFeedForwardWeights => {
    const maps = float32Maps(kernel.unpack(e), b.shapes[e] as LayerShape);
    const [g, u, dn] = maps as [MapTensors, MapTensors, MapTensors];
    const h = (b.shapes[e] as LayerShape).dHidden;
    const w: GatedFeedForwardWeights = {
      wGate: { rows: d, cols: h, data: g.w },
      wUp: { rows: d, cols: h, data: u.w },
      wDown: { rows: h, cols: d, data: dn.w },
    };
    if (g.b !== null) Object.assign(w, { bGate: g.b, bUp: u.b, bDown: dn.b });
    return w;
  };
  const w: MixtureOfExpertsWeights = {
    router: { rows: d, cols: r.experts, data: unpackRouter(r) },
    experts: Array.from({ length: r.experts }, (_, e) => expert(e)),
  };
  if (r.bias !== null) w.routerBias = r.bias.slice();
  if (r.selection !== null) w.selectionBias = r.selection.slice();
  if (b.shapes.length > r.experts) w.shared = expert(r.experts);
  if (r.sharedGate !== null) w.sharedGate = { rows: d, cols: 1, data: r.sharedGate.slice() };
  return w;
}

/**
 * The layer's JSON from its weights and its experts' stored maps: version 1 for float32
 * experts; version 2 with `dtype` for 16-bit ones, whose weight matrices are their bits.
 */
export function jsonOf(
  b: MoEBuilt,
  w: MixtureOfExpertsWeights,
  stored: (e: number) => StoredTensors[],
): MixtureOfExpertsJSON {
  const r = b.router;
  const typed = is16(b.dtype);
  const b64 = (v: Float32Array | undefined) => (v === undefined ? null : encodeFloat32(v));
  const expert = (e: number, h: number): ExpertJSON => {
    const j: Record<string, unknown> = { dHidden: h };
    stored(e).forEach((m, i) => {
      const keys = GATED.maps[i] as { weight: string; bias: string };
      j[keys.weight] = encodeFloat32(m.w);
      j[keys.bias] = m.b === null ? null : encodeFloat32(m.b);
    });
    return j as unknown as ExpertJSON;
  };
  const json: MixtureOfExpertsJSON = {
    format: "tokenwise.MixtureOfExperts",
    version: typed ? 2 : 1,
    encoding: typed ? "le-base64" : "float32-le-base64",
  } as MixtureOfExpertsJSON;
  if (typed) json.dtype = b.dtype;
  return Object.assign(json, {
    dModel: r.dModel,
    activation: b.activation,
    topK: r.topK,
    normalize: r.normalize,
    scoring: r.scoring,
    routedScale: r.scale,
    router: encodeFloat32(w.router.data),
    routerBias: b64(w.routerBias),
    selectionBias: b64(w.selectionBias),
    experts: w.experts.map((x, e) => expert(e, x.wGate.cols)),
    shared: w.shared === undefined ? null : expert(r.experts, w.shared.wGate.cols),
    sharedGate: b64(w.sharedGate?.data),
  });
}

/** Every token's experts and weights, in decreasing weight (route's order). */
export function routeAll(r: Router, x: Float32Array, rows: number): Routes {
  const k = r.topK;
  const experts = new Int32Array(rows * k);
  const weights = new Float32Array(rows * k);
  const s = new RouteScratch(Math.min(rows, MOE_BLOCK), r.experts, k);
  for (let r0 = 0; r0 < rows; r0 += MOE_BLOCK) {
    const n = Math.min(MOE_BLOCK, rows - r0);
    const ex = experts.subarray(r0 * k, (r0 + n) * k);
    const ws = weights.subarray(r0 * k, (r0 + n) * k);
    routeRows(r, x, r0 * r.dModel, n, s, ex, ws, null);
  }
  byWeight(experts, weights, rows, k);
  return { experts, weights, topK: k };
}
