// tokenwise's own contenders: one line per layer, kernel (and thread setting) in TOKENWISE below.
import {
  type CreateFromWeightsOptions,
  FeedForward,
  type FeedForwardWeights,
  type GatedCreateFromWeightsOptions,
  GatedFeedForward,
  type GatedFeedForwardWeights,
  type Matrix,
} from "../src/index";
import { type WeightDtype, isQuant } from "../src/dtype";
import { relaxedDtypes, setRelaxedDot } from "../src/kernels/wasm/relaxed";
import type { Contender, Instance, Unavailable } from "./contender";
import type { ActivationName, LayerKind, Variant } from "./layer";
import { type LayerWeights, ffnWeights, gatedWeights, makeProblem } from "./problem";
import type { Shape } from "./shapes";

/** What the bench needs of a tokenwise layer, FeedForward or GatedFeedForward. */
export interface TokenwiseLayer {
  forward(x: Matrix, out: Matrix): Matrix;
  /** Present on layers that can run on threads: timed when the entry says `async`. */
  forwardAsync?(x: Matrix, out: Matrix): Promise<Matrix>;
  /** Threads it runs on, and why fewer than asked (the layer's threads, threadsFallback). */
  readonly threads?: number;
  readonly threadsFallback?: string | null;
  dispose(): void;
}

/**
 * Options a tokenwise row passes on to every layer it builds, beside the weights, kernel,
 * threads and activation the bench gives: whatever FeedForward.create and
 * GatedFeedForward.create take (a weight type, a sparsity, when they take them).
 */
export type LayerOptions = Partial<Omit<CreateFromWeightsOptions, "weights">> &
  Partial<Omit<GatedCreateFromWeightsOptions, "weights">>;

export interface TokenwiseEntry {
  /** The layer it computes: "ffn" (FeedForward) or "gated" (GatedFeedForward). */
  layer: LayerKind;
  /** The kernel's name, matched by `--kernels`. */
  kernel: string;
  /** Thread counts it can run with; "any" takes every count given with `--threads`. */
  threads: readonly number[] | "any";
  /**
   * Builds the layer from the bench's weights (copied by the layer); `options` (from
   * withLayerOptions) go to the layer's create call beside the bench's own.
   */
  make(
    weights: LayerWeights,
    shape: Shape,
    threads: number,
    activation: ActivationName,
    options?: LayerOptions,
  ): TokenwiseLayer | Promise<TokenwiseLayer>;
  /** Time `await layer.forwardAsync(x, out)` instead of `layer.forward(x, out)`. */
  async?: boolean;
  /** A word naming the options of a row made by withLayerOptions ("bf16"), in its id and label. */
  tag?: string;
  /** Those options, given to make for every layer (each of D1's twelve, say). */
  options?: LayerOptions;
  /**
   * Computes on a WebGPU device (navigator.gpu): run only when `--kernels` names it (a software
   * adapter, all a machine without a GPU has, takes seconds at real shapes), and checked as
   * reference-webgpu.ts says.
   */
  webgpu?: boolean;
}

/**
 * The same tokenwise row with extra options for every layer it builds, as its own contender:
 * `withLayerOptions(entry, "bf16", { weightType: "bf16" })` would time "tokenwise wasm bf16" beside
 * "tokenwise wasm" (the option's name is the layer's; this one is an example). At a shape of
 * several layers (D1) every layer gets them.
 */
export function withLayerOptions(
  entry: TokenwiseEntry,
  tag: string,
  options: LayerOptions,
): TokenwiseEntry {
  if (!/^[\w.-]+$/.test(tag))
    throw new RangeError(`withLayerOptions: tag "${tag}" must be letters, digits, ".", "_" or "-"`);
  return {
    ...entry,
    tag: entry.tag === undefined ? tag : `${entry.tag} ${tag}`,
    options: { ...entry.options, ...options },
  };
}

function asWeights(shape: Shape, weights: LayerWeights): FeedForwardWeights {
  const w = ffnWeights(weights, "tokenwise");
  return {
    w1: { rows: shape.dModel, cols: shape.dHidden, data: w.w1 },
    b1: w.b1,
    w2: { rows: shape.dHidden, cols: shape.dModel, data: w.w2 },
    b2: w.b2,
  };
}

function asGatedWeights(shape: Shape, weights: LayerWeights): GatedFeedForwardWeights {
  const w = gatedWeights(weights, "tokenwise");
  return {
    wGate: { rows: shape.dModel, cols: shape.dHidden, data: w.wGate },
    wUp: { rows: shape.dModel, cols: shape.dHidden, data: w.wUp },
    wDown: { rows: shape.dHidden, cols: shape.dModel, data: w.wDown },
  };
}

