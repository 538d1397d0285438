// A mixture's options, weights and JSON, checked: every size known and every shape matched
// before anything is allocated. The experts are checked as gated layers (parse.ts), then
// against each other and the router.
import { decodeFloat32 } from "../base64";
import {
  assertBoolean,
  assertFloat32Array,
  assertMatrix,
  assertOptions,
  assertPositiveSize,
  kindOf,
} from "../check";
import { ShapeError } from "../errors";
import type { ActivationName } from "../kernels/activation";
import type { WeightDtype } from "../dtype";
import type { LayerShape, StoredTensors } from "../kernels/kernel";
import { GATED } from "./gated";
import type { Scoring } from "./moe-route";
import { assertActivation, assertDtype } from "./options";
import { checkWeights, readJSON } from "./parse";
import type { WeightLayout } from "./spec";

/** How tokens are routed, checked. */
export interface Routing {
  topK: number;
  normalize: boolean;
  scoring: Scoring;
  routedScale: number;
}

export const ROUTING_KEYS = ["topK", "normalize", "scoring", "routedScale"];

/** The routing options, checked against the number of experts. */
export function parseRouting(o: Record<string, unknown>, where: string, experts: number): Routing {
  if (o.topK === undefined) throw new TypeError(`${where}: options.topK is required`);
  const topK = assertPositiveSize(o.topK, where, "options.topK");
  if (topK > experts) {
    throw new RangeError(
      `${where}: options.topK = ${topK} is more than the number of experts, ${experts}`,
    );
  }
  const normalize =
    o.normalize === undefined ? true : assertBoolean(o.normalize, where, "options.normalize");
  const scoring = o.scoring ?? "softmax";
  if (scoring !== "softmax" && scoring !== "sigmoid") {
    throw new TypeError(
      `${where}: options.scoring must be "softmax" or "sigmoid", got ${typeof scoring === "string" ? `"${scoring}"` : kindOf(scoring)}`,
    );
  }
  const routedScale = o.routedScale ?? 1;
  if (typeof routedScale !== "number" || !(routedScale > 0) || routedScale === Infinity) {
    throw new RangeError(
      `${where}: options.routedScale must be a finite number above 0, got ${typeof routedScale === "number" ? routedScale : kindOf(routedScale)}`,
    );
  }
  return { topK, normalize, scoring, routedScale };
}

/** The router's tensors, tokenwise's layout: router (dModel, experts) row-major. */
export interface RouterTensors {
  router: Float32Array;
  routerBias: Float32Array | null;
  selectionBias: Float32Array | null;
  sharedGate: Float32Array | null;
}

/** A mixture's weights, checked: each expert's shape and maps (routed, then shared). */
export interface CheckedWeights extends RouterTensors {
  /** The routed experts' shapes, then the shared expert's if `shared`. */
  shapes: LayerShape[];
  shared: boolean;
  /** Each expert's maps as given: float32, or bits of 16-bit values of `from`. */
  maps: StoredTensors[][];
  from: WeightDtype;
}

const WEIGHT_KEYS = ["router", "routerBias", "selectionBias", "experts", "shared", "sharedGate"];

/** A vector of `n` values or undefined (null then). */
function vector(v: unknown, n: number, where: string, name: string, what: string) {
  if (v === undefined) return null;
  const a = assertFloat32Array(v, where, name);
  if (a.length !== n)
    throw new ShapeError(`${where}: ${name} has length ${a.length}, expected ${what} = ${n}`);
  return a;
}

/** The transpose of an (r, c) row-major matrix, copied. */
function transpose(data: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j] as number;
  return out;
}

