// From a caller's options, weights or JSON to a mixture's router and experts kernel: every
// check made and every size known before anything is allocated.
import { assertBoolean, assertOptions, assertPositiveSize, assertSize } from "../check";
import type { ActivationName } from "../kernels/activation";
import { type ExpertsKernel, JsExperts, jsExpertsBytes } from "../kernels/experts";
import { type WeightDtype, is16 } from "../dtype";
import { type KernelName, type LayerShape, type MapTensors, mapDims } from "../kernels/kernel";
import { type ThreadPlan, entryFor, resolveKernel } from "../kernels/registry";
import { type Device, defaultDevice } from "../kernels/webgpu/gpu";
import { webgpuExpertsTooLarge } from "../kernels/webgpu/limits";
import { type MapTensors16, type WeightSource, raw16Source, rawSource } from "../kernels/source";
import { WasmExperts, expertsLayout } from "../kernels/wasm/experts";
import { gemmModule, gemmModuleSync } from "../kernels/wasm/module";
import { tooLarge } from "../kernels/wasm/panels";
import { Random } from "../random";
import { assertHalfRange, assertLayout } from "./build";
import { GATED } from "./gated";
import {
  type CheckedWeights,
  ROUTING_KEYS,
  type RouterTensors,
  type Routing,
  checkMoEWeights,
  parseRouting,
  readMoEJSON,
} from "./moe-parse";
import { type Router, packRouter } from "./moe-route";
import { MOE_BLOCK } from "./moe-forward";
import {
  type KernelChoice,
  assertActivation,
  assertDevice,
  assertDtype,
  assertKernel,
  assertThreads,
  planThreads,
} from "./options";

/** Everything a mixture is made of: its router, its experts' kernel, why fewer threads. */
export interface MoEBuilt {
  router: Router;
  activation: ActivationName;
  /** The experts' weight type (every shape's dtype). */
  dtype: WeightDtype;
  /** The routed experts' shapes, then the shared expert's if any. */
  shapes: LayerShape[];
  kernel: ExpertsKernel;
  fallback: string | null;
}

/** What the checks give, and where each expert's weights come from. */
interface Parts {
  routing: Routing;
  activation: ActivationName;
  shapes: LayerShape[];
  /** Routed experts (a shared one, if any, is the last shape). */
  experts: number;
  sources: WeightSource[];
  /** The router's tensors; a seeded layer draws them after the size checks, before the experts. */
  before(): RouterTensors;
  /** A seeded layer draws its shared gate after the experts. */
  after(t: RouterTensors): void;
}

const ONE: ThreadPlan = { threads: 1, host: null };
/** The experts' weight types: float32 and the 16-bit ones (quantized experts are not kept). */
export const MOE_DTYPES: readonly WeightDtype[] = ["f32", "bf16", "f16"];
/** The js kernel holds at most this much for a mixture (each expert at most 4 GiB, as a layer). */
const JS_MAX_TOTAL = 2 ** 36;

/**
 * The webgpu experts' module, loaded by the async factory when a mixture asks for the GPU (it
 * is not in the main bundle).
 */
type GpuExpertsModule = typeof import("../kernels/webgpu/experts");
let gpuExperts: GpuExpertsModule | null = null;

/** Why the experts are too large for a kernel and plan, or null: before anything is allocated. */
function tooLargeFor(shapes: LayerShape[], name: KernelName, plan: ThreadPlan): string | null {
  if (name === "webgpu") {
    return plan.device === undefined ? null : webgpuExpertsTooLarge(shapes, plan.device, MOE_BLOCK);
  }
  if (name === "wasm") return tooLarge(expertsLayout(shapes, plan.host !== null, plan.threads));
  const each = shapes.map((s) => entryFor("js", ONE).tooLarge(s, ONE)).find((m) => m !== null);
  if (each !== undefined) return each;
  const bytes = jsExpertsBytes(shapes);
  if (bytes <= JS_MAX_TOTAL) return null;
  return `need ${(bytes / 2 ** 30).toFixed(1)} GiB for the js kernel, over its 64 GiB limit`;
}

