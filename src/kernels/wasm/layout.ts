import { type WeightDtype, dtypeBytes, isQuant } from "../../dtype";
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

/**
 * How the kernel reads a map's weights (gemm.wat's `{{DT_name}}`): float32 as they are, bf16,
 * f16 with any values, or f16 kept scaled by 2^10 (`f16s`: a map whose weights are all finite
 * and below 64 in magnitude, chosen once they are packed, so that no widened weight is a
 * float32 subnormal: see gemm.wat and {@link F16S_SHIFT}).
 */
export const WEIGHT_CODE = { f32: 0, bf16: 1, f16: 2, f16s: 3, q8_0: 4, q4_0: 5 } as const;

/** The codes as gemm.wat names them, for scripts/build-wasm.mjs. */
export const WASM_DTYPE_CONSTANTS: Record<string, number> = {
  DT_bf16: WEIGHT_CODE.bf16,
  DT_f16: WEIGHT_CODE.f16,
  DT_f16s: WEIGHT_CODE.f16s,
  DT_q8_0: WEIGHT_CODE.q8_0,
};

/**
 * Bytes of one row of a block of Q8_0 activations in a thread's scratch (gemm.wat's qrows): K
 * quants as 16-bit integers, then two 32-bit values a block of 32 (its scale times 2^112 as a
 * float32 value, and 8 times its quants' sum as an i32).
 */
export function quantRowBytes(K: number): number {
  return 2 * K + K / 4;
}

/** An f16s map keeps each weight w as the f16 of w · 2^F16S_SHIFT (exact: see fitsF16s). */
export const F16S_SHIFT = 10;

/**
 * Bytes the kernel's 16-bit loops read past a stream (a word this far ahead, dropped: see
 * gemm.wat's `offset=8192`); a layout keeps more than this after its last weights.
 */
export const READ_AHEAD = 8192;

/**
 * Where column c (0..15) of a panel sits in a 16-bit panel's row: the 32-bit lane i of its first
 * 16 bytes holds columns i (low half) and 4 + i (high half), of the next 16 bytes 8 + i and
 * 12 + i, so the kernel widens a lane's halves with a shift and a mask into columns in order
 * (gemm.wat). Float32 panels keep columns in order.
 */
export function slotOf(c: number): number {
  return (c & 8) | ((c & 3) << 1) | ((c >> 2) & 1);
}

/** slotOf for every column of a panel. */
export const SLOTS16: readonly number[] = Array.from({ length: PANEL }, (_, c) => slotOf(c));

/** One linear map's weights in the memory: K rows packed into panels of PANEL columns. */
export interface MapRegion {
  /** Byte offset of the packed weights, and of the bias (0: none). */
  w: number;
  b: number;
  /** Its inner dimension and its panels. */
  K: number;
  panels: number;
  /**
   * Bytes of one weight element (4: float32; 2: bf16 and f16; a quantized type's block bytes
   * over its 32 weights, 34/32 and 18/32).
   */
  elem: number;
  /** How the kernel reads the weights: a {@link WEIGHT_CODE}. */
  code: number;
  /**
   * Whether the kernel may leave out the rows of these weights whose inputs are zero for every
   * token of a tile (the last map of a layout with `lists`, when every weight is finite: see
   * docs/numerics.md, "Sparse hidden values"). Set when the weights are packed.
   */
  skip: boolean;
  /**
   * A quantized map some block scale of which is an infinity or a NaN: qgemm converts its scales
   * the slower way that keeps those (code bit 16). Set when the weights are packed.
   */
  nonFiniteScales?: boolean;
  /**
   * Whether the weights are laid out by row rather than in panels: the panels go in
   * {@link rowGroups} groups of {@link groupPanels} (the last one padded with zeros), each group
   * one after the other, K rows of {@link rowBytes} (a row may end in a line of zeros): panel
   * p = g · groupPanels + i of row k at w + g · {@link groupBytes} + k · rowBytes + PANEL ·
   * elem · i (each 16 columns as a panel's row holds them). The last map of a float32 layout
   * that skips zero hidden values is, so that a left-out row is a run of bytes in each group
   * never touched (see gemm.wat's `gemvhalves`).
   * 16-bit maps stay in panels: their one-token tile reads four panels at once, and four 16-bit
   * rows a block, widened in registers, ran at 0.45x its speed (768 x 3072, bf16, from memory).
   */
  byRow: boolean;
  /**
   * A quantized map packed for relaxed.wat's rgemm (relaxed.ts) instead of gemm.wat's qgemm:
   * where the engine has relaxed SIMD. Set when the weights are packed.
   */
  relaxed?: boolean;
}

