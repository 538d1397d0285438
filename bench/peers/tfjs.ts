// TensorFlow.js: tfjs-core with its plain JavaScript backend (tfjs-backend-cpu) or its
// WebAssembly backend (tfjs-backend-wasm, XNNPACK with SIMD; one thread in Node, where its
// threaded build is switched off). Each forward is two tf.fused.matMul calls with bias and relu.
import type { Contender } from "../contender";
import type { PeerContext } from "./index";
import { importPeer, moduleObject } from "./resolve";

interface Tensor {
  dataSync(): Float32Array;
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  tensor1d(values: Float32Array): Tensor;
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  fused: {
    matMul(args: { a: Tensor; b: Tensor; bias?: Tensor; activation?: "relu" | "linear" }): Tensor;
  };
  dispose(tensors: Tensor[]): void;
}

const loaded = new Map<string, Promise<Tf>>();

/** Quiets the banner tfjs prints in Node ("looks like you are running TensorFlow.js in Node"). */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    return await run();
  } finally {
    console.log = log;
    console.warn = warn;
  }
}

function loadTf(ctx: PeerContext, backend: "cpu" | "wasm"): Promise<Tf> {
  let p = loaded.get(backend);
  if (p === undefined) {
    p = (async () => {
      const tf = moduleObject<Tf>(await importPeer(ctx.dir, "@tensorflow/tfjs-core"));
      await importPeer(
        ctx.dir,
        backend === "cpu" ? "@tensorflow/tfjs-backend-cpu" : "@tensorflow/tfjs-backend-wasm",
      );
      const ok = await quietly(() => tf.setBackend(backend));
      if (!ok) throw new Error(`tf.setBackend("${backend}") failed`);
      return tf;
    })();
    loaded.set(backend, p);
  }
  return p;
}

export async function tfjsContender(ctx: PeerContext, backend: "cpu" | "wasm"): Promise<Contender> {
  const tf = await loadTf(ctx, backend);
  const name = `tfjs-${backend}`;
  // Tensors live on the backend that was active when they were made; switching back before each
  // repetition keeps the cpu and wasm contenders from moving each other's weights.
  const activate = async () => {
    if (tf.getBackend() !== backend) await quietly(() => tf.setBackend(backend));
  };
  return {
    id: name,
    label: name,
    group: "peer",
    threads: 1,
    library: `@tensorflow/tfjs-core + @tensorflow/tfjs-backend-${backend}`,
    host: { kind: "peer", name, threads: 1 },
    async setup(shape, w) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      await activate();
      const w1 = tf.tensor2d(w.w1, [D, H]);
      const b1 = tf.tensor1d(w.b1);
      const w2 = tf.tensor2d(w.w2, [H, D]);
      const b2 = tf.tensor1d(w.b2);
      return {
        beforeRep: activate,
        forward(x) {
          const xt = tf.tensor2d(x, [T, D]);
          const h = tf.fused.matMul({ a: xt, b: w1, bias: b1, activation: "relu" });
          const y = tf.fused.matMul({ a: h, b: w2, bias: b2 });
          const out = y.dataSync();
          tf.dispose([xt, h, y]);
          return out;
        },
        async dispose() {
          await activate();
          tf.dispose([w1, b1, w2, b2]);
        },
      };
    },
  };
}
