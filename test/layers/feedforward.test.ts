import { beforeAll, describe, expect, it } from "vitest";
import {
  FeedForward,
  type FeedForwardJSON,
  type FeedForwardWeights,
  fromRows,
  matrix,
  row,
  toRows,
  zeros,
} from "../../src/index";
import { seededFloats } from "../helpers/arbitraries";
import { bitsOf, expectSameBits, expectSameMatrix, snapshot } from "../helpers/bits";
import { KERNELS, kernelName, layerFromJSON, layerFromWeights, makeLayer } from "../kernels";

/** Weights of a (dModel, dHidden) layer from a seeded stream, not from the layer's own init. */
function someWeights(
  dModel: number,
  dHidden: number,
  seed: number,
  bias = true,
): FeedForwardWeights {
  const w: FeedForwardWeights = {
    w1: matrix(dModel, dHidden, seededFloats(dModel * dHidden, seed, 0.5)),
    w2: matrix(dHidden, dModel, seededFloats(dHidden * dModel, seed + 1, 0.5)),
  };
  if (bias) {
    w.b1 = seededFloats(dHidden, seed + 2, 0.5);
    w.b2 = seededFloats(dModel, seed + 3, 0.5);
  }
  return w;
}

function expectSameWeights(a: FeedForwardWeights, b: FeedForwardWeights): void {
  expectSameMatrix(a.w1, b.w1, "w1");
  expectSameMatrix(a.w2, b.w2, "w2");
  expect(a.b1 === undefined).toBe(b.b1 === undefined);
  if (a.b1 && b.b1) expectSameBits(a.b1, b.b1, "b1");
  if (a.b2 && b.b2) expectSameBits(a.b2, b.b2, "b2");
}

/** Strictly the same 32-bit patterns, NaN payloads included. */
function expectIdenticalBits(a: Float32Array, b: Float32Array): void {
  expect(Array.from(bitsOf(a))).toEqual(Array.from(bitsOf(b)));
}

