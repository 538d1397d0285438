// The dtype option: what each factory takes and reports, every throw path (an unknown dtype, a
// weight beyond f16's range, a JSON dtype out of place), the JSON versions that carry 16-bit
// weights (exact to the bit, NaN payloads included, and read straight into the packing with no
// float32 step), a weight source of raw 16-bit arrays, and the memory a 16-bit layer takes.
// That a 16-bit layer computes the float32 layer's bits on its rounded weights is a property in
// test/layers/layer.prop.test.ts; the kernel's widening on every pattern, test/wasm16.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import {
  FeedForward,
  type FeedForwardJSON,
  type FeedForwardWeights,
  GatedFeedForward,
  type GatedFeedForwardJSON,
  type Matrix,
  fromRows,
} from "../../src/index";
import { encodeFloat32 } from "../../src/base64";
import {
  type Dtype16,
  type WeightDtype,
  floatBitsToBf16,
  halfToFloatBits,
  narrowInto,
  widenInto,
} from "../../src/dtype";
import type { LayerShape } from "../../src/kernels/kernel";
import { jsKernelBytes } from "../../src/kernels/js";
import { entryFor } from "../../src/kernels/registry";
import { type MapTensors16, type WeightSource, raw16Source } from "../../src/kernels/source";
import { READ_AHEAD, layout } from "../../src/kernels/wasm/layout";
import { threadHost } from "../../src/threads/platform";
import { seededFloats } from "../helpers/arbitraries";
import { bitsOf, expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly, type ThrowCase } from "../helpers/throws";
import { KERNELS, kernelName } from "../kernels";

const CHOICES = '"f32", "bf16", "f16", "q8_0", "q4_0"';
const live: { dispose(): void }[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.dispose();
});

/** A FeedForward's weights, seeded, (dModel, dHidden) with biases. */
function ffnWeights(D: number, H: number, seed: number): FeedForwardWeights {
  return {
    w1: { rows: D, cols: H, data: seededFloats(D * H, seed, 1) },
    b1: seededFloats(H, seed + 1, 1),
    w2: { rows: H, cols: D, data: seededFloats(D * H, seed + 2, 1) },
    b2: seededFloats(D, seed + 3, 1),
  };
}

const round16 = (dtype: Dtype16, v: Float32Array) =>
  widenInto(dtype, narrowInto(dtype, v, new Uint16Array(v.length)), new Float32Array(v.length));

