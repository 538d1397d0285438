// The wasm kernels' building blocks, on the calling thread and in the workers alike: the two
// halves of a layer over a range of panels (expandPanels, condensePanels), and the copies in
// and out of the kernel's memory. A worker computing its share runs these very functions, so
// every element gets the same operations whoever computes it.
import {
  type Layout,
  LIST_SLOTS,
  MAX_PAGES,
  type MapRegion,
  PANEL,
  WEIGHT_CODE,
  panelBytes,
  groupBytes,
  groupPanels,
  quantRowBytes,
  rowBytes,
  rowPanels,
} from "./layout";
import type { RelaxedExports } from "./relaxed";

export interface GemmExports {
  gemm(
    x: number,
    lda: number,
    rows: number,
    K: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    relu: number,
    pair: number,
    out: number,
    ldo: number,
  ): void;
  /**
   * gemm's sums for one token (x plain, K floats) over panels p0 .. p1-1, bias and relu as
   * gemm's, out plain: the 1 x 32 tile over panels (p1 - p0) / 2 apart, then a last odd panel
   * alone. The same bits as gemm.
   */
  gemvsplit(
    x: number,
    K: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    relu: number,
    out: number,
  ): void;
  /** The `count` float32 values from byte `at` through activation `kind`, in place. */
  act(at: number, count: number, kind: number, erf: number): void;
  /** K rows of a 16-bit panel (weight code `code`) at `src`, widened into a float32 panel at `dst`. */
  widen(src: number, dst: number, K: number, code: number): void;
  /**
   * gemm for one token (x plain) on 16-bit panels, widened in registers (xs: K floats of
   * scratch); 0 when it declined (an f16s map and a token it cannot scale), having written
   * nothing, else 1.
   */
  gemv16(
    x: number,
    K: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    relu: number,
    out: number,
    code: number,
    xs: number,
  ): number;
  /**
   * `rows` rows of K floats at x (gemm's pair layout) quantized to Q8_0 into qgemm's rows at xq,
   * as quantizeActivations (src/kernels/quant.ts) does them, bit for bit.
   */
  qrows(x: number, lda: number, rows: number, K: number, xq: number): void;
  /**
   * gemm for a quantized map (code q8_0 or q4_0, plus 16 when some block scale is not finite) on
   * rows of Q8_0 activations at xq (ldq bytes apart, see quant-panels.ts), in llama.cpp's order
   * of operations (src/kernels/quant.ts).
   */
  qgemm(
    xq: number,
    ldq: number,
    rows: number,
    K: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    relu: number,
    pair: number,
    out: number,
    ldo: number,
    code: number,
  ): void;
  /**
   * Writes the k in [0, K), increasing, where the hidden row at h (pair 0: plain) or either row
   * of the pair at h (pair 1: interleaved) is not ±0, as i32 from idx; returns how many. One row
   * with none of them ±0 returns K and writes nothing (a list is read only when shorter than K).
   */
  gather(h: number, K: number, pair: number, idx: number): number;
  /**
   * gemm's sums (no relu) for one row (pair 0) or pair of rows (pair 1) of x, over the n values
   * of k listed at idx only; out plain rows (the second at out + ldo).
   */
  gemmsparse(
    x: number,
    pair: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    out: number,
    ldo: number,
    idx: number,
    n: number,
  ): void;
  /**
   * gemm's sums (no relu) for one token (x plain) on float32 weights laid out by row in two
   * groups: segment a is na panels of output from oa (bias from ba, or 0 for none), row k of
   * their weights at wa + k * lds, and likewise segment b; over the n values of k listed at idx,
   * or k = 0 .. n-1 when idx is 0; a row at a time, or with `eight` in blocks of eight rows.
   */
  gemvhalves(
    x: number,
    wa: number,
    wb: number,
    lds: number,
    oa: number,
    ob: number,
    na: number,
    nb: number,
    ba: number,
    bb: number,
    idx: number,
    n: number,
    eight: number,
  ): void;
  /**
   * gemmsparse for one token on 16-bit panels (weight code `code`), widening each listed row in
   * registers as `widen` does.
   */
  gemv16sparse(
    x: number,
    w: number,
    ldw: number,
    p0: number,
    p1: number,
    bias: number,
    out: number,
    code: number,
    idx: number,
    n: number,
  ): void;
  /**
   * `count` panels of float32 weights laid out by row (from src, rows lds bytes apart) into
   * panels from dst, ldf bytes apart: the n rows listed at idx, or rows 0 .. n-1 when idx is 0.
   */
  panelrows(
    src: number,
    lds: number,
    dst: number,
    ldf: number,
    count: number,
    idx: number,
    n: number,
  ): void;
  /** gather for a block of `rows` rows in the pair layout: the k not ±0 in any of them. */
  gatherany(h: number, lda: number, rows: number, K: number, idx: number): number;
  /**
   * gemm's sums (no relu, plain output) for a batch on float32 weights laid out by row, read
   * where they are: panel p of row k at w + 64p + k * lds, for panels p0 .. p1-1 of one group.
   */
  gemmrows(
    x: number,
    lda: number,
    rows: number,
    K: number,
    w: number,
    lds: number,
    p0: number,
    p1: number,
    bias: number,
    out: number,
    ldo: number,
  ): void;
}

