// TensorFlow.js: tfjs-core with its plain JavaScript backend (tfjs-backend-cpu) or its
// WebAssembly backend (tfjs-backend-wasm, XNNPACK with SIMD; one thread in Node, where its
// threaded build is switched off). The FeedForward is two tf.fused.matMul calls with bias, and
// relu fused into the first; tfjs has no fused gelu or silu, so those are written with its ops
// (tf.erf, tf.tanh, tf.sigmoid, tf.mul, tf.add), as a tfjs user would. The gated layer is three
// tf.matMul calls and the ops of its activation and product. In a browser with WebGPU on, its
// WebGPU backend (tfjs-backend-webgpu) runs the same ops as shaders, and the output is read back
// with await y.data(), as tfjs advises there (its dataSync goes through a canvas, and warns).
import type { Contender } from "../contender";
import type { ActivationName, Variant } from "../layer";
import { isGated } from "../problem";
import { type PeerContext, moduleObject } from "./context";

interface Tensor {
  dataSync(): Float32Array;
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface Tf {
  env(): { set(flag: string, value: unknown): void };
  setBackend(name: string): Promise<boolean>;
  getBackend(): string;
  tensor1d(values: Float32Array): Tensor;
  tensor2d(values: Float32Array, shape: [number, number]): Tensor;
  fused: {
    matMul(args: { a: Tensor; b: Tensor; bias?: Tensor; activation?: "relu" | "linear" }): Tensor;
  };
  matMul(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor | number, b: Tensor | number): Tensor;
  add(a: Tensor | number, b: Tensor | number): Tensor;
  erf(x: Tensor): Tensor;
  tanh(x: Tensor): Tensor;
  sigmoid(x: Tensor): Tensor;
  relu(x: Tensor): Tensor;
  tidy<T extends Tensor>(f: () => T): T;
  dispose(tensors: Tensor[]): void;
}

/** The activation from tfjs ops (relu is fused into the matMul where there is one). */
function applyActivation(tf: Tf, act: ActivationName, h: Tensor): Tensor {
  switch (act) {
    case "relu":
      return tf.relu(h);
    case "gelu":
      return tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
    case "geluTanh": {
      const inner = tf.add(h, tf.mul(tf.mul(tf.mul(h, h), h), 0.044715));
      return tf.mul(tf.mul(h, 0.5), tf.add(1, tf.tanh(tf.mul(inner, Math.sqrt(2 / Math.PI)))));
    }
    case "silu":
      return tf.mul(h, tf.sigmoid(h));
  }
}

const loaded = new Map<string, Promise<Tf>>();

/** Quiets the banner tfjs prints in Node ("looks like you are running TensorFlow.js in Node"). */
export async function quietly<T>(run: () => Promise<T>): Promise<T> {
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

/** tfjs's backends the bench runs. */
export type TfBackend = "cpu" | "wasm" | "webgpu";

const BACKEND_PACKAGE: Record<TfBackend, string> = {
  cpu: "@tensorflow/tfjs-backend-cpu",
  wasm: "@tensorflow/tfjs-backend-wasm",
  webgpu: "@tensorflow/tfjs-backend-webgpu",
};

function loadTf(ctx: PeerContext, backend: TfBackend): Promise<Tf> {
  let p = loaded.get(backend);
  if (p === undefined) {
    p = (async () => {
      const tf = moduleObject<Tf>(await ctx.load("@tensorflow/tfjs-core"));
      await ctx.load(BACKEND_PACKAGE[backend]);
      // tfjs-webgpu computes small ops on tensors it still holds on the CPU there (below 1000
      // elements): off, so every op of this contender runs on the GPU.
      if (backend === "webgpu") tf.env().set("WEBGPU_CPU_FORWARD", false);
      const ok = await quietly(() => tf.setBackend(backend));
      if (!ok) throw new Error(`tf.setBackend("${backend}") failed`);
      return tf;
    })();
    loaded.set(backend, p);
  }
  return p;
}

export async function tfjsContender(
  ctx: PeerContext,
  backend: TfBackend,
  variant: Variant,
): Promise<Contender> {
  const tf = await loadTf(ctx, backend);
  const name = `tfjs-${backend}`;
  // Tensors live on the backend that was active when they were made; switching back before each
  // repetition keeps the cpu and wasm contenders from moving each other's weights.
  const activate = async () => {
    if (tf.getBackend() !== backend) await quietly(() => tf.setBackend(backend));
  };
  const read =
    backend === "webgpu"
      ? async (y: Tensor) => {
          const out = await y.data();
          y.dispose();
          return out;
        }
      : (y: Tensor) => {
          const out = y.dataSync();
          y.dispose();
          return out;
        };
  return {
    id: name,
    label: name,
    group: "peer",
    threads: 1,
    library: `@tensorflow/tfjs-core + ${BACKEND_PACKAGE[backend]}`,
    host: { kind: "peer", name, threads: 1 },
    ...(backend === "webgpu" ? { webgpu: "peer" as const } : {}),
    async setup(shape, w) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      await activate();
      const act = variant.activation;
      if (isGated(w)) {
        const wg = tf.tensor2d(w.wGate, [D, H]);
        const wu = tf.tensor2d(w.wUp, [D, H]);
        const wd = tf.tensor2d(w.wDown, [H, D]);
        return {
          beforeRep: activate,
          forward(x) {
            const y = tf.tidy(() => {
              const xt = tf.tensor2d(x, [T, D]);
              const p = tf.mul(applyActivation(tf, act, tf.matMul(xt, wg)), tf.matMul(xt, wu));
              return tf.matMul(p, wd);
            });
            return read(y);
          },
          async dispose() {
            await activate();
            tf.dispose([wg, wu, wd]);
          },
        };
      }
      const w1 = tf.tensor2d(w.w1, [D, H]);
      const b1 = tf.tensor1d(w.b1);
      const w2 = tf.tensor2d(w.w2, [H, D]);
      const b2 = tf.tensor1d(w.b2);
      return {
        beforeRep: activate,
        forward(x) {
          const y = tf.tidy(() => {
            const xt = tf.tensor2d(x, [T, D]);
            const h =
              act === "relu"
                ? tf.fused.matMul({ a: xt, b: w1, bias: b1, activation: "relu" })
                : applyActivation(tf, act, tf.fused.matMul({ a: xt, b: w1, bias: b1 }));
            return tf.fused.matMul({ a: h, b: w2, bias: b2 });
          });
          return read(y);
        },
        async dispose() {
          await activate();
          tf.dispose([w1, b1, w2, b2]);
        },
      };
    },
  };
}
