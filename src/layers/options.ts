// The options every layer takes, checked: sizes, seed, bias, activation, kernel, threads, and
// how many threads a layer gets here.
import { assertBoolean, assertOptions, assertPositiveSize, assertSize, kindOf } from "../check";
import { WEIGHT_DTYPES, type WeightDtype } from "../dtype";
import { ACTIVATIONS, type ActivationName } from "../kernels/activation";
import type { KernelName } from "../kernels/kernel";
import { type ThreadPlan, threadedKernel } from "../kernels/registry";
import { threadHost } from "../threads/platform";
import { type Device, type GpuDevice, isGpuDevice } from "../kernels/webgpu/gpu";

/**
 * Which kernel a layer computes with. `"wasm"` is WebAssembly SIMD128, the fast one; `"js"` is
 * plain JavaScript and runs everywhere; `"auto"` takes `"wasm"` where this engine can run it
 * (SIMD128 present, and compiling WebAssembly allowed by the page's Content-Security-Policy)
 * and `"js"` elsewhere. `"webgpu"` computes on a GPU through WebGPU (`navigator.gpu`, or a
 * device passed as `options.device`): only through the async `create`, only with
 * `forwardAsync`, and never chosen by `"auto"` (docs/kernels.md, "The webgpu kernel").
 *
 * @category Layers
 */
export type KernelChoice = "auto" | KernelName;

const KERNEL_CHOICES: readonly KernelChoice[] = ["auto", "js", "wasm", "webgpu"];

/** The names an error lists, quoted. */
const listed = (names: readonly string[]) => names.map((n) => `"${n}"`).join(", ");
const shown = (value: unknown) => (typeof value === "string" ? `"${value}"` : kindOf(value));

/** A kernel option: one of KERNEL_CHOICES, "auto" when absent. */
export function assertKernel(value: unknown, where: string): KernelChoice {
  if (value === undefined) return "auto";
  if (typeof value === "string" && (KERNEL_CHOICES as readonly string[]).includes(value)) {
    return value as KernelChoice;
  }
  throw new TypeError(
    `${where}: options.kernel must be one of ${listed(KERNEL_CHOICES)}, got ${shown(value)}`,
  );
}

/**
 * A device option: undefined, or a GPUDevice for kernel "webgpu" (a TypeError otherwise: for
 * any other kernel, or for a value that is not a device).
 */
export function assertDevice(
  value: unknown,
  kernel: KernelChoice,
  where: string,
): Device | undefined {
  if (value === undefined) return undefined;
  if (kernel !== "webgpu") {
    throw new TypeError(
      `${where}: options.device is for kernel: "webgpu", got kernel ${shown(kernel)}`,
    );
  }
  if (isGpuDevice(value)) return value;
  throw new TypeError(`${where}: options.device must be a GPUDevice, got ${kindOf(value)}`);
}

/**
 * An activation option: one of ACTIVATIONS, or `fallback` when absent. The error names the
 * parameter and lists what is accepted.
 */
export function assertActivation(
  value: unknown,
  where: string,
  name: string,
  fallback: ActivationName,
): ActivationName {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (ACTIVATIONS as readonly string[]).includes(value)) {
    return value as ActivationName;
  }
  throw new TypeError(
    `${where}: ${name} must be one of ${listed(ACTIVATIONS)}, got ${shown(value)}`,
  );
}

/**
 * A dtype option (`name`, "options.dtype" by default): one of WEIGHT_DTYPES, or `fallback` when
 * absent. Not a string is a TypeError; a string that names no type is a RangeError; both list
 * the choices.
 */
export function assertDtype(
  value: unknown,
  where: string,
  fallback: WeightDtype = "f32",
  name = "options.dtype",
  allowed: readonly WeightDtype[] = WEIGHT_DTYPES,
): WeightDtype {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as WeightDtype;
  }
  const Err = typeof value === "string" ? RangeError : TypeError;
  throw new Err(`${where}: ${name} must be one of ${listed(allowed)}, got ${shown(value)}`);
}

/** The options of a layer with seeded weights (the constructor's and `create`'s). */
export interface SeededOptions {
  dModel: number;
  dHidden: number;
  seed?: number;
  bias?: boolean;
  activation?: ActivationName;
  kernel?: KernelChoice;
  threads?: number;
  dtype?: WeightDtype;
  sparse?: boolean;
  device?: GpuDevice;
}

const SEEDED_OPTIONS = [
  "dModel",
  "dHidden",
  "seed",
  "bias",
  "activation",
  "kernel",
  "threads",
  "dtype",
  "sparse",
  "device",
];

/** A seeded layer's options, checked, with the layer's defaults for bias and activation. */
export function parseSeeded(
  options: unknown,
  where: string,
  defaults: { bias: boolean; activation: ActivationName },
) {
  if (options === undefined) {
    throw new TypeError(`${where}: options { dModel, dHidden } are required`);
  }
  const opts = assertOptions<SeededOptions>(options, SEEDED_OPTIONS, where);
  const dModel = assertPositiveSize(opts.dModel, where, "options.dModel");
  const dHidden = assertPositiveSize(opts.dHidden, where, "options.dHidden");
  const seed = opts.seed === undefined ? 0 : assertSize(opts.seed, where, "options.seed");
  if (seed > 0xffffffff) {
    throw new RangeError(`${where}: options.seed must be below 2^32, got ${seed}`);
  }
  const bias =
    opts.bias === undefined ? defaults.bias : assertBoolean(opts.bias, where, "options.bias");
  const activation = assertActivation(
    opts.activation,
    where,
    "options.activation",
    defaults.activation,
  );
  const kernel = assertKernel(opts.kernel, where);
  const threads = assertThreads(opts.threads, where);
  const dtype = assertDtype(opts.dtype, where);
  const sparse = assertSparse(opts.sparse, where);
  const device = assertDevice(opts.device, kernel, where);
  return { dModel, dHidden, seed, bias, activation, kernel, threads, dtype, sparse, device };
}

/** A sparse option: a boolean, true when absent. */
export function assertSparse(value: unknown, where: string): boolean {
  return value === undefined ? true : assertBoolean(value, where, "options.sparse");
}

/** A threads option: a positive integer, or undefined for the default. */
export function assertThreads(value: unknown, where: string): number | undefined {
  return value === undefined ? undefined : assertPositiveSize(value, where, "options.threads");
}

/**
 * The most threads a layer starts: the number of cores, but at least 4 (so that a layer can
 * be tested on more threads than a small machine has). Each thread is a worker with its own
 * engine (several MB), so an unbounded count could exhaust memory.
 */
export function maxThreads(cores: number): number {
  return Math.max(4, cores);
}

const ONE: ThreadPlan & { fallback: string | null } = { threads: 1, host: null, fallback: null };

/** How many threads a layer gets here, and if fewer than asked, why. */
export async function planThreads(
  kernel: KernelName,
  requested: number | undefined,
): Promise<ThreadPlan & { fallback: string | null }> {
  if (requested === 1) return ONE;
  const host = await threadHost();
  const cap = maxThreads(host.cores);
  const want = Math.min(requested ?? host.cores, cap);
  const capped =
    requested !== undefined && requested > cap
      ? `options.threads = ${requested} was capped at ${cap} (the number of cores, or 4 if that is more)`
      : null;
  if (want <= 1) return ONE;
  if (threadedKernel(kernel) === null) {
    return {
      ...ONE,
      fallback: `threads need the wasm kernel; this layer runs the ${kernel} kernel`,
    };
  }
  if (host.unavailable !== null) return { ...ONE, fallback: host.unavailable };
  return { threads: want, host, fallback: capped };
}