/**
 * Every tokenwise kernel the bench runs, one line each. An entry marked `async: true` is timed
 * through forwardAsync; the others through the blocking forward (which, on threads, computes
 * a share on the calling thread too).
 */
export const TOKENWISE: readonly TokenwiseEntry[] = [
  {
    layer: "ffn",
    kernel: "wasm",
    threads: "any",
    make: (w, s, t, activation, options) =>
      FeedForward.create({
        ...options,
        weights: asWeights(s, w),
        kernel: "wasm",
        threads: t,
        activation,
      }),
  },
  {
    layer: "ffn",
    kernel: "js",
    threads: [1],
    make: (w, s, _t, activation, options) =>
      FeedForward.create({
        ...options,
        weights: asWeights(s, w),
        kernel: "js",
        threads: 1,
        activation,
      }),
  },
  {
    layer: "gated",
    kernel: "wasm",
    threads: "any",
    make: (w, s, t, activation, options) =>
      GatedFeedForward.create({
        ...options,
        weights: asGatedWeights(s, w),
        kernel: "wasm",
        threads: t,
        activation,
      }),
  },
  {
    layer: "gated",
    kernel: "js",
    threads: [1],
    make: (w, s, _t, activation, options) =>
      GatedFeedForward.create({
        ...options,
        weights: asGatedWeights(s, w),
        kernel: "js",
        threads: 1,
        activation,
      }),
  },
  // The GPU's results come back asynchronously: forward throws on this kernel, forwardAsync is
  // timed (an upload, two passes, a readback into out).
  {
    layer: "ffn",
    kernel: "webgpu",
    threads: [1],
    async: true,
    webgpu: true,
    make: (w, s, _t, activation, options) =>
      FeedForward.create({ ...options, weights: asWeights(s, w), kernel: "webgpu", activation }),
  },
  {
    layer: "gated",
    kernel: "webgpu",
    threads: [1],
    async: true,
    webgpu: true,
    make: (w, s, _t, activation, options) =>
      GatedFeedForward.create({
        ...options,
        weights: asGatedWeights(s, w),
        kernel: "webgpu",
        activation,
      }),
  },
];

