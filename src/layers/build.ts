// From what a caller gives (options, weights, JSON) to a layer's kernel, for any layer spec:
// every check is made, and every size is known, before anything is allocated.
import { assertOptions, kindOf } from "../check";
import {
  QUANT_BLOCK,
  type WeightDtype,
  bf16ToFloatBits,
  halfOverflowAt,
  halfToFloatBits,
  is16,
  isQuant,
} from "../dtype";
import { ShapeError } from "../errors";
import type { ActivationName } from "../kernels/activation";
import {
  type Kernel,
  type KernelName,
  type LayerShape,
  type StoredTensors,
  mapDims,
} from "../kernels/kernel";
import { type KernelEntry, type ThreadPlan, entryFor, resolveKernel } from "../kernels/registry";
import { type Device, defaultDevice } from "../kernels/webgpu/gpu";
import {
  type MapBlocks,
  type WeightSource,
  blockSource,
  raw16Source,
  rawSource,
  seededSource,
} from "../kernels/source";
import {
  type KernelChoice,
  assertActivation,
  assertDevice,
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
  const entry: KernelEntry = entryFor(name, plan);
  const refused = entry.refuses?.(shape) ?? null;
  if (refused !== null) throw new TypeError(`${spec.name}: ${refused}`);
  if (entry.needsDevice === true && plan.device === undefined) {
    throw new TypeError(
      `${spec.name}: kernel "${name}" needs the async factory: await ${spec.name}.create(options)`,
    );
  }
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

/**
 * For a quantized dtype: dModel and dHidden multiples of 32, else a ShapeError naming the one
 * that is not (blocks run along each matrix's input: dModel for the maps into the hidden
 * width, dHidden for the last).
 */
export function assertBlockShape(shape: LayerShape, where: string): void {
  if (!isQuant(shape.dtype)) return;
  for (const [name, n] of [
    ["dModel", shape.dModel],
    ["dHidden", shape.dHidden],
  ] as const) {
    if (n % QUANT_BLOCK === 0) continue;
    throw new ShapeError(
      `${where}: ${name} = ${n} is not a multiple of 32, the block size of dtype "${shape.dtype}" (blocks run along each matrix's input dimension: dModel for the maps into the hidden width, dHidden for the last)`,
    );
  }
}

/**
 * For a quantized layer made from float32 (or 16-bit) weights: every weight finite, else a
 * RangeError naming the first that is not (ggml's quantizers have no defined result for
 * them). `from` is the type the weights are given in; `linear`: nn.Linear's (out, in).
 */
function assertFiniteForQuant(
  spec: LayerSpec,
  shape: LayerShape,
  maps: readonly StoredTensors[],
  from: WeightDtype,
  where: string,
  label: (i: number) => string,
  linear = false,
): void {
  if (!isQuant(shape.dtype) || isQuant(from)) return;
  const exp = from === "bf16" ? 0x7f80 : 0x7c00;
  maps.forEach((m, i) => {
    const w = m.w;
    let at = -1;
    if (w instanceof Float32Array) {
      at = w.findIndex((v) => !Number.isFinite(v));
    } else {
      for (let e = 0; e < w.length && at < 0; e++) if (((w[e] as number) & exp) === exp) at = e;
    }
    if (at < 0) return;
    const { rows, cols } = mapDims(shape, i);
    const given = linear ? rows : cols;
    const h = w[at] as number;
    const value =
      w instanceof Float32Array
        ? h
        : new Float32Array(
            new Uint32Array([from === "bf16" ? bf16ToFloatBits(h) : halfToFloatBits(h)]).buffer,
          )[0];
    throw new RangeError(
      `${where}: ${label(i)}[${Math.floor(at / given)}, ${at % given}] is ${value}; only finite weights quantize to dtype "${shape.dtype}"`,
    );
  });
}

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
  assertBlockShape(shape, where);
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
  "device",
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
  device?: unknown;
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
  assertBlockShape(shape, where);
  const label = weightLabel(spec, "weights");
  assertHalfRange(spec, shape, maps, "f32", where, label, linear);
  assertFiniteForQuant(spec, shape, maps, "f32", where, label, linear);
  return { shape, source: rawSource(shape, maps, linear) };
}

