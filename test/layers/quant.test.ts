// Quantized layers (dtype "q8_0" and "q4_0"): the blocks and outputs of fixtures made by an
// independent numpy implementation of llama.cpp's reference functions
// (scripts/fixtures/make_quant_layer_fixtures.py), bit for bit on every kernel; the JSON round
// trip; the dequantized weights; and every throw path. That a token's bits do not depend on its
// batch, its position or the threads is a property in test/layers/layer.prop.test.ts.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import {
  FeedForward,
  type FeedForwardWeights,
  GatedFeedForward,
  type Matrix,
  ShapeError,
  ggufTensorToFloat32,
} from "../../src/index";
import { decodeBytes, decodeFloat32, encodeFloat32 } from "../../src/base64";
import { seededBlocks, seededFloats } from "../helpers/arbitraries";
import { expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly } from "../helpers/throws";
import { KERNELS, kernelName } from "../kernels";

interface Case {
  layer: "FeedForward" | "GatedFeedForward";
  dtype: "q8_0" | "q4_0";
  activation: "relu" | "gelu" | "silu";
  dModel: number;
  dHidden: number;
  tokens: number;
  x: string;
  y: string;
  [key: string]: unknown;
}

const FIXTURE = JSON.parse(
  readFileSync(new URL("../fixtures/quant/layers.json", import.meta.url), "utf8"),
) as { cases: Case[] };

const MAPS = {
  FeedForward: [
    ["w1", "b1"],
    ["w2", "b2"],
  ],
  GatedFeedForward: [
    ["wGate", "bGate"],
    ["wUp", "bUp"],
    ["wDown", "bDown"],
  ],
} as const;

const live: { dispose(): void }[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.dispose();
});

const f32 = (text: unknown, n: number) => decodeFloat32(text as string, n) as Float32Array;

/** A case's float32 weights, in tokenwise's (in, out) layout. */
function weightsOf(c: Case): Record<string, Matrix | Float32Array> {
  const w: Record<string, Matrix | Float32Array> = {};
  const maps = MAPS[c.layer];
  maps.forEach(([wk, bk], i) => {
    const [rows, cols] = i < maps.length - 1 ? [c.dModel, c.dHidden] : [c.dHidden, c.dModel];
    w[wk] = { rows, cols, data: f32(c[wk], rows * cols) };
    if (c[bk] !== null) w[bk] = f32(c[bk], cols);
  });
  return w;
}

const classOf = (c: Case) => (c.layer === "FeedForward" ? FeedForward : GatedFeedForward);
const name = (c: Case) => `${c.layer} ${c.dtype} ${c.activation} ${c.dModel}x${c.dHidden}`;

describe.each(KERNELS)("quantized layers on the %s kernel", (kernel) => {
  const threads = kernel === "wasm-2t" ? 2 : 1;
  describe.each(FIXTURE.cases.map((c) => [name(c), c] as const))("%s", (_, c) => {
    it("quantizes the weights to the fixture's blocks and computes its outputs, bit for bit", async () => {
      const L = classOf(c);
      const layer = await L.create({
        weights: weightsOf(c) as never,
        activation: c.activation,
        dtype: c.dtype,
        kernel: kernelName(kernel),
        threads,
      });
      live.push(layer);
      expect(layer.dtype).toBe(c.dtype);
      if (kernel === "wasm-2t") expect(layer.threads).toBe(2);
      const json = layer.toJSON() as unknown as Record<string, unknown>;
      for (const [wk] of MAPS[c.layer]) {
        expect(decodeBytes(json[wk] as string), wk).toEqual(
          decodeBytes(c[`${wk}Blocks`] as string),
        );
      }
      const x: Matrix = { rows: c.tokens, cols: c.dModel, data: f32(c.x, c.tokens * c.dModel) };
      const want = f32(c.y, c.tokens * c.dModel);
      expectSameBits(layer.forward(x).data, want, "forward");
      expectSameBits((await layer.forwardAsync(x)).data, want, "forwardAsync");
      for (let t = 0; t < c.tokens; t++) {
        const token = x.data.subarray(t * c.dModel, (t + 1) * c.dModel);
        expectSameBits(layer.forwardToken(token), want.subarray(t * c.dModel, (t + 1) * c.dModel));
      }
    });

    it("reads the fixture's blocks from JSON as they are, and its weights are their values", () => {
      const L = classOf(c);
      const json: Record<string, unknown> = {
        format: c.layer === "FeedForward" ? "tokenwise.FeedForward" : "tokenwise.GatedFeedForward",
        version: c.layer === "FeedForward" ? 3 : 2,
        activation: c.activation,
        dtype: c.dtype,
        dModel: c.dModel,
        dHidden: c.dHidden,
        encoding: "le-base64",
      };
      for (const [wk, bk] of MAPS[c.layer]) {
        json[wk] = c[`${wk}Blocks`];
        json[bk] = c[bk];
      }
      if (kernel === "wasm-2t") return; // fromJSON builds on one thread
      const layer = L.fromJSON(json as never, { kernel: kernelName(kernel) });
      live.push(layer);
      const x: Matrix = { rows: c.tokens, cols: c.dModel, data: f32(c.x, c.tokens * c.dModel) };
      expectSameBits(layer.forward(x).data, f32(c.y, c.tokens * c.dModel), "forward");
      expect(JSON.parse(JSON.stringify(layer))).toEqual(json);
      const weights = layer.weights as unknown as Record<string, Matrix>;
      MAPS[c.layer].forEach(([wk], i) => {
        const last = i === MAPS[c.layer].length - 1;
        const [K, N] = last ? [c.dHidden, c.dModel] : [c.dModel, c.dHidden];
        // ggml's own layout: N rows of K values; tokenwise's weights are its transpose.
        const rowsOfK = ggufTensorToFloat32({
          type: c.dtype === "q8_0" ? "Q8_0" : "Q4_0",
          shape: [K, N],
          data: decodeBytes(c[`${wk}Blocks`] as string) as Uint8Array,
        });
        const w = weights[wk] as Matrix;
        expect([w.rows, w.cols]).toEqual([K, N]);
        const t = new Float32Array(K * N);
        for (let k = 0; k < K; k++)
          for (let j = 0; j < N; j++) t[k * N + j] = rowsOfK[j * K + k] as number;
        expectSameBits(w.data, t, wk);
      });
    });
  });
});