export interface Layout {
  dModel: number;
  dHidden: number;
  /** Maps into the hidden width (1: FeedForward; 2: a gated layer's gate and up). */
  expand: number;
  /** Panels of the maps into dHidden (p1) and of the last map, into dModel (p2). */
  p1: number;
  p2: number;
  /** dHidden and dModel rounded up to whole panels. */
  hPad: number;
  dPad: number;
  /** The maps, in the layer's order: `expand` maps dModel → dHidden, then dHidden → dModel. */
  maps: MapRegion[];
  /** erf's series coefficients (float64), for the kernel's activations (see activation.ts). */
  erf: number;
  /**
   * Float32 panels (one panel of the largest K each) that 16-bit weights are widened into for a
   * batch, or a quantized layer's Q8_0 activations (BLOCK_ROWS rows of quantRowBytes of the
   * largest K): the calling thread's, then one per worker (by id). Empty for float32 weights
   * unless a map is laid out by row (a batch copies its panels into these).
   */
  widen: number[];
  /**
   * For a layout that skips zero hidden values: one region a thread (the calling thread's, then
   * one per worker by id) for the lists of hidden units that are not zero in each pair of rows
   * of a block ({@link LIST_SLOTS} lists of dHidden i32). Empty otherwise.
   */
  lists: number[];
  /** Scratch of the calling thread: x, one hidden block per expanding map, out. */
  x: number;
  hidden: number[];
  out: number;
  /** Scratch of the worker pool, and its control blocks (threaded layers only; else 0, []). */
  poolX: number;
  poolHidden: number[];
  poolOut: number;
  ctrl: number;
  bytes: number;
  pages: number;
}

/**
 * Lists a thread keeps for a block: one a pair of rows (an odd last row takes one too), and
 * one more for the units that are not zero in any row of it (the rows a batch copies).
 */
export const LIST_SLOTS = BLOCK_ROWS / 2 + 1;

/**
 * Bytes of float32 panels a batch whose lists are short copies at once from a map laid out by
 * row (one panel at the least): each row's run of them is read in one piece, and the copy stays
 * in a core's L2 cache while every pair of rows reads it. 32 tokens of 768 x 3072 with half the
 * hidden units off ran 1.08x to 1.09x the layer with `sparse: false` copying 512 KiB at a time
 * (two panels), 1.03x to 1.04x at 2 MiB, 1.05x to 1.06x at 256 KiB (runs of bench S2 in turn).
 */
export const ROW_SPAN = 1 << 19;

