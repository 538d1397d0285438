// What leaving out random rows of W2 can save at one token from main memory, measured with the
// layer's own kernels: the ceiling under the sparse layer's goals (docs/numerics.md).
//
//   npm run bench:row-skip -- [--shares 0,0.5,0.9] [--reps 9] [--bytes N]
//
// One shared memory holds copies of a D1-sized W2 (3072 hidden rows x 768 outputs, 9 MiB of
// float32), as many as fill `--bytes` (default: twice the last-level cache, as the roof's
// main-memory buffer), so each call reads its copy from main memory. Each repetition times, in
// turn, one call over every copy of:
//
//   panels  the dense path (the one `sparse: false` takes): gemvsplit over the copy as 48
//           panels of 16 columns; its time is the unit below
//   pairs   the same sums by gemm's one-row tile (neighbouring panels side by side)
//   first   the first map's read, gemvsplit (with relu) over the copy as W1: 768 rows, 192
//           panels (first pairs: by gemm's one-row tile)
//   rows    the sparse layer's one-token path over the copy as two groups of whole rows (its
//           layout): a list of under ROWS_LIST of the rows group after group, eight rows a
//           tile; a longer one reads every row (both groups' tiles in turn, a row at a time)
//   turns   the listed rows with both groups' tiles in turn, eight rows a tile (the layer's
//           path for any list before ROWS_LIST)
//   whole   the same sums over the same listed rows (gemm's arithmetic and order, the same
//           bits) with W2 laid out as whole rows, each 3 KiB in one piece, sixteen listed rows
//           side by side: on an Intel Xeon the fastest exact way to read a random share of rows
//           found (a row at a time, two or four groups of columns, and blocks of 4, 8 or 32
//           rows were slower; a read of those bytes with no multiplies at all about 0.15 of
//           the panels' time faster at 50%)
//   loads   whole's reads in whole's order with no arithmetic: every 16 bytes of each listed
//           row loaded and folded into one xor (which keeps the engine from dropping a load).
//           An exact kernel reads at least these bytes, so none takes less time than they take
//           to arrive: a bound on every kernel over whole rows, and in practice on every
//           layout (rows split in groups arrive no faster than whole ones)
//
// Each share draws eight lists (each row kept with probability 1 - share, a fixed seed); copy
// i reads list i mod 8. They read the same bytes, each in its own layout (the values are only
// read, so one fill serves all); test/bench-row-skip.test.ts checks each against a
// float32 reference of its layout, bit for bit (loads: against the xor of the listed rows).
//
// The ceiling. A D1 layer reads W1 (as many bytes as W2) in full whatever the share, in time W1
// (first, measured), so a layer whose W2 reads in time r0 at 0% and r_s at share s runs
// (W1 + r0) / (W1 + r_s) times as fast at s as at 0%, and (W1 + 1) / (W1 + r0) times as fast as
// `sparse: false` at 0%. The goals in docs/numerics.md are 0.97x at 0% (r0 <= (W1 + 1) / 0.97 -
// W1) and 1.3x at 50%; the probe prints what the rows path gives, the most any layer within
// the 0% goal could give with W2 at share s read as fast as the faster of rows and whole, and
// the most any exact layer could give (with the rows path's 0%, and within the 0% goal) were
// its list read in the time of `loads`.
import wabtInit from "wabt";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import { ROWS_LIST, rowsToken, type GemmExports } from "../src/kernels/wasm/panels";
import { runIfMain } from "./cli";
import { defaultMemoryBytes, rate } from "./roof";

/** D1's W2: hidden rows, outputs, and the layout's numbers (two groups of 24 panels). */
export const K = 3072;
export const N = 768;
const COPY = K * N * 4;
const GROUP = (K * N * 4) / 2;
const ROW_HALF = (N / 2) * 4;
/** Panels of 16 outputs in each of the two groups. */
const GROUP_PANELS = N / 32;
/** Rows a `whole` read keeps in flight. */
export const WHOLE_BLOCK = 16;
const MiB = 2 ** 20;
/** Bytes below the copies: x (K floats), out (N floats), the lists (8 of K i32 each). */
const X = 0;
const OUT = 16384;
const LISTS = 32768;
const BASE = 4 * MiB;