describe("quantized layers of any blocks", () => {
  const D = 64;
  const H = 96;
  it.each([
    ["q8_0", false],
    ["q4_0", false],
    ["q8_0", true],
    ["q4_0", true],
  ] as const)(
    "%s blocks (special scales: %s) give the js kernel's bits on the wasm kernel, alone and in batches",
    (dtype, special) => {
      const json = {
        format: "tokenwise.FeedForward",
        version: 3,
        activation: "relu",
        dtype,
        dModel: D,
        dHidden: H,
        encoding: "le-base64",
        w1: encodeFloat32(seededBlocks(dtype, (H * D) / 32, 41, false)),
        b1: encodeFloat32(seededFloats(H, 42, 1)),
        // Infinite and NaN scales only in the last map: every column they do not reach stays finite.
        w2: encodeFloat32(seededBlocks(dtype, (H * D) / 32, 43, special)),
        b2: encodeFloat32(new Float32Array(D)),
      };
      const oracle = FeedForward.fromJSON(json as never, { kernel: "js" });
      const layer = FeedForward.fromJSON(json as never, { kernel: "wasm" });
      live.push(oracle, layer);
      const x = seededFloats(7 * D, 44, 3);
      for (const rows of [1, 2, 3, 7]) {
        const xm: Matrix = { rows, cols: D, data: x.subarray(0, rows * D) };
        const want = oracle.forward(xm).data;
        let finite = 0;
        for (const v of want) if (Number.isFinite(v)) finite++;
        expect(finite, "finite outputs").toBeGreaterThan(want.length / 2);
        expectSameBits(layer.forward(xm).data, want, `${rows} rows`);
      }
    },
  );
});

