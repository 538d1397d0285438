// The layer core, for both layers: what a careless or hostile caller can do to it. Weights in
// PyTorch's layout, inputs whose fields change between reads, thread counts without bound,
// layers too large for a kernel, a layer disposed under a call, and options objects that try
// to reach inside.
import { afterAll, describe, expect, it } from "vitest";
import {
  FeedForward,
  GatedFeedForward,
  Layer,
  type Matrix,
  ShapeError,
  matrix,
} from "../../src/index";
import { seededFloats } from "../helpers/arbitraries";
import { expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly } from "../helpers/throws";

type AnyLayer = FeedForward | GatedFeedForward;

/** Each layer, its weight names in order, and the maps into dHidden. */
const LAYERS = [
  {
    Class: FeedForward,
    maps: [
      ["w1", "b1"],
      ["w2", "b2"],
    ],
    expand: 1,
  },
  {
    Class: GatedFeedForward,
    maps: [
      ["wGate", "bGate"],
      ["wUp", "bUp"],
      ["wDown", "bDown"],
    ],
    expand: 2,
  },
] as const;

const D = 5;
const H = 11;

/** Weights in tokenwise's (in, out) layout and the same in nn.Linear's (out, in). */
function weightsBoth(maps: readonly (readonly string[])[], expand: number, bias: boolean) {
  const inOut: Record<string, Matrix | Float32Array> = {};
  const linear: Record<string, Matrix | Float32Array> = {};
  maps.forEach(([w, b], i) => {
    const [rows, cols] = i < expand ? [D, H] : [H, D];
    const data = seededFloats(rows * cols, 10 + i, 1);
    inOut[w as string] = { rows, cols, data };
    const t = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) t[c * rows + r] = data[r * cols + c] as number;
    linear[w as string] = { rows: cols, cols: rows, data: t };
    if (bias) inOut[b as string] = linear[b as string] = seededFloats(cols, 20 + i, 1);
  });
  return { inOut, linear };
}

const x = matrix(7, D, seededFloats(7 * D, 3, 2));
const live: AnyLayer[] = [];
afterAll(() => {
  for (const l of live) l.dispose();
});