describe("the dtype option", () => {
  it("is f32 by default and what each factory was given", async () => {
    const w = ffnWeights(3, 5, 1);
    expect(new FeedForward({ dModel: 2, dHidden: 3 }).dtype).toBe("f32");
    expect(FeedForward.fromWeights(w).dtype).toBe("f32");
    for (const dtype of ["f32", "bf16", "f16"] as const) {
      expect(new FeedForward({ dModel: 2, dHidden: 3, dtype }).dtype).toBe(dtype);
      expect(new GatedFeedForward({ dModel: 2, dHidden: 3, dtype }).dtype).toBe(dtype);
      expect(FeedForward.fromWeights(w, { dtype }).dtype).toBe(dtype);
      const c = await FeedForward.create({ dModel: 2, dHidden: 3, dtype, threads: 2 });
      live.push(c);
      expect(c.dtype).toBe(dtype);
      const cw = await GatedFeedForward.create({
        weights: { wGate: w.w1, wUp: w.w1, wDown: w.w2 },
        dtype,
      });
      live.push(cw);
      expect(cw.dtype).toBe(dtype);
    }
  });

  it.each(["bf16", "f16"] as const)(
    "%s: a seeded layer holds its float32 draws rounded to nearest even, as weights shows",
    (dtype) => {
      const full = new FeedForward({ dModel: 7, dHidden: 19, seed: 4 });
      const half = new FeedForward({ dModel: 7, dHidden: 19, seed: 4, dtype });
      expectSameBits(half.weights.w1.data, round16(dtype, full.weights.w1.data), "w1");
      expectSameBits(half.weights.w2.data, round16(dtype, full.weights.w2.data), "w2");
      // Biases stay float32.
      expectSameBits(half.weights.b1!, full.weights.b1!, "b1");
      expectSameBits(half.weights.b2!, full.weights.b2!, "b2");
    },
  );

  it.each(["bf16", "f16"] as const)(
    "%s: one token and a batch over many panels give the float32 layer's bits on the rounded weights, on every kernel",
    async (dtype) => {
      // 200 hidden columns are 13 panels (the wasm kernel's one-token tile takes four panels at
      // a time, then two, then one) and 70 outputs 5; the property tests' widths stay below 64.
      const half = new FeedForward({ dModel: 70, dHidden: 200, seed: 6, dtype });
      live.push(half);
      for (const kernel of KERNELS) {
        const on = { kernel: kernelName(kernel), threads: kernel === "wasm-2t" ? 2 : 1 };
        const a = await FeedForward.create({ weights: half.weights, ...on, dtype });
        const ref = await FeedForward.create({ weights: half.weights, ...on });
        live.push(a, ref);
        for (const rows of [1, 3]) {
          const x: Matrix = { rows, cols: 70, data: seededFloats(rows * 70, 12 + rows, 2) };
          expectSameBits(a.forward(x).data, ref.forward(x).data, `${kernel}, ${rows} rows`);
        }
      }
    },
  );

  it("f16 takes every finite float32 below 65520 in magnitude, and infinities and NaN", () => {
    // 65519.99 rounds to 65504 (f16's largest), 65520 would round to Infinity.
    const edge = Math.fround(65519.99);
    const w1 = fromRows([[edge, -edge, Infinity, -Infinity, NaN, 1e-8, -0, 65504]]);
    const ffn = FeedForward.fromWeights(
      { w1, w2: { rows: 8, cols: 1, data: new Float32Array(8) } },
      { dtype: "f16" },
    );
    expect([...ffn.weights.w1.data]).toEqual([
      65504,
      -65504,
      Infinity,
      -Infinity,
      NaN,
      0,
      -0,
      65504,
    ]);
    expect(Object.is(ffn.weights.w1.data[5], 0)).toBe(true); // 1e-8 is below half of 2^-24
  });

  it("bf16 rounds to nearest even: ties go to the even neighbour", () => {
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (bf16 has 7 stored bits): even is 1.
    // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: even is 1 + 2^-6.
    const w1 = fromRows([[1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8)]]);
    const ffn = FeedForward.fromWeights(
      { w1, w2: { rows: 3, cols: 1, data: new Float32Array(3) } },
      { dtype: "bf16" },
    );
    expect([...ffn.weights.w1.data]).toEqual([1, 1 + 2 ** -6, -1]);
  });
});