describe("quantized layers", () => {
  const D = 64;
  const H = 96;
  const weights = (): FeedForwardWeights => ({
    w1: { rows: D, cols: H, data: seededFloats(D * H, 5, 0.1) },
    b1: seededFloats(H, 6, 0.1),
    w2: { rows: H, cols: D, data: seededFloats(D * H, 7, 0.1) },
    b2: seededFloats(D, 8, 0.1),
  });

  it("round-trip through JSON to the bit, with the dtype, on any kernel", () => {
    for (const dtype of ["q8_0", "q4_0"] as const) {
      const a = new GatedFeedForward({ dModel: D, dHidden: H, dtype, seed: 3 });
      const json = JSON.parse(JSON.stringify(a));
      expect([json.version, json.dtype, json.encoding]).toEqual([2, dtype, "le-base64"]);
      // 96 outputs of 2 blocks, then 64 of 3: 34 (q8_0) or 18 (q4_0) bytes a block.
      expect(decodeBytes(json.wGate)?.length).toBe(96 * 2 * (dtype === "q8_0" ? 34 : 18));
      const b = GatedFeedForward.fromJSON(json, { kernel: "js" });
      const x = seededFloats(3 * D, 9, 2);
      expectSameBits(
        b.forward({ rows: 3, cols: D, data: x }).data,
        a.forward({ rows: 3, cols: D, data: x }).data,
      );
      expect(JSON.parse(JSON.stringify(b))).toEqual(json);
    }
  });

  it("fromJSON with another dtype: float32 JSON quantized, quantized JSON dequantized exactly", () => {
    const f = FeedForward.fromWeights(weights());
    const q = FeedForward.fromJSON(f.toJSON(), { dtype: "q8_0" });
    expect(q.dtype).toBe("q8_0");
    const direct = FeedForward.fromWeights(weights(), { dtype: "q8_0" });
    expect(q.toJSON()).toEqual(direct.toJSON());
    const back = FeedForward.fromJSON(q.toJSON(), { dtype: "f32" });
    expectSameBits(back.weights.w1.data, q.weights.w1.data, "dequantized w1");
  });

  it("a quantized layer is within the quantization's error of the float32 layer", () => {
    // Not a bit-for-bit check: the outputs are compared for size only, so a wrong scale or a
    // swapped nibble (tens of percent) fails while the quantization's own error passes.
    const f = FeedForward.fromWeights(weights());
    const x = seededFloats(8 * D, 10, 1);
    const y = f.forward({ rows: 8, cols: D, data: x }).data;
    for (const [dtype, limit] of [
      ["q8_0", 0.03],
      ["q4_0", 0.3],
    ] as const) {
      const q = FeedForward.fromWeights(weights(), { dtype });
      const yq = q.forward({ rows: 8, cols: D, data: x }).data;
      let e = 0;
      let r = 0;
      for (let i = 0; i < y.length; i++) {
        e += ((yq[i] as number) - (y[i] as number)) ** 2;
        r += (y[i] as number) ** 2;
      }
      expect(Math.sqrt(e / r), dtype).toBeLessThan(limit);
    }
  });

  it("throws, naming the parameter, and changes nothing", () => {
    const F = "FeedForward";
    const w = weights();
    const bad = weights();
    (bad.w2.data as Float32Array)[5 * D + 7] = NaN;
    const odd = {
      w1: { rows: 48, cols: 64, data: new Float32Array(48 * 64) },
      w2: { rows: 64, cols: 48, data: new Float32Array(48 * 64) },
    };
    const q = new FeedForward({ dModel: 32, dHidden: 64, dtype: "q4_0" }).toJSON();
    const short = { ...q, w1: q.w1.slice(0, -8) };
    const cases = [
      {
        what: "dModel not a multiple of 32",
        call: () => new FeedForward({ dModel: 48, dHidden: 64, dtype: "q8_0" }),
        error: ShapeError,
        message: `${F}: dModel = 48 is not a multiple of 32, the block size of dtype "q8_0" (blocks run along each matrix's input dimension: dModel for the maps into the hidden width, dHidden for the last)`,
      },
      {
        what: "dHidden not a multiple of 32",
        call: () => new GatedFeedForward({ dModel: 32, dHidden: 100, dtype: "q4_0" }),
        error: ShapeError,
        message: `GatedFeedForward: dHidden = 100 is not a multiple of 32, the block size of dtype "q4_0" (blocks run along each matrix's input dimension: dModel for the maps into the hidden width, dHidden for the last)`,
      },
      {
        what: "weights of a width not a multiple of 32",
        call: () => FeedForward.fromWeights(odd, { dtype: "q4_0" }),
        error: ShapeError,
        message: /^FeedForward\.fromWeights: dModel = 48 is not a multiple of 32/,
        buffers: [odd.w1.data],
      },
      {
        what: "a weight that is not finite",
        call: () => FeedForward.fromWeights(bad, { dtype: "q8_0" }),
        error: RangeError,
        message: `${F}.fromWeights: weights.w2[5, 7] is NaN; only finite weights quantize to dtype "q8_0"`,
        buffers: [bad.w2.data, w.w1.data],
      },
      {
        what: "an unknown dtype",
        call: () => FeedForward.fromWeights(w, { dtype: "q5_0" as never }),
        error: RangeError,
        message: `${F}.fromWeights: options.dtype must be one of "f32", "bf16", "f16", "q8_0", "q4_0", got "q5_0"`,
      },
      {
        what: "JSON blocks of the wrong length",
        call: () => FeedForward.fromJSON(short),
        error: TypeError,
        message: `${F}.fromJSON: json.w1 is not base64 of 2048 weights as q4_0 blocks`,
      },
      {
        what: "JSON of a quantized dtype and a width not a multiple of 32",
        call: () => FeedForward.fromJSON({ ...q, dModel: 40 }),
        error: ShapeError,
        message: `${F}.fromJSON: json.dModel = 40 is not a multiple of 32, the block size of json.dtype "q4_0"`,
      },
    ];
    for (const c of cases) expectThrowsCleanly(c);
  });
});
