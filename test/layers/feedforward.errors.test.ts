// One test per throw path of FeedForward's public functions. After each throw: every buffer
// the call was given is byte-identical, and the layer still gives the same bits as before.
import { beforeAll, describe, expect, it } from "vitest";
import {
  FeedForward,
  type FeedForwardJSON,
  type FeedForwardOptions,
  type FeedForwardWeights,
  type Matrix,
  ShapeError,
  matrix,
  zeros,
} from "../../src/index";
import { seededFloats } from "../helpers/arbitraries";
import { expectSameBits, expectSameMatrix } from "../helpers/bits";
import { expectThrowsCleanly, type ThrowCase } from "../helpers/throws";
import { KERNELS, makeLayer } from "../kernels";

const ctor = (options: unknown) => () => new FeedForward(options as FeedForwardOptions);
const KERNEL_LIST = /must be one of "auto", "js"(, "[a-z]+")*, got/;

describe("new FeedForward rejects bad options", () => {
  const sizeCases = (name: "dModel" | "dHidden"): ThrowCase[] => {
    const base = { dModel: 4, dHidden: 8 };
    return [
      ...(
        [
          [undefined, "undefined"],
          [1.5, "1.5"],
          [-4, "-4"],
          [NaN, "NaN"],
          [Infinity, "Infinity"],
          ["8", "string 8"],
          [null, "null"],
        ] as const
      ).map(([v, shown]): ThrowCase => ({
        what: `options.${name} = ${shown}`,
        call: ctor({ ...base, [name]: v }),
        error: TypeError,
        message: `FeedForward: options.${name} must be a non-negative integer, got ${shown}`,
      })),
      {
        what: `options.${name} = 0`,
        call: ctor({ ...base, [name]: 0 }),
        error: RangeError,
        message: `FeedForward: options.${name} must be at least 1, got 0`,
      },
    ];
  };
  const cases: ThrowCase[] = [
    {
      what: "no options",
      call: ctor(undefined),
      error: TypeError,
      message: "FeedForward: options { dModel, dHidden } are required",
    },
    {
      what: "options is null",
      call: ctor(null),
      error: TypeError,
      message: "FeedForward: options must be an object, got null",
    },
    {
      what: "options is a number",
      call: ctor(768),
      error: TypeError,
      message: "FeedForward: options must be an object, got number 768",
    },
    {
      what: "options is an array",
      call: ctor([768, 3072]),
      error: TypeError,
      message: "FeedForward: options must be an object, got a plain Array",
    },
    {
      what: "an unknown option (a typo)",
      call: ctor({ dModel: 4, dHidden: 8, sed: 1 }),
      error: TypeError,
      message:
        "FeedForward: unknown option options.sed; known options are dModel, dHidden, seed, bias, activation, kernel, threads, dtype, sparse, device",
    },
    ...sizeCases("dModel"),
    ...sizeCases("dHidden"),
    {
      what: "options.sparse is not a boolean",
      call: ctor({ dModel: 4, dHidden: 8, sparse: "no" }),
      error: TypeError,
      message: "FeedForward: options.sparse must be a boolean, got string no",
    },
    {
      what: "options.seed is negative",
      call: ctor({ dModel: 4, dHidden: 8, seed: -1 }),
      error: TypeError,
      message: "FeedForward: options.seed must be a non-negative integer, got -1",
    },
    {
      what: "options.seed is not an integer",
      call: ctor({ dModel: 4, dHidden: 8, seed: 0.5 }),
      error: TypeError,
      message: "FeedForward: options.seed must be a non-negative integer, got 0.5",
    },
    {
      what: "options.seed is a string",
      call: ctor({ dModel: 4, dHidden: 8, seed: "42" }),
      error: TypeError,
      message: "FeedForward: options.seed must be a non-negative integer, got string 42",
    },
    {
      what: "options.seed is 2^32",
      call: ctor({ dModel: 4, dHidden: 8, seed: 2 ** 32 }),
      error: RangeError,
      message: "FeedForward: options.seed must be below 2^32, got 4294967296",
    },
    {
      what: "options.kernel is unknown",
      call: ctor({ dModel: 4, dHidden: 8, kernel: "gpu" }),
      error: TypeError,
      message: new RegExp(`^FeedForward: options\\.kernel ${KERNEL_LIST.source} "gpu"$`),
    },
    {
      what: "options.kernel is not a string",
      call: ctor({ dModel: 4, dHidden: 8, kernel: 1 }),
      error: TypeError,
      message: new RegExp(`^FeedForward: options\\.kernel ${KERNEL_LIST.source} number 1$`),
    },
    {
      what: "weights too large for WebAssembly memory",
      call: ctor({ dModel: 2 ** 26, dHidden: 2 ** 26, kernel: "wasm" }),
      error: RangeError,
      // The MiB include the kernel's scratch, whose size is the kernel's own business.
      message:
        /^FeedForward: dModel = 67108864, dHidden = 67108864 needs 343\d{8}\.\d MiB of WebAssembly memory, over wasm32's 4 GiB; use kernel: "js"$/,
    },
    {
      what: "weights too large to allocate",
      call: ctor({ dModel: 2 ** 26, dHidden: 2 ** 26, kernel: "js" }),
      error: RangeError,
      message:
        "FeedForward: dModel = 67108864, dHidden = 67108864 needs 34359751168.0 MiB for the js kernel, over its 4 GiB limit",
    },
    {
      what: "threads above 1 in the synchronous constructor",
      call: ctor({ dModel: 4, dHidden: 8, threads: 2 }),
      error: TypeError,
      message:
        "FeedForward: options.threads = 2 needs the async factory: await FeedForward.create(options)",
    },
  ];
  it.each(cases)("$what", (c) => expectThrowsCleanly(c));
});

