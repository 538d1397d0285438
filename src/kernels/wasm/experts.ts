// A mixture's experts in one WebAssembly memory, on the calling thread or on one pool of
// threads: every expert's packed maps one after another, then one set of scratch buffers (and
// on threads one pool's scratch and control blocks) for them all. 64 experts are one memory,
// one instance and, on threads, one pool whose jobs name the expert (the pool's SET word):
// never a memory or a pool per expert.
//
// The experts' weights are of their shapes' dtype: 16-bit experts widen, for a batch, into one
// float32 panel a thread, as a single layer does (layout.ts).
import { ACTIVATION_WASM, ERF_TERMS, type ActivationName } from "../activation";
import type { ExpertsKernel } from "../experts";
import type { LayerShape, StoredTensors } from "../kernel";
import type { WeightSource } from "../source";
import { type CallerShare, Pool } from "../../threads/pool";
import type { ThreadHost } from "../../threads/platform";
import { type Instance, allocateMemory, forwardHere, packMaps, unpackLayout } from "./kernel";
import {
  BLOCK_ROWS,
  CTRL_BYTES,
  CTRL_SLOTS,
  type Layout,
  type MapRegion,
  mapRegions,
  panelBytes,
  panels,
  regions,
  shareStart,
  widenPanels,
} from "./layout";
import {
  type GemmExports,
  condensePanels,
  copyPairsIn,
  copyRows,
  expandPanels,
  linearOn,
} from "./panels";

/** One expert's part of the layout: its maps and its hidden width. */
export interface ExpertSet {
  maps: MapRegion[];
  dHidden: number;
  p1: number;
  hPad: number;
}

/** The layout of the first expert, with every expert's set (the pool's workers read `sets`). */
export interface ExpertsLayout extends Layout {
  sets: ExpertSet[];
}

/**
 * The regions of a mixture's experts (all of dModel, all gated): each expert's maps, then one
 * scratch sized for the widest expert, and with `threaded` the pool's scratch and controls.
 */
export function expertsLayout(
  shapes: readonly LayerShape[],
  threaded: boolean,
  threads = 1,
): ExpertsLayout {
  const first = shapes[0] as LayerShape;
  const { dModel: d, expand, dtype } = first;
  const { p2, dPad } = panels(d, first.dHidden);
  const { take, end } = regions();
  const sets = shapes.map((s): ExpertSet => {
    const { p1, hPad } = panels(d, s.dHidden);
    const maps = mapRegions(take, d, s.dHidden, expand, s.hasBias, dtype);
    return { maps, dHidden: s.dHidden, p1, hPad };
  });
  const hMax = Math.max(...sets.map((s) => s.hPad));
  const erf = take(ERF_TERMS * 8);
  const blocks = (n: number, bytes: number) => Array.from({ length: n }, () => take(bytes));
  // As layout(): the 16-bit loops read up to READ_AHEAD bytes past the last expert's weights,
  // which the erf table, the widening panels and the x block cover.
  const widen = blocks(widenPanels(dtype, threaded, threads), panelBytes(Math.max(d, hMax)));
  const x = take(BLOCK_ROWS * d * 4);
  const hidden = blocks(expand, BLOCK_ROWS * hMax * 4);
  const out = take(BLOCK_ROWS * dPad * 4);
  const poolX = threaded ? take(BLOCK_ROWS * d * 4) : 0;
  const poolHidden = blocks(threaded ? expand : 0, BLOCK_ROWS * hMax * 4);
  const poolOut = threaded ? take(BLOCK_ROWS * dPad * 4) : 0;
  const ctrl = threaded ? take(CTRL_BYTES * CTRL_SLOTS) : 0;
  const s0 = sets[0] as ExpertSet;
  return {
    dModel: d,
    expand,
    p2,
    dPad,
    ...s0,
    erf,
    widen,
    lists: [],
    x,
    hidden,
    out,
    poolX,
    poolHidden,
    poolOut,
    ctrl,
    ...end(),
    sets,
  };
}

/** Expert e's view of the layout: its maps and hidden width over the shared scratch. */
function setLayout(lay: ExpertsLayout, e: number): Layout {
  return { ...lay, ...(lay.sets[e] as ExpertSet) };
}

/**
 * The experts in one WebAssembly memory. Without a host, every expert runs on the calling
 * thread; with one, on one pool of `threads` threads, each job one expert on one block of
 * tokens, its output columns split among the threads as for a single layer (the same bits as
 * one thread's).
 */
export class WasmExperts implements ExpertsKernel {
  readonly name = "wasm" as const;
  readonly count: number;
  readonly #threads: number;
  readonly #host: ThreadHost | null;
  readonly #module: WebAssembly.Module;
  readonly #activation: ActivationName;
  readonly #lay: ExpertsLayout;
  readonly #memory: WebAssembly.Memory;
  readonly #f32: Float32Array;
  readonly #insts: Instance[];
  readonly #shares: CallerShare[];
  #pool: Pool | null = null;
  #pools = 0;
  #unavailable: string | null = null;
  #busy = false;
  #disposed = false;

