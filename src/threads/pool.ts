import { ACTIVATION_WASM, type ActivationName } from "../kernels/activation";
import { CTRL_BYTES, CTRL_SLOTS, type Layout } from "../kernels/wasm/layout";
import * as P from "./protocol";
import type { ThreadHost, WorkerHandle } from "./platform";
import { WORKER_SOURCE } from "./worker-source";

/** A blocking caller's own share of a job: its slice of each map, for a block of `rows`. */
export interface CallerShare {
  expand(rows: number): void;
  condense(rows: number): void;
}

/** The job number after `job`, modulo 2^31 (GEN holds it shifted left by one). */
const nextJob = (job: number): number => (job + 1) & 0x7fffffff;

/** How often an awaiting caller's watchdog looks at the workers' heartbeat, ms. */
const WATCH_TICK_MS = 100;

/** A blocked caller gives up on workers that show no progress for this long. */
const WATCHDOG_MS = 10_000;

/**
 * The pool that posted this thread's last job. A job posted by another pool hushes it: its
 * workers, spinning in case the same pool is called again at once (one layer, token after
 * token), go to sleep instead of taking cores from the next layer's threads (a model's layers
 * each have their own pool and run one after the other). Weak, so a layer dropped without
 * dispose() is still collected.
 */
let lastPoster: WeakRef<Pool> | null = null;

/**
 * n workers computing one block of tokens at a time on a shared memory: each takes a slice of
 * the output panels of the expansion, they meet at a barrier, then each takes a slice of the
 * condensation's panels. Columns are split, never the inner dimension, so every element is
 * summed exactly as on one thread.
 */
export class Pool {
  readonly size: number;
  readonly #workers: WorkerHandle[] = [];
  readonly #c: Int32Array;
  readonly #message: Uint8Array;
  #gen = 0;
  #failure: Error | null = null;
  #callerError: Error | null = null;
  #pending: { gen: number; resolve: () => void; reject: (e: Error) => void } | null = null;
  #watchdogMs = WATCHDOG_MS;
  readonly #spawn: (id: number) => void;

