// The one interface every FeedForward kernel implements. A kernel owns the layer's weights in
// whatever packed layout it computes from; the layer above it checks every argument first.

/** The kernels tokenwise has. */
export type KernelName = "js" | "wasm";

/** The layer's parameters in tokenwise's layout: w1 is (dModel, dHidden), w2 is (dHidden, dModel). */
export interface RawWeights {
  w1: Float32Array;
  b1: Float32Array | null;
  w2: Float32Array;
  b2: Float32Array | null;
}

export interface FeedForwardKernel {
  readonly name: KernelName;
  /**
   * out rows = relu(x rows · W1 + b1) · W2 + b2.
   * x holds `rows` tokens of dModel from xOff, out receives `rows` tokens of dModel from outOff.
   * Trusts its arguments: sizes fit and out does not overlap x.
   */
  forward(x: Float32Array, xOff: number, rows: number, out: Float32Array, outOff: number): void;
  /** As forward, without blocking the calling thread (kernels with threads have it). */
  forwardAsync?(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
  ): Promise<void>;
  /** A fresh copy of the weights, unpacked to tokenwise's layout. */
  unpack(): RawWeights;
  /** Frees what the kernel holds outside the JS heap. */
  dispose(): void;
}
