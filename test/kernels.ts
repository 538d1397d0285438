// The kernels every layer test runs on. Each correctness test is written once as
// `describe.each(KERNELS)` and builds its layers through the helpers below, so a new kernel is
// one entry here (and, if it is created asynchronously, one line in each helper).
import {
  FeedForward,
  type FeedForwardJSON,
  type FeedForwardOptions,
  type FeedForwardWeights,
  type KernelName,
} from "../src/index";

/** "wasm-2t" is the WebAssembly kernel on a pool of two worker threads. */
export const KERNELS = ["js", "wasm", "wasm-2t"] as const;

export type TestKernel = (typeof KERNELS)[number];

/** The kernel name a layer of this test kernel reports. */
export function kernelName(kernel: TestKernel): KernelName {
  return kernel === "js" ? "js" : "wasm";
}

function threadsOf(kernel: TestKernel): number {
  return kernel === "wasm-2t" ? 2 : 1;
}

/**
 * A seeded layer computing with `kernel`. Async already, so that switching to
 * `await FeedForward.create(...)` for the WebAssembly kernel changes no test.
 */
export async function makeLayer(
  kernel: TestKernel,
  options: Omit<FeedForwardOptions, "kernel">,
): Promise<FeedForward> {
  return FeedForward.create({ ...options, kernel: kernelName(kernel), threads: threadsOf(kernel) });
}

/** A layer from given weights computing with `kernel`. */
export async function layerFromWeights(
  kernel: TestKernel,
  weights: FeedForwardWeights,
): Promise<FeedForward> {
  return FeedForward.create({ weights, kernel: kernelName(kernel), threads: threadsOf(kernel) });
}

/** A layer from toJSON output computing with `kernel`. */
export async function layerFromJSON(
  kernel: TestKernel,
  json: FeedForwardJSON,
): Promise<FeedForward> {
  const layer = FeedForward.fromJSON(json, { kernel: kernelName(kernel) });
  if (threadsOf(kernel) === 1) return layer;
  return layerFromWeights(kernel, layer.weights);
}