/** The kernel's activation export. */
export type Act = GemmExports["act"];

/**
 * out = act(x · W + b) for map m's panels p0 .. p1-1. Addresses in bytes: x holds rows of lda
 * bytes in pairs (see {@link copyPairsIn}), out has rows of ldo bytes, written in the same pairs
 * when `pair` (to be the next map's x) or plain.
 */
export type Linear = (
  m: MapRegion,
  x: number,
  lda: number,
  rows: number,
  p0: number,
  p1: number,
  relu: boolean,
  out: number,
  ldo: number,
  pair: boolean,
) => void;

const nothing = () => {};

/**
 * More panels than any map has (a wasm32 memory holds under 2^22 panels), and small enough that
 * p + ALL_PANELS stays a small integer: a loop counter that became a float (Infinity, say) would
 * be allocated on every call.
 */
const ALL_PANELS = 1 << 24;

/**
 * A batch's pair of rows whose list holds at least this share of the hidden units runs gemm on
 * the copied panels: reading a list and skipping a few rows saves less than it costs (the same
 * bits either way). One token has its own thresholds ({@link TOKEN_SHARE}, {@link ROWS_LIST}).
 */
const DENSE_SHARE = 7 / 8;

/**
 * One token (rows = 1) reads its list only when it holds fewer than this share of the hidden
 * units (float32 weights), or {@link TOKEN_SHARE_16} (16-bit weights); else gemm, or gemv16.
 * From main memory the dense one-token tiles stream whole panels, which the hardware prefetches,
 * while a list reads rows here and there: one token through 12 relu layers of 768 x 3072 in turn
 * (weights from memory) with exactly z of the hidden units zero ran, skipping against not
 * skipping, at z = 0.5, 0.7, 0.8, 0.9: float32 0.84x, 0.98x, 1.27x, 1.86x; bf16 (against the
 * 1 x 64 tile) 0.76x, 0.79x, 0.87x, 1.32x; f16 0.84x, 0.77x, 0.79x, 1.16x (one run each on a
 * shared machine, CPU time). The same bits either way.
 */
const TOKEN_SHARE = 1 / 4;
/** {@link TOKEN_SHARE} for 16-bit weights. */
const TOKEN_SHARE_16 = 1 / 8;

/**
 * Bytes of weights a batch's sparse tiles go over before the next panels (one panel at the
 * least): about what stays in a core's L2 cache while every pair of rows reads it.
 */
const SPARSE_SPAN = 1 << 18;