describe("FeedForward.fromWeights rejects bad weights and options", () => {
  const good = (): FeedForwardWeights => ({
    w1: zeros(2, 3),
    b1: new Float32Array(3),
    w2: zeros(3, 2),
    b2: new Float32Array(2),
  });
  const g = good();
  const buffers = [g.w1.data, g.b1!, g.w2.data, g.b2!];
  const W = "FeedForward.fromWeights";
  const call = (w: unknown, options?: unknown) => () =>
    FeedForward.fromWeights(w as FeedForwardWeights, options as undefined);
  const cases: ThrowCase[] = [
    {
      what: "no weights",
      call: call(undefined),
      error: TypeError,
      message: `${W}: weights { w1, b1, w2, b2 } are required`,
    },
    {
      what: "weights is null",
      call: call(null),
      error: TypeError,
      message: `${W}: weights must be an object, got null`,
    },
    {
      what: "an unknown key in weights",
      call: call({ ...g, w3: zeros(1, 1) }),
      error: TypeError,
      message: `${W}: unknown option weights.w3; known options are w1, b1, w2, b2`,
    },
    {
      what: "w1 missing",
      call: call({ w2: g.w2 }),
      error: TypeError,
      message: `${W}: weights.w1 must be a matrix { rows, cols, data: Float32Array }, got undefined`,
    },
    {
      what: "w1 is a plain array",
      call: call({
        ...g,
        w1: [
          [0, 0, 0],
          [0, 0, 0],
        ],
      }),
      error: TypeError,
      message: `${W}: weights.w1 must be a matrix { rows, cols, data: Float32Array }, got a plain Array`,
    },
    {
      what: "w1 holds a Float64Array",
      call: call({ ...g, w1: { rows: 2, cols: 3, data: new Float64Array(6) } }),
      error: TypeError,
      message: `${W}: weights.w1.data must be a Float32Array, got a Float64Array`,
    },
    {
      what: "w2 has a non-integer size",
      call: call({ ...g, w2: { rows: 3, cols: 2.5, data: g.w2.data } }),
      error: TypeError,
      message: `${W}: weights.w2.cols must be a non-negative integer, got 2.5`,
    },
    {
      what: "w2.data has the wrong length",
      call: call({ ...g, w2: { rows: 3, cols: 3, data: g.w2.data } }),
      error: ShapeError,
      message: `${W}: weights.w2.data has length 6, expected rows * cols = 3 * 3 = 9`,
    },
    {
      what: "w2 is w1's shape, not its transpose",
      call: call({ ...g, w2: zeros(2, 3) }),
      error: ShapeError,
      message: `${W}: weights.w2 is 2 x 3, expected (w1.cols, w1.rows) = 3 x 2; its transpose would fit (every matrix must be in the same layout, tokenwise's (in, out) unless { layout: "linear" } is given)`,
    },
    {
      what: "w1 has no rows",
      call: call({ w1: zeros(0, 3), w2: zeros(3, 0) }),
      error: ShapeError,
      message: `${W}: weights.w1 is 0 x 3; dModel and dHidden must be at least 1`,
    },
    {
      what: "w1 has no columns",
      call: call({ w1: zeros(2, 0), w2: zeros(0, 2) }),
      error: ShapeError,
      message: `${W}: weights.w1 is 2 x 0; dModel and dHidden must be at least 1`,
    },
    {
      what: "b1 without b2",
      call: call({ w1: g.w1, w2: g.w2, b1: g.b1 }),
      error: TypeError,
      message: `${W}: weights.b1 and weights.b2 must both be given or both be absent`,
    },
    {
      what: "b2 without b1",
      call: call({ w1: g.w1, w2: g.w2, b2: g.b2 }),
      error: TypeError,
      message: `${W}: weights.b1 and weights.b2 must both be given or both be absent`,
    },
    {
      what: "b1 is a Float64Array",
      call: call({ ...g, b1: new Float64Array(3) }),
      error: TypeError,
      message: `${W}: weights.b1 must be a Float32Array, got a Float64Array`,
    },
    {
      what: "b2 is a plain array",
      call: call({ ...g, b2: [0, 0] }),
      error: TypeError,
      message: `${W}: weights.b2 must be a Float32Array, got a plain Array`,
    },
    {
      what: "b1 has the wrong length",
      call: call({ ...g, b1: new Float32Array(2) }),
      error: ShapeError,
      message: `${W}: weights.b1 has length 2, expected dHidden = 3`,
    },
    {
      what: "b2 has the wrong length",
      call: call({ ...g, b2: new Float32Array(3) }),
      error: ShapeError,
      message: `${W}: weights.b2 has length 3, expected dModel = 2`,
    },
    {
      what: "an unknown option",
      call: call(g, { kernel: "js", seed: 1 }),
      error: TypeError,
      message: `${W}: unknown option options.seed; known options are kernel, activation, layout, dtype, sparse`,
    },
    {
      what: "options is a string",
      call: call(g, "js"),
      error: TypeError,
      message: `${W}: options must be an object, got string js`,
    },
    {
      what: "options.kernel is unknown",
      call: call(g, { kernel: "gpu" }),
      error: TypeError,
      message: new RegExp(`^${W}: options\\.kernel ${KERNEL_LIST.source} "gpu"$`),
    },
    {
      what: 'options.kernel is "webgpu", which only create makes',
      call: call(g, { kernel: "webgpu" }),
      error: TypeError,
      message:
        'FeedForward: kernel "webgpu" needs the async factory: await FeedForward.create(options)',
    },
  ];
  it.each(cases)("$what", (c) => expectThrowsCleanly({ ...c, buffers }));
});