/**
 * WAT for the listed rows' traversal that `whole` and `loads` share: `block` listed rows at a
 * time (from $i to $e), and for each block each 128 bytes of a row ($t) of the block's rows in
 * turn, so `block` rows are read side by side, each front to back. `tile` runs before a tile's
 * rows and `end` after them; for each listed row, `lead` runs with $k its index, then `row`
 * with $q at its 128 bytes too. Locals $i, $j, $e, $t, $q, $k and params $w, $ldr, $idx, $n,
 * $block are the caller's.
 */
const listedRows = (tile: string, lead: string, row: string, end: string): string => `
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $e (select (i32.add (local.get $i) (local.get $block)) (local.get $n)
        (i32.lt_u (i32.add (local.get $i) (local.get $block)) (local.get $n))))
      (local.set $t (i32.const 0))
      (block $t_done (loop $tiles
        (br_if $t_done (i32.ge_u (local.get $t) (local.get $ldr)))
        ${tile}
        (local.set $j (local.get $i))
        (block $r_done (loop $rows
          (br_if $r_done (i32.ge_u (local.get $j) (local.get $e)))
          (local.set $k (i32.load (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2)))))
          ${lead}
          (local.set $q (i32.add (i32.add (local.get $w) (local.get $t)) (i32.mul (local.get $k) (local.get $ldr))))
          ${row}
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $rows)))
        ${end}
        (local.set $t (i32.add (local.get $t) (i32.const 128)))
        (br $tiles)))
      (local.set $i (local.get $e))
      (br $blocks)))`;

/** WAT: `f(i, offset)` for each of the eight 16-byte parts of 128 bytes, one per line. */
const eight = (f: (i: number, offset: number) => string): string =>
  Array.from({ length: 8 }, (_, i) => f(i, 16 * i)).join("\n          ");

/**
 * The `whole` kernel: gemm's sums over the n rows listed (increasing) as i32 at idx, the weights
 * laid out by whole rows (row k at w + k * ldr, ldr bytes, a multiple of 128, ldr / 4 outputs),
 * x plain, out plain: each output +0, then + x_k * w_kj for k in the list's order, each product
 * and sum rounded (the layer's bits), in listedRows' order: each 32 outputs' eight partial sums
 * loaded from out before a tile's rows and stored after them.
 *
 * The `loads` kernel: the xor of every 16 bytes of the same rows, read in the same order (the
 * same traversal), stored at out: `whole`'s reads without its arithmetic.
 */
export const WHOLE_WAT = `(module
  (import "env" "memory" (memory 1 65536))
  (func (export "whole") (param $x i32) (param $w i32) (param $ldr i32) (param $out i32)
    (param $idx i32) (param $n i32) (param $block i32)
    (local $i i32) (local $j i32) (local $e i32) (local $t i32) (local $q i32) (local $k i32)
    (local $o i32) (local $a v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local.set $t (i32.const 0))
    (block $z_done (loop $zero
      (br_if $z_done (i32.ge_u (local.get $t) (local.get $ldr)))
      (v128.store (i32.add (local.get $out) (local.get $t)) (v128.const i32x4 0 0 0 0))
      (local.set $t (i32.add (local.get $t) (i32.const 16)))
      (br $zero)))
    ${listedRows(
      `(local.set $o (i32.add (local.get $out) (local.get $t)))
        ${eight((i, at) => `(local.set $c${i} (v128.load offset=${at} (local.get $o)))`)}`,
      "(local.set $a (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 2)))))",
      eight(
        (i, at) =>
          `(local.set $c${i} (f32x4.add (local.get $c${i}) (f32x4.mul (local.get $a) (v128.load offset=${at} (local.get $q)))))`,
      ),
      eight((i, at) => `(v128.store offset=${at} (local.get $o) (local.get $c${i}))`),
    )})
  (func (export "loads") (param $w i32) (param $ldr i32) (param $out i32) (param $idx i32)
    (param $n i32) (param $block i32)
    (local $i i32) (local $j i32) (local $e i32) (local $t i32) (local $q i32) (local $k i32)
    (local $s v128)
    ${listedRows(
      "",
      "",
      eight(
        (_, at) =>
          `(local.set $s (v128.xor (local.get $s) (v128.load offset=${at} (local.get $q))))`,
      ),
      "",
    )}
    (v128.store (local.get $out) (local.get $s))))`;

