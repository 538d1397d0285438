// Runs a contender's forward function: once for the check, then in timed batches. The same code
// times an in-process contender and, inside a host process, an isolated one.
import { type Instance, chain } from "./contender";

/** One timed repetition. */
export interface RepTiming {
  /** (end − start) / calls, ms. */
  msPerCall: number;
  /** Each call's time, ms, in order. */
  callsMs: number[];
}

/** A contender ready to run, here or in a child process. */
export interface Runner {
  /** One call, returning its output for the check (the first call also warms up). */
  first(): Promise<{ output: unknown; ms: number }>;
  /**
   * Each layer's instance alone on the input, returning copies of the outputs (a shape of
   * several layers is checked layer by layer).
   */
  each(): Promise<unknown[]>;
  /**
   * `calls` calls back to back; returns milliseconds per call over the whole repetition, and each
   * call's own time. GC and beforeRep run untimed first.
   */
  time(calls: number): Promise<RepTiming>;
  dispose(): Promise<void>;
}

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}

const gc = (globalThis as { gc?: () => void }).gc;

export class LocalRunner implements Runner {
  readonly #layers: readonly Instance[];
  readonly #instance: Instance;
  readonly #x: Float32Array;

  /** The layers' instances, run in turn on x. */
  constructor(layers: readonly Instance[], x: Float32Array) {
    this.#layers = layers;
    this.#instance = chain(layers);
    this.#x = x;
  }

  async each(): Promise<unknown[]> {
    const outputs: unknown[] = [];
    for (const layer of this.#layers) {
      await layer.beforeRep?.();
      const y: unknown = await layer.forward(this.#x);
      outputs.push(y instanceof Float32Array ? y.slice() : y);
    }
    return outputs;
  }

  async first(): Promise<{ output: unknown; ms: number }> {
    await this.#instance.beforeRep?.();
    const start = performance.now();
    let output: unknown = this.#instance.forward(this.#x);
    if (isPromise(output)) output = await output;
    return { output, ms: performance.now() - start };
  }

  async time(calls: number): Promise<RepTiming> {
    gc?.();
    await this.#instance.beforeRep?.();
    const forward = this.#instance.forward;
    const x = this.#x;
    const marks = new Float64Array(calls + 1);
    marks[0] = performance.now();
    for (let i = 0; i < calls; i++) {
      const r = forward(x);
      if (isPromise(r)) await r;
      marks[i + 1] = performance.now();
    }
    const callsMs: number[] = new Array(calls);
    for (let i = 0; i < calls; i++) callsMs[i] = (marks[i + 1] as number) - (marks[i] as number);
    return { msPerCall: ((marks[calls] as number) - (marks[0] as number)) / calls, callsMs };
  }

  async dispose(): Promise<void> {
    await this.#instance.dispose?.();
  }
}
