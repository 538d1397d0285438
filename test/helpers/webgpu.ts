// A WebGPU device for the webgpu kernel's tests in Node: Dawn from the "webgpu" devDependency,
// on SwiftShader's CPU Vulkan driver (vitest.config.ts sets the environment it needs).
import { create } from "webgpu";
import type { GpuDevice } from "../../src/index";

// Dawn's instance, kept for the life of the process: its devices crash the process if it is
// collected while they are in use.
const gpu = create([]);

/** A new device on the first adapter Dawn finds, or an error saying what is missing. */
export async function makeDevice(): Promise<GPUDevice & GpuDevice> {
  const adapter = await gpu.requestAdapter();
  if (adapter === null) {
    throw new Error(
      `no WebGPU adapter: the tests need SwiftShader's Vulkan driver (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? "unset"}, LD_LIBRARY_PATH=${process.env.LD_LIBRARY_PATH ?? "unset"}); Debian's chromium package ships it in /usr/lib/chromium`,
    );
  }
  return adapter.requestDevice();
}

/**
 * The device with some limits replaced (smaller storage buffers, to make the kernel split a
 * batch into chunks); every other member is the device's own.
 */
export function withLimits(device: GPUDevice, limits: Record<string, number>): GpuDevice {
  const merged: Record<string, number> = {};
  for (const key in device.limits)
    merged[key] = device.limits[key as keyof GPUSupportedLimits] as number;
  Object.assign(merged, limits);
  return new Proxy(device, {
    get(target, prop) {
      if (prop === "limits") return merged;
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
