// A mixture's forward pass over a block of tokens, in steps: route the block, then for each
// expert that some token chose (in increasing index), gather those tokens, run the expert once
// on the group, and add each token's weighted row into its float64 sum; then the shared
// expert on the whole block; then round every sum once. A token's sum therefore always runs
// over its own experts in increasing index, then the shared one, whatever else is in the
// block (docs/moe.md). The layer drives the steps, blocking or not; a kernel with runMany
// (webgpu) takes a block's steps in one go, and the sums are added in the same order after.
import type { ExpertsKernel } from "../kernels/experts";
import { RouteScratch, type Router, routeRows } from "./moe-route";

/** Tokens per block: the wasm kernel's block, so a group never needs two of its jobs. */
export const MOE_BLOCK = 128;

/** One block's scratch and state; a layer keeps one and reuses it for every call. */
export class Work {
  readonly #r: Router;
  readonly #scratch: RouteScratch;
  readonly #experts: Int32Array; // MOE_BLOCK · k, each token's experts in increasing index
  readonly #weights: Float32Array; // their weights
  readonly #gates: Float32Array | null; // the shared expert's weight per token
  readonly #count: Int32Array; // tokens per expert in this block
  readonly #start: Int32Array;
  readonly #next: Int32Array;
  readonly #order: Int32Array; // the (token · k + slot) entries grouped by expert
  readonly #steps: Int32Array; // the experts to run, in increasing index, then the shared one
  /** Gathered input rows and the expert's output rows, MOE_BLOCK · dModel each. */
  readonly gx: Float32Array;
  readonly gy: Float32Array;
  readonly #acc: Float64Array;
  #x: Float32Array = new Float32Array(0);
  #xOff = 0;
  #n = 0;
  /** Steps of the block begun last. */
  steps = 0;

  constructor(router: Router, shared: boolean) {
    const { dModel: d, experts: E, topK: k } = router;
    this.#r = router;
    this.#scratch = new RouteScratch(MOE_BLOCK, E, k);
    this.#experts = new Int32Array(MOE_BLOCK * k);
    this.#weights = new Float32Array(MOE_BLOCK * k);
    this.#gates = shared ? new Float32Array(MOE_BLOCK).fill(1) : null;
    this.#count = new Int32Array(E);
    this.#start = new Int32Array(E);
    this.#next = new Int32Array(E);
    this.#order = new Int32Array(MOE_BLOCK * k);
    this.#steps = new Int32Array(E + 1);
    this.gx = new Float32Array(MOE_BLOCK * d);
    this.gy = new Float32Array(MOE_BLOCK * d);
    this.#acc = new Float64Array(MOE_BLOCK * d);
  }