/** Panels of inner dimension K that a batch copies at once from a map of `panels` laid out by row. */
export function rowPanels(K: number, panels: number): number {
  return Math.min(panels, Math.max(1, Math.floor(ROW_SPAN / panelBytes(K))));
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
 * Groups of panels a map laid out by row keeps: two (for a map of two panels or more), so that
 * one token reading every row streams from two places far apart, as gemm does from two panels
 * (one run of whole rows read about 0.8x as fast from main memory: gemm.wat, `gemvhalves`).
 */
export function rowGroups(m: Pick<MapRegion, "panels" | "elem">): number {
  return m.panels >= 2 ? 2 : 1;
}

/** Panels in each group of a map laid out by row (the last group may hold fewer, padded). */
export function groupPanels(m: Pick<MapRegion, "panels" | "elem">): number {
  return Math.ceil(m.panels / rowGroups(m));
}

/**
 * Bytes between rows k and k + 1 of a group of a map laid out by row: its panels' rows, and one
 * line (64 bytes, zeros) more when those are a multiple of 1 KiB. A batch's tiles (gemm.wat's
 * gemmrows) read 64 rows of one panel, lds bytes apart, while every pair of tokens goes by;
 * at a multiple of 1 KiB those rows fall in at most four of L1's 64 sets and push each other
 * out. On 1024 x 4096 (dModel 4096, 32 tokens, from L3) the padded rows took 1.13x gemm's time
 * on panels, unpadded 1.26x to 1.32x; the pad costs 1 / (rowBytes / 64) of the map's memory,
 * 1/17 at the most (dModel 512).
 */
export function rowBytes(m: Pick<MapRegion, "panels" | "elem">): number {
  const bytes = groupPanels(m) * PANEL * m.elem;
  return bytes % 1024 === 0 ? bytes + 64 : bytes;
}

/** Bytes between the groups of a map laid out by row: K rows of {@link rowBytes}. */
export function groupBytes(m: Pick<MapRegion, "panels" | "elem" | "K">): number {
  return m.K * rowBytes(m);
}

/**
 * Elements a map's weights take in the layout: K · PANEL a panel, and for a map laid out by row
 * its groups' padding (a last group's panels, each row's line) too.
 */
export function mapElements(m: Pick<MapRegion, "panels" | "elem" | "K" | "byRow">): number {
  if (m.byRow) return (rowGroups(m) * groupBytes(m)) / m.elem;
  return m.K * m.panels * PANEL;
}

/** Bytes of one panel of a map with inner dimension K: K rows of PANEL elements. */
export function panelBytes(K: number, elem = 4): number {
  return K * PANEL * elem;
}

/**
 * Where participant p of n starts in a map of `panels` panels: it takes panels
 * [shareStart(p), shareStart(p + 1)), output columns, never the inner dimension, so every
 * element is summed as on one thread. The calling thread and every worker find their share
 * with this one function (which returns a number, so a job allocates nothing).
 */
export function shareStart(panels: number, p: number, n: number): number {
  return Math.floor((panels * p) / n);
}

/**
 * One layer's maps, taken in order from `take`: `expand` maps dModel → dHidden, then one
 * dHidden → dModel, each its weights (of `dtype`) in panels, then its bias if `hasBias`. With
 * `byRow`, the last map's weights are laid out by row (float32 only; see
 * {@link MapRegion.byRow}).
 */
export function mapRegions(
  take: (bytes: number) => number,
  dModel: number,
  dHidden: number,
  expand: number,
  hasBias: boolean,
  dtype: WeightDtype,
  byRow = false,
): MapRegion[] {
  const { p1, p2, hPad, dPad } = panels(dModel, dHidden);
  const maps: MapRegion[] = [];
  const elem = dtypeBytes(dtype);
  for (let i = 0; i <= expand; i++) {
    const [K, n, pad] = i < expand ? [dModel, p1, hPad] : [dHidden, p2, dPad];
    const rowwise = byRow && i === expand && dtype === "f32";
    const w = take(mapElements({ K, panels: n, elem, byRow: rowwise }) * elem);
    const b = hasBias ? take(pad * 4) : 0;
    maps.push({ w, b, K, panels: n, elem, code: WEIGHT_CODE[dtype], skip: false, byRow: rowwise });
  }
  return maps;
}

/**
 * Scratch panels a thread needs: none for float32 weights in panels only, else the calling
 * thread's and, with `threaded`, one per worker; each of {@link scratchBytes}. A batch copies
 * each panel of a map laid out by row (`byRow`) into one first.
 */
export function widenPanels(
  dtype: WeightDtype,
  threaded: boolean,
  threads: number,
  byRow = false,
): number {
  return dtype === "f32" && !byRow ? 0 : threaded ? 1 + threads : 1;
}

/**
 * Bytes of one thread's scratch for maps of inner dimension up to K: a float32 panel that
 * 16-bit weights are widened into, or a quantized layer's block of input rows as Q8_0
 * (quantRowBytes each).
 */
export function scratchBytes(dtype: WeightDtype, K: number): number {
  return isQuant(dtype) ? BLOCK_ROWS * quantRowBytes(K) : panelBytes(K);
}

/**
 * A layer's regions: its maps' weights (of `dtype`) and biases in order, the activations'
 * table, the widening panels of 16-bit weights (and of a map laid out by row), with `sparse`
 * the last map laid out by row and the lists of nonzero hidden units, the calling thread's scratch, and with `threaded` (`threads` workers) the pool's
 * scratch and control blocks.
 */
export function layout(
  dModel: number,
  dHidden: number,
  expand: number,
  hasBias: boolean,
  threaded = false,
  dtype: WeightDtype = "f32",
  threads = 1,
  sparse = false,
): Layout {
  const { p1, p2, hPad, dPad } = panels(dModel, dHidden);
  const { take, end } = regions();
  const maps = mapRegions(take, dModel, dHidden, expand, hasBias, dtype, sparse);
  const erf = take(ERF_TERMS * 8);
  const blocks = (n: number, bytes: number) => Array.from({ length: n }, () => take(bytes));
  // The 16-bit loops read up to READ_AHEAD bytes past the weights: the erf table, the x block
  // and the hidden blocks (BLOCK_ROWS x 16 floats, 8 KiB, at the least) come after them.
  const byRow = sparse && dtype === "f32";
  const widen = blocks(
    widenPanels(dtype, threaded, threads, byRow),
    Math.max(
      scratchBytes(dtype, Math.max(dModel, dHidden)),
      byRow ? rowPanels(dHidden, p2) * panelBytes(dHidden) : 0,
    ),
  );
  const listRegions = sparse ? (threaded ? 1 + threads : 1) : 0;
  const lists = blocks(listRegions, LIST_SLOTS * dHidden * 4);
  const x = take(BLOCK_ROWS * dModel * 4);
  const hidden = blocks(expand, BLOCK_ROWS * hPad * 4);
  const out = take(BLOCK_ROWS * dPad * 4);
  const poolX = threaded ? take(BLOCK_ROWS * dModel * 4) : 0;
  const poolHidden = blocks(threaded ? expand : 0, BLOCK_ROWS * hPad * 4);
  const poolOut = threaded ? take(BLOCK_ROWS * dPad * 4) : 0;
  const ctrl = threaded ? take(CTRL_BYTES * CTRL_SLOTS) : 0;
  const used = end();
  return {
    dModel,
    dHidden,
    expand,
    p1,
    p2,
    hPad,
    dPad,
    maps,
    erf,
    widen,
    lists,
    x,
    hidden,
    out,
    poolX,
    poolHidden,
    poolOut,
    ctrl,
    ...used,
  };
}
