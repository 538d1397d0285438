// What the webgpu kernel can compute on a device, checked before anything is allocated: kept
// apart from the kernel, which the registry loads only when a layer asks for it.
import { isQuant } from "../../dtype";
import { type LayerShape, mapDims } from "../kernel";
import type { Device } from "./gpu";
import { TM, TN, padded } from "./tiles";

/** The largest storage buffer a device binds, in bytes. */
export function maxBinding(device: Device): number {
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
}

/** Why a shape does not fit a device's buffers, or null: checked before anything is allocated. */
export function webgpuTooLarge(shape: LayerShape, device: Device): string | null {
  const max = maxBinding(device);
  for (let i = 0; i <= shape.expand; i++) {
    const { rows, cols } = mapDims(shape, i);
    const bytes = rows * padded(cols) * 4;
    if (bytes > max) {
      return `needs a ${(bytes / 2 ** 20).toFixed(1)} MiB weight buffer for the webgpu kernel, over this device's ${(max / 2 ** 20).toFixed(1)} MiB storage buffer limit`;
    }
  }
  if (TM * Math.max(shape.dModel, shape.dHidden) * 4 > max) {
    return `needs ${TM} rows of ${Math.max(shape.dModel, shape.dHidden)} values in one storage buffer, over this device's ${max} byte limit`;
  }
  if (
    padded(Math.max(shape.dModel, shape.dHidden)) / TN >
    device.limits.maxComputeWorkgroupsPerDimension
  ) {
    return `has more columns than this device dispatches workgroups for`;
  }
  return null;
}

/** Why the webgpu kernel refuses a shape's dtype, or null. */
export function webgpuRefuses(shape: LayerShape): string | null {
  return isQuant(shape.dtype)
    ? `kernel "webgpu" does not compute dtype "${shape.dtype}" (quantized weights); use dtype "f32", "bf16" or "f16", or kernel "wasm"`
    : null;
}

/**
 * Why a mixture's experts (gated shapes of one dModel) do not fit a device, or null: each
 * expert as a layer, and `block` rows of the widest in one storage buffer (a block's largest
 * group).
 */
export function webgpuExpertsTooLarge(
  shapes: readonly LayerShape[],
  device: Device,
  block: number,
): string | null {
  for (const s of shapes) {
    const each = webgpuTooLarge(s, device);
    if (each !== null) return each;
  }
  const widest = Math.max(...shapes.map((s) => Math.max(s.dModel, s.dHidden)));
  const max = maxBinding(device);
  if (block * widest * 4 > max) {
    return `needs ${block} rows of ${widest} values in one storage buffer, over this device's ${max} byte limit`;
  }
  return null;
}