/**
 * A batch of at most this many rows whose pairs all read every row of a map laid out by row
 * reads the rows where they are (gemmrows); a larger one copies its panels out of the rows
 * and runs gemm on the copies, whose cost more pairs share. Runs of bench --sparsity 0, one
 * thread, against the layer with `sparse: false`: 32 tokens of 768 x 3072 0.91x to 0.96x in
 * place, 0.88x copying; 64 of 4096 x 11008 0.97x to 1.04x and 0.92x to 0.98x; 128 of 768 x 3072
 * and 512 of 512 x 2048 0.94x to 0.96x in place, 0.95x to 0.98x copying (docs/numerics.md,
 * "Sparse hidden values"). The same bits either way.
 */
const ROWS_IN_PLACE = 64;

/**
 * One token reads its list of a map laid out by row only when the list holds fewer than this
 * share of the rows: then group after group, eight listed rows a tile (gemvhalves' `eight`).
 * A longer list reads every row (the dense path: both groups in turn, a row at a time). Where
 * listed rows pay depends on the machine's prefetchers. Kernels alone (bench:row-skip, one
 * thread, 768 x 3072 from main memory; time over gemm on panels): on an AMD EPYC (Zen 5) every
 * row took 1.26, the listed rows of 1/2, 3/10 and 1/10 of them 2.0, 1.2 and 0.35 with both
 * groups in turn, 1.6, 0.91 and 0.26 group after group; on an Intel Xeon (Sapphire Rapids)
 * half the rows listed were already faster than every row. At 1/3 the list is no slower on
 * either, so a layer at moderate sparsity is never much slower than at none. Same bits either
 * way.
 */
export const ROWS_LIST = 1 / 3;

/**
 * A {@link Linear} on an instance's exports, for one thread. Float32 weights go to gemm as they
 * are. 16-bit weights: one token reads them directly (gemv16, widening in registers); a batch
 * widens each panel once into `scratch` (this thread's float32 panel) and runs gemm on it for
 * every pair of tokens (and an odd last one), so that a compute-bound batch does the float32
 * kernel's work plus one widening per weight. Every path gives each element gemm's operations on
 * the widened weights, so which one a call takes changes no bit. Quantized weights: the rows
 * are quantized to Q8_0 into `scratch` (each thread quantizes them itself, the same bits), then
 * qgemm, the kernel quantizing the rows itself (qrows); a map packed for relaxed SIMD
 * (`relaxed`) goes to `rx`'s rgemm instead, its rows turned into bytes first (rrows): the same
 * bits. `beat` is called after every `chunk` panels (a worker's heartbeat).
 *
 * A map laid out by row (the last map of a float32 relu layer that skips zero hidden values:
 * see {@link rowsLinear}) goes to rowsLinear, with `lists` (this thread's list region). On
 * another map marked `skip` (the last one of a 16-bit relu layer, in panels, no relu, plain
 * output) with `lists`, each pair of rows (and an odd last row) first lists the hidden units
 * that are not zero in it, and a pair whose list is short enough (under DENSE_SHARE of them;
 * one token alone, TOKEN_SHARE_16) reads only those rows of the weights (gemv16sparse for one
 * token; a batch's panels widened one by one first, then gemmsparse): the same sums, in the same
 * order, less the terms (±0) · w that change no bit (docs/numerics.md). When no pair is sparse
 * enough, the call is the dense one.
 */
