// The WebAssembly kernel on several threads, for every layer shape.
import type { ActivationName } from "../activation";
import type { HiddenCount, Kernel, LayerShape, StoredTensors } from "../kernel";
import type { WeightSource } from "../source";
import { type CallerShare, Pool } from "../../threads/pool";
import type { ThreadHost } from "../../threads/platform";
import { type Instance, forwardHere, instantiate, layoutOf, unpackLayout } from "./kernel";
import { BLOCK_ROWS, type Layout, shareStart } from "./layout";
import { condensePanels, copyPairsIn, copyRows, countZeros, expandPanels } from "./panels";

/**
 * The WebAssembly kernel on several threads. The packed weights live once, in a shared memory
 * that every worker maps. Work is split over output columns (panels), never over the inner
 * dimension, so the result is the same bits as one thread's.
 *
 * A call that may block (Node's main thread, any worker) runs on the pool and waits with
 * Atomics.wait; `forwardAsync` runs on the pool and resolves when it is done. A blocking call
 * made while an async one is in flight, or from a thread that may not block (a browser's main
 * thread), runs on the calling thread alone, on scratch of its own. A call of more than one
 * block that fails (a worker fault, the layer disposed before its turn) writes nothing to out:
 * its blocks go to a buffer of its own and are copied out at the end.
 */
export class ThreadedWasmKernel implements Kernel {
  readonly name = "wasm" as const;
  readonly threads: number;
  readonly #host: ThreadHost;
  readonly #module: WebAssembly.Module;
  readonly #inst: Instance;
  readonly #lay: Layout;
  readonly #f32: Float32Array;
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
    shape: LayerShape,
    source: WeightSource,
    module: WebAssembly.Module,
    host: ThreadHost,
    threads: number,
  ) {
    this.threads = threads;
    this.#activation = shape.activation;
    this.#host = host;
    this.#module = module;
    const lay = layoutOf(shape, true, threads);
    this.#lay = lay;
    const inst = instantiate(shape, lay, source, module, true);
    const { f32, linear, act, kind } = inst;
    this.#inst = inst;
    this.#f32 = f32;
    // A blocking caller is participant 0 of `threads`: its share of each map's panels. Made
    // once, so a blocking forward allocates nothing.
    const [lo1, hi1] = [shareStart(lay.p1, 0, threads), shareStart(lay.p1, 1, threads)];
    const [lo2, hi2] = [shareStart(lay.p2, 0, threads), shareStart(lay.p2, 1, threads)];
    const { poolX, poolHidden, poolOut } = lay;
    this.#share = {
      expand: (n) => expandPanels(linear, act, f32, lay, poolX, poolHidden, n, lo1, hi1, kind),
      condense: (n) => condensePanels(linear, lay, poolHidden[0] as number, poolOut, n, lo2, hi2),
    };
  }

  /** The whole layer on the calling thread alone, on its own scratch. */
  #here(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void {
    forwardHere(this.#inst, x, xOff, rows, out, outOff, count);
  }

  /** Adds the zero hidden values of the pool's last block of n rows to `count`. */
  #countPool(n: number, count: HiddenCount | undefined): void {
    if (count === undefined) return;
    const lay = this.#lay;
    count.zeros += countZeros(
      this.#f32,
      (lay.poolHidden[0] as number) / 4,
      lay.hPad,
      lay.dHidden,
      n,
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
        this.#inst.memory,
        this.#lay,
        epoch,
        this.#activation,
        this.#inst.relaxed ?? null,
      );
    }
    return this.#pool;
  }

  get threadsInUse(): number {
    return this.#unavailable === null ? this.threads : 1;
  }

  get unavailable(): string | null {
    return this.#unavailable;
  }

  #cannotStart(e: unknown): void {
    // Workers that never started (a Content-Security-Policy without blob: workers, no worker
    // support after all) are not a fault of this call: compute it here, and every call after
    // it, on this thread, and say why.
    this.#unavailable = `worker threads could not start, so the layer runs on one thread: ${e instanceof Error ? e.message : String(e)}`;
  }

  forward(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void {
    if (this.#busy || !this.#host.canBlock || rows === 0 || this.#unavailable !== null) {
      this.#here(x, xOff, rows, out, outOff, count);
      return;
    }
    const lay = this.#lay;
    const d = lay.dModel;
    const pool = this.pool();
    // More than one block: stage, so that a fault in a later block leaves out as it was.
    const staged = rows > BLOCK_ROWS;
    const dst = staged ? new Float32Array(rows * d) : out;
    const dstOff = staged ? 0 : outOff;
    for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - r0);
      copyPairsIn(x, xOff + r0 * d, d, this.#f32, lay.poolX / 4, n);
      try {
        pool.runSync(n, this.#share);
      } catch (e) {
        if (pool.started) throw e;
        this.#cannotStart(e);
        this.#here(x, xOff + r0 * d, rows - r0, dst, dstOff + r0 * d, count);
        break;
      }
      this.#countPool(n, count);
      copyRows(this.#f32, lay.poolOut / 4, lay.dPad, dst, dstOff + r0 * d, d, n);
    }
    if (staged) out.set(dst, outOff);
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
    count?: HiddenCount,
  ): Promise<void> {
    const run = async () => {
      if (this.#disposed) throw new Error("forwardAsync: the layer was disposed");
      const lay = this.#lay;
      const d = lay.dModel;
      const staged = rows > BLOCK_ROWS;
      const dst = staged ? new Float32Array(rows * d) : out;
      const dstOff = staged ? 0 : outOff;
      this.#busy = true;
      try {
        for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
          const n = Math.min(BLOCK_ROWS, rows - r0);
          if (this.#unavailable !== null) {
            this.#here(x, xOff + r0 * d, n, dst, dstOff + r0 * d, count);
            continue;
          }
          if (this.#disposed) throw new Error("forwardAsync: the layer was disposed");
          const pool = this.pool();
          copyPairsIn(x, xOff + r0 * d, d, this.#f32, lay.poolX / 4, n);
          try {
            await pool.runAsync(n);
          } catch (e) {
            if (pool.started) throw e;
            this.#cannotStart(e);
            r0 -= BLOCK_ROWS;
            continue;
          }
          this.#countPool(n, count);
          copyRows(this.#f32, lay.poolOut / 4, lay.dPad, dst, dstOff + r0 * d, d, n);
        }
      } finally {
        this.#busy = false;
      }
      if (staged) out.set(dst, outOff);
    };
    const turn = this.#queue.then(run, run);
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  unpack(): StoredTensors[] {
    return unpackLayout(this.#f32, this.#lay);
  }

  dispose(): void {
    this.#disposed = true;
    this.#pool?.dispose();
    this.#pool = null;
  }
}
