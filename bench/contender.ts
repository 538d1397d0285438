// What the harness times: a contender turns a problem's weights into a forward function.
import type { WeightDtype } from "../src/dtype";
import type { Variant } from "./layer";
import type { LayerWeights } from "./problem";
import type { Runner } from "./runner";
import { type Shape, layerShape } from "./shapes";

/**
 * One forward pass: x is (tokens, dModel) row-major; the result is (tokens, dModel) as a
 * Float32Array, or a promise of one. Everything a caller would do to get that array back (upload,
 * compute, download, copy) belongs inside.
 */
export type ForwardFn = (x: Float32Array) => Float32Array | Promise<Float32Array>;

/** A contender made ready for one shape: weights loaded, nothing timed yet. */
export interface Instance {
  forward: ForwardFn;
  /** Called before each timed repetition, outside the timed region (switch a backend, say). */
  beforeRep?: () => void | Promise<void>;
  dispose?: () => void | Promise<void>;
}

export type Group = "tokenwise" | "peer" | "floor" | "custom";

/** How a contender on a WebGPU device is checked: see Contender.webgpu. */
export type WebgpuCheck = "kernel" | "peer";

/** How a child process rebuilds the same contender (memory probes, isolated peers). */
export type HostKey =
  | {
      kind: "tokenwise";
      kernel: string;
      threads: number;
      /** A row made by withLayerOptions: its tag and the options every layer gets. */
      tag?: string;
      options?: Record<string, unknown>;
    }
  | { kind: "peer"; name: string; threads: number }
  | { kind: "naive" }
  | { kind: "custom"; module: string; index: number }
  | { kind: "none" };

/**
 * A contender that runs somewhere else, which builds the problem from the seed itself, as a host
 * process does (hosted.ts): a page of the browser run (web/session.ts), one page per call.
 */
export interface RemoteHost {
  /** Where it runs, for messages: "Chromium". */
  where: string;
  /** Set up on the shape's problem there, ready to be checked and timed. */
  start(shape: Shape, seed: number, variant: Variant): Promise<Runner>;
  /** Its outputs on the exact problem (exact.ts), one per layer, computed there. */
  exact(shape: Shape, seed: number, variant: Variant, budget: number): Promise<unknown[]>;
}

export interface Contender {
  /** Unique in a run: "tokenwise-js", "ort-web@2t", "custom:my-gemm". */
  id: string;
  /** For tables and the chart. */
  label: string;
  group: Group;
  threads: number;
  /** A native (non-portable) peer, such as onnxruntime-node; left out of the "best portable" ratio. */
  native?: boolean;
  /** Library and version, for the report. */
  library?: string;
  /** How to rebuild it in a child process; absent when it cannot be (an in-memory function). */
  host?: HostKey;
  /** Time it in a child process of its own (a peer whose thread count is fixed per process). */
  isolate?: boolean;
  /** Runs elsewhere (a browser page): the harness checks and times it through this. */
  remote?: RemoteHost;
  /**
   * Computes on a WebGPU device, whose arithmetic the bench's own bound does not cover (WGSL may
   * flush subnormals, its exp and division are not correctly rounded): "kernel" is tokenwise's
   * webgpu kernel, held to the bound its docs state (docs/kernels.md, "Accuracy"); "peer" a
   * peer's WebGPU backend, held to the bench's bound widened by the flushing
   * (reference-webgpu.ts). The exact problem is checked only where it holds on a GPU
   * (exactHoldsOnWebgpu).
   */
  webgpu?: WebgpuCheck;
  /**
   * The type its weight matrices are held in (a row of `--dtype bf16`, a float16 or quantized
   * peer's model): its roof and its memory are counted on that many bytes. Float32 if absent.
   */
  weightType?: WeightDtype;
  /** Loads the weights of the run's layer (FeedForward or gated, as the contender was made for). */
  setup(shape: Shape, weights: LayerWeights): Promise<Instance>;
}

