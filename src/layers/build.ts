// From what a caller gives (options, weights, JSON) to a layer's kernel, for any layer spec:
// every check is made, and every size is known, before anything is allocated.
import { assertOptions, kindOf } from "../check";
import type { ActivationName } from "../kernels/activation";
import type { KernelName, LayerShape, Kernel } from "../kernels/kernel";
import { type ThreadPlan, entryFor, resolveKernel } from "../kernels/registry";
import { type WeightSource, rawSource, seededSource } from "../kernels/source";
import {
  type KernelChoice,
  assertActivation,
  assertKernel,
  assertThreads,
  parseSeeded,
  planThreads,
} from "./options";
import { checkWeights, readJSON } from "./parse";
import type { Built, LayerSpec, WeightLayout } from "./spec";

/** A layer's kernel for a shape and plan: the size checked before anything is allocated. */
export function makeKernel(
  spec: LayerSpec,
  shape: LayerShape,
  source: WeightSource,
  name: KernelName,
  plan: ThreadPlan,
): Kernel {
  const entry = entryFor(name, plan);
  const dims = `dModel = ${shape.dModel}, dHidden = ${shape.dHidden}`;
  const large = entry.tooLarge(shape);
  if (large !== null) {
    throw new RangeError(
      `${spec.name}: ${dims} ${large}${name === "wasm" ? '; use kernel: "js"' : ""}`,
    );
  }
  try {
    return entry.create(shape, source, plan);
  } catch (cause) {
    if (!(cause instanceof RangeError)) throw cause;
    throw new RangeError(`${spec.name}: cannot allocate the ${name} kernel's memory for ${dims}`, {
      cause,
    });
  }
}

const ONE_THREAD: ThreadPlan = { threads: 1, host: null };

/** A seeded layer on one thread (the constructor's). */
export function buildSeeded(spec: LayerSpec, options: unknown): Built {
  const where = spec.name;
  const o = parseSeeded(options, where, spec.defaults);
  if (o.threads !== undefined && o.threads > 1) {
    throw new TypeError(
      `${where}: options.threads = ${o.threads} needs the async factory: await ${where}.create(options)`,
    );
  }
  const shape = {
    dModel: o.dModel,
    dHidden: o.dHidden,
    expand: spec.expand,
    hasBias: o.bias,
    activation: o.activation,
  };
  const kernel = resolveKernel(o.kernel, where);
  return {
    shape,
    kernel: makeKernel(spec, shape, seededSource(o.seed, shape), kernel, ONE_THREAD),
    fallback: null,
  };
}

const FROM_WEIGHTS = ["kernel", "activation", "layout"];
const CREATE_FROM_WEIGHTS = ["weights", "kernel", "threads", "activation", "layout"];

/** Options of a layer made from given weights. */
interface WeightOptions {
  weights?: unknown;
  kernel?: KernelChoice;
  threads?: number;
  activation?: ActivationName;
  layout?: WeightLayout;
}

export function assertLayout(value: unknown, where: string): WeightLayout {
  if (value === undefined || value === "conv1d" || value === "linear") return value ?? "conv1d";
  throw new TypeError(
    `${where}: options.layout must be "conv1d" or "linear", got ${typeof value === "string" ? `"${value}"` : kindOf(value)}`,
  );
}

/** Options of a layer from weights, checked, and the weights with them, as a source. */
function fromWeights(spec: LayerSpec, weights: unknown, opts: WeightOptions, where: string) {
  const activation = assertActivation(
    opts.activation,
    where,
    "options.activation",
    spec.defaults.activation,
  );
  const layout = assertLayout(opts.layout, where);
  const { shape, maps } = checkWeights(spec, weights, where, layout, activation);
  return { shape, source: rawSource(shape, maps, layout === "linear") };
}

/** A layer from given weights on one thread (fromWeights). */
export function buildFromWeights(spec: LayerSpec, weights: unknown, options: unknown): Built {
  const where = `${spec.name}.fromWeights`;
  const opts = assertOptions<WeightOptions>(options, FROM_WEIGHTS, where);
  const choice = assertKernel(opts.kernel, where);
  const { shape, source } = fromWeights(spec, weights, opts, where);
  const kernel = makeKernel(spec, shape, source, resolveKernel(choice, where), ONE_THREAD);
  return { shape, kernel, fallback: null };
}

/** A layer from JSON on one thread (fromJSON). */
export function buildFromJSON(spec: LayerSpec, json: unknown, options: unknown): Built {
  const where = `${spec.name}.fromJSON`;
  const opts = assertOptions<WeightOptions>(options, ["kernel"], where);
  const choice = assertKernel(opts.kernel, where);
  const { shape, maps } = readJSON(spec, json, where);
  return {
    shape,
    kernel: makeKernel(
      spec,
      shape,
      rawSource(shape, maps),
      resolveKernel(choice, where),
      ONE_THREAD,
    ),
    fallback: null,
  };
}

/** A layer with every fast path here: the kernel compiled ahead, threads where asked (create). */
export async function buildAsync(spec: LayerSpec, options: unknown): Promise<Built> {
  const where = `${spec.name}.create`;
  let shape: LayerShape;
  let source: WeightSource;
  let choice: KernelChoice;
  let threads: number | undefined;
  if (typeof options === "object" && options !== null && "weights" in options) {
    const opts = assertOptions<WeightOptions>(options, CREATE_FROM_WEIGHTS, where);
    ({ shape, source } = fromWeights(spec, opts.weights, opts, where));
    choice = assertKernel(opts.kernel, where);
    threads = assertThreads(opts.threads, where);
  } else {
    const o = parseSeeded(options, where, spec.defaults);
    shape = {
      dModel: o.dModel,
      dHidden: o.dHidden,
      expand: spec.expand,
      hasBias: o.bias,
      activation: o.activation,
    };
    source = seededSource(o.seed, shape);
    choice = o.kernel;
    threads = o.threads;
  }
  const name = resolveKernel(choice, where);
  const plan = await planThreads(name, threads);
  const entry = entryFor(name, plan);
  if (entry.tooLarge(shape) === null) await entry.prepare();
  return { shape, kernel: makeKernel(spec, shape, source, name, plan), fallback: plan.fallback };
}

// Layers built by the static factories come through their class's constructor with this
// options object, which no caller can have, and take what was built from `pending`: the
// constructor reads nothing from an options object it did not make.
const BUILT = Object.freeze({});
let pending: Built | null = null;

/** Constructs a layer class around what a factory built. */
export function construct<T>(Layer: new (options: never) => T, built: Built): T {
  pending = built;
  try {
    return new Layer(BUILT as never);
  } finally {
    pending = null;
  }
}

/** In a layer's constructor: what a factory built, or null for a caller's own options. */
export function takeBuilt(options: unknown): Built | null {
  if (options !== BUILT || pending === null) return null;
  const built = pending;
  pending = null;
  return built;
}
