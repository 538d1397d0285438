// jax-js on its WebAssembly device, with the forward pass under jit. Its worker pool needs a
// global Worker, which Node 20 lacks, so in Node it runs on one thread. The activations are
// jax.nn's (gelu with approximate false or true, silu); the gated layer is three matmuls.
import type { Contender } from "../contender";
import type { ActivationName, Variant } from "../layer";
import { isGated } from "../problem";
import type { PeerContext } from "./context";

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
    multiply(a: JaxArray, b: JaxArray): JaxArray;
  };
  nn: {
    relu(x: JaxArray): JaxArray;
    gelu(x: JaxArray, options?: { approximate?: boolean }): JaxArray;
    silu(x: JaxArray): JaxArray;
  };
}

function activation(jax: Jax, act: ActivationName, h: JaxArray): JaxArray {
  switch (act) {
    case "relu":
      return jax.nn.relu(h);
    case "gelu":
      return jax.nn.gelu(h, { approximate: false });
    case "geluTanh":
      return jax.nn.gelu(h, { approximate: true });
    case "silu":
      return jax.nn.silu(h);
  }
}

let loaded: Promise<Jax> | undefined;

async function loadJax(ctx: PeerContext): Promise<Jax> {
  const jax = (await ctx.load("@jax-js/jax")) as unknown as Jax;
  const devices = await jax.init("wasm");
  if (!devices.includes("wasm"))
    throw new Error(`jax-js has no wasm device here (devices: ${devices.join(", ")})`);
  jax.defaultDevice("wasm");
  return jax;
}

export async function jaxContender(ctx: PeerContext, variant: Variant): Promise<Contender> {
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
      const act = variant.activation;
      if (isGated(w)) {
        const wg = np.array(w.wGate).reshape([D, H]);
        const wu = np.array(w.wUp).reshape([D, H]);
        const wd = np.array(w.wDown).reshape([H, D]);
        // x is used twice: the first use takes a .ref so the second still owns it.
        const ffn = jax.jit((x: JaxArray, g: JaxArray, u: JaxArray, d: JaxArray) =>
          np.matmul(np.multiply(activation(jax, act, np.matmul(x.ref, g)), np.matmul(x, u)), d),
        );
        return {
          forward: (x) => ffn(np.array(x).reshape([T, D]), wg.ref, wu.ref, wd.ref).data(),
          dispose() {
            for (const a of [wg, wu, wd]) a.dispose();
            ffn.dispose();
          },
        };
      }
      const w1 = np.array(w.w1).reshape([D, H]);
      const b1 = np.array(w.b1);
      const w2 = np.array(w.w2).reshape([H, D]);
      const b2 = np.array(w.b2);
      // jax-js functions take ownership of their arguments: pass .ref to keep the weights.
      const ffn = jax.jit((x: JaxArray, a: JaxArray, ab: JaxArray, b: JaxArray, bb: JaxArray) =>
        np.matmul(activation(jax, act, np.matmul(x, a).add(ab)), b).add(bb),
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
