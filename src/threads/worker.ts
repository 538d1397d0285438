// The code each worker of a pool runs. It is not imported by the package: scripts/build-worker.mjs
// bundles it (with protocol.ts and the activations it names) into one minified script, kept
// as text in worker-source.ts, so that a browser worker starts from it with a blob: URL and a
// Node worker with { eval: true } (after a prelude that gives it a browser worker's `self`),
// and the package needs no separate file to be served. It uses no platform's modules.
// The two halves of a job are the very functions the calling thread runs (expandPanels,
// condensePanels: the gemm, the activation, a gated layer's product), so both give the same
// bits.
import { type Layout, shareStart } from "../kernels/wasm/layout";
import {
  type Act,
  type GemmExports,
  condensePanels,
  expandPanels,
  linearOn,
} from "../kernels/wasm/panels";
import type { RelaxedExports } from "../kernels/wasm/relaxed";
import * as P from "./protocol";

/** What the pool posts to a new worker. */
interface Init {
  module: WebAssembly.Module;
  /**
   * relaxed.wat's module when the layer packed some map for it (the caller found relaxed SIMD
   * and decided, so every thread computes alike), else null.
   */
  relaxed: WebAssembly.Module | null;
  memory: WebAssembly.Memory;
  id: number;
  n: number;
  /**
   * The layout; a mixture of experts' (kernels/wasm/experts.ts) also has `sets`, each expert's
   * maps and hidden width, all in the one memory.
   */
  L: Layout & { sets?: Partial<Layout>[] };
  /** The activation's code in the kernel (activation.ts's ACTIVATION_WASM; 0 is relu). */
  kind: number;
  /**
   * The GEN word when the pool started this worker: jobs before it are not its own (the last
   * worker starts with the first awaited job, posted just after).
   */
  seen: number;
}

/** A dedicated worker's scope: a browser's own, or the one the Node host sets up (platform.ts). */
interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: Init }) => void) | null;
  close(): void;
}

/** Kernel calls in a row between two heartbeats (and two checks of the watchdog). */
const CHUNK = 16;

const port = (globalThis as unknown as { self: WorkerScope }).self;
const quit = () => port.close();
port.onmessage = (e) => {
  port.onmessage = null;
  start(e.data);
};