export function linearOn(
  ex: GemmExports,
  scratch: number,
  chunk = ALL_PANELS,
  beat: () => void = nothing,
  lists = 0,
  rx?: RelaxedExports,
): Linear {
  const counts = new Int32Array(LIST_SLOTS); // made once: a forward allocates nothing
  return (m, x, lda, rows, p0, p1, relu, out, ldo, pair) => {
    const { K, w, b, code } = m;
    const ldw = panelBytes(K, m.elem);
    const r = relu ? 1 : 0;
    const pr = pair ? 1 : 0;
    if (code === WEIGHT_CODE.q8_0 || code === WEIGHT_CODE.q4_0) {
      ex.qrows(x, lda, rows, K, scratch);
      const ldq = quantRowBytes(K);
      const qcode = m.nonFiniteScales === true ? code | 16 : code;
      let qgemm = ex.qgemm;
      if (m.relaxed === true) {
        if (rx === undefined) throw new Error("a map packed for relaxed SIMD without its kernel");
        rx.rrows(scratch, ldq, rows, K, code);
        qgemm = rx.rgemm;
      }
      for (let p = p0; p < p1; p += chunk) {
        const to = Math.min(p1, p + chunk);
        qgemm(scratch, ldq, rows, K, w, ldw, p, to, b, r, pr, out, ldo, qcode);
        beat();
      }
      return;
    }
    if (m.byRow) {
      rowsLinear(ex, m, x, lda, rows, p0, p1, out, ldo, lists, counts, beat, scratch, chunk);
      return;
    }
    if (m.skip && lists !== 0 && !relu && !pair) {
      if (sparseTiles(ex, m, x, lda, rows, p0, p1, out, ldo, lists, counts, beat, scratch, chunk))
        return;
    }
    if (code === WEIGHT_CODE.f32) {
      for (let p = p0; p < p1; p += chunk) {
        const to = Math.min(p1, p + chunk);
        if (rows === 1) ex.gemvsplit(x, K, w, ldw, p, to, b, r, out);
        else ex.gemm(x, lda, rows, K, w, ldw, p, to, b, r, pr, out, ldo);
        beat();
      }
      return;
    }
    let from = p0;
    if (rows === 1) {
      // gemv16 declines a token before its first panel, or not at all: then the panels widen.
      for (; from < p1; from += chunk) {
        const to = Math.min(p1, from + chunk);
        if (ex.gemv16(x, K, w, ldw, from, to, b, r, out, code, scratch) === 0) break;
        beat();
      }
      if (from >= p1) return;
    }
    const ldf = panelBytes(K);
    for (let p = from; p < p1; p++) {
      ex.widen(w + p * ldw, scratch, K, code);
      // gemm finds panel p at w + p * ldw: the scratch, here (i32 arithmetic wraps).
      ex.gemm(x, lda, rows, K, (scratch - p * ldf) | 0, ldf, p, p + 1, b, r, pr, out, ldo);
      if ((p - from) % chunk === chunk - 1 || p === p1 - 1) beat();
    }
  };
}

/**
 * One token's sums over panels p0 .. p1-1 of a map laid out by row in two groups (at w, rows
 * lds bytes apart, the second group gb bytes after the first, gp panels in each, a panel's row
 * `step` bytes; bias b or 0; out plain, panel p at out + 64p), with gemvhalves: over the n rows
 * listed at idx group after group, eight rows a tile, or (idx 0) over every row of both groups
 * in turn, a row at a time. The caller lists rows only under {@link ROWS_LIST}.
 */
export function rowsToken(
  ex: GemmExports,
  x: number,
  w: number,
  lds: number,
  gb: number,
  gp: number,
  step: number,
  p0: number,
  p1: number,
  b: number,
  out: number,
  idx: number,
  n: number,
): void {
  // Segment a: panels p0 .. min(p1, gp) - 1 of group 0; b: the rest, of group 1. (No arrays or
  // closures here: a forward allocates nothing.)
  const pb = Math.max(p0, gp);
  const na = Math.max(0, Math.min(p1, gp) - p0);
  const nb = Math.max(0, p1 - pb);
  const wa = w + Math.min(p0, gp) * step;
  const wb = w + gb + (pb - gp) * step;
  const oa = out + p0 * 64;
  const ob = out + pb * 64;
  const ba = b === 0 ? 0 : b + p0 * 64;
  const bb = b === 0 ? 0 : b + pb * 64;
  if (idx === 0) ex.gemvhalves(x, wa, wb, lds, oa, ob, na, nb, ba, bb, 0, n, 0);
  else {
    ex.gemvhalves(x, wa, wb, lds, oa, ob, na, 0, ba, bb, idx, n, 1);
    ex.gemvhalves(x, wa, wb, lds, oa, ob, 0, nb, ba, bb, idx, n, 1);
  }
}

