// tokenwise's own contenders: one line per kernel (and thread setting) in TOKENWISE below.
import { FeedForward, type FeedForwardWeights, type Matrix } from "../src/index";
import type { Contender, Instance } from "./contender";
import type { ProblemWeights } from "./problem";
import type { Shape } from "./shapes";

export interface TokenwiseEntry {
  /** The kernel's name, matched by `--kernels`. */
  kernel: string;
  /** Thread counts it can run with; "any" takes every count given with `--threads`. */
  threads: readonly number[] | "any";
  /** Builds the layer from the bench's weights (copied by the layer) for a thread count. */
  make(weights: FeedForwardWeights, threads: number): FeedForward | Promise<FeedForward>;
  /** Time `await ffn.forwardAsync(x, out)` instead of `ffn.forward(x, out)`. */
  async?: boolean;
}

/**
 * Every tokenwise kernel the bench runs, one line each. An entry marked `async: true` is timed
 * through forwardAsync; the others through the blocking forward (which, on threads, computes
 * a share on the calling thread too).
 */
export const TOKENWISE: readonly TokenwiseEntry[] = [
  {
    kernel: "wasm",
    threads: "any",
    make: (w, t) => FeedForward.create({ weights: w, kernel: "wasm", threads: t }),
  },
  { kernel: "js", threads: [1], make: (w) => FeedForward.fromWeights(w, { kernel: "js" }) },
];

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

function asWeights(shape: Shape, w: ProblemWeights): FeedForwardWeights {
  return {
    w1: { rows: shape.dModel, cols: shape.dHidden, data: w.w1 },
    b1: w.b1,
    w2: { rows: shape.dHidden, cols: shape.dModel, data: w.w2 },
    b2: w.b2,
  };
}

export function tokenwiseContender(entry: TokenwiseEntry, threads: number): Contender {
  const multi = entry.threads === "any" || entry.threads.length > 1;
  const suffix = multi ? `@${threads}t` : "";
  return {
    id: `tokenwise-${entry.kernel}${suffix}`,
    label: `tokenwise ${entry.kernel}${suffix}`,
    group: "tokenwise",
    threads,
    library: "tokenwise (this repository)",
    host: { kind: "tokenwise", kernel: entry.kernel, threads },
    // Worker threads poll for a while after each call: in a process of their own they take no
    // core from the contender timed next.
    isolate: threads > 1,
    async setup(shape, weights): Promise<Instance> {
      const ffn = await entry.make(asWeights(shape, weights), threads);
      const out: Matrix = {
        rows: shape.tokens,
        cols: shape.dModel,
        data: new Float32Array(shape.tokens * shape.dModel),
      };
      const asyncFfn = ffn as unknown as { forwardAsync(x: Matrix, out: Matrix): Promise<Matrix> };
      const forward = entry.async
        ? async (x: Float32Array) => {
            await asyncFfn.forwardAsync({ rows: shape.tokens, cols: shape.dModel, data: x }, out);
            return out.data;
          }
        : (x: Float32Array) => {
            ffn.forward({ rows: shape.tokens, cols: shape.dModel, data: x }, out);
            return out.data;
          };
      return { forward, dispose: () => ffn.dispose() };
    },
  };
}

/** The tokenwise contenders for the kernels and thread counts asked for. */
export function tokenwiseContenders(
  kernels: readonly string[] | "all",
  threads: readonly number[],
): Contender[] {
  if (kernels !== "all") for (const k of kernels) findTokenwiseEntry(k);
  const list: Contender[] = [];
  for (const entry of TOKENWISE) {
    if (kernels !== "all" && !kernels.includes(entry.kernel)) continue;
    for (const t of threadCounts(entry.threads, threads)) list.push(tokenwiseContender(entry, t));
  }
  return list;
}

export function findTokenwiseEntry(kernel: string): TokenwiseEntry {
  const entry = TOKENWISE.find((e) => e.kernel === kernel);
  if (entry === undefined) {
    throw new RangeError(
      `no tokenwise kernel "${kernel}"; the bench knows ${TOKENWISE.map((e) => e.kernel).join(", ")}`,
    );
  }
  return entry;
}