/** A mixture's weights, checked: shapes, the experts alike, the router fitting them. */
export function checkMoEWeights(
  weights: unknown,
  where: string,
  layout: WeightLayout,
  activation: ActivationName,
  dtype: WeightDtype,
): CheckedWeights {
  if (weights === undefined) {
    throw new TypeError(`${where}: weights { router, experts } are required`);
  }
  const w = assertOptions<Record<string, unknown>>(weights, WEIGHT_KEYS, where, "weights");
  const linear = layout === "linear";
  const router = assertMatrix(w.router, where, "weights.router");
  if (!Array.isArray(w.experts) || w.experts.length === 0) {
    throw new TypeError(
      `${where}: weights.experts must be a non-empty Array of gated weights, got ${kindOf(w.experts)}`,
    );
  }
  const list = w.experts as unknown[];
  const checked = list.map((x, i) =>
    checkWeights(GATED, x, `${where}: weights.experts[${i}]`, layout, activation, dtype),
  );
  const E = list.length;
  const s0 = (checked[0] as (typeof checked)[number]).shape;
  const d = s0.dModel;
  checked.forEach(({ shape: s }, i) => {
    if (s.dModel === d && s.dHidden === s0.dHidden && s.hasBias === s0.hasBias) return;
    const of = (t: LayerShape) =>
      `dModel ${t.dModel}, dHidden ${t.dHidden}, ${t.hasBias ? "with" : "without"} biases`;
    throw new ShapeError(
      `${where}: weights.experts[${i}] has ${of(s)}, but weights.experts[0] has ${of(s0)}; the experts must all have one shape`,
    );
  });
  const [rr, rc] = linear ? [E, d] : [d, E];
  if (router.rows !== rr || router.cols !== rc) {
    const want = linear ? "(experts, dModel)" : "(dModel, experts)";
    throw new ShapeError(
      `${where}: weights.router is ${router.rows} x ${router.cols}, expected ${want} = ${rr} x ${rc} for ${E} experts of dModel ${d}`,
    );
  }
  const routerBias = vector(w.routerBias, E, where, "weights.routerBias", "experts");
  const selectionBias = vector(w.selectionBias, E, where, "weights.selectionBias", "experts");
  const shapes = checked.map((c) => c.shape);
  const maps = checked.map((c) => c.maps);
  let sharedGate: Float32Array | null = null;
  if (w.shared !== undefined) {
    const s = checkWeights(GATED, w.shared, `${where}: weights.shared`, layout, activation, dtype);
    if (s.shape.dModel !== d) {
      throw new ShapeError(
        `${where}: weights.shared has dModel ${s.shape.dModel}, expected the experts' dModel = ${d}`,
      );
    }
    shapes.push(s.shape);
    maps.push(s.maps);
    if (w.sharedGate !== undefined) {
      const g = assertMatrix(w.sharedGate, where, "weights.sharedGate");
      const [gr, gc] = linear ? [1, d] : [d, 1];
      if (g.rows !== gr || g.cols !== gc) {
        throw new ShapeError(
          `${where}: weights.sharedGate is ${g.rows} x ${g.cols}, expected ${linear ? "(1, dModel)" : "(dModel, 1)"} = ${gr} x ${gc}`,
        );
      }
      sharedGate = g.data;
    }
  } else if (w.sharedGate !== undefined) {
    throw new TypeError(`${where}: weights.sharedGate is given without weights.shared`);
  }
  return {
    shapes,
    shared: w.shared !== undefined,
    maps,
    from: "f32",
    router: linear ? transpose(router.data, E, d) : router.data,
    routerBias,
    selectionBias,
    sharedGate,
  };
}

/** A mixture from its JSON, checked: routing, router, each expert as a gated layer's JSON. */
export function readMoEJSON(json: unknown, where: string) {
  const j = json as Record<string, unknown> | null;
  if (typeof j !== "object" || j === null || j.format !== "tokenwise.MixtureOfExperts") {
    throw new TypeError(
      `${where}: json is not a tokenwise.MixtureOfExperts (format field missing)`,
    );
  }
  // Version 1: float32 experts; version 2: experts of json.dtype, its weights' bits.
  const v = j.version;
  const encoding = v === 1 ? "float32-le-base64" : "le-base64";
  if ((v !== 1 && v !== 2) || j.encoding !== encoding) {
    throw new TypeError(
      `${where}: unsupported version ${String(j.version)} or encoding ${String(j.encoding)} (version 1 is "float32-le-base64", version 2 "le-base64")`,
    );
  }
  let from: WeightDtype = "f32";
  if (v === 2)
    from = assertDtype(j.dtype ?? null, where, "f32", "json.dtype", ["f32", "bf16", "f16"]);
  else if (j.dtype !== undefined) {
    throw new TypeError(`${where}: json.dtype is not part of version 1, whose experts are float32`);
  }
  const d = assertPositiveSize(j.dModel, where, "json.dModel");
  const activation = assertActivation(j.activation ?? null, where, "json.activation", "silu");
  if (!Array.isArray(j.experts) || j.experts.length === 0) {
    throw new TypeError(`${where}: json.experts must be a non-empty Array`);
  }
  const E = j.experts.length;
  const routing = parseRouting(j, where, E);
  const decode = (key: string, n: number, optional: boolean) => {
    const text = j[key];
    if (text === null && optional) return null;
    const data = typeof text === "string" ? decodeFloat32(text, n) : null;
    if (data === null)
      throw new TypeError(`${where}: json.${key} is not base64 of ${n} float32 values`);
    return data;
  };
  // Each expert reads as a gated layer's JSON of this dModel and its own dHidden.
  const expert = (e: unknown, name: string) => {
    const o = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
    const g: Record<string, unknown> = {
      ...o,
      format: GATED.json.format,
      version: v === 1 ? 1 : GATED.json.dtypeSince,
      encoding: j.encoding,
      activation,
      dModel: d,
    };
    if (v === 2) g.dtype = from;
    return readJSON(GATED, g, `${where}: ${name}`);
  };
  const experts = (j.experts as unknown[]).map((e, i) => expert(e, `json.experts[${i}]`));
  const checked: CheckedWeights = {
    shapes: experts.map((x) => x.shape),
    shared: j.shared !== null,
    maps: experts.map((x) => x.maps),
    from,
    router: decode("router", d * E, false) as Float32Array,
    routerBias: decode("routerBias", E, true),
    selectionBias: decode("selectionBias", E, true),
    sharedGate: null,
  };
  const s0 = checked.shapes[0] as LayerShape;
  checked.shapes.forEach((s, i) => {
    if (s.dHidden !== s0.dHidden || s.hasBias !== s0.hasBias) {
      throw new TypeError(`${where}: json.experts[${i}] differs in shape from json.experts[0]`);
    }
  });
  if (j.shared !== null) {
    const s = expert(j.shared, "json.shared");
    checked.shapes.push(s.shape);
    checked.maps.push(s.maps);
    checked.sharedGate = decode("sharedGate", d, true);
  } else if (j.sharedGate !== null) {
    throw new TypeError(`${where}: json.sharedGate must be null without json.shared`);
  }
  return { routing, activation, checked };
}