  /** Each source is read in full, in order, as its expert is packed. */
  constructor(
    shapes: readonly LayerShape[],
    sources: readonly WeightSource[],
    module: WebAssembly.Module,
    host: ThreadHost | null,
    threads: number,
  ) {
    const first = shapes[0] as LayerShape;
    this.count = shapes.length;
    this.#threads = host === null ? 1 : threads;
    this.#host = host;
    this.#module = module;
    this.#activation = first.activation;
    const lay = expertsLayout(shapes, host !== null, this.#threads);
    this.#lay = lay;
    const memory = allocateMemory(lay, host !== null);
    const f32 = new Float32Array(memory.buffer);
    this.#memory = memory;
    this.#f32 = f32;
    shapes.forEach((s, e) => {
      packMaps(s, (lay.sets[e] as ExpertSet).maps, sources[e] as WeightSource, f32, false);
    });
    const exports = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as GemmExports;
    const linear = linearOn(exports, lay.widen[0] ?? 0);
    const act = exports.act;
    const kind = ACTIVATION_WASM[first.activation];
    this.#insts = shapes.map((_, e) => ({
      memory,
      f32,
      lay: setLayout(lay, e),
      linear,
      act,
      kind,
    }));
    // A blocking caller is participant 0 of each job: its share of each expert's panels.
    const t = this.#threads;
    this.#shares = this.#insts.map(({ lay: l }) => {
      const [lo1, hi1] = [shareStart(l.p1, 0, t), shareStart(l.p1, 1, t)];
      const [lo2, hi2] = [shareStart(l.p2, 0, t), shareStart(l.p2, 1, t)];
      return {
        expand: (n) => expandPanels(linear, act, f32, l, l.poolX, l.poolHidden, n, lo1, hi1, kind),
        condense: (n) =>
          condensePanels(linear, l, l.poolHidden[0] as number, l.poolOut, n, lo2, hi2),
      };
    });
  }

  get threadsInUse(): number {
    return this.#unavailable === null ? this.#threads : 1;
  }

  get unavailable(): string | null {
    return this.#unavailable;
  }

  /** The pool, started on first use and started anew after a failure. */
  pool(): Pool {
    if (this.#pool === null || this.#pool.failure !== null) {
      const epoch = this.#pools++;
      if (this.#disposed) throw new Error("forwardAsync: the layer was disposed");
      const host = this.#host as ThreadHost;
      const [t, m, mem, lay] = [this.#threads, this.#module, this.#memory, this.#lay];
      this.#pool = new Pool(host, t, m, mem, lay, epoch, this.#activation);
    }
    return this.#pool;
  }

  #cannotStart(e: unknown): void {
    this.#unavailable = `worker threads could not start, so the layer runs on one thread: ${e instanceof Error ? e.message : String(e)}`;
  }

  /** Expert e on this thread, on its own scratch, rows from row offset `off` of x and out. */
  #here(e: number, x: Float32Array, off: number, rows: number, out: Float32Array): void {
    forwardHere(this.#insts[e] as Instance, x, off, rows, out, off);
  }

  run(e: number, x: Float32Array, rows: number, out: Float32Array): void {
    const host = this.#host;
    if (host === null || this.#busy || !host.canBlock || this.#unavailable !== null) {
      this.#here(e, x, 0, rows, out);
      return;
    }
    const { dModel: d, poolX, poolOut, dPad } = this.#lay;
    const pool = this.pool();
    for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - r0);
      copyPairsIn(x, r0 * d, d, this.#f32, poolX / 4, n);
      try {
        pool.runSync(n, this.#shares[e] as CallerShare, e);
      } catch (err) {
        if (pool.started) throw err;
        this.#cannotStart(err);
        this.#here(e, x, r0 * d, rows - r0, out);
        return;
      }
      copyRows(this.#f32, poolOut / 4, dPad, out, r0 * d, d, n);
    }
  }

  async runAsync(e: number, x: Float32Array, rows: number, out: Float32Array): Promise<void> {
    if (this.#host === null) {
      this.#here(e, x, 0, rows, out);
      return;
    }
    const { dModel: d, poolX, poolOut, dPad } = this.#lay;
    this.#busy = true;
    try {
      for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
        const n = Math.min(BLOCK_ROWS, rows - r0);
        if (this.#unavailable !== null) {
          this.#here(e, x, r0 * d, n, out);
          continue;
        }
        const pool = this.pool();
        copyPairsIn(x, r0 * d, d, this.#f32, poolX / 4, n);
        try {
          await pool.runAsync(n, e);
        } catch (err) {
          if (pool.started) throw err;
          this.#cannotStart(err);
          r0 -= BLOCK_ROWS;
          continue;
        }
        copyRows(this.#f32, poolOut / 4, dPad, out, r0 * d, d, n);
      }
    } finally {
      this.#busy = false;
    }
  }

  unpack(e: number): StoredTensors[] {
    return unpackLayout(this.#f32, setLayout(this.#lay, e));
  }

  dispose(): void {
    this.#disposed = true;
    this.#pool?.dispose();
    this.#pool = null;
  }
}