/**
 * {@link linearOn} for a map laid out by row (no relu, plain output: the last map). When the
 * map is marked `skip` and `lists` is not 0, each pair of rows (and an odd last row) first lists
 * the hidden units that are not zero in it (gather); the tiles then leave out the other rows of
 * the weights: the same sums, in the same order, less the terms (±0) · w that change no bit
 * (docs/numerics.md). One token goes to gemvhalves in one call over the caller's panels: over
 * its list, group after group, when the list is short ({@link ROWS_LIST}), else over every row
 * (the dense path), reading the map's two groups in turn. A batch of up to
 * {@link ROWS_IN_PLACE} rows whose pairs all have long lists reads every row where it is
 * (gemmrows, each group's panels in turn); any other batch copies a span of panels
 * ({@link rowPanels}) into `scratch` once, each group's part from its own rows (only the rows
 * on some list when every pair's list is short), and runs gemm on it for every pair of rows
 * whose list is long, gemmsparse for the others. (Only float32 maps are laid out by row.)
 */
function rowsLinear(
  ex: GemmExports,
  m: MapRegion,
  x: number,
  lda: number,
  rows: number,
  p0: number,
  p1: number,
  out: number,
  ldo: number,
  lists: number,
  counts: Int32Array,
  beat: () => void,
  scratch: number,
  chunk: number,
): void {
  const { K, w, b } = m;
  const lds = rowBytes(m);
  const gp = groupPanels(m);
  const gb = groupBytes(m);
  const step = PANEL * m.elem;
  const skip = m.skip && lists !== 0;
  if (rows === 1) {
    // (A token with no hidden unit off gets K and no list written.)
    const listed = skip ? ex.gather(x, K, 0, lists) : K;
    const list = listed < K * ROWS_LIST;
    const n = list ? listed : K;
    const idx = list ? lists : 0;
    // One call over all the caller's panels, not `chunk` at a time: a thread's share of a group
    // is then one run of each row it reads, where `chunk` panels would leave a gap in every
    // row, which the prefetchers of some machines do not cross (two threads at D1, an AMD EPYC:
    // 0.55x `sparse: false` at 0% off with 16-panel chunks). The call reads each weight of the
    // share at most once, milliseconds at most, so the heartbeat after it is soon enough.
    rowsToken(ex, x, w, lds, gb, gp, step, p0, p1, b, out, idx, n);
    beat();
    return;
  }
  const slots = (rows + 1) >> 1;
  const dense = K * DENSE_SHARE;
  let sparse = false;
  let all = skip;
  if (skip) {
    for (let s = 0; s < slots; s++) {
      const c = ex.gather(x + 2 * s * lda, K, 2 * s + 2 <= rows ? 1 : 0, lists + s * K * 4);
      counts[s] = c;
      if (c < dense) sparse = true;
      else all = false;
    }
  }
  if (!sparse && rows <= ROWS_IN_PLACE) {
    // Every pair reads every row: gemmrows finds panel s of group g at wg + 64s (i32
    // arithmetic wraps).
    for (let p = p0; p < p1; p += chunk) {
      const q = Math.min(p1, p + chunk);
      for (let s = p; s < q;) {
        const g = Math.floor(s / gp);
        const e = Math.min(q, (g + 1) * gp);
        ex.gemmrows(x, lda, rows, K, (w + g * gb - g * gp * step) | 0, lds, s, e, b, out, ldo);
        s = e;
      }
      beat();
    }
    return;
  }
  // When every pair of rows reads its list only, the copies need only the rows on some list.
  const union = lists + slots * K * 4;
  const n = sparse && all ? ex.gatherany(x, lda, rows, K, union) : K;
  const idx = sparse && all ? union : 0;
  const ldf = panelBytes(K);
  const span = rowPanels(K, m.panels);
  for (let p = p0; p < p1; p += span) {
    const q = Math.min(p1, p + span);
    // Each group's part of the span, from its own run of rows.
    for (let s = p; s < q;) {
      const g = Math.floor(s / gp);
      const e = Math.min(q, (g + 1) * gp);
      ex.panelrows(
        w + g * gb + (s - g * gp) * step,
        lds,
        scratch + (s - p) * ldf,
        ldf,
        e - s,
        idx,
        n,
      );
      s = e;
    }
    // gemm and gemmsparse find panel p at wp + p * ldf: the scratch (i32 arithmetic wraps).
    const wp = (scratch - p * ldf) | 0;
    if (!sparse) {
      ex.gemm(x, lda, rows, K, wp, ldf, p, q, b, 0, 0, out, ldo);
      beat();
      continue;
    }
    // Every pair over a part of the span that stays in L2 (gemm goes panel by panel itself;
    // a pair of gemmsparse over the whole copied span would evict it for the next pair).
    const part = Math.max(1, Math.floor(SPARSE_SPAN / ldf));
    for (let r = p; r < q; r += part) {
      const t = Math.min(q, r + part);
      pairTiles(ex, x, lda, rows, K, wp, ldf, r, t, b, out, ldo, lists, counts, dense);
    }
    beat();
  }
}