describe.each(LAYERS)("$Class.name", ({ Class, maps, expand }) => {
  const L = Class as unknown as typeof FeedForward;

  it("is a Layer, and `using` disposes it", () => {
    let inner: AnyLayer | undefined;
    {
      using l = new L({ dModel: 3, dHidden: 4 });
      inner = l;
      expect(l).toBeInstanceOf(Layer);
      expect(l.forward(matrix(1, 3)).rows).toBe(1);
    }
    expect(() => inner?.forward(matrix(1, 3))).toThrow("forward: the layer was disposed");
  });

  it.each([true, false])(
    'takes nn.Linear\'s (out, in) weights with { layout: "linear" } (biases: %s)',
    async (bias) => {
      const { inOut, linear } = weightsBoth(maps, expand, bias);
      const want = L.fromWeights(inOut as never).forward(x);
      const got = L.fromWeights(linear as never, { layout: "linear" });
      expectSameBits(got.forward(x).data, want.data);
      // The layer's weights come back in tokenwise's layout.
      expectSameBits(
        (got.weights as unknown as Record<string, Matrix>)[maps[0][0]]!.data,
        (inOut[maps[0][0]] as Matrix).data,
      );
      const created = await L.create({ weights: linear as never, layout: "linear" });
      live.push(created);
      expectSameBits(created.forward(x).data, want.data);
    },
  );

  it("says when weights look transposed, and refuses an unknown layout", () => {
    const { linear } = weightsBoth(maps, expand, true);
    // nn.Linear's weights with biases, given as tokenwise's: the first bias gives it away.
    expectThrowsCleanly({
      what: "transposed",
      call: () => L.fromWeights(linear as never),
      error: ShapeError,
      message: new RegExp(
        `weights.${maps[0][1]} has length ${H}, expected dHidden = ${D}; the weights look transposed: for nn.Linear's \\(out, in\\) weights pass \\{ layout: "linear" \\}$`,
      ),
    });
    expectThrowsCleanly({
      what: "unknown layout",
      call: () => L.fromWeights(linear as never, { layout: "rows" as never }),
      error: TypeError,
      message: `${Class.name}.fromWeights: options.layout must be "conv1d" or "linear", got "rows"`,
    });
    // One matrix transposed among the others: its own transpose would fit.
    const { inOut } = weightsBoth(maps, expand, false);
    const [lastW] = maps[maps.length - 1] as readonly string[];
    const m = inOut[lastW as string] as Matrix;
    const mixed = { ...inOut, [lastW as string]: { rows: m.cols, cols: m.rows, data: m.data } };
    expectThrowsCleanly({
      what: "one transposed",
      call: () => L.fromWeights(mixed as never),
      error: ShapeError,
      message: /its transpose would fit \(every matrix must be in the same layout/,
    });
  });

  it("reads each field of x and out once: a getter that changes cannot make it compute past its data", () => {
    const layer = new L({ dModel: D, dHidden: H, kernel: "wasm" });
    const data = seededFloats(2 * D, 4, 1);
    let reads = 0;
    const sly = {
      get rows() {
        return reads++ === 0 ? 2 : 1_000_000; // checked as 2, then 10^6
      },
      cols: D,
      data,
    };
    const y = layer.forward(sly as unknown as Matrix);
    expect(reads).toBe(1);
    expectSameBits(y.data, layer.forward(matrix(2, D, data)).data);
    let outReads = 0;
    const out = matrix(2, D);
    const slyOut = {
      get data() {
        return outReads++ === 0 ? out.data : new Float32Array(4);
      },
      rows: 2,
      cols: D,
    };
    layer.forward(matrix(2, D, data), slyOut as unknown as Matrix);
    expect(outReads).toBe(1);
    expectSameBits(out.data, y.data);
  });

  it("bounds the thread count, and says so", async () => {
    const l = await L.create({ dModel: 4, dHidden: 8, threads: 1000 });
    live.push(l);
    expect(l.threads).toBeLessThanOrEqual(
      Math.max(4, (await import("node:os")).availableParallelism()),
    );
    expect(l.threadsFallback).toMatch(/^options\.threads = 1000 was capped at \d+/);
    const t = matrix(3, 4, seededFloats(12, 5, 1));
    expectSameBits(l.forward(t).data, new L({ dModel: 4, dHidden: 8 }).forward(t).data);
  });

  it.each(["js", "wasm"] as const)(
    "refuses a layer too large for the %s kernel before allocating anything",
    (kernel) => {
      const before = process.memoryUsage().arrayBuffers;
      expect(() => new L({ dModel: 1e9, dHidden: 1, kernel })).toThrow(RangeError);
      expect(() => new L({ dModel: 1e9, dHidden: 1, kernel })).toThrow(/over (its|wasm32's) 4 GiB/);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
    },
  );

  it("a forwardAsync of several blocks that is disposed under it rejects and writes nothing", async () => {
    const l = await L.create({ dModel: D, dHidden: H, threads: 2 });
    if (l.threads !== 2) throw new Error(`no threads here: ${l.threadsFallback}`);
    const rows = 300; // three blocks of the wasm kernel
    const big = matrix(rows, D, seededFloats(rows * D, 9, 1));
    const out = matrix(rows, D, new Float32Array(rows * D).fill(-7));
    const call = l.forwardAsync(big, out);
    l.dispose();
    await expect(call).rejects.toThrow(/disposed/);
    expect(out.data.every((v) => v === -7)).toBe(true);
  });

  it("forward's stats: a TypeError for anything but an object, nothing written; a failed call leaves them", async () => {
    const l = new L({ dModel: D, dHidden: H, seed: 3 });
    const x = matrix(2, D, seededFloats(2 * D, 4, 1));
    const out = matrix(2, D, new Float32Array(2 * D).fill(-7));
    const token = x.data.slice(0, D);
    const tokenOut = new Float32Array(D).fill(-7);
    // Anything but an object; then an object the call could not write its three fields to
    // (a frozen one, a sealed one without the fields, a read-only field of its own or
    // inherited, a getter without a setter). Each is refused before anything runs, and left as
    // it was.
    const notObject = (kind: string) => (where: string) =>
      `${where}: stats must be an object, got ${kind}`;
    const unsettable = (key: string) => (where: string) =>
      `${where}: stats must be an object whose hidden, zeros and zeroShare can be set; its ${key} cannot`;
    const readOnly = (key: string) =>
      Object.defineProperty({ hidden: -1, zeros: -1, zeroShare: -1 }, key, { writable: false });
    const refused: [string, unknown, (where: string) => string][] = [
      ["null", null, notObject("null")],
      ["5", 5, notObject("number 5")],
      ['"stats"', "stats", notObject("string stats")],
      ["frozen", Object.freeze({ hidden: -1, zeros: -1, zeroShare: -1 }), unsettable("hidden")],
      ["frozen, empty", Object.freeze({}), unsettable("hidden")],
      ["sealed, empty", Object.seal({}), unsettable("hidden")],
      ["read-only zeros", readOnly("zeros"), unsettable("zeros")],
      ["read-only zeroShare", readOnly("zeroShare"), unsettable("zeroShare")],
      ["inherited read-only", Object.create(readOnly("hidden")) as object, unsettable("hidden")],
      [
        "getter only",
        {
          hidden: -1,
          zeros: -1,
          get zeroShare() {
            return -1;
          },
        },
        unsettable("zeroShare"),
      ],
    ];
    for (const [what, bad, message] of refused) {
      const before = JSON.stringify(bad);
      expectThrowsCleanly({
        what: `forward, stats ${what}`,
        call: () => l.forward(x, out, bad as never),
        error: TypeError,
        message: message("forward"),
        buffers: [out.data],
      });
      expectThrowsCleanly({
        what: `forwardToken, stats ${what}`,
        call: () => l.forwardToken(token, tokenOut, bad as never),
        error: TypeError,
        message: message("forwardToken"),
        buffers: [tokenOut],
      });
      await expect(l.forwardAsync(x, out, bad as never)).rejects.toThrow(
        new TypeError(message("forwardAsync")),
      );
      expect(out.data.every((v) => v === -7)).toBe(true);
      expect(JSON.stringify(bad), what).toBe(before);
    }
    // Objects the call can write to: sealed with the fields, with setters, without a prototype,
    // inheriting writable fields.
    const set: Record<string, number> = {};
    const writable: [string, Record<string, unknown>, () => unknown][] = [
      ["sealed", Object.seal({ hidden: -1, zeros: -1, zeroShare: -1 }), () => undefined],
      [
        "setters",
        {
          set hidden(v: number) {
            set.hidden = v;
          },
          set zeros(v: number) {
            set.zeros = v;
          },
          set zeroShare(v: number) {
            set.zeroShare = v;
          },
        },
        () => set,
      ],
      ["no prototype", Object.create(null) as Record<string, unknown>, () => undefined],
      [
        "inherited fields",
        Object.create({ hidden: -1, zeros: -1, zeroShare: -1 }) as Record<string, unknown>,
        () => undefined,
      ],
    ];
    // What the layer reports for x on a plain object: 2 tokens' hidden values, written.
    const want = { hidden: -1, zeros: -1, zeroShare: -1 };
    l.forward(x, undefined, want);
    expect(want.hidden).toBe(2 * H);
    for (const [what, ok, read] of writable) {
      l.forward(x, undefined, ok as never);
      const got = read() ?? { hidden: ok.hidden, zeros: ok.zeros, zeroShare: ok.zeroShare };
      expect(got, what).toEqual(want);
    }
    // An object checked once and frozen afterwards is checked again, and refused.
    const frozenLater: Record<string, number> = {};
    l.forward(x, undefined, frozenLater as never);
    Object.freeze(frozenLater);
    const before = JSON.stringify(frozenLater);
    expectThrowsCleanly({
      what: "forward, stats frozen after a call",
      call: () => l.forward(x, out, frozenLater as never),
      error: TypeError,
      message:
        /^forward: stats must be an object whose hidden, zeros and zeroShare can be set; its hidden cannot/,
      buffers: [out.data],
    });
    expect(JSON.stringify(frozenLater)).toBe(before);
    // One sealed, or made not extensible, with its three fields is still settable.
    for (const close of [Object.seal, Object.preventExtensions]) {
      const later: Record<string, number> = {};
      l.forward(x, undefined, later as never);
      close(later);
      l.forward(matrix(0, D), undefined, later as never);
      expect(later).toEqual({ hidden: 0, zeros: 0, zeroShare: 0 });
    }
    // A call that throws for another reason writes nothing to the stats either.
    const stats = { hidden: -1, zeros: -1, zeroShare: -1 };
    expect(() => l.forward(matrix(1, D + 1), undefined, stats)).toThrow(ShapeError);
    expect(stats).toEqual({ hidden: -1, zeros: -1, zeroShare: -1 });
    l.forward(matrix(0, D), undefined, stats);
    expect(stats).toEqual({ hidden: 0, zeros: 0, zeroShare: 0 });
    l.dispose();
  });

  it("builds nothing from an options object beyond its documented keys", () => {
    // A Proxy sees every key the constructor asks for: it must be the documented ones only.
    const asked = new Set<string | symbol>();
    const options = new Proxy(
      { dModel: 3, dHidden: 4 },
      {
        get(target, key) {
          asked.add(key);
          return Reflect.get(target, key);
        },
      },
    );
    const l = new L(options);
    expect(l.dModel).toBe(3);
    const documented = [
      "dModel",
      "dHidden",
      "seed",
      "bias",
      "activation",
      "kernel",
      "threads",
      "dtype",
      "sparse",
      "device",
    ];
    expect([...asked].filter((k) => typeof k === "symbol" || !documented.includes(k))).toEqual([]);
  });
});

describe("JSON versions", () => {
  it("refuses a version 1 FeedForward that carries an activation (version 1 is relu only)", () => {
    const json = JSON.parse(
      JSON.stringify(new FeedForward({ dModel: 2, dHidden: 3, activation: "gelu" })),
    );
    expect(json.version).toBe(2);
    const v1 = { ...json, version: 1 };
    expect(() => FeedForward.fromJSON(v1)).toThrow(
      "FeedForward.fromJSON: json.activation is not part of version 1, whose layers are all relu; a layer with an activation is version 2 or later",
    );
    const { activation: _, ...plain } = v1;
    expect(FeedForward.fromJSON(plain).activation).toBe("relu");
  });

  it("gives a FeedForward bias option, default true", () => {
    expect(new FeedForward({ dModel: 2, dHidden: 3 }).hasBias).toBe(true);
    const t5 = new FeedForward({ dModel: 2, dHidden: 3, bias: false });
    expect([t5.hasBias, t5.parameterCount, t5.weights.b1]).toEqual([false, 12, undefined]);
  });
});
