// jax-js on its WebAssembly device, with the forward pass under jit. Its worker pool needs a
// global Worker, which Node 20 lacks, so in Node it runs on one thread.
import type { Contender } from "../contender";
import type { PeerContext } from "./index";
import { importPeer } from "./resolve";

interface JaxArray {
  readonly ref: JaxArray;
  reshape(shape: number[]): JaxArray;
  add(other: JaxArray): JaxArray;
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface Jax {
  init(...devices: string[]): Promise<string[]>;
  defaultDevice(device?: string): string;
  jit<F extends (...args: JaxArray[]) => JaxArray>(f: F): F & { dispose(): void };
  numpy: {
    array(values: Float32Array, options?: { device?: string }): JaxArray;
    matmul(a: JaxArray, b: JaxArray): JaxArray;
  };
  nn: { relu(x: JaxArray): JaxArray };
}

let loaded: Promise<Jax> | undefined;

async function loadJax(ctx: PeerContext): Promise<Jax> {
  const jax = (await importPeer(ctx.dir, "@jax-js/jax")) as unknown as Jax;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm"))
    throw new Error(`jax-js has no wasm device here (devices: ${devices.join(", ")})`);
  jax.defaultDevice("wasm");
  return jax;
}

export async function jaxContender(ctx: PeerContext): Promise<Contender> {
  loaded ??= loadJax(ctx);
  const jax = await loaded;
  const np = jax.numpy;
  return {
    id: "jax",
    label: "jax-js wasm",
    group: "peer",
    threads: 1,
    library: "@jax-js/jax (wasm device)",
    host: { kind: "peer", name: "jax", threads: 1 },
    async setup(shape, w) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      const w1 = np.array(w.w1).reshape([D, H]);
      const b1 = np.array(w.b1);
      const w2 = np.array(w.w2).reshape([H, D]);
      const b2 = np.array(w.b2);
      // jax-js functions take ownership of their arguments: pass .ref to keep the weights.
      const ffn = jax.jit((x: JaxArray, a: JaxArray, ab: JaxArray, b: JaxArray, bb: JaxArray) =>
        np.matmul(jax.nn.relu(np.matmul(x, a).add(ab)), b).add(bb),
      );
      return {
        forward: (x) => ffn(np.array(x).reshape([T, D]), w1.ref, b1.ref, w2.ref, b2.ref).data(),
        dispose() {
          for (const a of [w1, b1, w2, b2]) a.dispose();
          ffn.dispose();
        },
      };
    },
  };
}