/**
 * Every pair of rows (and an odd last row) of a block over panels p0 .. p1-1 of float32 panels
 * at w (panel p at w + p * ldw): gemm for a pair whose list (counts, from gather) holds at
 * least `dense` units, gemmsparse over its list (slot s of `lists`) for the others.
 */
function pairTiles(
  ex: GemmExports,
  x: number,
  lda: number,
  rows: number,
  K: number,
  w: number,
  ldw: number,
  p0: number,
  p1: number,
  b: number,
  out: number,
  ldo: number,
  lists: number,
  counts: Int32Array,
  dense: number,
): void {
  for (let s = 0; 2 * s < rows; s++) {
    const two = 2 * s + 2 <= rows;
    const xs = x + 2 * s * lda;
    const os = out + 2 * s * ldo;
    const c = counts[s] as number;
    if (c >= dense) ex.gemm(xs, lda, two ? 2 : 1, K, w, ldw, p0, p1, b, 0, 0, os, ldo);
    else ex.gemmsparse(xs, two ? 1 : 0, w, ldw, p0, p1, b, os, ldo, lists + s * K * 4, c);
  }
}

/**
 * The sparse path of {@link linearOn}: lists the nonzero hidden units of each pair of rows into
 * `lists` (one slot of K i32 a pair), and when some pair's list is short, computes every pair
 * over panel spans of about SPARSE_SPAN bytes (so a span stays in cache while the pairs go
 * by), each pair by gemmsparse on its list or, for a long list, by gemm. One token of 16-bit
 * weights goes to gemv16sparse (in groups of `chunk` panels); a batch's 16-bit panels go one at
 * a time, widened into `scratch` first, as the dense batch path does. Returns
 * false, having written nothing, when every list is long: the caller runs the dense call.
 */