describe("bad dtypes throw, naming the option and the choices, and change nothing", () => {
  const w = ffnWeights(2, 3, 5);
  const buffers = [w.w1.data, w.w2.data, w.b1!, w.b2!];
  const json = () => FeedForward.fromWeights(w).toJSON();
  const json16 = () => FeedForward.fromWeights(w, { dtype: "bf16" }).toJSON();
  const F = "FeedForward";
  const cases: ThrowCase[] = [
    {
      what: "constructor, an unknown name",
      call: () => new FeedForward({ dModel: 2, dHidden: 3, dtype: "fp16" as WeightDtype }),
      error: RangeError,
      message: `${F}: options.dtype must be one of ${CHOICES}, got "fp16"`,
    },
    {
      what: "constructor, not a string",
      call: () => new FeedForward({ dModel: 2, dHidden: 3, dtype: 16 as unknown as WeightDtype }),
      error: TypeError,
      message: `${F}: options.dtype must be one of ${CHOICES}, got number 16`,
    },
    {
      what: "gated constructor",
      call: () => new GatedFeedForward({ dModel: 2, dHidden: 3, dtype: "F16" as WeightDtype }),
      error: RangeError,
      message: `GatedFeedForward: options.dtype must be one of ${CHOICES}, got "F16"`,
    },
    {
      what: "fromWeights",
      call: () => FeedForward.fromWeights(w, { dtype: "float16" as WeightDtype }),
      error: RangeError,
      message: `${F}.fromWeights: options.dtype must be one of ${CHOICES}, got "float16"`,
      buffers,
    },
    {
      what: "fromJSON's option",
      call: () => FeedForward.fromJSON(json(), { dtype: "f8" as WeightDtype }),
      error: RangeError,
      message: `${F}.fromJSON: options.dtype must be one of ${CHOICES}, got "f8"`,
    },
    {
      what: "a version 3 JSON's dtype",
      call: () => FeedForward.fromJSON({ ...json16(), dtype: "f8" as WeightDtype }),
      error: RangeError,
      message: `${F}.fromJSON: json.dtype must be one of ${CHOICES}, got "f8"`,
    },
    {
      what: "a version 3 JSON without a dtype",
      call: () => FeedForward.fromJSON({ ...json16(), dtype: undefined }),
      error: TypeError,
      message: `${F}.fromJSON: json.dtype must be one of ${CHOICES}, got null`,
    },
    {
      what: "a version 2 JSON with a dtype",
      call: () => FeedForward.fromJSON({ ...json(), dtype: "f32" }),
      error: TypeError,
      message: `${F}.fromJSON: json.dtype is not part of version 2, whose weights are all float32; a layer with a dtype is version 3 or later`,
    },
    {
      what: "a version 3 JSON whose weights are float32 bytes",
      call: () => FeedForward.fromJSON({ ...json16(), w1: json().w1 }),
      error: TypeError,
      message: `${F}.fromJSON: json.w1 is not base64 of 6 bf16 values`,
    },
    {
      what: "a version 3 JSON with version 2's encoding",
      call: () => FeedForward.fromJSON({ ...json16(), encoding: "float32-le-base64" }),
      error: TypeError,
      message: `${F}.fromJSON: unsupported version 3 or encoding float32-le-base64`,
    },
  ];
  it.each(cases)("$what", (c) => expectThrowsCleanly(c));

  it("create rejects an unknown dtype", async () => {
    await expect(
      FeedForward.create({ dModel: 2, dHidden: 3, dtype: "half" as WeightDtype }),
    ).rejects.toThrow(
      new RangeError(`${F}.create: options.dtype must be one of ${CHOICES}, got "half"`),
    );
  });
});

describe("f16 refuses finite weights beyond its range (IEEE rounding would make them infinite)", () => {
  const why =
    'is beyond f16\'s range (65504 is its largest finite value; 65520 and above round to Infinity); use dtype "bf16" or "f32"';
  const w = (): FeedForwardWeights => {
    const x = ffnWeights(3, 4, 6);
    x.w2.data[2 * 3 + 1] = -65520; // row 2, column 1 of w2 (4 x 3)
    return x;
  };
  it.each<ThrowCase>([
    {
      what: "tokenwise's layout: the index is (row, column) of w2 as given",
      call: () => FeedForward.fromWeights(w(), { dtype: "f16" }),
      error: RangeError,
      message: `FeedForward.fromWeights: weights.w2[2, 1] = -65520 ${why}`,
    },
    {
      what: "nn.Linear's layout: the index is in the matrix as given, (out, in)",
      call: () => {
        const x = ffnWeights(3, 4, 6);
        const w1 = { rows: 4, cols: 3, data: x.w1.data }; // nn.Linear(3, 4).weight
        w1.data[3 * 3 + 2] = 1e30;
        return FeedForward.fromWeights(
          { w1, w2: { rows: 3, cols: 4, data: x.w2.data } },
          { dtype: "f16", layout: "linear" },
        );
      },
      error: RangeError,
      message: `FeedForward.fromWeights: weights.w1[3, 2] = 1.0000000150474662e+30 ${why}`,
    },
    {
      what: "a bf16 JSON read as f16",
      call: () => {
        const json = FeedForward.fromWeights(w(), { dtype: "bf16" }).toJSON();
        return FeedForward.fromJSON(json, { dtype: "f16" });
      },
      error: RangeError,
      message: `FeedForward.fromJSON: json.w2[2, 1] = -65536 ${why}`,
    },
    {
      what: "the gated layer",
      call: () => {
        const x = w();
        return GatedFeedForward.fromWeights(
          {
            wGate: x.w1,
            wUp: fromRows([
              [0, 0, 0, 0],
              [0, 0, 0, 70000],
              [0, 0, 0, 0],
            ]),
            wDown: x.w2,
          },
          { dtype: "f16" },
        );
      },
      error: RangeError,
      message: `GatedFeedForward.fromWeights: weights.wUp[1, 3] = 70000 ${why}`,
    },
  ])("$what", (c) => expectThrowsCleanly(c));
});