function start(init: Init): void {
  const { module, relaxed, memory, id, n, L, kind, seen } = init;
  const exports = new WebAssembly.Instance(module, { env: { memory } })
    .exports as unknown as GemmExports;
  const rx =
    relaxed === null
      ? undefined
      : (new WebAssembly.Instance(relaxed, { env: { memory } })
          .exports as unknown as RelaxedExports);
  const act: Act = exports.act;
  const f32 = new Float32Array(memory.buffer);
  const c = new Int32Array(memory.buffer, L.ctrl, 64);
  const bytes = new Uint8Array(memory.buffer, L.ctrl + P.MESSAGE_AT, P.MESSAGE_MAX);
  // A job's SET word names the set of maps it computes: the layout itself, or an expert's.
  const sets: Layout[] = L.sets?.map((s) => ({ ...L, ...s })) ?? [L];

  // Panels in groups of CHUNK: the same sums as one call (columns are independent), and a
  // heartbeat between groups for the blocked caller's watchdog. Worker `id` widens 16-bit
  // panels into float32 panel id + 1 of the layout (the calling thread has panel 0), and lists
  // nonzero hidden units in list region id + 1.
  const beat = () => void Atomics.add(c, P.HEART, 1);
  const linear = linearOn(exports, L.widen[id + 1] ?? 0, CHUNK, beat, L.lists[id + 1] ?? 0, rx);
  // Participant p of n takes its share of each map's panels (layout.ts's shareStart, as the
  // calling thread does): output columns, never k. In a job run by a blocking caller, the
  // caller is participant 0 and worker w is participant w + 1 (SHIFT = 1), so the last worker
  // sits it out; otherwise worker w is w.
  // ARRIVE only ever grows (wrapping at 2^32): job g's barrier is at 2n(g-1) + n and it is
  // done at 2n g, so no one resets a counter that a slow worker may still be reading.
  const reached = (v: number, target: number) => ((v - target) | 0) >= 0;
  function arrive(): number {
    const mine = (Atomics.add(c, P.ARRIVE, 1) + 1) | 0;
    Atomics.notify(c, P.ARRIVE);
    return mine;
  }
  // Waits spin first: a futex sleep and wake costs tens of microseconds, a whole decode step
  // costs a few hundred, and the other side is usually about to arrive.
  function barrier(target: number): void {
    arrive();
    for (let spin = 0; ; spin++) {
      const v = Atomics.load(c, P.ARRIVE);
      if (reached(v, target)) return;
      if (spin >= P.SPIN) Atomics.wait(c, P.ARRIVE, v);
    }
  }
  function fail(e: unknown): void {
    if (Atomics.compareExchange(c, P.ERROR, 0, id + 1) !== 0) return;
    const message = e instanceof Error ? e.message : String(e);
    const text = new TextEncoder().encode(message).slice(0, P.MESSAGE_MAX);
    bytes.set(text);
    c[P.MESSAGE_LENGTH] = text.length;
  }

  Atomics.add(c, P.STARTED, 1);
  port.postMessage({ ready: id });
  // The GEN word last read: (job number << 1) | shift (protocol.ts).
  let word = seen;
  // HUSH as of this worker's last job: once another pool has posted a job since, the next job
  // here is not coming soon, and spinning would only take a core from that pool's threads.
  let hush = 0;
  for (let spin = 0; ; spin++) {
    const g = Atomics.load(c, P.GEN);
    if (g === word) {
      if (spin >= P.SPIN || Atomics.load(c, P.HUSH) !== hush) {
        if (id < n - 1) Atomics.wait(c, P.GEN, word);
        else {
          // The last worker: woken only for a job it takes part in (LAST), so it reads LAST
          // before it looks at GEN again; a post in between changes LAST and it does not sleep.
          const last = Atomics.load(c, P.LAST);
          if (Atomics.load(c, P.GEN) === word) Atomics.wait(c, P.LAST, last);
        }
      }
      continue;
    }
    word = g;
    if (c[P.STALL] === id + 1) {
      const ms = c[P.STALL_MS] as number;
      Atomics.wait(c, P.STALL, id + 1, ms < 0 ? Infinity : ms);
    }
    if (c[P.CMD] === P.EXIT) return;
    const gen = g >>> 1;
    const shift = g & 1;
    const p = id + shift;
    if (p >= n) {
      spin = P.SPIN; // not in this job: back to sleep at once
      continue;
    }
    // A participant's job cannot end without it, so the job's other words are still its own.
    spin = 0;
    hush = Atomics.load(c, P.HUSH);
    const rows = c[P.ROWS] as number;
    const lay = sets[c[P.SET] as number] ?? L;
    const half = Math.imul(2 * n, gen - 1) + n;
    let failed = false;
    try {
      if (c[P.FAULT] === -(id + 1)) quit();
      if (c[P.FAULT] === id + 1) throw new Error("fault injected by a test");
      // This worker's hidden columns: act(x · W1 + b1), times the up projection's if gated.
      const lo = shareStart(lay.p1, p, n);
      const hi = shareStart(lay.p1, p + 1, n);
      expandPanels(linear, act, f32, lay, L.poolX, L.poolHidden, rows, lo, hi, kind);
      Atomics.add(c, P.HEART, 1);
    } catch (e) {
      failed = true;
      fail(e);
    }
    barrier(half);
    if (Atomics.load(c, P.CMD) === P.EXIT) return; // the pool was retired while we waited
    try {
      const lo = shareStart(lay.p2, p, n);
      const hi = shareStart(lay.p2, p + 1, n);
      if (!failed) condensePanels(linear, lay, L.poolHidden[0] as number, L.poolOut, rows, lo, hi);
    } catch (e) {
      fail(e);
    }
    // The last to finish tells a caller that awaits (forwardAsync); a blocking caller watches
    // ARRIVE instead, so a blocking call sends no message and allocates nothing.
    if (arrive() === ((half + n) | 0) && shift === 0) port.postMessage({ done: gen });
  }
}
