// Peers of the mixture bench (bench/moe.ts): each composes the mixture from its own library's
// ops, as a user of that library would write an OLMoE or Mixtral block. Every one computes the
// router's logits, the softmax and the top k itself (in float32), then runs each expert on its
// tokens only, and adds the weighted outputs:
// - tfjs-wasm: tf.matMul, tf.softmax, tf.topk; the tokens grouped by expert from the top-k
//   indices read back (dataSync), tf.gather per expert, the gated layer's tf ops, each row
//   times its weight, and one tf.scatterND that sums the rows of each token.
// - ort-node, ort-web: one ONNX graph of standard ops (onnx-moe.ts), one thread.
import { COMPOSED, composedPeer } from "../moe-composed";
import type { MoEProblem } from "../moe-problem";
import { type PeerContext, moduleObject } from "./context";
import { moeModel } from "./onnx-moe";
import { quietly } from "./tfjs";

/** A peer set up on a shape's weights, for any number of tokens. */
export interface MoEInstance {
  forward(x: Float32Array, tokens: number): Float32Array | Promise<Float32Array>;
  dispose(): void | Promise<void>;
}

export interface MoEPeer {
  id: string;
  library: string;
  setup(w: Pick<MoEProblem, "shape" | "router" | "experts">): Promise<MoEInstance>;
}

/** The peers of the mixture bench, by name; the default list is all of them. */
export const MOE_PEERS = ["tfjs-wasm", "ort-node", "ort-web"] as const;

interface Tensor {
  dataSync(): Float32Array | Int32Array;
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  tensor1d(values: Int32Array, dtype: "int32"): Tensor;
  tensor2d(values: Float32Array | Int32Array, shape: [number, number], dtype?: "int32"): Tensor;
  matMul(a: Tensor, b: Tensor): Tensor;
  mul(a: Tensor, b: Tensor): Tensor;
  div(a: Tensor, b: Tensor): Tensor;
  sum(a: Tensor, axis: number, keepDims: boolean): Tensor;
  sigmoid(x: Tensor): Tensor;
  softmax(x: Tensor): Tensor;
  topk(x: Tensor, k: number): { values: Tensor; indices: Tensor };
  gather(x: Tensor, indices: Tensor): Tensor;
  concat(xs: Tensor[], axis: number): Tensor;
  scatterND(indices: Tensor, updates: Tensor, shape: [number, number]): Tensor;
  tidy<T extends Tensor>(f: () => T): T;
  dispose(tensors: Tensor[]): void;
}

async function tfjsWasm(ctx: PeerContext): Promise<MoEPeer> {
  const tf = moduleObject<Tf>(await ctx.load("@tensorflow/tfjs-core"));
  await ctx.load("@tensorflow/tfjs-backend-wasm");
  if (!(await quietly(() => tf.setBackend("wasm"))))
    throw new Error('tf.setBackend("wasm") failed');
  return {
    id: "tfjs-wasm",
    library:
      `@tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm ${ctx.version("@tensorflow/tfjs-backend-wasm") ?? ""}`.trim(),
    async setup({ shape, router, experts }) {
      const { dModel: D, dHidden: H, experts: E, topK: k, normalize } = shape;
      const r = tf.tensor2d(router, [D, E]);
      const ws = experts.map((w) => ({
        g: tf.tensor2d(w.wGate, [D, H]),
        u: tf.tensor2d(w.wUp, [D, H]),
        d: tf.tensor2d(w.wDown, [H, D]),
      }));
      return {
        forward(x, T) {
          const y = tf.tidy(() => {
            const xt = tf.tensor2d(x, [T, D]);
            const top = tf.topk(tf.softmax(tf.matMul(xt, r)), k);
            const wt = normalize ? tf.div(top.values, tf.sum(top.values, -1, true)) : top.values;
            const idx = top.indices.dataSync();
            const wv = wt.dataSync();
            const rows: number[][] = Array.from({ length: E }, () => []);
            const slots: number[][] = Array.from({ length: E }, () => []);
            for (let i = 0; i < T * k; i++) {
              rows[idx[i] as number]?.push(Math.floor(i / k));
              slots[idx[i] as number]?.push(i);
            }
            const ys: Tensor[] = [];
            const at: number[] = [];
            for (let e = 0; e < E; e++) {
              const m = (rows[e] as number[]).length;
              if (m === 0) continue;
              const w = ws[e] as { g: Tensor; u: Tensor; d: Tensor };
              const xe = tf.gather(xt, tf.tensor1d(Int32Array.from(rows[e] as number[]), "int32"));
              const gate = tf.matMul(xe, w.g);
              const p = tf.mul(tf.mul(gate, tf.sigmoid(gate)), tf.matMul(xe, w.u));
              const we = Float32Array.from(slots[e] as number[], (i) => wv[i] as number);
              ys.push(tf.mul(tf.matMul(p, w.d), tf.tensor2d(we, [m, 1])));
              at.push(...(rows[e] as number[]));
            }
            const where = tf.tensor2d(Int32Array.from(at), [at.length, 1], "int32");
            return tf.scatterND(where, tf.concat(ys, 0), [T, D]);
          });
          const out = y.dataSync() as Float32Array;
          y.dispose();
          return out;
        },
        dispose() {
          tf.dispose([r, ...ws.flatMap((w) => [w.g, w.u, w.d])]);
        },
      };
    },
  };
}

interface OrtTensor {
  data: unknown;
}
interface Ort {
  InferenceSession: {
    create(
      model: Uint8Array,
      options?: Record<string, unknown>,
    ): Promise<{
      run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => OrtTensor;
  env: { wasm: { numThreads?: number; proxy?: boolean } };
}

async function ort(ctx: PeerContext, name: "ort-node" | "ort-web"): Promise<MoEPeer> {
  const native = name === "ort-node";
  const pkg = native ? "onnxruntime-node" : "onnxruntime-web";
  const o = native
    ? moduleObject<Ort>(await ctx.load(pkg))
    : ((await ctx.load(pkg)) as unknown as Ort);
  const options = native
    ? {
        executionProviders: ["cpu"],
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
      }
    : { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
  if (!native) {
    o.env.wasm.numThreads = 1;
    o.env.wasm.proxy = false;
  }
  return {
    id: `${name}@1t`,
    library: `${pkg} ${ctx.version(pkg) ?? ""}`.trim(),
    async setup(w) {
      const D = w.shape.dModel;
      const session = await o.InferenceSession.create(moeModel(w), options);
      return {
        async forward(x, T) {
          const result = await session.run({ x: new o.Tensor("float32", x, [T, D]) });
          return result.y?.data as Float32Array;
        },
        dispose: () => session.release(),
      };
    },
  };
}

/** Loads a peer by name (one of MOE_PEERS). */
export function loadMoEPeer(ctx: PeerContext, name: string): Promise<MoEPeer> {
  switch (name) {
    case "tfjs-wasm":
      return tfjsWasm(ctx);
    case "ort-node":
    case "ort-web":
      return ort(ctx, name);
    default:
      if ((COMPOSED as readonly string[]).includes(name))
        return Promise.resolve(composedPeer(name));
      return Promise.reject(
        new RangeError(
          `--peers: "${name}" is not one of ${[...MOE_PEERS, ...COMPOSED].join(", ")}`,
        ),
      );
  }
}
