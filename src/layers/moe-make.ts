// How a mixture's factories hand what they built to its constructor, and how tests find a
// mixture's experts kernel.
import type { ExpertsKernel } from "../kernels/experts";
import type { MoEBuilt } from "./moe-build";

// Layers built by the static factories come through the constructor with this token, which
// no caller can have (as build.ts does for the other layers).
const BUILT = Object.freeze({});
let pending: MoEBuilt | null = null;
const kernels = new WeakMap<object, ExpertsKernel>();

/** A mixture's experts kernel, for tests that reach inside; not exported by index.ts. */
export function expertsOf(layer: object): ExpertsKernel | undefined {
  return kernels.get(layer);
}

/** Remembers a new layer's kernel, for {@link expertsOf}. */
export function track(layer: object, built: MoEBuilt): void {
  kernels.set(layer, built.kernel);
}

/** Constructs the class around what a factory built. */
export function construct<T extends object>(Layer: new (options: never) => T, built: MoEBuilt): T {
  pending = built;
  try {
    return new Layer(BUILT as never);
  } finally {
    pending = null;
  }
}

/** In the constructor: what a factory built, or null for a caller's own options. */
export function takeBuilt(options: unknown): MoEBuilt | null {
  if (options !== BUILT || pending === null) return null;
  const built = pending;
  pending = null;
  return built;
}