describe("JSON of a 16-bit layer", () => {
  it.each(["bf16", "f16"] as const)(
    "%s: version 3 with its dtype, 16-bit weights and float32 biases, round-trips bit for bit on every kernel",
    async (dtype) => {
      const a = new FeedForward({ dModel: 9, dHidden: 21, seed: 3, dtype });
      const json = JSON.parse(JSON.stringify(a)) as FeedForwardJSON;
      expect([json.version, json.dtype, json.encoding]).toEqual([3, dtype, "le-base64"]);
      expect(json.w1.length).toBe(Math.ceil((9 * 21 * 2) / 3) * 4); // 2 bytes a weight
      expect(json.b1!.length).toBe(Math.ceil((21 * 4) / 3) * 4); // 4 bytes a bias
      const x: Matrix = { rows: 5, cols: 9, data: seededFloats(45, 11, 2) };
      for (const kernel of KERNELS) {
        const on = { kernel: kernelName(kernel), threads: kernel === "wasm-2t" ? 2 : 1, dtype };
        const b = await FeedForward.create({ weights: FeedForward.fromJSON(json).weights, ...on });
        const ref = await FeedForward.create({ weights: a.weights, ...on });
        live.push(b, ref);
        expectSameBits(b.forward(x).data, ref.forward(x).data, kernel);
      }
      const b = FeedForward.fromJSON(json);
      expect(b.dtype).toBe(dtype);
      expectSameBits(b.weights.w1.data, a.weights.w1.data);
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    },
  );

  it("a float32 layer is still written as version 2, and version 2 still loads", () => {
    const a = new FeedForward({ dModel: 4, dHidden: 6, seed: 2 });
    const json = a.toJSON();
    expect([json.version, json.dtype, json.encoding]).toEqual([2, undefined, "float32-le-base64"]);
    expect(FeedForward.fromJSON(json).dtype).toBe("f32");
    const g = new GatedFeedForward({ dModel: 4, dHidden: 6 }).toJSON();
    expect([g.version, g.dtype, g.encoding]).toEqual([1, undefined, "float32-le-base64"]);
    const g16 = new GatedFeedForward({ dModel: 4, dHidden: 6, dtype: "f16" }).toJSON();
    expect([g16.version, g16.dtype, g16.encoding]).toEqual([2, "f16", "le-base64"]);
    expect(GatedFeedForward.fromJSON(g16).dtype).toBe("f16");
  });

  it("fromJSON's dtype converts: float32 rounds, 16-bit widens exactly, bf16 to f16 rounds once", () => {
    const w = ffnWeights(5, 8, 12);
    const x: Matrix = { rows: 3, cols: 5, data: seededFloats(15, 13, 2) };
    const f32 = FeedForward.fromWeights(w).toJSON();
    const bf16 = FeedForward.fromWeights(w, { dtype: "bf16" });
    const viaJSON = FeedForward.fromJSON(f32, { dtype: "bf16" });
    expectSameBits(viaJSON.forward(x).data, bf16.forward(x).data, "f32 JSON as bf16");
    const wide = FeedForward.fromJSON(bf16.toJSON(), { dtype: "f32" });
    expect(wide.dtype).toBe("f32");
    expectSameBits(wide.forward(x).data, bf16.forward(x).data, "bf16 JSON as f32");
    const f16 = FeedForward.fromJSON(bf16.toJSON(), { dtype: "f16" });
    const direct = FeedForward.fromWeights(bf16.weights, { dtype: "f16" });
    expectSameBits(f16.forward(x).data, direct.forward(x).data, "bf16 JSON as f16");
  });

  it("keeps every 16-bit pattern, a signalling NaN's payload too: no float32 step", () => {
    // A signalling f16 NaN (0x7c01) would come back quieted (0x7e01) from a float32 value
    // narrowed again: JSON bits go into the packing as they are, and weights widens exactly.
    const a = FeedForward.fromWeights(ffnWeights(2, 2, 1), { dtype: "f16" });
    const json = a.toJSON();
    const w1 = new Uint16Array([0x7c01, 0x8000, 0x0001, 0xfbff]); // sNaN, -0, 2^-24, -65504
    const b = FeedForward.fromJSON({ ...json, w1: encodeFloat32(w1) });
    expect([...bitsOf(b.weights.w1.data)]).toEqual([...w1].map((h) => halfToFloatBits(h)));
    expect(b.toJSON().w1).toBe(encodeFloat32(w1));
    const bf = FeedForward.fromWeights(ffnWeights(2, 2, 1), { dtype: "bf16" }).toJSON();
    const sNaN = new Uint16Array([0x7f81, 0x8000, 0x0001, 0xff7f]);
    expect(FeedForward.fromJSON({ ...bf, w1: encodeFloat32(sNaN) }).toJSON().w1).toBe(
      encodeFloat32(sNaN),
    );
    expect(floatBitsToBf16(0x7f810000)).toBe(0x7fc1); // what a float32 step would have given
  });
});