/** The router and the experts' kernel for a plan. */
function make(
  parts: Parts,
  name: KernelName,
  plan: ThreadPlan,
  fallback: string | null,
  where: string,
): MoEBuilt {
  if (name === "webgpu" && plan.device === undefined) {
    throw new TypeError(
      `${where}: kernel "webgpu" needs the async factory: await MixtureOfExperts.create(options)`,
    );
  }
  const { shapes, experts: E } = parts;
  const s = shapes[0] as LayerShape;
  const dims = `${E} experts of dModel = ${s.dModel}, dHidden = ${s.dHidden}`;
  const large = tooLargeFor(shapes, name, plan);
  if (large !== null) {
    throw new RangeError(
      `${where}: ${dims} ${large}${name === "wasm" ? '; use kernel: "js"' : ""}`,
    );
  }
  const t = parts.before();
  let kernel: ExpertsKernel;
  try {
    kernel =
      name === "js"
        ? new JsExperts(shapes, parts.sources)
        : name === "webgpu"
          ? new (gpuExperts as GpuExpertsModule).WebGpuExperts(
              shapes,
              parts.sources,
              plan.device as Device,
            )
          : new WasmExperts(
              shapes,
              parts.sources,
              gemmModuleSync(plan.host !== null),
              plan.host,
              plan.threads,
            );
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new RangeError(`${where}: cannot allocate the ${name} kernel's memory for ${dims}`, {
      cause,
    });
  }
  parts.after(t);
  const { routing: r } = parts;
  const router: Router = {
    dModel: s.dModel,
    experts: E,
    topK: r.topK,
    scoring: r.scoring,
    normalize: r.normalize,
    scale: r.routedScale,
    packed: packRouter(t.router, s.dModel, E),
    bias: t.routerBias,
    selection: t.selectionBias,
    sharedGate: t.sharedGate,
  };
  const dtype = s.dtype;
  return { router, activation: parts.activation, dtype, shapes, kernel, fallback };
}

const SEEDED = [
  "dModel",
  "dHidden",
  "experts",
  "sharedHidden",
  "sharedGate",
  "seed",
  "activation",
  "bias",
  "kernel",
  "threads",
  "dtype",
  "device",
  ...ROUTING_KEYS,
];

/**
 * A seeded mixture's parts. One Random(seed) stream draws, in order: the router (dModel,
 * experts) row-major, uniform in ±1/√dModel; each routed expert as a gated layer's maps (each
 * weight and bias uniform in ±1/√fan_in); the shared expert; its gate (±1/√dModel).
 */
function seededParts(options: unknown, where: string) {
  if (options === undefined) {
    throw new TypeError(`${where}: options { dModel, dHidden, experts, topK } are required`);
  }
  const o = assertOptions<Record<string, unknown>>(options, SEEDED, where);
  const dModel = assertPositiveSize(o.dModel, where, "options.dModel");
  const dHidden = assertPositiveSize(o.dHidden, where, "options.dHidden");
  const E = assertPositiveSize(o.experts, where, "options.experts");
  const sharedHidden =
    o.sharedHidden === undefined ? 0 : assertSize(o.sharedHidden, where, "options.sharedHidden");
  const gate =
    o.sharedGate === undefined ? true : assertBoolean(o.sharedGate, where, "options.sharedGate");
  if (o.sharedGate !== undefined && sharedHidden === 0) {
    throw new TypeError(
      `${where}: options.sharedGate needs a shared expert (options.sharedHidden)`,
    );
  }
  const seed = o.seed === undefined ? 0 : assertSize(o.seed, where, "options.seed");
  if (seed > 0xffffffff)
    throw new RangeError(`${where}: options.seed must be below 2^32, got ${seed}`);
  const hasBias = o.bias === undefined ? false : assertBoolean(o.bias, where, "options.bias");
  const activation = assertActivation(o.activation, where, "options.activation", "silu");
  const kernel = assertKernel(o.kernel, where);
  const threads = assertThreads(o.threads, where);
  const device = assertDevice(o.device, kernel, where);
  const dtype = assertDtype(o.dtype, where, "f32", "options.dtype", MOE_DTYPES);
  const routing = parseRouting(o, where, E);
  // Before a list of E shapes exists: the weights alone must fit the largest kernel.
  const bytes = 4 * (E + 1) * (3 * dModel * Math.max(dHidden, sharedHidden) + dModel);
  if (bytes > JS_MAX_TOTAL) {
    throw new RangeError(
      `${where}: ${E} experts of dModel = ${dModel}, dHidden = ${dHidden} need ${(bytes / 2 ** 30).toFixed(1)} GiB, over any kernel's limit (64 GiB)`,
    );
  }
  const shape = (h: number): LayerShape => ({
    dModel,
    dHidden: h,
    expand: 2,
    hasBias,
    activation,
    dtype,
  });
  const shapes = Array.from({ length: E }, () => shape(dHidden));
  if (sharedHidden > 0) shapes.push(shape(sharedHidden));
  const rng = new Random(seed);
  const sources = shapes.map((s): WeightSource => {
    const bound = (i: number) => 1 / Math.sqrt(mapDims(s, i).rows);
    return {
      hasBias,
      row: (i, _k, dst) => void rng.fillUniform(dst, bound(i)),
      bias: (i, dst) => void rng.fillUniform(dst, bound(i)),
    };
  });
  const parts: Parts = {
    routing,
    activation,
    shapes,
    experts: E,
    sources,
    before: () => ({
      router: rng.fillUniform(new Float32Array(dModel * E), 1 / Math.sqrt(dModel)),
      routerBias: null,
      selectionBias: null,
      sharedGate: null,
    }),
    after: (t) => {
      if (sharedHidden > 0 && gate)
        t.sharedGate = rng.fillUniform(new Float32Array(dModel), 1 / Math.sqrt(dModel));
    },
  };
  return { parts, kernel, threads, device };
}