  constructor(
    host: ThreadHost,
    size: number,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    lay: Layout,
    epoch: number,
    activation: ActivationName = "relu",
    relaxed: WebAssembly.Module | null = null,
  ) {
    this.size = size;
    const ctrl = lay.ctrl + (epoch % CTRL_SLOTS) * CTRL_BYTES;
    this.#c = new Int32Array(memory.buffer, ctrl, 64);
    this.#message = new Uint8Array(memory.buffer, ctrl + P.MESSAGE_AT, P.MESSAGE_MAX);
    this.#c.fill(0);
    const L = { ...lay, ctrl };
    this.#spawn = (id) => {
      const w = host.spawn(WORKER_SOURCE);
      w.unref();
      w.onMessage((data) => this.#onMessage(data));
      w.onFailure((e) => this.#fail(new Error(`worker ${id} failed: ${e.message}`)));
      const seen = Atomics.load(this.#c, P.GEN);
      w.post({ module, relaxed, memory, id, n: size, L, kind: ACTIVATION_WASM[activation], seen });
      this.#workers.push(w);
    };
    // The last worker sits out every blocking call (the caller computes its share), so it starts
    // with the first awaited one (runAsync): a layer only ever called with forward() has one
    // thread fewer (a Node worker costs tens of milliseconds and megabytes to start). It reads
    // the job word posted after it started (its init names the word before).
    for (let id = 0; id < size - 1; id++) this.#spawn(id);
  }

  /** Tests only: the workers started so far (the last starts with the first runAsync). */
  get spawned(): number {
    return this.#workers.length;
  }

  /** The error that broke this pool, or null while it works. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Tests only: make worker `id` throw (`"throw"`) or end its thread (`"exit"`) on the next job. */
  injectFault(id: number, kind: "throw" | "exit" | null): void {
    this.#c[P.FAULT] = kind === null ? 0 : kind === "throw" ? id + 1 : -(id + 1);
  }

  /**
   * Tests only: make worker `id` sleep `ms` (-1: until it is ended) after it reads each job's
   * word (null: no one).
   */
  injectStall(id: number | null, ms = 50): void {
    this.#c[P.STALL_MS] = ms;
    this.#c[P.STALL] = id === null ? 0 : id + 1;
  }

  /** Tests only: the watchdog's patience, in ms (10 s otherwise). */
  setWatchdog(ms: number): void {
    this.#watchdogMs = ms;
  }

  /**
   * Tests only: barrier arrivals beyond what the jobs posted so far account for (0 when every
   * job counted exactly its participants, twice each, and none is running).
   */
  get strayArrivals(): number {
    return (Atomics.load(this.#c, P.ARRIVE) - Math.imul(2 * this.size, this.#gen)) | 0;
  }

  /** Tests only: end worker `id`'s thread now, as a crash would. */
  killWorker(id: number): void {
    this.#workers[id]?.terminate();
  }

  /**
   * Runs the job on the block in the pool's scratch, blocking this thread until it is done.
   * The caller computes too, as participant 0: `share` does its slice of each phase, with the
   * barrier between them; the last worker sits the job out, so `size`
   * threads compute in all, as in `runAsync`. `set` names the layout's set of maps (a
   * mixture's expert; 0 for a layer of one set).
   */
  runSync(rows: number, share: CallerShare, set = 0): void {
    const target = this.#post(rows, 1, set);
    let failed = false;
    try {
      share.expand(rows);
    } catch (e) {
      failed = true;
      this.#callerFailed(e);
    }
    this.#arrive();
    this.#await((target - this.size) | 0);
    if (!failed && this.#failure === null) {
      try {
        share.condense(rows);
      } catch (e) {
        this.#callerFailed(e);
      }
    }
    this.#arrive();
    this.#await(target);
    this.#check();
  }

  #arrive(): void {
    Atomics.add(this.#c, P.ARRIVE, 1);
    Atomics.notify(this.#c, P.ARRIVE);
  }

  #callerFailed(e: unknown): void {
    if (Atomics.compareExchange(this.#c, P.ERROR, 0, -1) !== 0) return;
    this.#callerError = e instanceof Error ? e : new Error(String(e));
  }

  /**
   * Blocks until ARRIVE reaches `target`: a short spin (the others are usually close), then
   * sleeps, with a watchdog for workers that stopped without a word.
   */
  #await(target: number): void {
    const c = this.#c;
    let heart = Atomics.load(c, P.HEART);
    let still = 0;
    for (let spin = 0; spin < P.SPIN; spin++) {
      if (((Atomics.load(c, P.ARRIVE) - target) | 0) >= 0) return;
    }
    for (;;) {
      const v = Atomics.load(c, P.ARRIVE);
      if (((v - target) | 0) >= 0) break;
      if (Atomics.wait(c, P.ARRIVE, v, 100) === "timed-out") {
        const h = Atomics.load(c, P.HEART);
        still = h === heart ? still + 100 : 0;
        heart = h;
        if (still >= this.#watchdogMs) {
          this.#fail(
            new Error(
              `the workers made no progress for ${this.#watchdogMs / 1000} s; one has died`,
            ),
          );
          return;
        }
      }
    }
  }

  /** Runs the job (on set `set` of the maps) on the block in the pool's scratch; resolves when done. */
  runAsync(rows: number, set = 0): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#pending = { gen: nextJob(this.#gen), resolve, reject };
    });
    let target: number;
    try {
      if (this.#failure === null && this.#workers.length < this.size) this.#spawn(this.size - 1);
      for (const w of this.#workers) w.ref();
      target = this.#post(rows, 0, set);
    } catch (e) {
      this.#pending = null;
      throw e;
    }
    // The watchdog a blocked caller keeps (see #await), on a timer: a worker that stops without
    // exiting, or a job whose end never reaches this thread, rejects the call instead of
    // leaving it pending for ever.
    const c = this.#c;
    let heart = Atomics.load(c, P.HEART);
    let still = 0;
    const watchdog = setInterval(() => {
      const h = Atomics.load(c, P.HEART);
      still = h === heart ? still + WATCH_TICK_MS : 0;
      heart = h;
      if (still < this.#watchdogMs) return;
      this.#fail(
        new Error(
          ((Atomics.load(c, P.ARRIVE) - target) | 0) >= 0
            ? "the workers finished a job whose end never reached this thread"
            : `the workers made no progress for ${this.#watchdogMs / 1000} s; one has died`,
        ),
      );
    }, WATCH_TICK_MS);
    return done.finally(() => {
      clearInterval(watchdog);
      for (const w of this.#workers) w.unref();
      this.#check();
    });
  }

  dispose(): void {
    if (this.#failure === null) this.#fail(new Error("the layer was disposed"));
  }

  /**
   * Posts a job, with worker w as participant w + shift; returns the value ARRIVE reaches when
   * it is done (see the worker's barrier).
   */
  #post(rows: number, shift: number, set: number): number {
    if (this.#failure !== null) throw this.#failure;
    const c = this.#c;
    c[P.ROWS] = rows;
    c[P.SET] = set;
    c[P.CMD] = P.RUN;
    c[P.ERROR] = 0;
    this.#callerError = null;
    // The last pool's workers first, so that they leave the cores before this pool's wake.
    const last = lastPoster?.deref();
    if (last !== this) {
      if (last !== undefined) last.#hush();
      lastPoster = new WeakRef(this);
    }
    this.#gen = nextJob(this.#gen);
    Atomics.store(c, P.GEN, (this.#gen << 1) | shift);
    Atomics.notify(c, P.GEN);
    if (shift === 0) this.#wakeLast();
    // ARRIVE counts modulo 2^32, and 2n · 2^31 is a multiple of 2^32: a job number modulo 2^31
    // gives the same targets.
    return Math.imul(2 * this.size, this.#gen);
  }

  /** Wakes the last worker, which sleeps on LAST: a job it computes, or the pool's end. */
  #wakeLast(): void {
    Atomics.add(this.#c, P.LAST, 1);
    Atomics.notify(this.#c, P.LAST);
  }

  /** Tells this pool's idle workers to sleep rather than spin: another pool has a job. */
  #hush(): void {
    Atomics.add(this.#c, P.HUSH, 1);
  }

  /**
   * Tests only: wakes every worker asleep between jobs and says how many slept on GEN and how
   * many on LAST (a woken worker finds no job and sleeps again).
   */
  wakeIdle(): { gen: number; last: number } {
    return { gen: Atomics.notify(this.#c, P.GEN), last: Atomics.notify(this.#c, P.LAST) };
  }

  /** Tests only: how many times another pool's job has hushed this one's workers. */
  get hushes(): number {
    return Atomics.load(this.#c, P.HUSH);
  }

  /**
   * Whether any worker has started (counted in shared memory, so a caller blocked since the
   * pool began still knows).
   */
  get started(): boolean {
    return Atomics.load(this.#c, P.STARTED) > 0;
  }

  #onMessage(data: unknown): void {
    const done = (data as { done?: number } | null)?.done;
    const pending = this.#pending;
    if (done !== undefined && pending !== null && done === pending.gen) {
      this.#pending = null;
      pending.resolve();
    }
  }

  /** After a job: a worker's thrown error becomes this thread's, and the pool is retired. */
  #check(): void {
    if (this.#failure !== null) throw this.#failure;
    const who = this.#c[P.ERROR] as number;
    if (who === 0) return;
    if (who === -1) {
      // The calling thread's own share failed: the workers are fine, the error is the caller's.
      throw this.#callerError as Error;
    }
    const length = this.#c[P.MESSAGE_LENGTH] as number;
    const text = new TextDecoder().decode(this.#message.slice(0, length));
    const error = new Error(`worker ${who - 1} threw: ${text}`);
    this.#fail(error);
    throw error;
  }

  /** Retires the pool: ends every worker and rejects a pending job. */
  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    const c = this.#c;
    c[P.CMD] = P.EXIT;
    Atomics.store(c, P.GEN, nextJob(this.#gen) << 1);
    Atomics.notify(c, P.GEN);
    this.#wakeLast();
    // Release any worker held at a barrier by one that is gone.
    Atomics.add(c, P.ARRIVE, 1 << 30);
    Atomics.notify(c, P.ARRIVE);
    for (const w of this.#workers) w.terminate();
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(error);
  }
}