describe("FeedForward.fromJSON rejects malformed JSON", () => {
  const json = (): FeedForwardJSON =>
    JSON.parse(JSON.stringify(new FeedForward({ dModel: 2, dHidden: 3, seed: 1 })));
  const J = "FeedForward.fromJSON";
  const call = (j: unknown, options?: unknown) => () =>
    FeedForward.fromJSON(j as FeedForwardJSON, options as undefined);
  const notBase64 = (key: string, n: number) =>
    `${J}: json.${key} is not base64 of ${n} float32 values`;
  const cases: ThrowCase[] = [
    {
      what: "json is null",
      call: call(null),
      error: TypeError,
      message: `${J}: json is not a tokenwise.FeedForward (format field missing)`,
    },
    {
      what: "json is the JSON text, not parsed",
      call: call(JSON.stringify(json())),
      error: TypeError,
      message: `${J}: json is not a tokenwise.FeedForward (format field missing)`,
    },
    {
      what: "json has another format",
      call: call({ ...json(), format: "onnx" }),
      error: TypeError,
      message: `${J}: json is not a tokenwise.FeedForward (format field missing)`,
    },
    {
      what: "an unknown version",
      call: call({ ...json(), version: 3 }),
      error: TypeError,
      message: `${J}: unsupported version 3 or encoding float32-le-base64`,
    },
    {
      what: "an unknown encoding",
      call: call({ ...json(), encoding: "hex" }),
      error: TypeError,
      message: `${J}: unsupported version 2 or encoding hex`,
    },
    {
      what: "dModel is a string",
      call: call({ ...json(), dModel: "2" }),
      error: TypeError,
      message: `${J}: json.dModel must be a non-negative integer, got string 2`,
    },
    {
      what: "dHidden is negative",
      call: call({ ...json(), dHidden: -3 }),
      error: TypeError,
      message: `${J}: json.dHidden must be a non-negative integer, got -3`,
    },
    {
      what: "dHidden is 0",
      call: call({ ...json(), dHidden: 0 }),
      error: RangeError,
      message: `${J}: json.dHidden must be at least 1, got 0`,
    },
    {
      what: "dModel disagrees with the data",
      call: call({ ...json(), dModel: 3 }),
      error: TypeError,
      message: notBase64("w1", 9),
    },
    {
      what: "w1 is missing",
      call: call({ ...json(), w1: undefined }),
      error: TypeError,
      message: notBase64("w1", 6),
    },
    {
      what: "w1 is null",
      call: call({ ...json(), w1: null }),
      error: TypeError,
      message: notBase64("w1", 6),
    },
    {
      what: "w2 is an array of numbers",
      call: call({ ...json(), w2: [0, 0, 0, 0, 0, 0] }),
      error: TypeError,
      message: notBase64("w2", 6),
    },
    {
      what: "w2 has a character outside base64",
      call: call({ ...json(), w2: "!" + json().w2.slice(1) }),
      error: TypeError,
      message: notBase64("w2", 6),
    },
    {
      what: "w2 has a non-ASCII character",
      call: call({ ...json(), w2: "é" + json().w2.slice(1) }),
      error: TypeError,
      message: notBase64("w2", 6),
    },
    {
      what: "w2 is cut short",
      call: call({ ...json(), w2: json().w2.slice(0, -4) }),
      error: TypeError,
      message: notBase64("w2", 6),
    },
    {
      what: "b1 has padding in the middle",
      call: call({ ...json(), b1: "AAAA=AAA" + json().b1!.slice(8) }),
      error: TypeError,
      message: notBase64("b1", 3),
    },
    {
      what: "b2 has a padding character where data should be",
      // 2 floats are 8 bytes: 11 characters of data and one "=".
      call: call({ ...json(), b2: json().b2!.slice(0, 10) + "==" }),
      error: TypeError,
      message: notBase64("b2", 2),
    },
    {
      what: "b1 null but b2 present",
      call: call({ ...json(), b1: null }),
      error: TypeError,
      message: `${J}: json.b1 and json.b2 must both be present or both be null`,
    },
    {
      what: "b2 missing (undefined is not null)",
      call: call({ ...json(), b2: undefined }),
      error: TypeError,
      message: notBase64("b2", 2),
    },
    {
      what: "an unknown option",
      call: call(json(), { kernels: "js" }),
      error: TypeError,
      message: `${J}: unknown option options.kernels; known options are kernel, dtype, sparse`,
    },
    {
      what: "options.kernel is unknown",
      call: call(json(), { kernel: "fast" }),
      error: TypeError,
      message: new RegExp(`^${J}: options\\.kernel ${KERNEL_LIST.source} "fast"$`),
    },
  ];
  it.each(cases)("$what", (c) => expectThrowsCleanly(c));

  it("accepts the valid JSON those cases were made from", () => {
    expect(FeedForward.fromJSON(json()).parameterCount).toBe(2 * 3 * 2 + 3 + 2);
  });
});