  /** Routes n ≤ MOE_BLOCK tokens of x from xOff and groups them by expert. */
  begin(x: Float32Array, xOff: number, n: number): void {
    const r = this.#r;
    const { experts: E, topK: k, dModel: d } = r;
    this.#x = x;
    this.#xOff = xOff;
    this.#n = n;
    routeRows(r, x, xOff, n, this.#scratch, this.#experts, this.#weights, this.#gates);
    const count = this.#count;
    count.fill(0);
    for (let i = 0; i < n * k; i++) {
      const e = this.#experts[i] as number;
      count[e] = (count[e] as number) + 1;
    }
    let at = 0;
    let steps = 0;
    for (let e = 0; e < E; e++) {
      this.#start[e] = at;
      at += count[e] as number;
      if ((count[e] as number) > 0) this.#steps[steps++] = e;
    }
    if (this.#gates !== null) this.#steps[steps++] = E;
    this.steps = steps;
    // Entries in increasing token order within each expert's group.
    const next = this.#next;
    next.set(this.#start);
    for (let i = 0; i < n * k; i++) {
      const e = this.#experts[i] as number;
      const at = next[e] as number;
      this.#order[at] = i;
      next[e] = at + 1;
    }
    this.#acc.fill(0, 0, n * d);
  }

  /** The expert of step s (the number of routed experts for the shared one). */
  expert(s: number): number {
    return this.#steps[s] as number;
  }

  /** Tokens of step s: its expert's group, or the whole block for the shared expert. */
  rowsOf(s: number): number {
    const e = this.#steps[s] as number;
    return e === this.#r.experts ? this.#n : (this.#count[e] as number);
  }

  /**
   * Gathers step s's tokens into gx (or into dst from row `at`); returns their number (the
   * expert's group, or the whole block for the shared expert).
   */
  gather(s: number, dst: Float32Array = this.gx, at = 0): number {
    const { experts: E, topK: k, dModel: d } = this.#r;
    const e = this.#steps[s] as number;
    const x = this.#x;
    if (e === E) {
      const o = at * d;
      for (let i = 0; i < this.#n * d; i++) dst[o + i] = x[this.#xOff + i] as number;
      return this.#n;
    }
    const from = this.#start[e] as number;
    const m = this.#count[e] as number;
    for (let r = 0; r < m; r++) {
      const t = Math.floor((this.#order[from + r] as number) / k);
      const src = this.#xOff + t * d;
      const o = (at + r) * d;
      for (let j = 0; j < d; j++) dst[o + j] = x[src + j] as number;
    }
    return m;
  }

  /**
   * Adds step s's output rows (in gy, or in src from row `at`), each times its token's weight,
   * into the tokens' sums.
   */
  add(s: number, src: Float32Array = this.gy, at = 0): void {
    const { experts: E, topK: k, dModel: d } = this.#r;
    const e = this.#steps[s] as number;
    const acc = this.#acc;
    const gy = at === 0 ? src : src.subarray(at * d);
    if (e === E) {
      const g = this.#gates as Float32Array;
      for (let t = 0; t < this.#n; t++) {
        const w = g[t] as number;
        for (let j = 0; j < d; j++)
          acc[t * d + j] = (acc[t * d + j] as number) + w * (gy[t * d + j] as number);
      }
      return;
    }
    const from = this.#start[e] as number;
    const m = this.#count[e] as number;
    for (let r = 0; r < m; r++) {
      const i = this.#order[from + r] as number;
      const t = Math.floor(i / k);
      const w = this.#weights[i] as number;
      for (let j = 0; j < d; j++)
        acc[t * d + j] = (acc[t * d + j] as number) + w * (gy[r * d + j] as number);
    }
  }

  /** Rounds the block's sums once into out from outOff. */
  finish(out: Float32Array, outOff: number): void {
    const nd = this.#n * this.#r.dModel;
    const acc = this.#acc;
    for (let i = 0; i < nd; i++) out[outOff + i] = acc[i] as number;
  }
}

/**
 * A layer's forward calls: blocking ones on the layer's Work (a fresh one while a
 * non-blocking call is in flight), non-blocking ones queued one behind the other. A call that
 * fails writes nothing to its output: more than one block, or a non-blocking call, computes
 * into a buffer of its own and copies it out at the end.
 */
export class Runner {
  readonly #kernel: ExpertsKernel;
  readonly #router: Router;
  readonly #shared: boolean;
  readonly #work: Work;
  /** For a kernel that runs a block's experts in one go: every step's rows, gathered. */
  #many: { x: Float32Array; y: Float32Array; experts: Int32Array; rows: Int32Array } | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = false;
  #disposed = false;

  constructor(kernel: ExpertsKernel, router: Router, shared: boolean) {
    this.#kernel = kernel;
    this.#router = router;
    this.#shared = shared;
    this.#work = new Work(router, shared);
  }

  /** rows tokens of x (from 0) into out (from 0), blocking. */
  run(x: Float32Array, rows: number, out: Float32Array): void {
    const d = this.#router.dModel;
    const w = this.#busy ? new Work(this.#router, this.#shared) : this.#work;
    const staged = rows > MOE_BLOCK;
    const dst = staged ? new Float32Array(rows * d) : out;
    const kernel = this.#kernel as Required<ExpertsKernel>;
    for (let r0 = 0; r0 < rows; r0 += MOE_BLOCK) {
      w.begin(x, r0 * d, Math.min(MOE_BLOCK, rows - r0));
      for (let s = 0; s < w.steps; s++) {
        const m = w.gather(s);
        kernel.run(w.expert(s), w.gx, m, w.gy);
        w.add(s);
      }
      w.finish(dst, r0 * d);
    }
    if (staged) out.set(dst);
  }

  /** As run, without blocking: queued behind this layer's earlier calls. */
  runAsync(x: Float32Array, rows: number, out: Float32Array): Promise<void> {
    const go = async () => {
      if (this.#disposed) throw new Error("forwardAsync: the layer was disposed");
      const d = this.#router.dModel;
      const w = this.#work;
      const dst = new Float32Array(rows * d);
      this.#busy = true;
      try {
        for (let r0 = 0; r0 < rows; r0 += MOE_BLOCK) {
          w.begin(x, r0 * d, Math.min(MOE_BLOCK, rows - r0));
          if (this.#kernel.runMany !== undefined) await this.#block(w);
          else {
            for (let s = 0; s < w.steps; s++) {
              const m = w.gather(s);
              await this.#kernel.runAsync(w.expert(s), w.gx, m, w.gy);
              w.add(s);
            }
          }
          w.finish(dst, r0 * d);
        }
      } finally {
        this.#busy = false;
      }
      out.set(dst);
    };
    const turn = this.#queue.then(go, go);
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /**
   * A block's steps through the kernel's runMany: every step's tokens gathered one group after
   * another, run, then added in the steps' order (the order of every token's sum, as above).
   */
  async #block(w: Work): Promise<void> {
    const { dModel: d, experts: E } = this.#router;
    let total = 0;
    for (let s = 0; s < w.steps; s++) total += w.rowsOf(s);
    let many = this.#many;
    if (many === null || many.x.length < total * d) {
      const x = new Float32Array(total * d);
      many = {
        x,
        y: new Float32Array(total * d),
        experts: new Int32Array(E + 1),
        rows: new Int32Array(E + 1),
      };
      this.#many = many;
    }
    let at = 0;
    for (let s = 0; s < w.steps; s++) {
      many.experts[s] = w.expert(s);
      many.rows[s] = w.gather(s, many.x, at);
      at += many.rows[s] as number;
    }
    const run = this.#kernel.runMany as NonNullable<ExpertsKernel["runMany"]>;
    await run.call(this.#kernel, many.experts, many.rows, w.steps, many.x, many.y);
    at = 0;
    for (let s = 0; s < w.steps; s++) {
      w.add(s, many.y, at);
      at += many.rows[s] as number;
    }
  }

  dispose(): void {
    this.#disposed = true;
    this.#kernel.dispose();
  }
}