/** "weights.w1", "json.wGate": map i's weight under `prefix`. */
const weightLabel = (spec: LayerSpec, prefix: string) => (i: number) =>
  `${prefix}.${spec.maps[i]?.weight}`;

const bf16Value = (h: number) => new Float32Array(new Uint32Array([bf16ToFloatBits(h)]).buffer)[0];

/**
 * For an f16 layer: every finite weight within f16's range, else a RangeError naming the first
 * that is not (checked before anything is allocated). IEEE rounding would turn it into an
 * infinity, and the layer's outputs into infinities and NaN; bf16 holds float32's whole range.
 * `from` is the type the weights are given in; `linear`: matrices in nn.Linear's (out, in).
 */
export function assertHalfRange(
  spec: LayerSpec,
  shape: LayerShape,
  maps: readonly StoredTensors[],
  from: WeightDtype,
  where: string,
  label: (i: number) => string,
  linear = false,
): void {
  if (shape.dtype !== "f16") return;
  maps.forEach((m, i) => {
    const at = halfOverflowAt(m.w as Float32Array | Uint16Array, from);
    if (at < 0) return;
    const { rows, cols } = mapDims(shape, i);
    const given = linear ? rows : cols;
    const value = m.w instanceof Float32Array ? m.w[at] : bf16Value(m.w[at] as number);
    throw new RangeError(
      `${where}: ${label(i)}[${Math.floor(at / given)}, ${at % given}] = ${value} is beyond f16's range (65504 is its largest finite value; 65520 and above round to Infinity); use dtype "bf16" or "f32"`,
    );
  });
}

/**
 * A layer of a shape from a weight source on one thread (a loader's: feedForwardFromGguf),
 * with `kernel` checked here; the caller checked the source's sizes and values.
 */
export function buildFromSource(
  spec: LayerSpec,
  shape: LayerShape,
  source: WeightSource,
  kernel: unknown,
  where: string,
): Built {
  const choice = assertKernel(kernel, where);
  assertBlockShape(shape, where);
  return {
    shape,
    kernel: makeKernel(spec, shape, source, resolveKernel(choice, where), ONE_THREAD),
    fallback: null,
  };
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
  const name = resolveKernel(choice, where);
  const label = weightLabel(spec, "json");
  return buildStored(spec, shape, read.maps, from, false, name, ONE_THREAD, where, label);
}

/**
 * A kernel for a plan from weights as stored (float32, 16-bit values of `from`, or a
 * quantized type's blocks, each going into the packing as it is), in tokenwise's layout or
 * with `linear` nn.Linear's.
 */
function buildStored(
  spec: LayerSpec,
  shape: LayerShape,
  maps: readonly StoredTensors[],
  from: WeightDtype,
  linear: boolean,
  name: KernelName,
  plan: ThreadPlan,
  where: string,
  label: (i: number) => string,
): Built {
  assertBlockShape(shape, where);
  if (!isQuant(from)) assertHalfRange(spec, shape, maps, from, where, label, linear);
  assertFiniteForQuant(spec, shape, maps, from, where, label, linear);
  const source = isQuant(from)
    ? blockSource(shape, maps as MapBlocks[], from)
    : is16(from)
      ? raw16Source(shape, maps as { w: Uint16Array; b: Float32Array | null }[], from, linear)
      : rawSource(shape, maps as { w: Float32Array; b: Float32Array | null }[], linear);
  const kernel = makeKernel(spec, shape, source, name, plan);
  return { shape, kernel, fallback: null };
}

/**
 * Weights a loader has found and checked, as stored: each map's weight in tokenwise's (in, out)
 * layout or, with `linear`, nn.Linear's (out, in); float32, or the bits of 16-bit values of
 * `from`. Biases are float32.
 */
export interface StoredWeights {
  readonly dModel: number;
  readonly dHidden: number;
  readonly maps: readonly StoredTensors[];
  readonly from: WeightDtype;
  readonly linear: boolean;
}

/** A loader's options, each read once. */
export interface StoredOptions {
  kernel?: KernelChoice | undefined;
  activation: ActivationName;
  dtype?: WeightDtype | undefined;
  threads?: number | undefined;
  sparse?: unknown;
}

