// The kernels, by name: the one place that names them. A layer asks the registry for a kernel
// for its shape and plan; it never names a kernel class itself. A new kernel is one entry here
// (and its name in KernelName).
import { isQuant } from "../dtype";
import type { ThreadHost } from "../threads/platform";
import { type Kernel, type KernelName, type LayerShape } from "./kernel";
import { JsKernel, jsKernelBytes } from "./js";
import type { WeightSource } from "./source";
import type { Device } from "./webgpu/gpu";
import { webgpuRefuses, webgpuTooLarge } from "./webgpu/limits";
import { WasmKernel, layoutOf } from "./wasm/kernel";
import { type Availability, gemmModule, gemmModuleSync, wasmAvailability } from "./wasm/module";
import { tooLarge } from "./wasm/panels";
import { relaxedModuleAsync } from "./wasm/relaxed";
import { ThreadedWasmKernel } from "./wasm/threaded";

/**
 * How many threads a layer computes on, and the host that starts them (null: one thread); and
 * for the webgpu kernel, the device (absent: a synchronous factory, which cannot make one).
 */
export interface ThreadPlan {
  threads: number;
  host: ThreadHost | null;
  device?: Device;
}

export interface KernelEntry {
  readonly name: KernelName;
  /** Whether it runs on a pool of threads (a plan with a host picks such an entry). */
  readonly threaded: boolean;
  /** Whether this engine can run it, and if not, why. */
  available(): Availability;
  /** Why a shape is too large for it (on a plan's threads), or null: checked before anything is allocated. */
  tooLarge(shape: LayerShape, plan: ThreadPlan): string | null;
  /** Why it does not compute a shape at all (its dtype), or null: checked first. */
  refuses?(shape: LayerShape): string | null;
  /** Whether it needs a device in the plan, which only the async factories find. */
  readonly needsDevice?: boolean;
  /** Compiles what a layer of `shape` needs ahead of time, asynchronously (as browsers prefer). */
  prepare(shape: LayerShape): Promise<unknown>;
  create(shape: LayerShape, source: WeightSource, plan: ThreadPlan): Kernel;
}

/** The js kernel holds at most this much per layer, as the wasm kernel's wasm32 memory does. */
const JS_MAX_BYTES = 2 ** 32;

const ALWAYS: Availability = { ok: true };

/** relaxed.wat compiled ahead for a quantized layer that will use it (relaxed.ts), else nothing. */
function relaxedFor(shape: LayerShape, shared: boolean): Promise<unknown> {
  return isQuant(shape.dtype) ? relaxedModuleAsync(shared, shape.dtype) : Promise.resolve();
}

/**
 * The webgpu kernel's module, loaded by its entry's `prepare` (it is not in the main bundle:
 * only a layer that asks for the GPU loads it).
 */
type WebGpuModule = typeof import("./webgpu/kernel");
let webgpuModule: WebGpuModule | null = null;

const REGISTRY = {
  js: {
    name: "js",
    threaded: false,
    available: () => ALWAYS,
    tooLarge(shape) {
      const bytes = jsKernelBytes(shape);
      if (bytes <= JS_MAX_BYTES) return null;
      return `needs ${(bytes / 2 ** 20).toFixed(1)} MiB for the js kernel, over its 4 GiB limit`;
    },
    prepare: () => Promise.resolve(),
    create: (shape, source) => new JsKernel(shape, source),
  },
  wasm: {
    name: "wasm",
    threaded: false,
    available: wasmAvailability,
    tooLarge: (shape) => tooLarge(layoutOf(shape, false)),
    prepare: (shape) => Promise.all([gemmModule(false), relaxedFor(shape, false)]),
    create: (shape, source) => new WasmKernel(shape, source, gemmModuleSync(false)),
  },
  "wasm-threads": {
    name: "wasm",
    threaded: true,
    available: wasmAvailability,
    tooLarge: (shape, plan) => tooLarge(layoutOf(shape, true, plan.threads)),
    prepare: (shape) => Promise.all([gemmModule(true), relaxedFor(shape, true)]),
    create: (shape, source, plan) =>
      new ThreadedWasmKernel(
        shape,
        source,
        gemmModuleSync(true),
        plan.host as ThreadHost,
        plan.threads,
      ),
  },
  webgpu: {
    name: "webgpu",
    threaded: false,
    needsDevice: true,
    // Whether there is a device is known only once one is asked for (create does).
    available: () => ALWAYS,
    refuses: webgpuRefuses,
    tooLarge: (shape, plan) =>
      plan.device === undefined ? null : webgpuTooLarge(shape, plan.device),
    prepare: async () => {
      webgpuModule ??= await import("./webgpu/kernel");
    },
    create: (shape, source, plan) =>
      new (webgpuModule as WebGpuModule).WebGpuKernel(shape, source, plan.device as Device),
  },
} as const satisfies Record<string, KernelEntry>;

export type KernelId = keyof typeof REGISTRY;

/** The kernels that run on threads, by name (the threads option needs one of them). */
export function threadedKernel(name: KernelName): KernelId | null {
  for (const id of Object.keys(REGISTRY) as KernelId[]) {
    const e = REGISTRY[id];
    if (e.name === name && e.threaded) return id;
  }
  return null;
}

/**
 * The kernel a choice resolves to here, or a clear error if the one asked for cannot run.
 * `"auto"` never takes the webgpu kernel: a GPU is used only when asked for.
 */
export function resolveKernel(choice: "auto" | KernelName, where: string): KernelName {
  if (choice !== "auto") {
    const a = REGISTRY[choice].available();
    if (a.ok) return choice;
    throw new Error(`${where}: kernel "${choice}" is not available: ${a.reason}`);
  }
  return REGISTRY.wasm.available().ok ? "wasm" : "js";
}

/** The entry for a kernel name and a plan: the threaded one where the plan has a host. */
export function entryFor(name: KernelName, plan: ThreadPlan): KernelEntry {
  const threaded = plan.host === null ? null : threadedKernel(name);
  return threaded === null ? REGISTRY[name] : REGISTRY[threaded];
}
