// The WebAssembly kernel's paths on a map laid out by row (the last map of a float32 relu layer
// that skips zero hidden units), called directly: `gemvhalves` (rows in two groups, a row or
// eight at a time) gives, for every listed set of rows, the bits of gemm's sum (+0, then
// acc + x_k * w_kj for the listed k in increasing order, each product and sum rounded to
// float32, then the bias) computed here in float64 and rounded as float32 does; `panelrows`
// copies exactly the listed rows of a span of panels; `gather` lists the units not ±0 in a row
// or a pair of rows (a row four at a time, by mask; a row with none ±0 writes no list); and
// `gatherany` lists the units not ±0 in any row of a block. Sizes cross every edge of the kernels' tiles:
// blocks of eight rows (lists of 0 to 31 rows), 32-column tiles and a last odd panel, a padded
// last panel (odd dModel), a caller's share of the panels (p0 > 0), and for gemvhalves a share
// on either side of the groups' edge or across it.
import { beforeAll, describe, expect, it } from "vitest";
import { packRows } from "../src/kernels/source";
import { PANEL, panelBytes } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import type { GemmExports } from "../src/kernels/wasm/panels";
import { seededFloats } from "./helpers/arbitraries";
import { expectSameBits } from "./helpers/bits";

const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 }); // 4 MiB
let ex: GemmExports;
const f32 = new Float32Array(memory.buffer);
const i32 = new Int32Array(memory.buffer);
beforeAll(() => {
  ex = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
    .exports as unknown as GemmExports;
});

// Regions, in bytes.
const W = 1 << 16; // the map laid out by row
const PF = 1 << 19; // float32 panels panelrows writes
const X = 3 << 19;
const IDX = X + (1 << 14);
const BIAS = X + (2 << 14);
const OUT = X + (3 << 14);

/**
 * A (K, N) float32 matrix laid out by row at W (panels of nr columns, by default one of all P
 * panels' columns), from values in [-1, 1); returns its values, row-major.
 */
function packByRow(
  K: number,
  N: number,
  seed: number,
  nr = Math.ceil(N / PANEL) * PANEL,
): Float64Array {
  const v = seededFloats(K * N, seed);
  f32.fill(0, W / 4, PF / 4);
  packRows(K, N, nr, (k, dst: Float32Array) => dst.set(v.subarray(k * N, k * N + N)), f32, W / 4);
  return Float64Array.from(v);
}

/** gemm's sum for column j over the listed k, as float32 rounds it, then the bias. */
function expected(
  kept: Float64Array,
  N: number,
  x: Float32Array,
  list: readonly number[],
  bias: Float32Array | null,
  j: number,
): number {
  let acc = 0;
  for (const k of list)
    acc = Math.fround(acc + Math.fround((x[k] as number) * (kept[k * N + j] as number)));
  return bias === null ? acc : Math.fround(acc + (bias[j] as number));
}

/**
 * A caller's shares of P panels in two groups of gp: all panels, all but the first, the first
 * alone, the last alone, and the two panels about the groups' edge.
 */
function sharesOf(P: number, gp: number): [number, number][] {
  const all: [number, number][] = [
    [0, P],
    [1, P],
    [0, 1],
    [P - 1, P],
    [Math.max(0, gp - 1), Math.min(P, gp + 1)],
  ];
  return all.filter(([p0, p1]) => p0 < p1);
}

/** Lists: none, the first row, every row (idx = 0 and listed), every other, a seeded subset. */
function lists(K: number, seed: number): { name: string; list: number[]; listed: boolean }[] {
  const all = Array.from({ length: K }, (_, k) => k);
  const u = seededFloats(K, seed);
  return [
    { name: "none", list: [], listed: true },
    { name: "first", list: [0], listed: true },
    { name: "all (idx 0)", list: all, listed: false },
    { name: "all listed", list: all, listed: true },
    { name: "every other", list: all.filter((k) => k % 2 === 1), listed: true },
    { name: "a subset", list: all.filter((k) => (u[k] as number) > 0.3), listed: true },
  ];
}