/** The shape of stored weights for a spec and options: of `dtype`, default the weights' own. */
function storedShape(
  spec: LayerSpec,
  stored: StoredWeights,
  options: StoredOptions,
  where: string,
): LayerShape {
  const dtype = assertDtype(options.dtype, where, stored.from);
  const { dModel, dHidden, maps } = stored;
  const hasBias = maps.some((m) => m.b !== null);
  const { activation } = options;
  const sparse = assertSparse(options.sparse, where);
  return { dModel, dHidden, expand: spec.expand, hasBias, activation, dtype, sparse };
}

/**
 * A layer from stored weights on one thread (the checkpoint loaders): of `dtype`, default the
 * weights' own type, whose 16-bit values go into the kernel's packing as they are.
 */
export function buildFromStored(
  spec: LayerSpec,
  stored: StoredWeights,
  options: StoredOptions,
  where: string,
  label: (i: number) => string,
): Built {
  const choice = assertKernel(options.kernel, where);
  const shape = storedShape(spec, stored, options, where);
  const { maps, from, linear } = stored;
  const name = resolveKernel(choice, where);
  return buildStored(spec, shape, maps, from, linear, name, ONE_THREAD, where, label);
}

/** As {@link buildFromStored}, with the kernel compiled ahead and threads where asked. */
export async function buildFromStoredAsync(
  spec: LayerSpec,
  stored: StoredWeights,
  options: StoredOptions,
  where: string,
  label: (i: number) => string,
): Promise<Built> {
  const choice = assertKernel(options.kernel, where);
  const threads = assertThreads(options.threads, where);
  const shape = storedShape(spec, stored, options, where);
  const { maps, from, linear } = stored;
  const name = resolveKernel(choice, where);
  const plan = await planFor(name, threads, undefined, where);
  const entry = entryFor(name, plan);
  if (entry.tooLarge(shape, plan) === null) await entry.prepare(shape);
  const built = buildStored(spec, shape, maps, from, linear, name, plan, where, label);
  await ready(built.kernel, where);
  return { ...built, fallback: plan.fallback };
}

/** A layer with every fast path here: the kernel compiled ahead, threads where asked (create). */
export async function buildAsync(spec: LayerSpec, options: unknown): Promise<Built> {
  const where = `${spec.name}.create`;
  let shape: LayerShape;
  let source: WeightSource;
  let choice: KernelChoice;
  let threads: number | undefined;
  let device: Device | undefined;
  if (typeof options === "object" && options !== null && "weights" in options) {
    const opts = assertOptions<WeightOptions>(options, CREATE_FROM_WEIGHTS, where);
    ({ shape, source } = fromWeights(spec, opts.weights, opts, where));
    choice = assertKernel(opts.kernel, where);
    threads = assertThreads(opts.threads, where);
    device = assertDevice(opts.device, choice, where);
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
    assertBlockShape(shape, where);
    source = seededSource(o.seed, shape);
    choice = o.kernel;
    threads = o.threads;
    device = o.device;
  }
  const name = resolveKernel(choice, where);
  const plan = await planFor(name, threads, device, where);
  const entry = entryFor(name, plan);
  if (entry.tooLarge(shape, plan) === null) await entry.prepare(shape);
  const kernel = makeKernel(spec, shape, source, name, plan);
  await ready(kernel, where);
  return { shape, kernel, fallback: plan.fallback };
}

/**
 * The threads for a kernel and, for the webgpu kernel, its device: the one given, else one
 * from navigator.gpu (a clear error where there is none).
 */
async function planFor(
  name: KernelName,
  threads: number | undefined,
  device: Device | undefined,
  where: string,
): Promise<ThreadPlan & { fallback: string | null }> {
  const plan = await planThreads(name, threads);
  if (name !== "webgpu") return plan;
  return { ...plan, device: device ?? (await defaultDevice(where)) };
}

/** Waits for a kernel's asynchronous setup, where it has one. */
async function ready(kernel: Kernel, where: string): Promise<void> {
  if (kernel.ready !== undefined) await kernel.ready(where);
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