describe("a weight source of raw 16-bit arrays (what a loader hands over)", () => {
  const D = 13;
  const H = 37;
  const shapeOf = (dtype: WeightDtype): LayerShape => ({
    dModel: D,
    dHidden: H,
    expand: 2,
    hasBias: true,
    activation: "silu",
    dtype,
  });
  /** Gate, up and down as 16-bit bits of `dtype`, in tokenwise's layout or nn.Linear's. */
  function maps16(dtype: Dtype16, linear: boolean): { maps: MapTensors16[]; wide: Float32Array[] } {
    const wide: Float32Array[] = [];
    const maps = [0, 1, 2].map((i) => {
      const [rows, cols] = i < 2 ? [D, H] : [H, D];
      const v = seededFloats(rows * cols, 20 + i, 1);
      const bits = narrowInto(dtype, v, new Uint16Array(v.length));
      const w = widenInto(dtype, bits, new Float32Array(v.length)); // tokenwise's layout
      wide.push(w);
      if (!linear) return { w: bits, b: seededFloats(cols, 30 + i, 1) };
      const t = new Uint16Array(bits.length);
      for (let k = 0; k < rows; k++)
        for (let j = 0; j < cols; j++) t[j * rows + k] = bits[k * cols + j] as number;
      return { w: t, b: seededFloats(cols, 30 + i, 1) };
    });
    return { maps, wide };
  }

  /** The source, with its float32 rows refused: they are never read when the types match. */
  const bitsOnly = (s: WeightSource): WeightSource => ({
    hasBias: s.hasBias,
    bits: s.bits!,
    bias: (i, dst) => s.bias(i, dst),
    row() {
      throw new Error("a float32 row was read");
    },
  });

  it.each([
    ["bf16", false],
    ["f16", false],
    ["f16", true],
  ] as const)(
    "%s (nn.Linear layout: %s) packs the bits as they are, on every kernel",
    async (dtype, linear) => {
      const { maps, wide } = maps16(dtype, linear);
      const shape = shapeOf(dtype);
      const x: Matrix = { rows: 4, cols: D, data: seededFloats(4 * D, 40, 2) };
      const wideWeights = {
        wGate: { rows: D, cols: H, data: wide[0]! },
        bGate: maps[0]!.b!,
        wUp: { rows: D, cols: H, data: wide[1]! },
        bUp: maps[1]!.b!,
        wDown: { rows: H, cols: D, data: wide[2]! },
        bDown: maps[2]!.b!,
      };
      const host = await threadHost();
      for (const kernel of KERNELS) {
        const threads = kernel === "wasm-2t" ? 2 : 1;
        const plan = { threads, host: threads > 1 ? host : null };
        const k = entryFor(kernelName(kernel), plan).create(
          shape,
          bitsOnly(raw16Source(shape, maps, dtype, linear)),
          plan,
        );
        live.push(k);
        const out = new Float32Array(4 * D);
        await k.forwardAsync(x.data, 0, 4, out, 0);
        // The float32 layer on the widened weights, on the same kernel.
        const ref = GatedFeedForward.fromWeights(wideWeights, {
          activation: "silu",
          kernel: kernelName(kernel),
        });
        expectSameBits(out, ref.forward(x).data, kernel);
        const stored = k.unpack();
        stored.forEach((m, i) => {
          const expected = linear
            ? narrowInto(dtype, wide[i]!, new Uint16Array(wide[i]!.length))
            : maps[i]!.w;
          expect([...(m.w as Uint16Array)]).toEqual([...expected]);
        });
      }
    },
  );

  it("a layer of another type reads the float32 rows (widened exactly) and rounds them", () => {
    const { maps, wide } = maps16("bf16", false);
    const shape = shapeOf("f16");
    const plan = { threads: 1, host: null };
    const k = entryFor("wasm", plan).create(shape, raw16Source(shape, maps, "bf16"), plan);
    k.unpack().forEach((m, i) => {
      expect([...(m.w as Uint16Array)]).toEqual([
        ...narrowInto("f16", wide[i]!, new Uint16Array(wide[i]!.length)),
      ]);
    });
    k.dispose();
  });
});

