// The one interface every kernel implements, for every layer. A layer is described to a kernel
// by its shape (LayerShape): one or two maps into the hidden width, combined as act(m0) or
// act(m0) · m1, then one map back. A kernel owns the weights in whatever packed layout it
// computes from; the layer above it checks every argument first.
import type { WeightDtype } from "../dtype";
import type { ActivationName } from "./activation";

/** The kernels tokenwise has. */
export type KernelName = "js" | "wasm" | "webgpu";

/**
 * What a kernel computes, for a layer of maps m_0 .. m_expand (each x · W + b, biases all
 * present or all absent): m_0 .. m_{expand-1} take dModel to dHidden, and
 * hidden = act(m_0) · m_1 · ... (one float32 product per extra map); the last map takes hidden
 * back to dModel. FeedForward has expand = 1, GatedFeedForward expand = 2 (gate, up). The
 * weight matrices are kept as `dtype` (biases are float32): a 16-bit kernel widens each weight
 * to float32 (exact) and computes as the float32 kernel does on the widened weights; a
 * quantized one computes as llama.cpp's CPU path does (quant.ts), dModel and dHidden then
 * being multiples of 32.
 */
export interface LayerShape {
  readonly dModel: number;
  readonly dHidden: number;
  readonly expand: number;
  readonly hasBias: boolean;
  readonly activation: ActivationName;
  readonly dtype: WeightDtype;
  /**
   * Whether the last map may skip the hidden units that are zero (relu layers; see
   * docs/numerics.md, "Sparse hidden values"); true when absent. The same bits either way:
   * false is for measuring what the skip saves.
   */
  readonly sparse?: boolean;
}

/** Whether a kernel skips zero hidden units for a shape: relu layers, unless turned off. */
export function skipsZeros(shape: LayerShape): boolean {
  return shape.activation === "relu" && shape.sparse !== false;
}

/** What a forward call counts for its caller: hidden values that were zero (+0 or -0). */
export interface HiddenCount {
  zeros: number;
}

/** One map's parameters in tokenwise's layout: w is (in, out) row-major, b has `out` values. */
export interface MapTensors {
  w: Float32Array;
  b: Float32Array | null;
}

/**
 * One map's parameters as a kernel keeps them: w is float32, or the bits of 16-bit values of
 * the shape's dtype, in tokenwise's (in, out) layout; or, for a quantized dtype, ggml blocks
 * (out rows of in / 32 blocks, see quant.ts).
 */
export interface StoredTensors {
  w: Float32Array | Uint16Array | Uint8Array;
  b: Float32Array | null;
}

/** Rows: (in, out) of map i of a shape. */
export function mapDims(shape: LayerShape, i: number): { rows: number; cols: number } {
  return i < shape.expand
    ? { rows: shape.dModel, cols: shape.dHidden }
    : { rows: shape.dHidden, cols: shape.dModel };
}

/**
 * A layer's kernel. Every kernel has `forwardAsync`; those that can compute without waiting
 * for anything (on the calling thread, or blocking it on threads) also have `forward`.
 */
export interface Kernel {
  readonly name: KernelName;
  /**
   * out rows = the layer of x rows: x holds `rows` tokens of dModel from xOff, out receives
   * `rows` tokens of dModel from outOff. Trusts its arguments: sizes fit and out does not
   * overlap x. With `count`, adds the number of zero hidden values (dHidden a token) to it.
   */
  forward?(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): void;
  /** As forward, without blocking the calling thread. A rejected call writes nothing to out. */
  forwardAsync(
    x: Float32Array,
    xOff: number,
    rows: number,
    out: Float32Array,
    outOff: number,
    count?: HiddenCount,
  ): Promise<void>;
  /**
   * A fresh copy of each map's weights as kept (float32, or the 16-bit values' bits), unpacked
   * to tokenwise's layout, in map order.
   */
  unpack(): StoredTensors[];
  /** Threads computing: the number asked for, or 1 once the threads turned out unable to run. */
  readonly threadsInUse: number;
  /** Why the kernel runs on one thread after all, or null. */
  readonly unavailable: string | null;
  /**
   * Present on a kernel whose setup completes asynchronously (the webgpu kernel's uploads):
   * resolves once it is ready, or rejects (and frees what it holds) with an error naming `where`.
   */
  ready?(where: string): Promise<void>;
  /** Frees what the kernel holds outside the JS heap (its memory, its threads, its GPU buffers). */
  dispose(): void;
}