/** A contender that could not be loaded: reported, never timed. */
export interface Unavailable {
  id: string;
  label: string;
  group: Group;
  threads: number;
  reason: string;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

/**
 * Sets the contender up once per layer, each with that layer's weights, in order (untimed). A
 * layer that fails disposes the ones already made.
 */
export async function setupLayers(
  contender: Contender,
  shape: Shape,
  layers: readonly LayerWeights[],
): Promise<Instance[]> {
  const instances: Instance[] = [];
  try {
    for (const w of layers) instances.push(await contender.setup(layerShape(shape), w));
  } catch (e) {
    await disposeAll(instances);
    throw e;
  }
  return instances;
}

/**
 * Several contenders' layers, made layer by layer in turn (layer 0 of each contender, then
 * layer 1 of each, ...) rather than one contender's stack after another's. On the machine this
 * harness was built on (a virtual machine), a stack of layers from main memory made before
 * another ran up to 10% slower than one made after it, the same weights and code: four identical
 * 12-layer D1 stacks made one after another ran 18.2, 17.1, 16.9 and 16.5 ms a token, made in
 * turn 17.1, 17.2, 17.0 and 17.0. So the order in which contenders were set up decided part of
 * their ratios; made in turn, each contender's memory is as old as the others'. A contender
 * whose setup throws gets its error (and its layers made so far are disposed); the others go on.
 * `ms` is each contender's own setup time, summed over its layers.
 */
export async function setupInTurn(
  contenders: readonly Contender[],
  shape: Shape,
  layers: readonly LayerWeights[],
): Promise<({ instances: Instance[]; ms: number } | { error: unknown })[]> {
  const made = contenders.map(() => ({
    instances: [] as Instance[],
    ms: 0,
    error: undefined as unknown,
    failed: false,
  }));
  for (const w of layers) {
    for (const [i, c] of contenders.entries()) {
      const m = made[i] as (typeof made)[number];
      if (m.failed) continue;
      const start = performance.now();
      try {
        m.instances.push(await c.setup(layerShape(shape), w));
      } catch (e) {
        m.failed = true;
        m.error = e;
        await disposeAll(m.instances);
        m.instances = [];
      }
      m.ms += performance.now() - start;
    }
  }
  return made.map((m) => (m.failed ? { error: m.error } : { instances: m.instances, ms: m.ms }));
}

async function disposeAll(instances: readonly Instance[]): Promise<void> {
  for (const i of instances) await Promise.resolve(i.dispose?.()).catch(() => {});
}

/**
 * The layers in turn as one instance: each layer's output is the next one's input (D1: one token
 * through every layer). One layer is returned as it is; a chain of synchronous forwards stays
 * synchronous.
 */
export function chain(instances: readonly Instance[]): Instance {
  if (instances.length === 1) return instances[0] as Instance;
  const forwards = instances.map((i) => i.forward);
  const rest = async (y: Float32Array, from: number): Promise<Float32Array> => {
    for (let l = from; l < forwards.length; l++) y = await (forwards[l] as ForwardFn)(y);
    return y;
  };
  return {
    forward(x) {
      let y = x;
      for (let l = 0; l < forwards.length; l++) {
        const r = (forwards[l] as ForwardFn)(y);
        if (isPromise(r)) return r.then((v) => rest(v, l + 1));
        y = r;
      }
      return y;
    },
    async beforeRep() {
      for (const i of instances) await i.beforeRep?.();
    },
    dispose: () => disposeAll(instances),
  };
}

/**
 * Each layer's instance run once on its own input (the exact check: see exact.ts), returning
 * copies of the outputs; the instances are disposed after.
 */
export async function runEach(
  instances: readonly Instance[],
  inputs: readonly Float32Array[],
): Promise<unknown[]> {
  const outputs: unknown[] = [];
  try {
    for (let l = 0; l < instances.length; l++) {
      const inst = instances[l] as Instance;
      await inst.beforeRep?.();
      const y: unknown = await inst.forward(inputs[l] as Float32Array);
      // A contender may hand back its own buffer, reused by its next call.
      outputs.push(y instanceof Float32Array ? y.slice() : y);
    }
  } finally {
    await disposeAll(instances);
  }
  return outputs;
}
