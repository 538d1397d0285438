// FeedForward with each activation: the fused epilogue is the standalone op, bit for bit, in
// every kernel; the layer agrees with a float64 model within the derived bound; the JSON
// carries the activation.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  FeedForward,
  type ActivationName,
  type FeedForwardJSON,
  type FeedForwardWeights,
  gelu,
  geluTanh,
  matmul,
  relu,
  silu,
  type Matrix,
} from "../../src/index";
import { ACTIVATIONS, ACTIVATION_SCALAR } from "../../src/kernels/activation";
import { NR, linearJs, packedLength } from "../../src/kernels/js";
import { feedForwardReference, linearReference } from "../../src/kernels/reference";
import { packRows } from "../../src/kernels/source";
import { expectSameBits } from "../helpers/bits";
import { KERNELS, type TestKernel, kernelName } from "../kernels";
import { feedForward64, outside } from "../support/layer64";
import { seededFloats as seeded } from "../helpers/arbitraries";

const OP: Record<ActivationName, (x: Matrix) => Matrix> = { relu, gelu, geluTanh, silu };

function weights(D: number, H: number, seed: number, bias: boolean): FeedForwardWeights {
  const w: FeedForwardWeights = {
    w1: { rows: D, cols: H, data: seeded(D * H, seed, 1) },
    w2: { rows: H, cols: D, data: seeded(H * D, seed + 1, 1) },
  };
  if (bias) {
    w.b1 = seeded(H, seed + 2, 1);
    w.b2 = seeded(D, seed + 3, 1);
  }
  return w;
}

// Layers with threads hold workers: every layer made here is disposed at the end.
const made: FeedForward[] = [];
afterAll(() => made.forEach((l) => l.dispose()));

/** A layer of the test kernel; on wasm-2t it must really run on two threads, any activation. */
async function layer(
  kernel: TestKernel,
  weights: FeedForwardWeights,
  activation: ActivationName,
): Promise<FeedForward> {
  const threads = kernel === "wasm-2t" ? 2 : 1;
  const ffn = await FeedForward.create({
    weights,
    kernel: kernelName(kernel),
    threads,
    activation,
  });
  expect(ffn.threads).toBe(threads);
  expect(ffn.threadsFallback).toBe(null);
  made.push(ffn);
  return ffn;
}

/**
 * The WebAssembly kernel's formula in float32 arithmetic (src/kernels/wasm/gemm.wat): each
 * element summed from +0 over k in order as acc = fl32(acc + fl32(x·w)), then fl32(acc + b),
 * then the activation; the activation other than relu is the standalone op's scalar.
 */
function wasmFormula(
  x: Float32Array,
  rows: number,
  K: number,
  w: Float32Array,
  N: number,
  b: Float32Array | undefined,
  act: ((v: number) => number) | null,
): Float32Array {
  const out = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        acc = Math.fround(acc + Math.fround((x[r * K + k] as number) * (w[k * N + j] as number)));
      }
      const v = b === undefined ? acc : Math.fround(acc + (b[j] as number));
      out[r * N + j] = act === null ? v : act(v);
    }
  }
  return out;
}

describe("the fused epilogue is the standalone op", () => {
  it.each(ACTIVATIONS)(
    "%s: linearJs with the epilogue equals the reference, bit for bit",
    (act) => {
      for (const [rows, K, N] of [
        [1, 1, 1],
        [3, 5, 7],
        [2, 17, 9],
        [5, 8, 13],
      ] as const) {
        const x = seeded(rows * K, rows * 100 + K, 3);
        const w = seeded(K * N, N, 1);
        const b = seeded(N, K + N, 1);
        const packed = new Float32Array(packedLength(K, N));
        packRows(K, N, NR, (k, dst) => dst.set(w.subarray(k * N, (k + 1) * N)), packed, 0);
        const got = new Float32Array(rows * N);
        linearJs(x, 0, rows, K, packed, 0, N, b, act, got, 0, 0, Math.ceil(N / NR));
        const want = new Float32Array(rows * N);
        linearReference(x, rows, K, w, N, b, act, want);
        expectSameBits(got, want, `${act} ${rows}x${K}x${N}`);
        // ... and the reference's epilogue is the op applied to its pre-activation.
        const pre = new Float32Array(rows * N);
        linearReference(x, rows, K, w, N, b, "none", pre);
        expectSameBits(want, OP[act]({ rows, cols: N, data: pre }).data, `${act} as an op`);
      }
    },
  );
});