/** Whether this JavaScript realm has WebGPU (a browser page with it on; not Node by default). */
export function hasWebgpu(): boolean {
  return (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu != null;
}

/**
 * The tag of a quantized wasm row built with relaxed SIMD turned off (`--std-dot`): SIMD128's
 * integer dot product, as an engine without relaxed SIMD runs it.
 */
export const STD_DOT = "std-dot";

/** Why a WebGPU contender cannot run here, for its "unavailable" row. */
export const NO_WEBGPU =
  "no WebGPU here (navigator.gpu): run it in the browser run, npm run bench:web, which starts Chromium with WebGPU on";

/** The thread counts an entry runs with, given those asked for. */
export function threadCounts(
  supported: readonly number[] | "any",
  asked: readonly number[],
): number[] {
  if (supported === "any") return [...asked];
  const both = supported.filter((t) => asked.includes(t));
  // A contender that runs on one fixed thread count still runs when that count was not asked
  // for, so a run with --threads 2 keeps its single-threaded reference points.
  return both.length > 0 ? both : [supported[0] as number];
}

function ids(entry: TokenwiseEntry, threads: number): { id: string; label: string } {
  const multi = entry.threads === "any" || entry.threads.length > 1;
  const suffix = multi ? `@${threads}t` : "";
  const kernel = entry.tag === undefined ? entry.kernel : `${entry.kernel} ${entry.tag}`;
  const name = entry.layer === "gated" ? `gated ${kernel}` : kernel;
  return {
    id: `tokenwise-${name.replace(/ /g, "-")}${suffix}`,
    label: `tokenwise ${name}${suffix}`,
  };
}

export function tokenwiseContender(
  entry: TokenwiseEntry,
  threads: number,
  activation: ActivationName,
): Contender {
  return {
    ...ids(entry, threads),
    group: "tokenwise",
    threads,
    library: "tokenwise (this repository)",
    host: {
      kind: "tokenwise",
      kernel: entry.kernel,
      threads,
      ...(entry.tag === undefined ? {} : { tag: entry.tag, options: entry.options ?? {} }),
    },
    ...(entry.webgpu === true ? { webgpu: "kernel" as const } : {}),
    ...(entry.options?.dtype === undefined ? {} : { weightType: entry.options.dtype }),
    // Worker threads poll for a while after each call: in a process of their own they take no
    // core from the contender timed next.
    isolate: threads > 1,
    async setup(shape, weights): Promise<Instance> {
      // A "std-dot" row: the layer is built with relaxed SIMD off (it keeps what it was built with).
      const standard = entry.tag?.endsWith(`-${STD_DOT}`) === true;
      const chosen = relaxedDtypes();
      if (standard) setRelaxedDot([]);
      let layer: TokenwiseLayer;
      try {
        layer = await entry.make(weights, shape, threads, activation, entry.options);
      } finally {
        setRelaxedDot(chosen);
      }
      const out: Matrix = {
        rows: shape.tokens,
        cols: shape.dModel,
        data: new Float32Array(shape.tokens * shape.dModel),
      };
      const forwardAsync = layer.forwardAsync?.bind(layer);
      const forward =
        entry.async && forwardAsync !== undefined
          ? async (x: Float32Array) => {
              await forwardAsync({ rows: shape.tokens, cols: shape.dModel, data: x }, out);
              return out.data;
            }
          : (x: Float32Array) => {
              layer.forward({ rows: shape.tokens, cols: shape.dModel, data: x }, out);
              return out.data;
            };
      return { forward, dispose: () => layer.dispose() };
    },
  };
}

/**
 * Whether the entry really runs on `threads` threads here: a tiny layer is built and asked (a
 * layer reports fewer threads, and why, in threadsFallback: no SharedArrayBuffer or no workers,
 * say). Null when it does, else the reason.
 */
async function threadsRefused(
  entry: TokenwiseEntry,
  threads: number,
  variant: Variant,
): Promise<string | null> {
  if (threads === 1) return null;
  const tiny: Shape = { name: "probe", tokens: 1, dModel: 1, dHidden: 1 };
  try {
    const layer = await entry.make(
      makeProblem(tiny, 0, variant).weights,
      tiny,
      threads,
      variant.activation,
      entry.options,
    );
    const got = layer.threads ?? 1;
    const why = layer.threadsFallback ?? null;
    layer.dispose();
    if (got >= threads) return null;
    return `asked for ${threads} threads, the layer runs on ${got}: ${why ?? "no reason given"}`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * The tokenwise contenders of the run's layer for the kernels and thread counts asked for. A
 * thread count the layer would not honour here is listed as unavailable with the layer's own
 * reason, not timed under a name it does not deserve.
 */
export async function tokenwiseContenders(
  kernels: readonly string[] | "all",
  threads: readonly number[],
  variant: Variant,
  dtypes: readonly WeightDtype[] = ["f32"],
  dense = false,
  stdDot = false,
): Promise<(Contender | Unavailable)[]> {
  const list: (Contender | Unavailable)[] = [];
  if (kernels !== "all") {
    for (const k of kernels) {
      if (!TOKENWISE.some((e) => e.kernel === k)) findTokenwiseEntry(k, variant.layer); // throws
      if (!TOKENWISE.some((e) => e.kernel === k && e.layer === variant.layer)) {
        const name = variant.layer === "gated" ? `gated ${k}` : k;
        list.push({
          id: `tokenwise-${name.replace(" ", "-")}`,
          label: `tokenwise ${name}`,
          group: "tokenwise",
          threads: 1,
          reason: `tokenwise has no ${k} kernel for the ${variant.layer} layer yet`,
        });
      }
    }
  }
  for (const entry of TOKENWISE) {
    if (entry.layer !== variant.layer) continue;
    if (kernels === "all" ? entry.webgpu === true : !kernels.includes(entry.kernel)) continue;
    for (const t of threadCounts(entry.threads, threads)) {
      const reason =
        entry.webgpu === true && !hasWebgpu() ? NO_WEBGPU : await threadsRefused(entry, t, variant);
      // --dtype: a row per weight type; f32's keeps its name.
      // --sparsity: beside each f32 row, the layer with sparse: false (no skipping).
      const rows = dtypes.map((d) =>
        d === "f32" ? entry : withLayerOptions(entry, d, { dtype: d }),
      );
      if (dense && dtypes.includes("f32"))
        rows.push(withLayerOptions(entry, "dense", { sparse: false }));
      // --std-dot: beside each quantized wasm row, the same layer without relaxed SIMD.
      if (stdDot && entry.kernel === "wasm") {
        for (const d of dtypes)
          if (isQuant(d)) rows.push(withLayerOptions(entry, `${d}-${STD_DOT}`, { dtype: d }));
      }
      for (const e of rows) {
        if (reason === null) list.push(tokenwiseContender(e, t, variant.activation));
        else list.push({ ...ids(e, t), group: "tokenwise", threads: t, reason });
      }
    }
  }
  return list;
}

export function findTokenwiseEntry(kernel: string, layer: LayerKind): TokenwiseEntry {
  const entry = TOKENWISE.find((e) => e.kernel === kernel && e.layer === layer);
  if (entry === undefined) {
    throw new RangeError(
      `no tokenwise kernel "${kernel}" for the ${layer} layer; the bench knows ${TOKENWISE.filter(
        (e) => e.layer === layer,
      )
        .map((e) => e.kernel)
        .join(", ")}`,
    );
  }
  return entry;
}