describe("memory", () => {
  it("the wasm kernel's memory holds 16-bit weights: half the float32 bytes, plus one float32 panel a thread", () => {
    for (const [D, H, expand] of [
      [768, 3072, 1],
      [4096, 11008, 2],
      [13, 37, 2],
    ] as const) {
      const weights = (expand + 1) * D * H;
      const f32 = layout(D, H, expand, false);
      const bf16 = layout(D, H, expand, false, false, "bf16");
      const panel = 16 * Math.max(D, H) * 4;
      // Each map's region is padded to whole panels and 64 bytes: at most one panel of 16
      // columns and 64 bytes a map.
      const pad = (expand + 1) * (16 * Math.max(D, H) * 2 + 64);
      expect(bf16.bytes - f32.bytes).toBeGreaterThanOrEqual(-2 * weights - pad + panel);
      expect(bf16.bytes - f32.bytes).toBeLessThanOrEqual(-2 * weights + pad + panel);
      const threaded = layout(D, H, expand, false, true, "f16", 3);
      expect(threaded.widen.length).toBe(4); // the calling thread's and one per worker
    }
    // At LLaMA-7B's widths the 16-bit layer's memory is within 1.1x of its weights' bytes.
    const big = layout(4096, 11008, 2, false, false, "bf16");
    expect(big.bytes / (3 * 4096 * 11008 * 2)).toBeLessThan(1.1);
  });

  it("keeps more than the kernel's read-ahead after the last weights, so its reads stay inside", () => {
    for (const [D, H, expand, threaded] of [
      [1, 1, 1, false],
      [1, 1, 2, true],
      [3, 17, 1, false],
      [4096, 16, 2, true],
    ] as const) {
      for (const dtype of ["bf16", "f16"] as const) {
        const lay = layout(D, H, expand, false, threaded, dtype, 2);
        const last = lay.maps[expand]!;
        const end = last.w + last.panels * 16 * last.K * 2;
        expect(lay.pages * 65536).toBeGreaterThanOrEqual(end + READ_AHEAD + 4);
        expect(lay.x).toBeGreaterThanOrEqual(end); // the blocks after it are the margin
      }
    }
  });

  it("the js kernel counts 2 bytes a weight", () => {
    const shape: LayerShape = {
      ...{ dModel: 768, dHidden: 3072, expand: 1 },
      hasBias: true,
      activation: "relu",
      dtype: "f32",
    };
    const saved = jsKernelBytes(shape) - jsKernelBytes({ ...shape, dtype: "bf16" });
    expect(saved).toBe(2 * 2 * 768 * 3072 - 4 * 4 * 3072); // minus the widened panel (4 columns)
  });
});

describe("gated JSON", () => {
  it("round-trips a bf16 gated layer", () => {
    const a = new GatedFeedForward({ dModel: 6, dHidden: 10, seed: 8, dtype: "bf16", bias: true });
    const json = JSON.parse(JSON.stringify(a)) as GatedFeedForwardJSON;
    const b = GatedFeedForward.fromJSON(json);
    const x: Matrix = { rows: 3, cols: 6, data: seededFloats(18, 9, 2) };
    expectSameBits(b.forward(x).data, a.forward(x).data);
    expect(b.dtype).toBe("bf16");
  });
});
