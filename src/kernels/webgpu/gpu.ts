// The part of the WebGPU API the webgpu kernel uses, as structural types of its own: a
// GPUDevice from a browser, from Node's `webgpu` package or from @webgpu/types fits them, and
// no DOM or WebGPU type declarations reach a user's build through tokenwise's .d.ts files.

/**
 * The WebGPU device a layer computes on with `kernel: "webgpu"`: a `GPUDevice` (from
 * `navigator.gpu`, from Node's `webgpu` package, or an application's own). Only a few members
 * are named, loosely, so that tokenwise's types need no WebGPU declarations and any
 * `GPUDevice` type fits. In a page, leave `options.device` out and the layer takes one from
 * `navigator.gpu`; in Node, pass one from the `webgpu` package (Dawn), as below.
 *
 * @category Layers
 * @example
 * ```ts
 * import { create } from "webgpu"; // Node: Dawn's WebGPU (keep `gpu` while its devices live)
 * import { FeedForward, matrix } from "tokenwise";
 * const gpu = create([]);
 * const adapter = await gpu.requestAdapter();
 * const device = await adapter!.requestDevice();
 * const ffn = await FeedForward.create({ dModel: 8, dHidden: 32, seed: 1, kernel: "webgpu", device });
 * const x = matrix(3, 8, new Float32Array(24).fill(0.5));
 * const y = await ffn.forwardAsync(x); // forward(x) would throw: a GPU answers asynchronously
 * const alone = await ffn.forwardAsync(matrix(1, 8, x.data.slice(8, 16)));
 * console.log(ffn.kernel, alone.data.every((v, i) => Object.is(v, y.data[8 + i])));
 * // webgpu true
 * ffn.dispose();
 * device.destroy();
 * ```
 */
export interface GpuDevice {
  readonly limits: object;
  readonly queue: object;
  readonly lost: Promise<unknown>;
  createBuffer(descriptor: never): unknown;
  createComputePipeline(descriptor: never): unknown;
  createCommandEncoder(descriptor?: never): unknown;
}

// What the kernel calls, typed for its own use: a GpuDevice is one of these at run time.

/** The device limits the kernel reads. */
export interface Limits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupStorageSize: number;
}

export interface Device {
  readonly limits: Limits;
  readonly lost: Promise<{ readonly reason: unknown; readonly message: string }>;
  readonly queue: Queue;
  createBuffer(descriptor: { size: number; usage: number; label?: string }): Buffer;
  createShaderModule(descriptor: { code: string; label?: string }): object;
  createComputePipeline(descriptor: {
    layout: "auto";
    compute: { module: object; entryPoint: string };
    label?: string;
  }): Pipeline;
  createBindGroup(descriptor: {
    layout: object;
    entries: { binding: number; resource: { buffer: Buffer } }[];
  }): object;
  createCommandEncoder(): Encoder;
  pushErrorScope(filter: "validation" | "out-of-memory" | "internal"): void;
  popErrorScope(): Promise<{ readonly message: string } | null>;
}

export interface Queue {
  writeBuffer(
    buffer: Buffer,
    offset: number,
    data: ArrayBufferView,
    dataOffset?: number,
    size?: number,
  ): void;
  submit(commands: object[]): void;
}

export interface Buffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export interface Pipeline {
  getBindGroupLayout(index: number): object;
}

export interface Encoder {
  beginComputePass(): ComputePass;
  copyBufferToBuffer(
    source: Buffer,
    sourceOffset: number,
    destination: Buffer,
    destinationOffset: number,
    size: number,
  ): void;
  finish(): object;
}

export interface ComputePass {
  setPipeline(pipeline: Pipeline): void;
  setBindGroup(index: number, group: object): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

/** The part of `navigator.gpu` used to find a device. */
interface GpuEntry {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}

interface GpuAdapter {
  readonly limits: Limits;
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

// The usage flags (GPUBufferUsage) and map mode (GPUMapMode) the kernel needs: fixed by the
// WebGPU specification, and written out because Node has no such globals.
export const USAGE = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
export const MAP_READ = 0x0001;

/** The engine's WebGPU entry point (`navigator.gpu`), or null. */
function gpuEntry(): GpuEntry | null {
  const nav = (globalThis as { navigator?: { gpu?: GpuEntry } }).navigator;
  return nav?.gpu ?? null;
}

// The device layers share when the caller passes none: requested once, and requested again
// after it is lost.
let shared: Promise<Device> | null = null;

/**
 * The device a layer computes on when none is given: one from `navigator.gpu`, shared by such
 * layers, with the adapter's largest storage buffer limits. A clear error where there is none.
 */
export function defaultDevice(where: string): Promise<Device> {
  if (shared !== null) return shared;
  const entry = gpuEntry();
  if (entry === null) {
    return Promise.reject(
      new Error(
        `${where}: kernel "webgpu" needs WebGPU: this engine has no navigator.gpu; pass a GPUDevice as options.device to create (in Node, one from the "webgpu" package)`,
      ),
    );
  }
  const made = (async () => {
    const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
    if (adapter === null) {
      throw new Error(`${where}: kernel "webgpu": navigator.gpu has no adapter here`);
    }
    const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
    const device = (await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize, maxBufferSize },
    })) as Device;
    void device.lost.then(() => {
      if (shared === made) shared = null;
    });
    return device;
  })();
  shared = made;
  made.catch(() => {
    if (shared === made) shared = null;
  });
  return made;
}

/** Whether a value looks like a GPUDevice (the members the kernel calls are functions). */
export function isGpuDevice(value: unknown): value is Device {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return (
    typeof d.createBuffer === "function" &&
    typeof d.createComputePipeline === "function" &&
    typeof d.createCommandEncoder === "function" &&
    typeof d.createBindGroup === "function" &&
    typeof d.createShaderModule === "function" &&
    typeof d.pushErrorScope === "function" &&
    typeof d.popErrorScope === "function" &&
    typeof (d.lost as { then?: unknown } | undefined)?.then === "function" &&
    typeof d.queue === "object" &&
    d.queue !== null &&
    typeof d.limits === "object" &&
    d.limits !== null
  );
}