describe("gemvhalves", () => {
  it.each([
    { K: 1, N: 32 },
    { K: 4, N: 5 },
    { K: 5, N: 48 },
    { K: 9, N: 64 },
    { K: 13, N: 80 },
    { K: 8, N: 17 },
    { K: 31, N: 144 },
  ])("is gemm's sum over the listed rows, a row or eight at a time (K $K, N $N)", ({ K, N }) => {
    // Two groups of gp panels (the second padded), as layout.ts's rowGroups lays them out.
    const P = Math.ceil(N / PANEL);
    const gp = Math.ceil(P / 2);
    const lds = gp * PANEL * 4;
    const kept = packByRow(K, N, 5000 + K * N, gp * PANEL);
    const x = seededFloats(K, 6000 + K, 3);
    f32.set(x, X / 4);
    const bias = seededFloats(P * PANEL, 7000 + N);
    f32.set(bias, BIAS / 4);
    const shares = sharesOf(P, gp);
    for (const { name, list, listed } of lists(K, 8000 + K)) {
      i32.set(list, IDX / 4);
      for (const [p0, p1] of shares) {
        for (const b of [null, bias]) {
          for (const eight of [0, 1]) {
            f32.fill(7, OUT / 4, OUT / 4 + P * PANEL); // left alone outside [p0, p1)
            const pa = Math.min(p1, gp);
            const pb = Math.max(p0, gp);
            const at = (p: number) => (b === null ? 0 : BIAS + 64 * p);
            ex.gemvhalves(
              X,
              W + Math.min(p0, gp) * 64,
              W + K * lds + (pb - gp) * 64,
              lds,
              OUT + 64 * p0,
              OUT + 64 * pb,
              Math.max(0, pa - p0),
              Math.max(0, p1 - pb),
              at(p0),
              at(pb),
              listed ? IDX : 0,
              list.length,
              eight,
            );
            const got = f32.slice(OUT / 4, OUT / 4 + P * PANEL);
            const want = new Float32Array(P * PANEL).fill(7);
            for (let j = 16 * p0; j < 16 * p1; j++) {
              want[j] =
                j < N ? expected(kept, N, x, list, b, j) : b === null ? 0 : (b[j] as number);
            }
            const what = `${name}, panels ${p0}..${p1}, bias ${b !== null}, eight ${eight}`;
            expectSameBits(got, want, what);
          }
        }
      }
    }
  });
});