describe.each(KERNELS)("kernel %s", (kernel) => {
  describe.each(ACTIVATIONS)("activation %s", (act) => {
    it("a layer without biases equals matmul, the op, matmul (js) or the wasm formula", async () => {
      const D = 7;
      const H = 19;
      const T = 37;
      const w = weights(D, H, 11, false);
      const ffn = await layer(kernel, w, act);
      expect(ffn.kernel).toBe(kernelName(kernel));
      expect(ffn.activation).toBe(act);
      const x = { rows: T, cols: D, data: seeded(T * D, 5, 3) };
      const got = ffn.forward(x).data;
      if (kernelName(kernel) === "js") {
        const composed = matmul(OP[act](matmul(x, w.w1)), w.w2).data;
        expectSameBits(got, composed, "op by op");
      } else {
        const hidden = wasmFormula(x.data, T, D, w.w1.data, H, undefined, ACTIVATION_SCALAR[act]);
        const want = wasmFormula(hidden, T, H, w.w2.data, D, undefined, null);
        expectSameBits(got, want, "wasm formula");
      }
    });

    it("a layer with biases equals the oracle (js) or the wasm formula", async () => {
      const D = 9;
      const H = 33;
      const T = 70; // more than one block of either kernel
      const w = weights(D, H, 21, true);
      const ffn = await layer(kernel, w, act);
      const x = seeded(T * D, 8, 3);
      const got = ffn.forward({ rows: T, cols: D, data: x }).data;
      const want = new Float32Array(T * D);
      if (kernelName(kernel) === "js") {
        const { w1, b1, w2, b2 } = w;
        feedForwardReference(x, T, D, H, w1.data, b1!, w2.data, b2!, want, act);
      } else {
        const act32 = ACTIVATION_SCALAR[act];
        const hidden = wasmFormula(x, T, D, w.w1.data, H, w.b1, act32);
        want.set(wasmFormula(hidden, T, H, w.w2.data, D, w.b2, null));
      }
      expectSameBits(got, want, "layer");
    });

    it("row i of forward(X) is forwardToken(X[i]), bit for bit, at every batch size", async () => {
      const D = 6;
      const H = 11;
      const ffn = await layer(kernel, weights(D, H, 31, true), act);
      for (const T of [1, 2, 3, 31, 32, 33, 65, 66]) {
        const x = seeded(T * D, T, 4);
        const y = ffn.forward({ rows: T, cols: D, data: x }).data;
        for (let i = 0; i < T; i++) {
          const token = ffn.forwardToken(x.subarray(i * D, (i + 1) * D));
          expectSameBits(y.subarray(i * D, (i + 1) * D), token, `T = ${T}, row ${i}`);
        }
      }
    });

    it("NaN, infinities and -0 in the input pass through as the op says", async () => {
      const w: FeedForwardWeights = {
        w1: { rows: 1, cols: 1, data: new Float32Array([1]) },
        w2: { rows: 1, cols: 1, data: new Float32Array([1]) },
      };
      const ffn = await layer(kernel, w, act);
      const xs = new Float32Array([NaN, Infinity, -Infinity, -0, 0, -5, 5]);
      const got = ffn.forward({ rows: xs.length, cols: 1, data: xs }).data;
      // The hidden value is x itself (x·1 summed from +0: -0 becomes +0); the output is
      // act(hidden)·1 summed from +0 again.
      const f = ACTIVATION_SCALAR[act];
      const want = xs.map((v) => 0 + f(0 + v) * 1);
      expectSameBits(got, want, "specials");
    });
  });
});

