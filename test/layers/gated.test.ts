// GatedFeedForward's API: construction, weights, JSON, and one test per throw path (the
// message names the parameter; nothing is written). Its checkpoints: test/io/.
import { describe, expect, it } from "vitest";
import {
  GatedFeedForward,
  ShapeError,
  fromRows,
  matrix,
  zeros,
  type GatedFeedForwardJSON,
  type GatedFeedForwardWeights,
  type Matrix,
} from "../../src/index";
import { ACTIVATIONS } from "../../src/kernels/activation";
import { seededFloats as seeded } from "../helpers/arbitraries";

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function expectThrows(
  call: () => unknown,
  error: typeof TypeError | typeof RangeError | typeof ShapeError | typeof Error,
  message: string,
): void {
  let thrown: unknown;
  try {
    call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(error);
  if (error === TypeError) expect(thrown).not.toBeInstanceOf(RangeError);
  if (error === ShapeError) expect(thrown).toBeInstanceOf(RangeError);
  expect((thrown as Error).message).toBe(message);
}

describe("construction", () => {
  it("defaults: silu, no biases, seed 0, the wasm kernel where it runs", () => {
    const a = new GatedFeedForward({ dModel: 4, dHidden: 6 });
    expect([a.activation, a.hasBias, a.kernel, a.dModel, a.dHidden]).toEqual([
      "silu",
      false,
      "wasm",
      4,
      6,
    ]);
    expect(a.parameterCount).toBe(3 * 4 * 6);
    const w = a.weights;
    expect(w.bGate ?? w.bUp ?? w.bDown).toBeUndefined();
    const b = new GatedFeedForward({ dModel: 4, dHidden: 6, seed: 0, kernel: "js" });
    expect(b.kernel).toBe("js");
    expect(sameBits(b.weights.wGate.data, w.wGate.data)).toBe(true);
  });

  it("with biases, parameterCount counts them", () => {
    const a = new GatedFeedForward({ dModel: 4, dHidden: 6, bias: true, activation: "gelu" });
    expect(a.hasBias).toBe(true);
    expect(a.parameterCount).toBe(3 * 24 + 2 * 6 + 4);
    expect(a.weights.bDown?.length).toBe(4);
  });

  it("draws like nn.Linear: wGate, wUp within 1/sqrt(dModel), wDown within 1/sqrt(dHidden)", () => {
    const a = new GatedFeedForward({ dModel: 16, dHidden: 64, seed: 3, bias: true });
    const w = a.weights;
    const within = (v: Float32Array, bound: number) => v.every((x) => Math.abs(x) <= bound);
    expect(within(w.wGate.data, 1 / 4) && within(w.wUp.data, 1 / 4)).toBe(true);
    expect(within(w.bGate!, 1 / 4) && within(w.bUp!, 1 / 4)).toBe(true);
    expect(within(w.wDown.data, 1 / 8) && within(w.bDown!, 1 / 8)).toBe(true);
    // Not all the same draw: the gate and up projections differ, and a seed changes them.
    expect(sameBits(w.wGate.data, w.wUp.data)).toBe(false);
    const b = new GatedFeedForward({ dModel: 16, dHidden: 64, seed: 4, bias: true });
    expect(sameBits(b.weights.wGate.data, w.wGate.data)).toBe(false);
  });

  it("the same seed gives the same layer", () => {
    const opts = { dModel: 5, dHidden: 7, seed: 99, activation: "geluTanh" as const };
    const x = { rows: 3, cols: 5, data: seeded(15, 1, 2) };
    const y1 = new GatedFeedForward(opts).forward(x).data;
    const y2 = new GatedFeedForward(opts).forward(x).data;
    expect(sameBits(y1, y2)).toBe(true);
  });

  it.each([
    [undefined, TypeError, "GatedFeedForward: options { dModel, dHidden } are required"],
    [
      { dModel: 4, dHidden: 4, dropout: 0.1 },
      TypeError,
      "GatedFeedForward: unknown option options.dropout; known options are dModel, dHidden, seed, bias, activation, kernel, threads, dtype, sparse, device",
    ],
    [
      { dModel: 4.5, dHidden: 4 },
      TypeError,
      "GatedFeedForward: options.dModel must be a non-negative integer, got 4.5",
    ],
    [
      { dModel: 4, dHidden: 0 },
      RangeError,
      "GatedFeedForward: options.dHidden must be at least 1, got 0",
    ],
    [
      { dModel: 4, dHidden: 4, seed: 2 ** 32 },
      RangeError,
      "GatedFeedForward: options.seed must be below 2^32, got 4294967296",
    ],
    [
      { dModel: 4, dHidden: 4, activation: "swish" },
      TypeError,
      'GatedFeedForward: options.activation must be one of "relu", "gelu", "geluTanh", "silu", got "swish"',
    ],
    [
      { dModel: 4, dHidden: 4, bias: 1 },
      TypeError,
      "GatedFeedForward: options.bias must be a boolean, got number 1",
    ],
    [
      { dModel: 4, dHidden: 4, kernel: "gpu" },
      TypeError,
      'GatedFeedForward: options.kernel must be one of "auto", "js", "wasm", "webgpu", got "gpu"',
    ],
  ] as const)("rejects %o", (options, error, message) => {
    expectThrows(() => new GatedFeedForward(options as never), error, message);
  });
});

describe("fromWeights", () => {
  const D = 3;
  const H = 5;
  const base = (): GatedFeedForwardWeights => ({
    wGate: { rows: D, cols: H, data: seeded(D * H, 1) },
    wUp: { rows: D, cols: H, data: seeded(D * H, 2) },
    wDown: { rows: H, cols: D, data: seeded(H * D, 3) },
  });

  it("copies the weights: later changes to the caller's arrays do not reach the layer", () => {
    const w = base();
    const layer = GatedFeedForward.fromWeights(w);
    const x = { rows: 2, cols: D, data: seeded(2 * D, 4, 2) };
    const before = layer.forward(x).data;
    w.wGate.data.fill(0);
    w.wDown.data.fill(0);
    expect(sameBits(layer.forward(x).data, before)).toBe(true);
    const got = layer.weights;
    expect(sameBits(got.wUp.data, base().wUp.data)).toBe(true);
    got.wUp.data.fill(0); // a copy too
    expect(sameBits(layer.forward(x).data, before)).toBe(true);
  });

  it("computes the documented example", () => {
    const glu = GatedFeedForward.fromWeights(
      { wGate: fromRows([[1, -1]]), wUp: fromRows([[2, 3]]), wDown: fromRows([[1], [1]]) },
      { activation: "relu" },
    );
    // x = 1: relu([1, -1]) ⊙ [2, 3] = [2, 0], summed: 2. x = -1: [0, 1] ⊙ [-2, -3]: -3.
    expect(Array.from(glu.forward(fromRows([[1], [-1]])).data)).toEqual([2, -3]);
  });

  it.each([
    [
      "a missing weights object",
      undefined,
      TypeError,
      "GatedFeedForward.fromWeights: weights { wGate, bGate, wUp, bUp, wDown, bDown } are required",
    ],
    [
      "an unknown key",
      { ...base(), w1: zeros(1, 1) },
      TypeError,
      "GatedFeedForward.fromWeights: unknown option weights.w1; known options are wGate, bGate, wUp, bUp, wDown, bDown",
    ],
    [
      "wUp of the wrong shape",
      { ...base(), wUp: zeros(H, D) },
      ShapeError,
      'GatedFeedForward.fromWeights: weights.wUp is 5 x 3, expected (wGate.rows, wGate.cols) = 3 x 5; its transpose would fit (every matrix must be in the same layout, tokenwise\'s (in, out) unless { layout: "linear" } is given)',
    ],
    [
      "wDown not transposed",
      { ...base(), wDown: zeros(D, H) },
      ShapeError,
      'GatedFeedForward.fromWeights: weights.wDown is 3 x 5, expected (wGate.cols, wGate.rows) = 5 x 3; its transpose would fit (every matrix must be in the same layout, tokenwise\'s (in, out) unless { layout: "linear" } is given)',
    ],
    [
      "an empty wGate",
      { ...base(), wGate: zeros(0, H) },
      ShapeError,
      "GatedFeedForward.fromWeights: weights.wGate is 0 x 5; dModel and dHidden must be at least 1",
    ],
    [
      "only some biases",
      { ...base(), bGate: new Float32Array(H) },
      TypeError,
      "GatedFeedForward.fromWeights: weights.bGate, weights.bUp and weights.bDown must all be given or all be absent",
    ],
    [
      "a bias of the wrong length",
      {
        ...base(),
        bGate: new Float32Array(H),
        bUp: new Float32Array(H),
        bDown: new Float32Array(H),
      },
      ShapeError,
      "GatedFeedForward.fromWeights: weights.bDown has length 5, expected dModel = 3",
    ],
    [
      "a bias that is a plain array",
      { ...base(), bGate: [0, 0, 0, 0, 0], bUp: new Float32Array(H), bDown: new Float32Array(D) },
      TypeError,
      "GatedFeedForward.fromWeights: weights.bGate must be a Float32Array, got a plain Array",
    ],
    [
      "a weight that is not a matrix",
      { ...base(), wGate: new Float32Array(D * H) },
      TypeError,
      "GatedFeedForward.fromWeights: weights.wGate must be a matrix { rows, cols, data: Float32Array }, got a Float32Array",
    ],
  ] as const)("rejects %s", (_what, weights, error, message) => {
    expectThrows(() => GatedFeedForward.fromWeights(weights as never), error, message);
  });

  it("rejects unknown options", () => {
    expectThrows(
      () => GatedFeedForward.fromWeights(base(), { seed: 1 } as never),
      TypeError,
      "GatedFeedForward.fromWeights: unknown option options.seed; known options are kernel, activation, layout, dtype, sparse",
    );
  });
});

describe("forward and forwardToken", () => {
  const layer = new GatedFeedForward({ dModel: 4, dHidden: 9, seed: 1, bias: true });

  it("write into out when given, and return it", () => {
    const out = zeros(3, 4);
    const x = { rows: 3, cols: 4, data: seeded(12, 2, 2) };
    expect(layer.forward(x, out)).toBe(out);
    expect(sameBits(out.data, layer.forward(x).data)).toBe(true);
    const t = new Float32Array(4);
    expect(layer.forwardToken(x.data.subarray(0, 4), t)).toBe(t);
    expect(sameBits(t, out.data.subarray(0, 4))).toBe(true);
  });

  it("take zero tokens", () => {
    expect(layer.forward(zeros(0, 4)).rows).toBe(0);
  });

  it.each([
    [
      "x of the wrong width",
      () => layer.forward(zeros(2, 3)),
      ShapeError,
      "forward: x has 3 columns, expected dModel = 4",
    ],
    [
      "out of the wrong shape",
      () => layer.forward(zeros(2, 4), zeros(4, 2)),
      ShapeError,
      "forward: out is 4 x 2, expected (x.rows, dModel) = 2 x 4",
    ],
    [
      "a non-matrix x",
      () => layer.forward([[1, 2, 3, 4]] as unknown as Matrix),
      TypeError,
      "forward: x must be a matrix { rows, cols, data: Float32Array }, got a plain Array",
    ],
    [
      "a token of the wrong length",
      () => layer.forwardToken(new Float32Array(5)),
      ShapeError,
      "forwardToken: token has length 5, expected dModel = 4",
    ],
    [
      "a Float64Array token",
      () => layer.forwardToken(new Float64Array(4) as unknown as Float32Array),
      TypeError,
      "forwardToken: token must be a Float32Array, got a Float64Array",
    ],
    [
      "an out of the wrong length",
      () => layer.forwardToken(new Float32Array(4), new Float32Array(3)),
      ShapeError,
      "forwardToken: out has length 3, expected dModel = 4",
    ],
  ] as const)("reject %s", (_what, call, error, message) => {
    expectThrows(call, error, message);
  });

  it("reject an out that overlaps x, writing nothing", () => {
    const buffer = seeded(12, 5);
    const before = buffer.slice();
    const x = matrix(2, 4, buffer.subarray(0, 8));
    const out = matrix(2, 4, buffer.subarray(4, 12));
    expectThrows(
      () => layer.forward(x, out),
      ShapeError,
      "forward: out overlaps x; pass a separate output buffer",
    );
    const t = buffer.subarray(0, 4);
    expectThrows(
      () => layer.forwardToken(t, buffer.subarray(2, 6)),
      ShapeError,
      "forwardToken: out overlaps token; pass a separate output buffer",
    );
    expect(sameBits(buffer, before)).toBe(true);
  });

  it("after dispose, every use throws, and dispose again is harmless", () => {
    const l = new GatedFeedForward({ dModel: 2, dHidden: 3 });
    l.dispose();
    l.dispose();
    expectThrows(() => l.forward(zeros(1, 2)), Error, "forward: the layer was disposed");
    expectThrows(() => l.weights, Error, "weights: the layer was disposed");
    expectThrows(() => l.toJSON(), Error, "toJSON: the layer was disposed");
    expectThrows(
      () => l.backward(zeros(1, 2), zeros(1, 2)),
      Error,
      "backward: the layer was disposed",
    );
  });
});

describe("JSON", () => {
  it.each(ACTIVATIONS)("a %s layer round-trips, bit for bit, with and without biases", (act) => {
    for (const bias of [false, true]) {
      const a = new GatedFeedForward({ dModel: 6, dHidden: 10, seed: 4, activation: act, bias });
      const json = JSON.parse(JSON.stringify(a)) as GatedFeedForwardJSON;
      expect([json.format, json.version, json.activation]).toEqual([
        "tokenwise.GatedFeedForward",
        1,
        act,
      ]);
      const b = GatedFeedForward.fromJSON(json);
      expect([b.activation, b.hasBias]).toEqual([act, bias]);
      const x = { rows: 3, cols: 6, data: seeded(18, 8, 3) };
      expect(sameBits(b.forward(x).data, a.forward(x).data)).toBe(true);
    }
  });

  const json = () => new GatedFeedForward({ dModel: 2, dHidden: 3, bias: true }).toJSON();
  it.each([
    [
      "another format",
      { ...json(), format: "tokenwise.FeedForward" },
      "GatedFeedForward.fromJSON: json is not a tokenwise.GatedFeedForward (format field missing)",
    ],
    [
      "another version",
      { ...json(), version: 2 },
      "GatedFeedForward.fromJSON: unsupported version 2 or encoding float32-le-base64",
    ],
    [
      "an unknown activation",
      { ...json(), activation: "tanh" },
      'GatedFeedForward.fromJSON: json.activation must be one of "relu", "gelu", "geluTanh", "silu", got "tanh"',
    ],
    [
      "a short tensor",
      { ...json(), wUp: "AAAA" },
      "GatedFeedForward.fromJSON: json.wUp is not base64 of 6 float32 values",
    ],
    [
      "only some biases",
      { ...json(), bUp: null },
      "GatedFeedForward.fromJSON: json.bGate, json.bUp and json.bDown must all be present or all be null",
    ],
  ] as const)("rejects %s", (_what, bad, message) => {
    expectThrows(() => GatedFeedForward.fromJSON(bad as never), TypeError, message);
  });
});