/**
 * Parts from checked tensors: each expert's maps read by a raw source (16-bit ones as their
 * bits), kept as `dtype` (f16's range checked before anything is allocated).
 */
function givenParts(
  routing: Routing,
  activation: ActivationName,
  t: CheckedWeights,
  linear: boolean,
  dtype: WeightDtype,
  where: string,
  prefix: string,
): Parts {
  const E = t.shapes.length - (t.shared ? 1 : 0);
  const shapes = t.shapes.map((s) => ({ ...s, dtype }));
  shapes.forEach((s, e) => {
    const name = e < E ? `${prefix}.experts[${e}]` : `${prefix}.shared`;
    const label = (i: number) => `${name}.${GATED.maps[i]?.weight}`;
    assertHalfRange(GATED, s, t.maps[e] ?? [], t.from, where, label, linear);
  });
  const from = t.from;
  return {
    routing,
    activation,
    shapes,
    experts: E,
    sources: shapes.map((s, e) => {
      const maps = t.maps[e] ?? [];
      return is16(from)
        ? raw16Source(s, maps as MapTensors16[], from, linear)
        : rawSource(s, maps as MapTensors[], linear);
    }),
    before: () => t,
    after: () => undefined,
  };
}

const FROM_WEIGHTS = ["kernel", "activation", "layout", "dtype", ...ROUTING_KEYS];

function weightParts(weights: unknown, opts: Record<string, unknown>, where: string): Parts {
  const activation = assertActivation(opts.activation, where, "options.activation", "silu");
  const layout = assertLayout(opts.layout, where);
  const dtype = assertDtype(opts.dtype, where, "f32", "options.dtype", MOE_DTYPES);
  const t = checkMoEWeights(weights, where, layout, activation, dtype);
  const routing = parseRouting(opts, where, t.shapes.length - (t.shared ? 1 : 0));
  return givenParts(routing, activation, t, layout === "linear", dtype, where, "weights");
}

/** The constructor's mixture: seeded, on one thread. */
export function buildSeededMoE(options: unknown): MoEBuilt {
  const where = "MixtureOfExperts";
  const { parts, kernel, threads } = seededParts(options, where);
  if (threads !== undefined && threads > 1) {
    throw new TypeError(
      `${where}: options.threads = ${threads} needs the async factory: await ${where}.create(options)`,
    );
  }
  return make(parts, resolveKernel(kernel, where), ONE, null, where);
}

/** fromWeights: given weights, on one thread. */
export function buildMoEFromWeights(weights: unknown, options: unknown): MoEBuilt {
  const where = "MixtureOfExperts.fromWeights";
  const opts = assertOptions<Record<string, unknown>>(options, FROM_WEIGHTS, where);
  const choice = assertKernel(opts.kernel, where);
  const parts = weightParts(weights, opts, where);
  return make(parts, resolveKernel(choice, where), ONE, null, where);
}

/** fromJSON: on one thread. */
export function buildMoEFromJSON(json: unknown, options: unknown): MoEBuilt {
  const where = "MixtureOfExperts.fromJSON";
  const opts = assertOptions<{ kernel: KernelChoice; dtype: unknown }>(
    options,
    ["kernel", "dtype"],
    where,
  );
  const choice = assertKernel(opts.kernel, where);
  const asked =
    opts.dtype === undefined
      ? null
      : assertDtype(opts.dtype, where, "f32", "options.dtype", MOE_DTYPES);
  const { routing, activation, checked } = readMoEJSON(json, where);
  const dtype = asked ?? checked.from;
  const parts = givenParts(routing, activation, checked, false, dtype, where, "json");
  return make(parts, resolveKernel(choice, where), ONE, null, where);
}

/** create: the kernel compiled ahead, threads where asked. */
export async function buildMoEAsync(options: unknown): Promise<MoEBuilt> {
  const where = "MixtureOfExperts.create";
  let parts: Parts;
  let choice: KernelChoice;
  let threads: number | undefined;
  let device: Device | undefined;
  if (typeof options === "object" && options !== null && "weights" in options) {
    const keys = ["weights", "threads", "device", ...FROM_WEIGHTS];
    const opts = assertOptions<Record<string, unknown>>(options, keys, where);
    parts = weightParts(opts.weights, opts, where);
    choice = assertKernel(opts.kernel, where);
    threads = assertThreads(opts.threads, where);
    device = assertDevice(opts.device, choice, where);
  } else {
    ({ parts, kernel: choice, threads, device } = seededParts(options, where));
  }
  const name = resolveKernel(choice, where);
  let plan: ThreadPlan & { fallback: string | null } = await planThreads(name, threads);
  if (name === "webgpu") plan = { ...plan, device: device ?? (await defaultDevice(where)) };
  if (tooLargeFor(parts.shapes, name, plan) === null) {
    if (name === "wasm") await gemmModule(plan.host !== null);
    if (name === "webgpu") gpuExperts ??= await import("../kernels/webgpu/experts");
  }
  const built = make(parts, name, plan, plan.fallback, where);
  await built.kernel.ready?.(where);
  return built;
}