describe("agreement with a float64 model (js kernel)", () => {
  it("within the derived forward-error bound, for every activation, shapes 1..17 and primes", () => {
    const dim = fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(19, 23, 29, 31, 37));
    fc.assert(
      fc.property(
        fc.constantFrom(...ACTIVATIONS),
        dim,
        dim,
        fc.integer({ min: 0, max: 40 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (act, D, H, T, bias, seed) => {
          const w = weights(D, H, seed, bias);
          const ffn = FeedForward.fromWeights(w, { kernel: "js", activation: act });
          const x = seeded(T * D, seed + 7, 4);
          const got = ffn.forward({ rows: T, cols: D, data: x }).data;
          const model = feedForward64(
            {
              dModel: D,
              dHidden: H,
              activation: act,
              w1: w.w1.data,
              b1: w.b1 ?? null,
              w2: w.w2.data,
              b2: w.b2 ?? null,
            },
            x,
            T,
          );
          expect(outside(got, model.y, model.bound)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("options and JSON", () => {
  it("relu is the default, and each activation is kept", () => {
    expect(new FeedForward({ dModel: 2, dHidden: 3 }).activation).toBe("relu");
    for (const act of ACTIVATIONS) {
      const ffn = new FeedForward({ dModel: 2, dHidden: 3, activation: act, kernel: "js" });
      expect(ffn.activation).toBe(act);
      expect(FeedForward.fromWeights(ffn.weights, { activation: act }).activation).toBe(act);
    }
  });

  it("rejects an unknown activation", () => {
    expect(() => new FeedForward({ dModel: 2, dHidden: 3, activation: "tanh" as never })).toThrow(
      new TypeError(
        'FeedForward: options.activation must be one of "relu", "gelu", "geluTanh", "silu", got "tanh"',
      ),
    );
    const w = new FeedForward({ dModel: 2, dHidden: 3 }).weights;
    expect(() => FeedForward.fromWeights(w, { activation: 3 as never })).toThrow(
      new TypeError(
        'FeedForward.fromWeights: options.activation must be one of "relu", "gelu", "geluTanh", "silu", got number 3',
      ),
    );
  });

  it("fromJSON takes no activation option: the JSON carries it", () => {
    const json = new FeedForward({ dModel: 2, dHidden: 3, activation: "silu" }).toJSON();
    expect(() => FeedForward.fromJSON(json, { activation: "relu" } as never)).toThrow(
      new TypeError(
        "FeedForward.fromJSON: unknown option options.activation; known options are kernel, dtype, sparse",
      ),
    );
  });

  it.each(ACTIVATIONS)("a %s layer round-trips through JSON, bit for bit", (act) => {
    const a = new FeedForward({ dModel: 5, dHidden: 13, seed: 9, activation: act });
    const json = JSON.parse(JSON.stringify(a)) as FeedForwardJSON;
    expect(json.version).toBe(2);
    expect(json.activation).toBe(act);
    const b = FeedForward.fromJSON(json);
    expect(b.activation).toBe(act);
    const x = { rows: 4, cols: 5, data: seeded(20, 3, 3) };
    expectSameBits(b.forward(x).data, a.forward(x).data, "round trip");
  });

  it("a version 1 object (no activation field) loads as a relu layer", () => {
    const relu1 = new FeedForward({ dModel: 3, dHidden: 4, seed: 2 });
    const { activation: _drop, ...rest } = relu1.toJSON();
    const v1 = { ...rest, version: 1 } as FeedForwardJSON;
    const loaded = FeedForward.fromJSON(v1);
    expect(loaded.activation).toBe("relu");
    const x = { rows: 2, cols: 3, data: seeded(6, 1, 2) };
    expectSameBits(loaded.forward(x).data, relu1.forward(x).data, "version 1");
  });

  it("a version 2 object needs a known activation", () => {
    const json = new FeedForward({ dModel: 3, dHidden: 4 }).toJSON();
    const { activation: _drop, ...missing } = json;
    expect(() => FeedForward.fromJSON(missing as FeedForwardJSON)).toThrow(
      new TypeError(
        'FeedForward.fromJSON: json.activation must be one of "relu", "gelu", "geluTanh", "silu", got null',
      ),
    );
    expect(() =>
      FeedForward.fromJSON({ ...json, activation: "swish" } as unknown as FeedForwardJSON),
    ).toThrow(
      new TypeError(
        'FeedForward.fromJSON: json.activation must be one of "relu", "gelu", "geluTanh", "silu", got "swish"',
      ),
    );
    expect(() =>
      FeedForward.fromJSON({ ...json, version: 3 } as unknown as FeedForwardJSON),
    ).toThrow(
      new TypeError("FeedForward.fromJSON: unsupported version 3 or encoding float32-le-base64"),
    );
  });
});
