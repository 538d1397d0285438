// What the harness times: a contender turns a problem's weights into a forward function.
import type { WeightDtype } from "../src/dtype";
import type { LayerWeights } from "./problem";
import type { Shape } from "./shapes";

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

/** How a child process rebuilds the same contender (memory probes, isolated peers). */
export type HostKey =
  | { kind: "tokenwise"; kernel: string; threads: number; dtype?: WeightDtype }
  | { kind: "peer"; name: string; threads: number }
  | { kind: "naive" }
  | { kind: "custom"; module: string; index: number }
  | { kind: "none" };

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
