// From what a caller gives (options, weights, JSON) to a layer's kernel, for any layer spec:
// every check is made, and every size is known, before anything is allocated.
import { assertOptions, kindOf } from "../check";
import { type WeightDtype, bf16ToFloatBits, halfOverflowAt, is16 } from "../dtype";
import type { ActivationName } from "../kernels/activation";
import {
  type Kernel,
  type KernelName,
  type LayerShape,
  type StoredTensors,
  mapDims,
} from "../kernels/kernel";
import { type ThreadPlan, entryFor, resolveKernel } from "../kernels/registry";
import { type WeightSource, raw16Source, rawSource, seededSource } from "../kernels/source";
import {
  type KernelChoice,
  assertActivation,
  assertDtype,
  assertKernel,
  assertSparse,
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
  const large = entry.tooLarge(shape, plan);
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
    dtype: o.dtype,
    sparse: o.sparse,
  };
  const kernel = resolveKernel(o.kernel, where);
  return {
    shape,
    kernel: makeKernel(spec, shape, seededSource(o.seed, shape), kernel, ONE_THREAD),
    fallback: null,
  };
}

const FROM_WEIGHTS = ["kernel", "activation", "layout", "dtype", "sparse"];
const CREATE_FROM_WEIGHTS = [
  "weights",
  "kernel",
  "threads",
  "activation",
  "layout",
  "dtype",
  "sparse",
];

/** Options of a layer made from given weights. */
interface WeightOptions {
  weights?: unknown;
  kernel?: KernelChoice;
  threads?: number;
  activation?: ActivationName;
  layout?: WeightLayout;
  dtype?: WeightDtype;
  sparse?: boolean;
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
  const dtype = assertDtype(opts.dtype, where);
  const sparse = assertSparse(opts.sparse, where);
  const checked = checkWeights(spec, weights, where, layout, activation, dtype);
  const { maps } = checked;
  const shape = { ...checked.shape, sparse };
  const linear = layout === "linear";
  assertHalfRange(spec, shape, maps, "f32", where, "weights", linear);
  return { shape, source: rawSource(shape, maps, linear) };
}

const bf16Value = (h: number) => new Float32Array(new Uint32Array([bf16ToFloatBits(h)]).buffer)[0];

/**
 * For an f16 layer: every finite weight within f16's range, else a RangeError naming the first
 * that is not (checked before anything is allocated). IEEE rounding would turn it into an
 * infinity, and the layer's outputs into infinities and NaN; bf16 holds float32's whole range.
 * `from` is the type the weights are given in; `linear`: matrices in nn.Linear's (out, in).
 */
function assertHalfRange(
  spec: LayerSpec,
  shape: LayerShape,
  maps: readonly StoredTensors[],
  from: WeightDtype,
  where: string,
  prefix: string,
  linear = false,
): void {
  if (shape.dtype !== "f16") return;
  maps.forEach((m, i) => {
    const at = halfOverflowAt(m.w, from);
    if (at < 0) return;
    const { rows, cols } = mapDims(shape, i);
    const given = linear ? rows : cols;
    const value = m.w instanceof Float32Array ? m.w[at] : bf16Value(m.w[at] as number);
    throw new RangeError(
      `${where}: ${prefix}.${spec.maps[i]?.weight}[${Math.floor(at / given)}, ${at % given}] = ${value} is beyond f16's range (65504 is its largest finite value; 65520 and above round to Infinity); use dtype "bf16" or "f32"`,
    );
  });
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

/**
 * A layer from JSON on one thread (fromJSON): of the JSON's dtype, or of `options.dtype`
 * (16-bit weights widened exactly, float32 ones rounded to nearest even).
 */
export function buildFromJSON(spec: LayerSpec, json: unknown, options: unknown): Built {
  const where = `${spec.name}.fromJSON`;
  const opts = assertOptions<WeightOptions>(options, ["kernel", "dtype", "sparse"], where);
  const choice = assertKernel(opts.kernel, where);
  const given = opts.dtype;
  const asked = given === undefined ? null : assertDtype(given, where);
  const sparse = assertSparse(opts.sparse, where);
  const read = readJSON(spec, json, where);
  const from = read.shape.dtype;
  const shape = { ...read.shape, dtype: asked ?? from, sparse };
  assertHalfRange(spec, shape, read.maps, from, where, "json");
  const source = is16(from)
    ? raw16Source(shape, read.maps as { w: Uint16Array; b: Float32Array | null }[], from)
    : rawSource(shape, read.maps as { w: Float32Array; b: Float32Array | null }[]);
  const kernel = makeKernel(spec, shape, source, resolveKernel(choice, where), ONE_THREAD);
  return { shape, kernel, fallback: null };
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
      dtype: o.dtype,
      sparse: o.sparse,
    };
    source = seededSource(o.seed, shape);
    choice = o.kernel;
    threads = o.threads;
  }
  const name = resolveKernel(choice, where);
  const plan = await planThreads(name, threads);
  const entry = entryFor(name, plan);
  if (entry.tooLarge(shape, plan) === null) await entry.prepare();
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
