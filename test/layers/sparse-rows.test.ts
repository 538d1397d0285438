// A relu layer's last map laid out by row (docs/numerics.md, "Sparse hidden values") at widths
// the property test (test/layers/layer.prop.test.ts, dimensions up to 97) does not reach: a
// dModel whose rows are a multiple of 1 KiB, which layout.ts pads by a line (512: 16 panels a
// group; 1024: 32), next to one it does not pad (200), and a dHidden of several of gemmrows'
// 64-row blocks. A batch of up to 64 tokens whose pairs read every row goes to gemmrows, a
// larger one or one with short lists to the copied panels (each case has all three): either
// way the layer that skips is, bit for bit, the one that does not (`sparse: false`, gemm on
// panels), on one thread and two, and each token alone (forwardToken, gemvhalves) gives its
// row of the batch.
import { afterAll, describe, expect, it } from "vitest";
import { FeedForward, GatedFeedForward, type Matrix, row } from "../../src/index";
import { groupPanels, rowBytes } from "../../src/kernels/wasm/layout";
import { seededFloats } from "../helpers/arbitraries";
import { expectSameBits } from "../helpers/bits";

type Layer = FeedForward | GatedFeedForward;
const live: Layer[] = [];
afterAll(() => {
  for (const l of live) l.dispose();
});

const mat = (rows: number, cols: number, seed: number, scale = 1): Matrix => ({
  rows,
  cols,
  data: seededFloats(rows * cols, seed, scale),
});

/**
 * Weights of a relu layer whose hidden unit j is off for every token when j's draw is below
 * `off` (its columns of the maps into the hidden width zero, the first bias -1) and on for every
 * token otherwise (the first bias shifted up by 1000): at off 0 and 0.1 every pair of tokens
 * lists more than 7/8 of the units, and reads every row (gemmrows); at 0.5 and 0.95 it reads
 * its list from the copied panels.
 */
function weights(gated: boolean, D: number, H: number, off: number, seed: number) {
  const maps = gated ? ["wGate", "wUp"] : ["w1"];
  const biases = gated ? ["bGate", "bUp"] : ["b1"];
  const u = seededFloats(H, seed + 9);
  const w: Record<string, Matrix | Float32Array> = {};
  maps.forEach((k, i) => {
    const m = mat(D, H, seed + i, 0.5);
    const b = seededFloats(H, seed + 5 + i);
    for (let j = 0; j < H; j++) {
      if (((u[j] as number) + 1) / 2 >= off) {
        if (i === 0) b[j] = (b[j] as number) + 1000;
        continue;
      }
      for (let r = 0; r < D; r++) m.data[r * H + j] = 0;
      if (i === 0) b[j] = -1;
    }
    w[k] = m;
    w[biases[i] as string] = b;
  });
  w[gated ? "wDown" : "w2"] = mat(H, D, seed + 7, 0.5);
  w[gated ? "bDown" : "b2"] = seededFloats(D, seed + 8);
  return w;
}

describe("the layout by row", () => {
  it("pads a row of a multiple of 1 KiB by one line, and no other", () => {
    const at = (D: number) => rowBytes({ panels: Math.ceil(D / 16), elem: 4 });
    expect([at(512), at(1024), at(4096)]).toEqual([16 * 64 + 64, 32 * 64 + 64, 128 * 64 + 64]);
    expect([at(200), at(768), at(1000)]).toEqual([7 * 64, 24 * 64, 32 * 64 + 64]);
    expect(groupPanels({ panels: 63, elem: 4 })).toBe(32);
  });
});

describe.each([
  { D: 512, H: 130 },
  { D: 1024, H: 64 },
  { D: 200, H: 200 },
])("a relu layer of dModel $D, dHidden $H, skipping", ({ D, H }) => {
  it.each([
    { gated: false, threads: 1 },
    { gated: false, threads: 2 },
    { gated: true, threads: 1 },
    { gated: true, threads: 2 },
  ])(
    "is the dense layer bit for bit (gated $gated, $threads threads)",
    async ({ gated, threads }) => {
      for (const off of [0, 0.1, 0.5, 0.95]) {
        const w = weights(gated, D, H, off, 17 * D + H);
        const make = (sparse: boolean) =>
          gated
            ? GatedFeedForward.create({ weights: w as never, activation: "relu", threads, sparse })
            : FeedForward.create({ weights: w as never, activation: "relu", threads, sparse });
        const [skip, dense] = await Promise.all([make(true), make(false)]);
        live.push(skip, dense);
        expect(skip.threads).toBe(threads);
        for (const T of [2, 3, 33, 64, 65, 129]) {
          const x = mat(T, D, 1000 + T);
          const y = skip.forward(x);
          expectSameBits(y.data, dense.forward(x).data, `off ${off}, ${T} tokens`);
          expectSameBits((await skip.forwardAsync(x)).data, y.data, `off ${off}, ${T} async`);
          for (const i of [0, 1, T - 1]) {
            expectSameBits(skip.forwardToken(row(x, i)), row(y, i), `off ${off}, token ${i}`);
          }
        }
        skip.dispose();
        dense.dispose();
      }
    },
  );
});
