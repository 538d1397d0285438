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

export const KERNELS = ["js"] as const satisfies readonly KernelName[];

export type TestKernel = (typeof KERNELS)[number];

/**
 * A seeded layer computing with `kernel`. Async already, so that switching to
 * `await FeedForward.create(...)` for the WebAssembly kernel changes no test.
 */
export async function makeLayer(
  kernel: TestKernel,
  options: Omit<FeedForwardOptions, "kernel">,
): Promise<FeedForward> {
  return new FeedForward({ ...options, kernel });
}

/** A layer from given weights computing with `kernel`. */
export async function layerFromWeights(
  kernel: TestKernel,
  weights: FeedForwardWeights,
): Promise<FeedForward> {
  return FeedForward.fromWeights(weights, { kernel });
}

/** A layer from toJSON output computing with `kernel`. */
export async function layerFromJSON(
  kernel: TestKernel,
  json: FeedForwardJSON,
): Promise<FeedForward> {
  return FeedForward.fromJSON(json, { kernel });
}
