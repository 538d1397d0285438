import { ERF_TERMS } from "../activation";

// Where everything lives in the kernel's WebAssembly memory. All offsets are in bytes and
// 64-aligned; byte 0 is never used, so a bias offset of 0 means "no bias".

/** Columns per panel, the width of the micro-kernel's register tile. */
export const PANEL = 16;
/** Tokens per block: the x, hidden and out buffers hold this many rows. */
export const BLOCK_ROWS = 128;
const PAGE = 65536;
/** wasm32's ceiling: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;

export interface Layout {
  dModel: number;
  dHidden: number;
  /** Panels of W1 (hidden columns) and of W2 (model columns). */
  p1: number;
  p2: number;
  /** dHidden and dModel rounded up to whole panels. */
  hPad: number;
  dPad: number;
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  /**
   * A gated layer's up projection (dModel → dHidden, panels as W1's) and its bias; W1 and b1
   * are then the gate's, W2 and b2 the down projection's. 0 for a FeedForward layer.
   */
  wUp: number;
  bUp: number;
  /** erf's series coefficients (float64), for the kernel's activations (see activation.ts). */
  erf: number;
  /** Scratch of the calling thread (up: gated layers only; else 0). */
  x: number;
  hidden: number;
  up: number;
  out: number;
  /** Scratch of the worker pool, and its control block (threaded layers only; else 0). */
  poolX: number;
  poolHidden: number;
  poolUp: number;
  poolOut: number;
  ctrl: number;
  bytes: number;
  pages: number;
}

/** Bytes of a pool's control block: 64 words, then room for a worker's error message. */
export const CTRL_BYTES = 256 + 1024;
/**
 * Control blocks a threaded layer keeps. Each new pool (the first, and one after each
 * failure) takes the next, so a retired worker that has not yet ended reads only its own
 * block, which says EXIT, and never a newer pool's.
 */
export const CTRL_SLOTS = 8;

/** Panels of the maps dModel → dHidden (p1) and dHidden → dModel (p2), and the padded widths. */
export function panels(dModel: number, dHidden: number) {
  const p1 = Math.ceil(dHidden / PANEL);
  const p2 = Math.ceil(dModel / PANEL);
  return { p1, p2, hPad: p1 * PANEL, dPad: p2 * PANEL };
}

/**
 * Hands out 64-aligned byte regions of a kernel's memory one after another, from byte 64 (byte
 * 0 stays unused, so an offset of 0 can mean "none"); `end()` is the bytes and pages used.
 */
export function regions() {
  let at = 64;
  return {
    take(bytes: number): number {
      const start = at;
      at += Math.ceil(bytes / 64) * 64;
      return start;
    },
    end: () => ({ bytes: at, pages: Math.ceil(at / PAGE) }),
  };
}

/**
 * A layer's regions: FeedForward's (W1, b1, W2, b2), or with `gated` a GatedFeedForward's
 * (gate as W1, up, down as W2); with `threaded` the pool's scratch and control blocks too.
 */
export function layout(
  dModel: number,
  dHidden: number,
  hasBias: boolean,
  threaded = false,
  gated = false,
): Layout {
  const { p1, p2, hPad, dPad } = panels(dModel, dHidden);
  const { take, end } = regions();
  const w1 = take(p1 * dModel * PANEL * 4);
  const b1 = hasBias ? take(hPad * 4) : 0;
  const wUp = gated ? take(p1 * dModel * PANEL * 4) : 0;
  const bUp = gated && hasBias ? take(hPad * 4) : 0;
  const w2 = take(p2 * dHidden * PANEL * 4);
  const b2 = hasBias ? take(dPad * 4) : 0;
  const erf = take(ERF_TERMS * 8);
  const x = take(BLOCK_ROWS * dModel * 4);
  const hidden = take(BLOCK_ROWS * hPad * 4);
  const up = gated ? take(BLOCK_ROWS * hPad * 4) : 0;
  const out = take(BLOCK_ROWS * dPad * 4);
  const poolX = threaded ? take(BLOCK_ROWS * dModel * 4) : 0;
  const poolHidden = threaded ? take(BLOCK_ROWS * hPad * 4) : 0;
  const poolUp = threaded && gated ? take(BLOCK_ROWS * hPad * 4) : 0;
  const poolOut = threaded ? take(BLOCK_ROWS * dPad * 4) : 0;
  const ctrl = threaded ? take(CTRL_BYTES * CTRL_SLOTS) : 0;
  return {
    dModel,
    dHidden,
    p1,
    p2,
    hPad,
    dPad,
    w1,
    b1,
    w2,
    b2,
    wUp,
    bUp,
    erf,
    x,
    hidden,
    up,
    out,
    poolX,
    poolHidden,
    poolUp,
    poolOut,
    ctrl,
    ...end(),
  };
}
