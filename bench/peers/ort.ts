// ONNX Runtime on the bench's own ONNX model (onnx-model.ts): onnxruntime-node (native, MLAS)
// and onnxruntime-web (its WebAssembly build, SIMD, threads through worker_threads in Node; in a
// browser with WebGPU on, also its WebGPU execution provider).
import type { Contender } from "../contender";
import type { Variant } from "../layer";
import { type LayerWeights, isGated } from "../problem";
import type { Shape } from "../shapes";
import { type PeerContext, moduleObject } from "./context";
import { type OnnxWeights, feedForwardModel, gatedModel, quantizedModel } from "./onnx-model";
import { quantizedMaps } from "../quant";

interface OrtTensor {
  data: unknown;
}
interface Session {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface Ort {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<Session>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => OrtTensor;
  env: { wasm: { numThreads?: number; proxy?: boolean }; logLevel?: string };
}

/** How an ONNX model holds its weights: a float type, or quantized blocks (MatMulNBits). */
type ModelWeights = OnnxWeights | "q8_0" | "q4_0";

/** What each ONNX model's weights are, for the report's library column. */
const WEIGHTS_TEXT: Record<ModelWeights, string> = {
  float32: "",
  float16: ", FLOAT16 initializers cast to float32",
  "float16-graph": ", the model in float16 throughout",
  q8_0: ", MatMulNBits 8 bits, block 32, accuracy_level 4, on the layer's Q8_0 blocks",
  q4_0: ", MatMulNBits 4 bits, block 32, accuracy_level 4, on the layer's Q4_0 blocks",
};

function ortContender(
  ort: Ort,
  name: string,
  threads: number,
  options: Record<string, unknown>,
  variant: Variant,
  weights: ModelWeights = "float32",
): Contender {
  const native = name === "ort-node";
  const provider = native
    ? "onnxruntime-node"
    : `onnxruntime-web (${name === "ort-webgpu" ? "webgpu" : "wasm"})`;
  return {
    id: `${name}@${threads}t`,
    label: `${name}@${threads}t`,
    group: "peer",
    threads,
    native,
    // ort-web reads its thread count once per process; and a pool of threads (ort-node's,
    // ours) spins after a call, which would take cores from whatever runs next in the process.
    isolate: !native || threads > 1,
    library: `${provider}${WEIGHTS_TEXT[weights]}`,
    host: { kind: "peer", name, threads },
    ...(name === "ort-webgpu" ? { webgpu: "peer" as const } : {}),
    async setup(shape: Shape, w: LayerWeights) {
      const { tokens: T, dModel: D } = shape;
      const bytes =
        weights === "q8_0" || weights === "q4_0"
          ? quantizedModel(shape, w, quantizedMaps(shape, w, weights), variant.activation)
          : isGated(w)
            ? gatedModel(shape, w, variant.activation, weights)
            : feedForwardModel(shape, w, variant.activation, weights);
      const session = await ort.InferenceSession.create(bytes, options);
      return {
        async forward(x) {
          const result = await session.run({ x: new ort.Tensor("float32", x, [T, D]) });
          return result.y?.data as Float32Array;
        },
        dispose: () => session.release(),
      };
    },
  };
}

let ortNode: Promise<Ort> | undefined;

export async function ortNodeContender(
  ctx: PeerContext,
  threads: number,
  variant: Variant,
): Promise<Contender> {
  ortNode ??= ctx.load("onnxruntime-node").then((m) => moduleObject<Ort>(m));
  const ort = await ortNode;
  return ortContender(
    ort,
    "ort-node",
    threads,
    {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    },
    variant,
  );
}

let ortWeb: Promise<Ort> | undefined;
let ortWebThreads: number | undefined;

/**
 * onnxruntime-web reads its thread count once, when its WebAssembly starts, for the whole process;
 * the harness therefore times each thread count in a process of its own (isolate).
 */
export async function ortWebContender(
  ctx: PeerContext,
  threads: number,
  variant: Variant,
  weights: ModelWeights = "float32",
  provider: "wasm" | "webgpu" = "wasm",
): Promise<Contender> {
  ortWeb ??= ctx.load("onnxruntime-web") as unknown as Promise<Ort>;
  const ort = await ortWeb;
  const name =
    provider === "webgpu"
      ? "ort-webgpu"
      : weights === "float32"
        ? "ort-web"
        : weights === "float16"
          ? "ort-web-f16"
          : weights === "float16-graph"
            ? "ort-web-f16-graph"
            : `ort-web-${weights}`;
  const contender = ortContender(
    ort,
    name,
    threads,
    {
      executionProviders: [provider],
      graphOptimizationLevel: "all",
    },
    variant,
    weights,
  );
  const setup = contender.setup;
  contender.setup = async (shape, w) => {
    if (ortWebThreads !== undefined && ortWebThreads !== threads) {
      throw new Error(
        `onnxruntime-web already started with ${ortWebThreads} threads in this process`,
      );
    }
    ortWebThreads = threads;
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    return setup(shape, w);
  };
  return contender;
}