function sparseTiles(
  ex: GemmExports,
  m: MapRegion,
  x: number,
  lda: number,
  rows: number,
  p0: number,
  p1: number,
  out: number,
  ldo: number,
  lists: number,
  counts: Int32Array,
  beat: () => void,
  scratch: number,
  chunk: number,
): boolean {
  const { K, w, b, code } = m;
  const wide = code !== WEIGHT_CODE.f32;
  const ldw = panelBytes(K, m.elem);
  const ldf = panelBytes(K);
  const slots = (rows + 1) >> 1;
  const dense = K * (rows > 1 ? DENSE_SHARE : wide ? TOKEN_SHARE_16 : TOKEN_SHARE);
  let sparse = false;
  for (let s = 0; s < slots; s++) {
    const c = ex.gather(x + 2 * s * lda, K, 2 * s + 2 <= rows ? 1 : 0, lists + s * K * 4);
    counts[s] = c;
    if (c < dense) sparse = true;
  }
  if (!sparse) return false;
  if (wide && rows === 1) {
    for (let p = p0; p < p1; p += chunk) {
      const q = Math.min(p1, p + chunk);
      ex.gemv16sparse(x, w, ldw, p, q, b, out, code, lists, counts[0] as number);
      beat();
    }
    return true;
  }
  const span = wide ? 1 : rows <= 2 ? ALL_PANELS : Math.max(1, Math.floor(SPARSE_SPAN / ldw));
  for (let p = p0; p < p1; p += span) {
    const q = Math.min(p1, p + span);
    // gemm and gemmsparse find panel p at wp + p * lw: for 16-bit weights, the widened scratch.
    let [wp, lw] = [w, ldw];
    if (wide) {
      ex.widen(w + p * ldw, scratch, K, code);
      [wp, lw] = [(scratch - p * ldf) | 0, ldf];
    }
    pairTiles(ex, x, lda, rows, K, wp, lw, p, q, b, out, ldo, lists, counts, dense);
    beat();
  }
  return true;
}

/**
 * The number of zero values (+0 or -0) among the first `width` columns of n hidden rows from
 * float `off`, in the pair layout (see {@link activatePanels}) of row stride `pad`.
 */
export function countZeros(
  f32: Float32Array,
  off: number,
  pad: number,
  width: number,
  n: number,
): number {
  let zeros = 0;
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const o = off + r * pad;
    for (let j = o; j < o + 2 * width; j++) if (f32[j] === 0) zeros++;
  }
  if (r < n) {
    const o = off + r * pad;
    for (let j = o; j < o + width; j++) if (f32[j] === 0) zeros++;
  }
  return zeros;
}

/**
 * The first half of a layer for n rows of x (bytes, in pairs), hidden columns in panels
 * [p0, p1) only: hidden[0] = act(x · W0 + b0) (`kind`, the activation's code in the kernel:
 * activation.ts's ACTIVATION_WASM, whose 0 is relu), then for each further expanding map i,
 * hidden[i] = x · Wi + bi and hidden[0] = hidden[0] ⊙ hidden[i]. relu is fused into the gemm;
 * any other activation runs over the float32 values the gemm wrote (the kernel's `act`, the
 * same bits as the standalone op), and the products in JavaScript. The caller's whole width on
 * one thread, or a thread's own columns: every element gets the same operations either way.
 */
export function expandPanels(
  linear: Linear,
  act: Act,
  f32: Float32Array,
  lay: Layout,
  x: number,
  hidden: readonly number[],
  n: number,
  p0: number,
  p1: number,
  kind: number,
): void {
  const { dModel: d, hPad } = lay;
  const relu = kind === 0;
  const main = hidden[0] as number;
  for (let i = 0; i < lay.expand; i++) {
    const m = lay.maps[i] as MapRegion;
    const dst = hidden[i] as number;
    linear(m, x, d * 4, n, p0, p1, i === 0 && relu, dst, hPad * 4, true);
    if (i === 0 && !relu) activatePanels(act, lay, dst, n, p0, p1, kind);
    if (i > 0) multiplyPanels(f32, main / 4, dst / 4, hPad, n, p0, p1);
  }
}