describe.each(KERNELS)("FeedForward, %s kernel", (kernel) => {
  it("builds a seeded layer: sizes, parameter count, biases, kernel", async () => {
    const ffn = await makeLayer(kernel, { dModel: 6, dHidden: 10, seed: 3 });
    expect([ffn.dModel, ffn.dHidden, ffn.hasBias, ffn.kernel]).toEqual([
      6,
      10,
      true,
      kernelName(kernel),
    ]);
    expect(ffn.threads).toBe(kernel === "wasm-2t" ? 2 : 1);
    expect(ffn.threadsFallback).toBe(null);
    expect(ffn.parameterCount).toBe(6 * 10 + 10 + 10 * 6 + 6);
    const w = ffn.weights;
    expect([w.w1.rows, w.w1.cols, w.w2.rows, w.w2.cols]).toEqual([6, 10, 10, 6]);
    expect([w.b1?.length, w.b2?.length]).toEqual([10, 6]);
  });

  it("computes relu(x·W1 + b1)·W2 + b2 on a hand-worked example", async () => {
    // h = [1, 2, 1·-1 + 2·1 - 5] = [1, 2, -4]; r = [1, 2, 0]; y = [1 + 2 + 0.5, 1 - 2] = [3.5, -1]
    const ffn = await layerFromWeights(kernel, {
      w1: fromRows([
        [1, 0, -1],
        [0, 1, 1],
      ]),
      b1: new Float32Array([0, 0, -5]),
      w2: fromRows([
        [1, 1],
        [1, -1],
        [5, 5],
      ]),
      b2: new Float32Array([0.5, 0]),
    });
    expect(
      toRows(
        ffn.forward(
          fromRows([
            [1, 2],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual([
      [3.5, -1],
      [0.5, 0],
    ]);
    expect(Array.from(ffn.forwardToken(new Float32Array([1, 2])))).toEqual([3.5, -1]);
  });

  it("weights is a fresh copy on each read: changing it does not change the layer", async () => {
    const ffn = await makeLayer(kernel, { dModel: 5, dHidden: 7, seed: 1 });
    const x = matrix(3, 5, seededFloats(15, 8));
    const y = ffn.forward(x);
    const w = ffn.weights;
    expect(ffn.weights.w1.data).not.toBe(w.w1.data);
    w.w1.data.fill(9);
    (w.b1 as Float32Array).fill(9);
    w.w2.data.fill(9);
    (w.b2 as Float32Array).fill(9);
    expectSameMatrix(ffn.forward(x), y);
    expect(ffn.weights.w1.data[0]).not.toBe(9);
  });

  it("fromWeights copies: the layer neither sees later changes to the buffers nor writes them", async () => {
    const given = someWeights(4, 9, 11);
    const unchanged = snapshot(given.w1.data, given.w2.data, given.b1!, given.b2!);
    const ffn = await layerFromWeights(kernel, given);
    expectSameWeights(ffn.weights, given);
    const x = matrix(5, 4, seededFloats(20, 2));
    const y = ffn.forward(x);
    ffn.forwardToken(row(x, 0));
    unchanged();
    given.w1.data.fill(0);
    given.w2.data.fill(0);
    expectSameMatrix(ffn.forward(x), y);
  });

  it("fromWeights keeps -0, NaN, ±Infinity and subnormal weights as given", async () => {
    const w = someWeights(3, 4, 5);
    w.w1.data.set([-0, NaN, Infinity, -Infinity, 1e-45, -1e-40]);
    (w.b2 as Float32Array).set([-0, NaN]);
    const ffn = await layerFromWeights(kernel, w);
    expectSameWeights(ffn.weights, w);
    expect(Object.is(ffn.weights.w1.data[0], -0)).toBe(true);
  });

  it("a layer without biases: hasBias false, 2·dModel·dHidden parameters, and the bits of zero biases", async () => {
    const noBias = await layerFromWeights(kernel, someWeights(6, 5, 21, false));
    expect(noBias.hasBias).toBe(false);
    expect(noBias.parameterCount).toBe(2 * 6 * 5);
    const w = noBias.weights;
    expect("b1" in w || "b2" in w).toBe(false);
    // A float64 sum starts at +0, and s + (+0) is s for every s, so zero biases change no bit.
    const zeroBias = await layerFromWeights(kernel, {
      ...someWeights(6, 5, 21, false),
      b1: new Float32Array(5),
      b2: new Float32Array(6),
    });
    const x = matrix(7, 6, seededFloats(42, 4, 3));
    expectSameMatrix(noBias.forward(x), zeroBias.forward(x));
  });

  it("an empty batch (0 tokens) gives an empty 0 x dModel result", async () => {
    const ffn = await makeLayer(kernel, { dModel: 3, dHidden: 4 });
    expect(ffn.forward(zeros(0, 3))).toEqual(zeros(0, 3));
    expect(ffn.forward(fromRows([], 3))).toEqual(zeros(0, 3));
    const out = zeros(0, 3);
    expect(ffn.forward(zeros(0, 3), out)).toBe(out);
  });

  it("x and out may be views at offsets into one buffer, as long as they do not overlap", async () => {
    const ffn = await makeLayer(kernel, { dModel: 3, dHidden: 8, seed: 2 });
    const buf = new Float32Array(1 + 12 + 12 + 1).fill(NaN);
    const x = matrix(4, 3, buf.subarray(1, 13));
    x.data.set(seededFloats(12, 3));
    const out = matrix(4, 3, buf.subarray(13, 25));
    const want = ffn.forward(matrix(4, 3, x.data.slice()));
    ffn.forward(x, out);
    expectSameMatrix(out, want);
    expect([buf[0], buf[25]]).toEqual([NaN, NaN]);
    const tokenOut = buf.subarray(13, 16);
    expectSameBits(ffn.forwardToken(buf.subarray(1, 4), tokenOut), row(want, 0));
  });

  describe("toJSON and fromJSON", () => {
    const roundTrip = async (ffn: FeedForward) => {
      const text = JSON.stringify(ffn);
      const json = JSON.parse(text) as FeedForwardJSON;
      expect(json.format).toBe("tokenwise.FeedForward");
      return layerFromJSON(kernel, json);
    };

    it("reproduce a seeded layer's weights and outputs bit for bit, through JSON text", async () => {
      const a = await makeLayer(kernel, { dModel: 7, dHidden: 13, seed: 99 });
      const b = await roundTrip(a);
      expect([b.dModel, b.dHidden, b.hasBias, b.parameterCount]).toEqual([
        7,
        13,
        true,
        a.parameterCount,
      ]);
      expectIdenticalBits(b.weights.w1.data, a.weights.w1.data);
      expectIdenticalBits(b.weights.b2!, a.weights.b2!);
      const x = matrix(9, 7, seededFloats(63, 1, 2));
      expectSameMatrix(b.forward(x), a.forward(x));
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    });

    it("reproduce a layer without biases", async () => {
      const a = await layerFromWeights(kernel, someWeights(5, 3, 8, false));
      const json = a.toJSON();
      expect([json.b1, json.b2]).toEqual([null, null]);
      const b = await roundTrip(a);
      expect(b.hasBias).toBe(false);
      expectSameWeights(b.weights, a.weights);
      const x = matrix(3, 5, seededFloats(15, 6));
      expectSameMatrix(b.forward(x), a.forward(x));
    });

    it("keep -0, NaN (its bits too), ±Infinity and subnormals, which JSON numbers cannot carry", async () => {
      const w = someWeights(2, 3, 4);
      w.w1.data.set([-0, NaN, Infinity, -Infinity, 1e-45, -1e-40]);
      (w.b1 as Float32Array).set([-0, 3.4028234663852886e38, -Infinity]);
      const a = await layerFromWeights(kernel, w);
      const b = await roundTrip(a);
      expectIdenticalBits(b.weights.w1.data, a.weights.w1.data);
      expectIdenticalBits(b.weights.b1!, a.weights.b1!);
      expect(Object.is(b.weights.w1.data[0], -0)).toBe(true);
      // a layer's bytes are the same after any number of round trips
      expect(JSON.stringify(await roundTrip(b))).toBe(JSON.stringify(a));
    });

    it("encode sizes that are not multiples of 3 bytes' worth: 1 to 5 floats", async () => {
      for (let d = 1; d <= 5; d++) {
        const a = await layerFromWeights(kernel, someWeights(d, 1, d));
        const b = await roundTrip(a);
        expectSameWeights(b.weights, a.weights);
      }
    });
  });

  describe("NaN and ±Infinity (docs/numerics.md)", () => {
    let ffn: FeedForward;
    beforeAll(async () => {
      ffn = await makeLayer(kernel, { dModel: 5, dHidden: 11, seed: 17 });
    });

    it("a NaN in one token makes that token's whole row NaN, and no other", () => {
      const x = matrix(4, 5, seededFloats(20, 12, 2));
      const clean = ffn.forward(x);
      x.data[2 * 5 + 3] = NaN;
      const y = ffn.forward(x);
      expect(Array.from(row(y, 2)).every(Number.isNaN)).toBe(true);
      for (const i of [0, 1, 3]) expectSameBits(row(y, i), row(clean, i), `row ${i}`);
    });

    it("±Infinity poisons only its own token too", () => {
      const x = matrix(3, 5, seededFloats(15, 13, 2));
      const clean = ffn.forward(x);
      x.data[5] = Infinity;
      x.data[5 + 4] = -Infinity;
      const y = ffn.forward(x);
      expect(Array.from(row(y, 1)).some((v) => !Number.isFinite(v))).toBe(true);
      expectSameBits(row(y, 0), row(clean, 0));
      expectSameBits(row(y, 2), row(clean, 2));
    });

    it("Infinity times a zero weight is NaN, as IEEE says, and NaN passes relu", async () => {
      const one = await layerFromWeights(kernel, {
        w1: fromRows([[0, 1]]),
        b1: new Float32Array(2),
        w2: fromRows([[1], [1]]),
        b2: new Float32Array(1),
      });
      expect(one.forwardToken(new Float32Array([Infinity]))[0]).toBeNaN();
      expect(one.forwardToken(new Float32Array([1]))[0]).toBe(1);
    });

    it("relu(-Infinity) is +0, which stops an infinity; relu(+Infinity) passes it", async () => {
      // h = [x, -x]; y = relu(x)·1 + relu(-x)·w
      const layer = (w: number) =>
        layerFromWeights(kernel, { w1: fromRows([[1, -1]]), w2: fromRows([[1], [w]]) });
      const pos = await layer(2);
      expect(Array.from(pos.forwardToken(new Float32Array([Infinity])))).toEqual([Infinity]);
      expect(Array.from(pos.forwardToken(new Float32Array([-Infinity])))).toEqual([Infinity]);
      const neg = await layer(-2);
      expect(Array.from(neg.forwardToken(new Float32Array([-Infinity])))).toEqual([-Infinity]);
    });

    it("+Infinity + -Infinity in a sum is NaN", async () => {
      // x = [Inf, Inf]: h = [Inf, Inf] both pass relu; y = Inf·1 + Inf·(-1) = NaN
      const l = await layerFromWeights(kernel, {
        w1: fromRows([
          [1, 0],
          [0, 1],
        ]),
        w2: fromRows([
          [1, 0],
          [-1, 0],
        ]),
      });
      const y = l.forwardToken(new Float32Array([Infinity, Infinity]));
      expect(y[0]).toBeNaN();
      expect(y[1]).toBeNaN(); // Inf·0 + Inf·0
    });

    it("a NaN weight reaches every token through it, even where relu zeroed the hidden value", async () => {
      const w = someWeights(3, 4, 30);
      w.w2.data[2 * 3 + 1] = NaN; // W2[2][1]: every token's output 1
      const l = await layerFromWeights(kernel, w);
      const y = l.forward(matrix(5, 3, seededFloats(15, 31, 2)));
      for (let t = 0; t < 5; t++) {
        expect(Number.isNaN(y.data[t * 3 + 1])).toBe(true);
        expect(Number.isFinite(y.data[t * 3]) && Number.isFinite(y.data[t * 3 + 2])).toBe(true);
      }
      w.w1.data[1 * 4 + 3] = NaN; // W1[1][3]: hidden unit 3 of every token, so every output
      const all = await layerFromWeights(kernel, w);
      expect(all.forward(matrix(2, 3, seededFloats(6, 32))).data.every(Number.isNaN)).toBe(true);
    });

    it("gives -0 only where a negative sum underflows; an exactly zero sum is +0", async () => {
      // y = fl32(r · w2) with r = relu(x): 2^-60 · -2^-100 = -2^-160. The js kernel sums in
      // float64 from +0, so the sum is -2^-160 and rounds to -0 at the end; the wasm kernel
      // rounds the product to float32 first (-0), and +0 + -0 is +0 (docs/numerics.md).
      const l = await layerFromWeights(kernel, {
        w1: fromRows([[1]]),
        w2: fromRows([[-(2 ** -100)]]),
      });
      const underflow = kernel === "js" ? -0 : 0;
      expect(Object.is(l.forwardToken(new Float32Array([2 ** -60]))[0], underflow)).toBe(true);
      // relu(-2^-60) = +0, and +0 · -2^-100 = -0 summed from +0 is +0.
      expect(Object.is(l.forwardToken(new Float32Array([-(2 ** -60)]))[0], 0)).toBe(true);
      expect(Object.is(l.forwardToken(new Float32Array([-0]))[0], 0)).toBe(true);
    });

    it("keeps subnormals (no flush to zero)", async () => {
      const l = await layerFromWeights(kernel, { w1: fromRows([[1]]), w2: fromRows([[0.5]]) });
      expect(l.forwardToken(new Float32Array([2 ** -148]))[0]).toBe(2 ** -149);
    });

    it("a finite result too large for float32 becomes ±Infinity", async () => {
      const l = await layerFromWeights(kernel, { w1: fromRows([[4]]), w2: fromRows([[1]]) });
      expect(l.forwardToken(new Float32Array([3e38]))[0]).toBe(Infinity);
    });
  });
});

describe("the default kernel", () => {
  it("is a kernel tokenwise has, and computes what that kernel computes, bit for bit", async () => {
    const auto = new FeedForward({ dModel: 9, dHidden: 20, seed: 8 });
    expect(KERNELS as readonly string[]).toContain(auto.kernel);
    const explicit = await makeLayer(auto.kernel as (typeof KERNELS)[number], {
      dModel: 9,
      dHidden: 20,
      seed: 8,
    });
    const x = matrix(6, 9, seededFloats(54, 3));
    expectSameMatrix(auto.forward(x), explicit.forward(x));
    const fromJSON = FeedForward.fromJSON(auto.toJSON(), { kernel: "auto" });
    expectSameMatrix(fromJSON.forward(x), explicit.forward(x));
  });
});

describe("the JS kernel sums in float64", () => {
  it("so a partial sum beyond float32's range does not overflow when the total fits", async () => {
    // h = 3e38 + 3e38 - 3e38: float32 accumulation gives Infinity, float64 gives 3e38.
    const ffn = await layerFromWeights("js", {
      w1: fromRows([[1], [1], [-1]]),
      w2: fromRows([[1, 0, 0]]),
    });
    expect(ffn.kernel).toBe("js");
    const y = ffn.forwardToken(new Float32Array([3e38, 3e38, 3e38]));
    expect(y[0]).toBe(Math.fround(3e38));
  });

  it("so it rounds once: 1 + 2^-30 - 1 is 2^-30", async () => {
    const ffn = await layerFromWeights("js", {
      w1: fromRows([[1], [1], [-1]]),
      w2: fromRows([[1, 0, 0]]),
    });
    expect(ffn.forwardToken(new Float32Array([1, 2 ** -30, 1]))[0]).toBe(2 ** -30);
  });
});
