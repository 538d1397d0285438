// A mixture of experts' kernel: several gated layers (the routed experts, then a shared one)
// behind one object, each run alone on a group of tokens. The experts share one set of
// scratch buffers, and on threads one pool (src/kernels/wasm/experts.ts); the router and the
// combination are the layer's (src/layers/moe.ts).
import { JsKernel, jsKernelBytes } from "./js";
import type { KernelName, LayerShape, StoredTensors } from "./kernel";
import type { WeightSource } from "./source";

/**
 * Expert e of a mixture, computed by any kernel. Each expert is a layer shape (a gated one:
 * expand = 2); its rows are independent, so running an expert on a group of tokens gives each
 * token the bits it would get alone.
 */
export interface ExpertsKernel {
  readonly name: KernelName;
  /** Experts held (the routed ones, then the shared one if any). */
  readonly count: number;
  /**
   * out rows = expert e of x rows: x holds `rows` tokens of dModel from 0, out receives `rows`
   * tokens of dModel from 0. Trusts its arguments. Absent on a kernel that only computes
   * asynchronously (webgpu).
   */
  run?(e: number, x: Float32Array, rows: number, out: Float32Array): void;
  /** As run, without blocking the calling thread. */
  runAsync(e: number, x: Float32Array, rows: number, out: Float32Array): Promise<void>;
  /**
   * Several experts in one go, without blocking (a kernel that gains by it: webgpu, one
   * submission and one read back): step i runs expert experts[i] on rows[i] tokens, x holding
   * the steps' tokens one group after another from row 0, out receiving their outputs in the
   * same rows. Each expert appears at most once.
   */
  runMany?(
    experts: Int32Array,
    rows: Int32Array,
    steps: number,
    x: Float32Array,
    out: Float32Array,
  ): Promise<void>;
  /**
   * A fresh copy of expert e's maps in tokenwise's layout, as stored: float32, or a 16-bit
   * mixture's weights as their bits.
   */
  unpack(e: number): StoredTensors[];
  /**
   * Present on a kernel whose setup completes asynchronously (webgpu's uploads): resolves once
   * it is ready, or rejects (and frees what it holds) with an error naming `where`.
   */
  ready?(where: string): Promise<void>;
  readonly threadsInUse: number;
  readonly unavailable: string | null;
  dispose(): void;
}

/** The experts on the plain JavaScript kernel: one JsKernel each (no threads, no pools). */
export class JsExperts implements ExpertsKernel {
  readonly name = "js" as const;
  readonly threadsInUse = 1;
  readonly unavailable = null;
  readonly #kernels: JsKernel[];

  /** Each source is read in full, in order, as the experts are built. */
  constructor(shapes: readonly LayerShape[], sources: readonly WeightSource[]) {
    this.#kernels = shapes.map((s, e) => new JsKernel(s, sources[e] as WeightSource));
  }

  get count(): number {
    return this.#kernels.length;
  }

  run(e: number, x: Float32Array, rows: number, out: Float32Array): void {
    (this.#kernels[e] as JsKernel).forward(x, 0, rows, out, 0);
  }

  runAsync(e: number, x: Float32Array, rows: number, out: Float32Array): Promise<void> {
    this.run(e, x, rows, out);
    return Promise.resolve();
  }

  unpack(e: number): StoredTensors[] {
    return (this.#kernels[e] as JsKernel).unpack();
  }

  dispose(): void {}
}

/** Bytes the js experts allocate: every expert's packed weights and scratch. */
export function jsExpertsBytes(shapes: readonly LayerShape[]): number {
  return shapes.reduce((n, s) => n + jsKernelBytes(s), 0);
}