type WholeFn = (
  x: number,
  w: number,
  ldr: number,
  out: number,
  idx: number,
  n: number,
  block: number,
) => void;

type LoadsFn = (w: number, ldr: number, out: number, idx: number, n: number, block: number) => void;

/** The probe's kernels over one memory: gemm and gemvhalves (the layer's), whole and loads. */
export class RowSkip {
  readonly memory: WebAssembly.Memory;
  readonly copies: number;
  readonly gemm: GemmExports;
  readonly whole: WholeFn;
  readonly loadsFn: LoadsFn;

  private constructor(
    memory: WebAssembly.Memory,
    copies: number,
    probe: { whole: WholeFn; loads: LoadsFn },
  ) {
    this.memory = memory;
    this.copies = copies;
    const instance = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } });
    this.gemm = instance.exports as unknown as GemmExports;
    this.whole = probe.whole;
    this.loadsFn = probe.loads;
  }

  /** A memory of `copies` copies of W2 (filled with small finite values) and x. */
  static async create(copies: number): Promise<RowSkip> {
    const pages = Math.ceil((BASE + copies * COPY) / 65536);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536 });
    const f = new Float32Array(memory.buffer);
    for (let i = BASE / 4; i < f.length; i++) f[i] = (((i * 2654435761) >>> 20) - 2048) / 4096;
    for (let k = 0; k < K; k++) f[X / 4 + k] = Math.sin(k + 1);
    const wabt = await wabtInit();
    const text = wabt.parseWat("row-skip.wat", WHOLE_WAT, { simd: true });
    const bin = new Uint8Array(text.toBinary({}).buffer).slice();
    text.destroy();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bin), { env: { memory } });
    return new RowSkip(memory, copies, inst.exports as { whole: WholeFn; loads: LoadsFn });
  }

  /** Where copy c starts. */
  copy(c: number): number {
    return BASE + c * COPY;
  }

  /** Writes list l (of 8): each row kept with probability `keep`; returns its length. */
  list(l: number, keep: number, seed: number): number {
    const idx = new Int32Array(this.memory.buffer, LISTS + l * K * 4, K);
    let s = (seed * 2654435761 + l * 40503 + 1) >>> 0;
    let n = 0;
    for (let k = 0; k < K; k++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      if (s / 2 ** 32 < keep) idx[n++] = k;
    }
    return n;
  }

  listAt(l: number): number {
    return LISTS + l * K * 4;
  }

  /** The dense path over copy c: gemvsplit (gemm's neighbouring panels with `pairs`). */
  panels(c: number, pairs = false): void {
    if (pairs) this.gemm.gemm(X, K * 4, 1, K, this.copy(c), K * 64, 0, N / 16, 0, 0, 0, OUT, N * 4);
    else this.gemm.gemvsplit(X, K, this.copy(c), K * 64, 0, N / 16, 0, 0, OUT);
  }

  /**
   * The first map's read at one token over copy c, as W1 (768 inputs, 3072 outputs: 192 panels
   * of 768 rows), with relu: gemvsplit (gemm's neighbouring panels with `pairs`). Outputs K
   * floats at OUT.
   */
  first(c: number, pairs = false): void {
    const w = this.copy(c);
    if (pairs) this.gemm.gemm(X, N * 4, 1, N, w, N * 64, 0, K / 16, 0, 1, 0, OUT, K * 4);
    else this.gemm.gemvsplit(X, N, w, N * 64, 0, K / 16, 0, 1, OUT);
  }

  /**
   * The sparse layer's one-token path over copy c and the n rows listed at idx (all rows: n =
   * K): the list group after group when it holds under ROWS_LIST of the rows, else every row.
   */
  rows(c: number, idx: number, n: number): void {
    const w = this.copy(c);
    const list = n < K * ROWS_LIST;
    const [at, count] = list ? [idx, n] : [0, K];
    const g = GROUP_PANELS;
    rowsToken(this.gemm, X, w, ROW_HALF, GROUP, g, 64, 0, 2 * g, 0, OUT, at, count);
  }

  /** The listed rows of copy c with both groups' tiles in turn, eight rows a tile. */
  turns(c: number, idx: number, n: number): void {
    const w = this.copy(c);
    const g = GROUP_PANELS;
    this.gemm.gemvhalves(X, w, w + GROUP, ROW_HALF, OUT, OUT + ROW_HALF, g, g, 0, 0, idx, n, 1);
  }

  /** The `whole` kernel over copy c as whole rows of 3 KiB and the n rows listed at idx. */
  read(c: number, idx: number, n: number): void {
    this.whole(X, this.copy(c), N * 4, OUT, idx, n, WHOLE_BLOCK);
  }

  /** `loads` over copy c as whole rows and the n rows listed at idx: their xor (16 bytes) at out. */
  loads(c: number, idx: number, n: number): void {
    this.loadsFn(this.copy(c), N * 4, OUT, idx, n, WHOLE_BLOCK);
  }

  /** Where the outputs are. */
  outAt(): number {
    return OUT;
  }

  /** The outputs of the last call (N floats; a copy). */
  out(): Float32Array {
    return new Float32Array(this.memory.buffer, OUT, N).slice();
  }
}