describe("gemmrows", () => {
  /** Rows of x (K floats each) into gemm's pair layout at X: pairs interleaved, an odd one plain. */
  function pairsIn(xs: Float32Array[], K: number): void {
    for (let r = 0; r < xs.length; r++) {
      const x = xs[r] as Float32Array;
      const base = X / 4 + (r & ~1) * K;
      const paired = (r & ~1) + 1 < xs.length;
      for (let k = 0; k < K; k++) f32[paired ? base + 2 * k + (r & 1) : base + k] = x[k] as number;
    }
  }

  it.each([
    { K: 1, N: 32, pad: 0 },
    { K: 5, N: 48, pad: 16 },
    { K: 63, N: 40, pad: 0 },
    { K: 64, N: 64, pad: 16 },
    { K: 65, N: 17, pad: 0 },
    { K: 130, N: 80, pad: 16 },
    { K: 200, N: 96, pad: 0 },
  ])(
    "is gemm's sum in blocks of 64 rows, over any rows and panels (K $K, N $N, pad $pad)",
    ({ K, N, pad }) => {
      // Two groups of gp panels (the second padded), each row `pad` floats longer, as
      // layout.ts lays a map out by row (its pad: a line, where the row is a multiple of 1 KiB).
      const P = Math.ceil(N / PANEL);
      const gp = Math.ceil(P / 2);
      const ld = gp * PANEL + pad;
      const lds = ld * 4;
      const v = seededFloats(K * N, 9000 + K * N);
      // Zeros in the last panel's columns past N (read, as in the layout); pads are set below.
      f32.fill(0, W / 4, W / 4 + 2 * K * ld);
      const row = (k: number, dst: Float32Array) => dst.set(v.subarray(k * N, k * N + N));
      packRows(K, N, gp * PANEL, row, f32, W / 4, null, ld);
      for (let k = 0; k < K && pad > 0; k++) {
        // A pad holding values would change the sums if it were read.
        for (let g = 0; g < 2; g++)
          f32.fill(
            1e30,
            W / 4 + g * K * ld + k * ld + gp * PANEL,
            W / 4 + g * K * ld + (k + 1) * ld,
          );
      }
      const kept = Float64Array.from(v);
      const bias = seededFloats(P * PANEL, 9100 + N);
      f32.set(bias, BIAS / 4);
      const all = Array.from({ length: K }, (_, k) => k);
      const shares = sharesOf(P, gp);
      for (const rows of [1, 2, 3, 4, 5, 7, 33]) {
        const xs = Array.from({ length: rows }, (_, r) => seededFloats(K, 9200 + 31 * r + K, 3));
        pairsIn(xs, K);
        const ldo = P * PANEL * 4;
        for (const [p0, p1] of shares) {
          for (const b of [null, bias]) {
            f32.fill(7, OUT / 4, OUT / 4 + rows * P * PANEL); // left alone outside [p0, p1)
            for (let s = p0; s < p1;) {
              const g = Math.floor(s / gp);
              const e = Math.min(p1, (g + 1) * gp);
              const wg = (W + g * K * lds - g * gp * 64) | 0;
              ex.gemmrows(X, K * 4, rows, K, wg, lds, s, e, b === null ? 0 : BIAS, OUT, ldo);
              s = e;
            }
            const got = f32.slice(OUT / 4, OUT / 4 + rows * P * PANEL);
            const want = new Float32Array(rows * P * PANEL).fill(7);
            for (let r = 0; r < rows; r++) {
              for (let j = 16 * p0; j < 16 * p1; j++) {
                want[r * P * PANEL + j] =
                  j < N
                    ? expected(kept, N, xs[r] as Float32Array, all, b, j)
                    : b === null
                      ? 0
                      : (b[j] as number);
              }
            }
            expectSameBits(got, want, `${rows} rows, panels ${p0}..${p1}, bias ${b !== null}`);
          }
        }
      }
    },
  );
});

describe("panelrows", () => {
  it("copies exactly the listed rows of a span of panels", () => {
    const [K, N] = [11, 80];
    const P = N / PANEL;
    const kept = packByRow(K, N, 77);
    const ldf = panelBytes(K);
    for (const { name, list, listed } of lists(K, 78)) {
      i32.set(list, IDX / 4);
      f32.fill(-5, PF / 4, PF / 4 + 3 * (ldf / 4));
      // Panels 1 .. 3 of the row: from byte 64 of each row.
      ex.panelrows(W + 64, P * 64, PF, ldf, 3, listed ? IDX : 0, list.length);
      for (let q = 0; q < 3; q++) {
        for (let k = 0; k < K; k++) {
          const on = list.includes(k);
          for (let col = 0; col < PANEL; col++) {
            const got = f32[PF / 4 + (q * ldf) / 4 + k * PANEL + col] as number;
            const want = on ? (kept[k * N + 16 * (q + 1) + col] as number) : -5;
            if (!Object.is(got, Math.fround(want)))
              expect.fail(`${name}: panel ${q + 1}, row ${k}, column ${col}: ${got}, not ${want}`);
          }
        }
      }
    }
  });
});

describe("gatherany", () => {
  it("lists the k where any row of a block (pairs interleaved, an odd last row plain) is not ±0", () => {
    const K = 37;
    for (const rows of [1, 2, 3, 4, 5]) {
      const lda = K * 4;
      // Row r holds a nonzero value at k when (k * 7 + r * 3) % 11 === 0; -0 elsewhere on odd k.
      const nz = (r: number, k: number) => (k * 7 + r * 3) % 11 === 0;
      f32.fill(0, X / 4, X / 4 + rows * K);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < K; k++) {
          const v = nz(r, k) ? r + 1 : k % 2 === 1 ? -0 : 0;
          const pair = r >> 1;
          const at =
            (r & ~1) + 1 < rows ? X / 4 + 2 * pair * K + 2 * k + (r & 1) : X / 4 + r * K + k;
          f32[at] = v;
        }
      }
      i32.fill(-1, IDX / 4, IDX / 4 + K);
      const n = ex.gatherany(X, lda, rows, K, IDX);
      const want = Array.from({ length: K }, (_, k) => k).filter((k) =>
        Array.from({ length: rows }, (_, r) => r).some((r) => nz(r, k)),
      );
      expect(Array.from(i32.subarray(IDX / 4, IDX / 4 + n)), `${rows} rows`).toEqual(want);
    }
  });
});

