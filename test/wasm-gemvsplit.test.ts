// `gemvsplit`, the one-token tile on float32 panels (gemm's 1 x 32 tile over panels half the
// caller's span apart, then a last odd panel alone), called directly. Every element must be
// gemm's: +0, then acc + x_k * w_kj for k increasing, each product and sum rounded to float32,
// then the bias, then relu (x < 0 ? +0 : x). The reference here computes that in float64 and
// rounds as float32 does; gemm itself, on the same memory, must give the same bits. Spans cross
// the tile's edges: one panel, two, odd and even counts, a caller's share (p0 > 0); K from 1 up.
import { beforeAll, describe, it } from "vitest";
import { PANEL } from "../src/kernels/wasm/layout";
import { gemmModuleSync } from "../src/kernels/wasm/module";
import type { GemmExports } from "../src/kernels/wasm/panels";
import { seededFloats } from "./helpers/arbitraries";
import { expectSameBits } from "./helpers/bits";

const memory = new WebAssembly.Memory({ initial: 64, maximum: 64 }); // 4 MiB
let ex: GemmExports;
const f32 = new Float32Array(memory.buffer);
beforeAll(() => {
  ex = new WebAssembly.Instance(gemmModuleSync(false), { env: { memory } })
    .exports as unknown as GemmExports;
});

// Regions, in bytes.
const W = 1 << 16;
const X = 3 << 19;
const BIAS = X + (1 << 14);
const OUT = X + (2 << 14);
const OUT2 = X + (3 << 14);

/** gemm's element (k increasing, float32 rounding), then the bias and relu. */
function expected(
  w: Float32Array,
  N: number,
  x: Float32Array,
  K: number,
  bias: Float32Array | null,
  relu: boolean,
  j: number,
): number {
  let acc = 0;
  for (let k = 0; k < K; k++)
    acc = Math.fround(acc + Math.fround((x[k] as number) * (w[k * N + j] as number)));
  if (bias !== null) acc = Math.fround(acc + (bias[j] as number));
  return relu && acc < 0 ? 0 : acc;
}

describe("gemvsplit", () => {
  const spans: [number, number][] = [
    [0, 1],
    [0, 2],
    [0, 3],
    [1, 6],
    [2, 9],
    [0, 17],
    [3, 4],
  ];
  for (const K of [1, 5, 64, 200]) {
    for (const [p0, p1] of spans) {
      for (const withBias of [false, true]) {
        it(`K ${K}, panels ${p0} .. ${p1 - 1}, ${withBias ? "bias, relu" : "no bias"}`, () => {
          const P = p1; // the map's panels
          const N = P * PANEL;
          const ldw = K * 64 + 128; // a gap after each panel, holding values that must not count
          const w = seededFloats(K * N, 11 + K + P);
          f32.fill(1e30, W / 4, (W + P * ldw) / 4);
          for (let p = 0; p < P; p++)
            for (let k = 0; k < K; k++)
              for (let c = 0; c < PANEL; c++)
                f32[(W + p * ldw + 64 * k) / 4 + c] = w[k * N + p * PANEL + c] as number;
          const x = seededFloats(K, 3 + K);
          x[0] = 0; // (+0) * w: +0 or -0 terms
          f32.set(x, X / 4);
          const bias = withBias ? seededFloats(N, 5 + P) : null;
          if (bias !== null) f32.set(bias, BIAS / 4);
          const b = bias === null ? 0 : BIAS;
          const relu = withBias ? 1 : 0;
          // Outputs outside the span hold a sentinel that must stay.
          f32.fill(-7, OUT / 4, OUT / 4 + N + 32);
          f32.fill(-7, OUT2 / 4, OUT2 / 4 + N + 32);
          ex.gemvsplit(X, K, W, ldw, p0, p1, b, relu, OUT);
          ex.gemm(X, K * 4, 1, K, W, ldw, p0, p1, b, relu, 0, OUT2, N * 4);
          const got = f32.slice(OUT / 4, OUT / 4 + N + 32);
          const want = new Float32Array(N + 32).fill(-7);
          for (let j = p0 * PANEL; j < p1 * PANEL; j++)
            want[j] = expected(w, N, x, K, bias, relu === 1, j);
          expectSameBits(got, want);
          expectSameBits(got, f32.slice(OUT2 / 4, OUT2 / 4 + N + 32));
        });
      }
    }
  }
});