export interface Options {
  shares: number[];
  reps: number;
  bytes: number;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { shares: [0, 0.5, 0.9], reps: 9, bytes: defaultMemoryBytes() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--shares" && v !== undefined) {
      o.shares = v.split(",").map(Number);
      if (o.shares.some((s) => !(s >= 0 && s < 1)))
        throw new Error(`--shares: each in [0, 1), got ${v}`);
      if (o.shares.length * 8 * K * 4 > BASE - LISTS)
        throw new Error(`--shares: at most ${Math.floor((BASE - LISTS) / (32 * K))} shares`);
      i++;
    } else if (a === "--reps" && v !== undefined) {
      o.reps = Number(v);
      if (!Number.isInteger(o.reps) || o.reps < 1 || o.reps > 1000)
        throw new Error(`--reps: an integer in 1..1000, got ${v}`);
      i++;
    } else if (a === "--bytes" && v !== undefined) {
      o.bytes = Number(v);
      if (!Number.isInteger(o.bytes) || o.bytes < COPY || o.bytes > 3 * 1024 * MiB)
        throw new Error(`--bytes: an integer from ${COPY} (one copy) to 3 GiB, got ${v}`);
      i++;
    } else throw new Error(`unknown argument ${a} (--shares, --reps, --bytes)`);
  }
  return o;
}

/** One repetition's time per copy, ms, of f over every copy. */
function perCopy(copies: number, f: (c: number) => void): number {
  const t = performance.now();
  for (let c = 0; c < copies; c++) f(c);
  return (performance.now() - t) / copies;
}

const fmt = (v: number): string => v.toFixed(3);