describe("gather", () => {
  // One row (pair = 0) goes four k at a time, by the four values' nonzero mask; a pair of rows
  // (pair = 1) k by k. Both must list exactly the k whose value (or either value) is not ±0.
  it("lists the k not ±0 for every mask of four, every tail length, and a pair's either row", () => {
    const zeros = [0, -0];
    const kept = [1, -2.5, Number.NaN, Infinity, -Infinity, 1e-45, -1e-45];
    let seed = 0;
    for (const K of [0, 1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 66, 67]) {
      for (let trial = 0; trial < 20; trial++) {
        for (const pair of [0, 1]) {
          // Value slot s (pair = 1: two slots a k) nonzero with a share that varies by trial,
          // so that runs of all-kept, all-zero and mixed fours all occur.
          const slots = K * (pair + 1);
          const keep = (trial % 5) / 4;
          const v = Array.from({ length: slots }, () => {
            seed = (seed * 1103515245 + 12345) >>> 0;
            const r = seed / 2 ** 32;
            const pick = (seed >>> 8) % 7;
            return r < keep ? (kept[pick] as number) : (zeros[pick % 2] as number);
          });
          f32.set(v, X / 4);
          i32.fill(-1, IDX / 4, IDX / 4 + K + 8);
          const n = ex.gather(X, K, pair, IDX);
          const isKept = (x: number) => !Object.is(x, 0) && !Object.is(x, -0);
          const want = Array.from({ length: K }, (_, k) => k).filter((k) =>
            pair === 0
              ? isKept(v[k] as number)
              : isKept(v[2 * k] as number) || isKept(v[2 * k + 1] as number),
          );
          expect(n, `K ${K}, pair ${pair}`).toBe(want.length);
          if (pair === 0 && n === K && K % 4 === 0) {
            // A row with none off writes no list (none is read): its fours store nothing.
            const untouched = i32.subarray(IDX / 4, IDX / 4 + K + 8).every((w) => w === -1);
            expect(untouched, `K ${K}`).toBe(true);
          } else if (n < K || pair === 1) {
            expect(Array.from(i32.subarray(IDX / 4, IDX / 4 + n)), `K ${K}, pair ${pair}`).toEqual(
              want,
            );
          }
        }
      }
    }
  });

  it("a row's first zero after a run of kept k, at every place: the run is written then", () => {
    const K = 67;
    for (let z = 0; z < K; z++) {
      const v = Array.from({ length: K }, (_, k) =>
        k === z ? -0 : k % 3 === 2 && k > z ? 0 : k + 1,
      );
      f32.set(v, X / 4);
      i32.fill(-1, IDX / 4, IDX / 4 + K + 8);
      const n = ex.gather(X, K, 0, IDX);
      const want = v.flatMap((x, k) => (Object.is(x, 0) || Object.is(x, -0) ? [] : [k]));
      expect(Array.from(i32.subarray(IDX / 4, IDX / 4 + n)), `zero at ${z}`).toEqual(want);
    }
  });

  it("every four-bit mask of a row of four", () => {
    for (let mask = 0; mask < 16; mask++) {
      const v = [0, 1, 2, 3].map((j) => ((mask >> j) & 1 ? j + 1 : j % 2 ? -0 : 0));
      f32.set(v, X / 4);
      i32.fill(-1, IDX / 4, IDX / 4 + 8);
      const n = ex.gather(X, 4, 0, IDX);
      const want = [0, 1, 2, 3].filter((j) => (mask >> j) & 1);
      expect(n, `mask ${mask}`).toBe(want.length);
      // All four kept: no list written (none is read).
      if (n === 4) expect(Array.from(i32.subarray(IDX / 4, IDX / 4 + 4))).toEqual([-1, -1, -1, -1]);
      else expect(Array.from(i32.subarray(IDX / 4, IDX / 4 + n)), `mask ${mask}`).toEqual(want);
    }
  });
});
