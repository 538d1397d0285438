import type { ThreadHost } from "../threads/platform";
import type { ActivationName } from "./activation";
import { type CallerShare, Pool } from "../threads/pool";
import type { RawWeights } from "./kernel";
import {
  type Act,
  type Linear,
  type WasmLayer,
  condensePanels,
  copyPairsIn,
  copyRows,
  expandPanels,
  forwardHere,
  instantiate,
} from "./wasm-feedforward";
import { BLOCK_ROWS, type Layout } from "./wasm/layout";

/**
 * The WebAssembly kernel on several threads, for a FeedForward layer (W = RawWeights) or a
 * gated one. The packed weights live once, in a shared memory that every worker maps. Work is
 * split over output columns (panels), never over the inner dimension, so the result is the
 * same bits as one thread's.
 *
 * A call that may block (Node's main thread, any worker) runs on the pool and waits with
 * Atomics.wait; `forwardAsync` runs on the pool and resolves when it is done. A blocking call
 * made while an async one is in flight, or from a thread that may not block (a browser's main
 * thread), runs on the calling thread alone, on scratch of its own.
 */
export class ThreadedWasmKernel<W = RawWeights> {
  readonly name = "wasm" as const;
  readonly threads: number;
  readonly #host: ThreadHost;
  readonly #module: WebAssembly.Module;
  readonly #memory: WebAssembly.Memory;
  readonly #lay: Layout;
  readonly #f32: Float32Array;
  readonly #linear: Linear;
  readonly #act: Act;
  readonly #unpack: WasmLayer<W>["unpack"];
  readonly #share: CallerShare;
  readonly #activation: ActivationName;
  #pool: Pool | null = null;
  /** Why the workers could not start (a page's policy forbids them, say), once known. */
  #unavailable: string | null = null;
  #pools = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = false;
  #disposed = false;

  constructor(
    layer: WasmLayer<W>,
    module: WebAssembly.Module,
    host: ThreadHost,
    threads: number,
    activation: ActivationName,
  ) {
    this.threads = threads;
    this.#activation = activation;
    this.#host = host;
    this.#module = module;
    const lay = layer.lay;
    this.#lay = lay;
    this.#unpack = layer.unpack;
    const { memory, f32, linear, act } = instantiate(layer, module, true);
    this.#memory = memory;
    this.#f32 = f32;
    this.#linear = linear;
    this.#act = act;
    // A blocking caller is participant 0 of `threads`: the first slice of each map's panels.
    // Made once, so a blocking forward allocates nothing.
    const end1 = Math.floor(lay.p1 / threads);
    const end2 = Math.floor(lay.p2 / threads);
    const { poolX, poolHidden, poolUp, poolOut } = lay;
    this.#share = {
      expand: (n) =>
        expandPanels(linear, act, f32, lay, poolX, poolHidden, poolUp, n, 0, end1, activation),
      condense: (n) => condensePanels(linear, lay, poolHidden, poolOut, n, 0, end2),
    };
  }

  /** The whole layer on the calling thread alone, on its own scratch. */
  #here(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    forwardHere(
      this.#linear,
      this.#act,
      this.#f32,
      this.#lay,
      this.#activation,
      x,
      xOff,
      rows,
      out,
      outOff,
    );
  }

  /** The pool, started on first use and started anew after a failure. */
  pool(): Pool {
    if (this.#pool === null || this.#pool.failure !== null) {
      const epoch = this.#pools++;
      this.#pool = new Pool(
        this.#host,
        this.threads,
        this.#module,
        this.#memory,
        this.#lay,
        epoch,
        this.#activation,
      );
    }
    return this.#pool;
  }

  /** Threads in use: `threads`, or 1 once the workers turned out unable to start. */
  get threadsInUse(): number {
    return this.#unavailable === null ? this.threads : 1;
  }

  /** Why the layer computes on one thread after all, or null. */
  get unavailable(): string | null {
    return this.#unavailable;
  }

  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void {
    if (this.#busy || !this.#host.canBlock || rows === 0 || this.#unavailable !== null) {
      this.#here(x, xOff, rows, out, outOff);
      return;
    }
    const lay = this.#lay;
    const d = lay.dModel;
    const pool = this.pool();
    for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - r0);
      copyPairsIn(x, xOff + r0 * d, d, this.#f32, lay.poolX / 4, n);
      try {
        pool.runSync(n, this.#share);
      } catch (e) {
        if (pool.started) throw e;
        // As in forwardAsync: workers that never started leave the layer on this thread.
        this.#unavailable = `worker threads could not start, so the layer runs on one thread: ${e instanceof Error ? e.message : String(e)}`;
        this.#here(x, xOff + r0 * d, rows - r0, out, outOff + r0 * d);
        return;
      }
      copyRows(this.#f32, lay.poolOut / 4, lay.dPad, out, outOff + r0 * d, d, n);
    }
  }

  /**
   * Runs on the pool without blocking this thread. Calls on one layer queue behind each
   * other; x and out are read and written only while this call's turn runs.
   */
  forwardAsync(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
  ): Promise<void> {
    const run = async () => {
      if (this.#disposed) throw new Error("forwardAsync: the layer was disposed");
      const lay = this.#lay;
      this.#busy = true;
      try {
        for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
          const n = Math.min(BLOCK_ROWS, rows - r0);
          if (this.#unavailable !== null) {
            this.#here(x, xOff + r0 * lay.dModel, n, out, outOff + r0 * lay.dModel);
            continue;
          }
          const pool = this.pool();
          copyPairsIn(x, xOff + r0 * lay.dModel, lay.dModel, this.#f32, lay.poolX / 4, n);
          try {
            await pool.runAsync(n);
          } catch (e) {
            // Workers that never started (a Content-Security-Policy without blob: workers, no
            // worker support after all) are not a fault of this call: compute it here, and
            // every call after it, on this thread, and say why.
            if (pool.started) throw e;
            this.#unavailable = `worker threads could not start, so the layer runs on one thread: ${e instanceof Error ? e.message : String(e)}`;
            r0 -= BLOCK_ROWS;
            continue;
          }
          copyRows(
            this.#f32,
            lay.poolOut / 4,
            lay.dPad,
            out,
            outOff + r0 * lay.dModel,
            lay.dModel,
            n,
          );
        }
      } finally {
        this.#busy = false;
      }
    };
    const turn = this.#queue.then(run, run);
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  unpack(): W {
    return this.#unpack(this.#f32, this.#lay);
  }

  dispose(): void {
    this.#disposed = true;
    this.#pool?.dispose();
    this.#pool = null;
  }
}