describe.each(KERNELS)("forward and forwardToken reject bad input, %s kernel", (kernel) => {
  let ffn: FeedForward;
  let probe: Matrix;
  let before: Matrix;
  const D = 4;
  const x = matrix(3, D, seededFloats(3 * D, 5));
  const out = zeros(3, D);
  const token = seededFloats(D, 6);
  const tokenOut = new Float32Array(D);
  const shared = seededFloats(3 * D + 2 * D, 7);
  const sx = matrix(3, D, shared.subarray(0, 3 * D));
  const plain = [[1, 2, 3, 4]] as unknown as Matrix;
  const matrixMsg = (where: string, name: string, got: string) =>
    `${where}: ${name} must be a matrix { rows, cols, data: Float32Array }, got ${got}`;

  beforeAll(async () => {
    ffn = await makeLayer(kernel, { dModel: D, dHidden: 9, seed: 4 });
    probe = matrix(5, D, seededFloats(5 * D, 8));
    before = ffn.forward(probe);
  });

  const cases: ThrowCase[] = [
    {
      what: "forward: x is a plain array",
      call: () => ffn.forward(plain),
      error: TypeError,
      message: matrixMsg("forward", "x", "a plain Array"),
    },
    {
      what: "forward: x is a Float32Array (use forwardToken)",
      call: () => ffn.forward(token as unknown as Matrix),
      error: TypeError,
      message: matrixMsg("forward", "x", "a Float32Array"),
    },
    {
      what: "forward: x holds a Float64Array",
      call: () => ffn.forward({ rows: 1, cols: D, data: new Float64Array(D) } as unknown as Matrix),
      error: TypeError,
      message: "forward: x.data must be a Float32Array, got a Float64Array",
    },
    {
      what: "forward: x.rows is not an integer",
      call: () => ffn.forward({ rows: 2.5, cols: D, data: x.data }),
      error: TypeError,
      message: "forward: x.rows must be a non-negative integer, got 2.5",
    },
    {
      what: "forward: x.rows is NaN",
      call: () => ffn.forward({ rows: NaN, cols: D, data: x.data }),
      error: TypeError,
      message: "forward: x.rows must be a non-negative integer, got NaN",
    },
    {
      what: "forward: x.data has the wrong length",
      call: () => ffn.forward({ rows: 2, cols: D, data: x.data }),
      error: ShapeError,
      message: "forward: x.data has length 12, expected rows * cols = 2 * 4 = 8",
    },
    {
      what: "forward: x has the wrong number of columns",
      call: () => ffn.forward(matrix(4, 3, x.data)),
      error: ShapeError,
      message: "forward: x has 3 columns, expected dModel = 4",
    },
    {
      what: "forward: out is null",
      call: () => ffn.forward(x, null as unknown as Matrix),
      error: TypeError,
      message: matrixMsg("forward", "out", "null"),
    },
    {
      what: "forward: out is a Float32Array",
      call: () => ffn.forward(x, out.data as unknown as Matrix),
      error: TypeError,
      message: matrixMsg("forward", "out", "a Float32Array"),
    },
    {
      what: "forward: out has too few rows",
      call: () => ffn.forward(x, matrix(2, D, out.data.subarray(0, 2 * D))),
      error: ShapeError,
      message: "forward: out is 2 x 4, expected (x.rows, dModel) = 3 x 4",
    },
    {
      what: "forward: out is transposed",
      call: () => ffn.forward(x, matrix(D, 3, out.data)),
      error: ShapeError,
      message: "forward: out is 4 x 3, expected (x.rows, dModel) = 3 x 4",
    },
    {
      what: "forward: out is x (no in-place forward)",
      call: () => ffn.forward(sx, sx),
      error: ShapeError,
      message: "forward: out overlaps x; pass a separate output buffer",
    },
    {
      what: "forward: out overlaps x's last row (a subarray of the same buffer)",
      call: () => ffn.forward(sx, matrix(3, D, shared.subarray(2 * D, 5 * D))),
      error: ShapeError,
      message: "forward: out overlaps x; pass a separate output buffer",
    },
    {
      what: "forwardToken: token is a plain array",
      call: () => ffn.forwardToken([1, 2, 3, 4] as unknown as Float32Array),
      error: TypeError,
      message: "forwardToken: token must be a Float32Array, got a plain Array",
    },
    {
      what: "forwardToken: token is a Float64Array",
      call: () => ffn.forwardToken(new Float64Array(D) as unknown as Float32Array),
      error: TypeError,
      message: "forwardToken: token must be a Float32Array, got a Float64Array",
    },
    {
      what: "forwardToken: token is a matrix",
      call: () => ffn.forwardToken(matrix(1, D, token) as unknown as Float32Array),
      error: TypeError,
      message: "forwardToken: token must be a Float32Array, got an object (Object)",
    },
    {
      what: "forwardToken: token has the wrong length",
      call: () => ffn.forwardToken(token.subarray(0, 3)),
      error: ShapeError,
      message: "forwardToken: token has length 3, expected dModel = 4",
    },
    {
      what: "forwardToken: out is a plain array",
      call: () => ffn.forwardToken(token, [0, 0, 0, 0] as unknown as Float32Array),
      error: TypeError,
      message: "forwardToken: out must be a Float32Array, got a plain Array",
    },
    {
      what: "forwardToken: out has the wrong length",
      call: () => ffn.forwardToken(token, new Float32Array(D + 1)),
      error: ShapeError,
      message: "forwardToken: out has length 5, expected dModel = 4",
    },
    {
      what: "forwardToken: out is token",
      call: () => ffn.forwardToken(token, token),
      error: ShapeError,
      message: "forwardToken: out overlaps token; pass a separate output buffer",
    },
    {
      what: "forwardToken: out overlaps token by one element",
      call: () => ffn.forwardToken(shared.subarray(0, D), shared.subarray(D - 1, 2 * D - 1)),
      error: ShapeError,
      message: "forwardToken: out overlaps token; pass a separate output buffer",
    },
  ];

  it.each(cases)("$what", (c) => {
    const weights = ffn.weights;
    expectThrowsCleanly({ ...c, buffers: [x.data, out.data, token, tokenOut, shared, probe.data] });
    // The layer is as it was: same weights, same outputs.
    const after = ffn.weights;
    expectSameMatrix(after.w1, weights.w1);
    expectSameMatrix(after.w2, weights.w2);
    expectSameBits(after.b1!, weights.b1!);
    expectSameBits(after.b2!, weights.b2!);
    expectSameMatrix(ffn.forward(probe), before);
  });
});