/** The second half: out = hidden · W + b for the last map, output panels [p0, p1), plain rows. */
export function condensePanels(
  linear: Linear,
  lay: Layout,
  hidden: number,
  out: number,
  n: number,
  p0: number,
  p1: number,
): void {
  const m = lay.maps[lay.expand] as MapRegion;
  linear(m, hidden, lay.hPad * 4, n, p0, p1, false, out, lay.dPad * 4, false);
}

/**
 * Applies an activation (not relu) in place to panels [p0, p1) of n hidden rows from byte
 * `at`, in the kernel's pair layout (rows 2i and 2i+1 interleaved, panel p at float 32p of a
 * pair of rows of stride lay.hPad; an odd last row plain, panel p at float 16p): a thread's own
 * columns, or all of them (p0 = 0, p1 = the map's panels).
 */
export function activatePanels(
  act: Act,
  lay: Layout,
  at: number,
  n: number,
  p0: number,
  p1: number,
  kind: number,
): void {
  for (let r = 0; r < n; r += 2) {
    const width = r + 2 <= n ? 32 : 16; // a pair of rows interleaved, or the odd last row
    act(at + 4 * (r * lay.hPad + width * p0), width * (p1 - p0), kind, lay.erf);
  }
}

/**
 * buf[a] = buf[a] · buf[b] for the elements of panels [p0, p1) of n rows in the pair layout
 * (see {@link activatePanels}), a at float offset `off` and b at `upOff`: one float32
 * multiplication per element.
 */
export function multiplyPanels(
  buf: Float32Array,
  off: number,
  upOff: number,
  pad: number,
  n: number,
  p0: number,
  p1: number,
): void {
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const o = r * pad;
    for (let j = o + 32 * p0; j < o + 32 * p1; j++) {
      buf[off + j] = (buf[off + j] as number) * (buf[upOff + j] as number);
    }
  }
  if (r < n) {
    const o = r * pad;
    for (let j = o + 16 * p0; j < o + 16 * p1; j++) {
      buf[off + j] = (buf[off + j] as number) * (buf[upOff + j] as number);
    }
  }
}

/**
 * Copies n rows of width d into the kernel's input layout: rows 2i and 2i+1 interleaved
 * element by element from dst[dstOff + 2i·d] (so the 2-row tile reads both with one pointer),
 * an odd last row plain after them.
 */
export function copyPairsIn(
  src: Float32Array,
  srcOff: number,
  d: number,
  dst: Float32Array,
  dstOff: number,
  n: number,
): void {
  let r = 0;
  for (; r + 2 <= n; r += 2) {
    const a = srcOff + r * d;
    const b = a + d;
    const o = dstOff + r * d;
    for (let k = 0; k < d; k++) {
      dst[o + 2 * k] = src[a + k] as number;
      dst[o + 2 * k + 1] = src[b + k] as number;
    }
  }
  if (r < n) {
    const a = srcOff + r * d;
    const o = dstOff + r * d;
    for (let k = 0; k < d; k++) dst[o + k] = src[a + k] as number;
  }
}

/** Copies n rows of width d from a padded buffer (row stride pad) into out (row stride d). */
export function copyRows(
  src: Float32Array,
  srcOff: number,
  pad: number,
  out: Float32Array,
  outOff: number,
  d: number,
  n: number,
): void {
  // Element loops rather than set(subarray(...)): a subarray is a new object, and a forward
  // call with an out argument allocates nothing (test/allocation.test.ts).
  for (let i = 0; i < n; i++) {
    const s = srcOff + i * pad;
    const o = outOff + i * d;
    for (let j = 0; j < d; j++) out[o + j] = src[s + j] as number;
  }
}

/** Why a layout cannot have its memory here, or null: over wasm32's 4 GiB. */
export function tooLarge(lay: Pick<Layout, "pages" | "bytes">): string | null {
  if (lay.pages <= MAX_PAGES) return null;
  return `needs ${(lay.bytes / 2 ** 20).toFixed(1)} MiB of WebAssembly memory, over wasm32's 4 GiB`;
}