async function main(argv: string[]): Promise<number> {
  const o = parseArgs(argv);
  const copies = Math.max(1, Math.floor(o.bytes / COPY));
  const probe = await RowSkip.create(copies);
  const cases: { name: string; share: number; run: (c: number) => void }[] = [];
  cases.push({ name: "panels", share: 0, run: (c) => probe.panels(c) });
  cases.push({ name: "pairs", share: 0, run: (c) => probe.panels(c, true) });
  cases.push({ name: "first", share: 0, run: (c) => probe.first(c) });
  cases.push({ name: "first pairs", share: 0, run: (c) => probe.first(c, true) });
  for (const [i, share] of o.shares.entries()) {
    // The share's eight lists, in slots 8i .. 8i+7 of the list region (at 0%: every row).
    const lengths: number[] = [];
    for (let l = 0; l < 8; l++) lengths.push(probe.list(8 * i + l, 1 - share, 7));
    const at = (c: number) => probe.listAt(8 * i + (c % 8));
    const n = (c: number) => lengths[c % 8] as number;
    cases.push({ name: "rows", share, run: (c) => probe.rows(c, at(c), n(c)) });
    if (share > 0) cases.push({ name: "turns", share, run: (c) => probe.turns(c, at(c), n(c)) });
    cases.push({ name: "whole", share, run: (c) => probe.read(c, at(c), n(c)) });
    cases.push({ name: "loads", share, run: (c) => probe.loads(c, at(c), n(c)) });
  }
  // Warm-up: until the engine has optimized every function.
  for (let r = 0; r < 3; r++) for (const c of cases) perCopy(copies, c.run);
  const times = cases.map(() => [] as number[]);
  const ratios = cases.map(() => [] as number[]);
  for (let r = 0; r < o.reps; r++) {
    const rep = cases.map((c) => perCopy(copies, c.run));
    rep.forEach((t, j) => {
      times[j]?.push(t);
      ratios[j]?.push(t / (rep[0] as number));
    });
  }
  // Medians and ranges over the repetitions (rate sorts a copy: for times its "slowest" is the
  // least, its "fastest" the most).
  const med = (a: number[]) => rate(a).median;
  console.log(
    `row-skip: ${copies} copies of W2 (${K} x ${N} float32, ${COPY / MiB} MiB each), ${o.reps} repetitions, one thread`,
  );
  console.log("");
  console.log("| read | share off | ms per copy | time / panels (range) |");
  console.log("| --- | ---: | ---: | ---: |");
  cases.forEach((c, j) => {
    const r = rate(ratios[j] as number[]);
    console.log(
      `| ${c.name} | ${Math.round(c.share * 100)}% | ${med(times[j] as number[]).toFixed(3)} | ${fmt(r.median)} (${fmt(r.slowest)}–${fmt(r.fastest)}) |`,
    );
  });
  const ratio = (name: string, share: number) => {
    const j = cases.findIndex((c) => c.name === name && c.share === share);
    return j < 0 ? undefined : med(ratios[j] as number[]);
  };
  const r0 = ratio("rows", 0);
  const w1 = ratio("first", 0) as number;
  // The most W2 may take at 0% (the goal: 0.97x sparse: false), and the layer's ratios.
  const limit = (w1 + 1) / 0.97 - w1;
  console.log("");
  console.log(`W1 (first) reads in ${fmt(w1)}; the 0% goal allows W2 at most ${fmt(limit)}`);
  if (r0 !== undefined)
    console.log(
      `rows at 0%: the layer ${fmt((w1 + 1) / (w1 + r0))}x sparse: false ((W1 + 1) / (W1 + ${fmt(r0)}))`,
    );
  for (const share of o.shares) {
    if (share === 0) continue;
    const pct = `${Math.round(share * 100)}%`;
    const rs = ratio("rows", share) as number;
    const best = Math.min(rs, ratio("whole", share) as number);
    const own = r0 === undefined ? "" : `the layer ${fmt((w1 + r0) / (w1 + rs))}x its own 0%; `;
    console.log(
      `rows at ${pct}: ${own}within the 0% goal at most (W1 + ${fmt(limit)}) / (W1 + ${fmt(best)}) = ${fmt((w1 + limit) / (w1 + best))}x`,
    );
    const ls = ratio("loads", share) as number;
    if (r0 !== undefined)
      console.log(
        `loads at ${pct}: no exact read of the list is faster; the layer at most (W1 + ${fmt(r0)}) / (W1 + ${fmt(ls)}) = ${fmt((w1 + r0) / (w1 + ls))}x its own 0%, within the 0% goal at most (W1 + ${fmt(limit)}) / (W1 + ${fmt(ls)}) = ${fmt((w1 + limit) / (w1 + ls))}x`,
      );
  }
  return 0;
}

runIfMain(import.meta.url, "bench:row-skip", main);
