// The checkpoint loaders keep a file's 16-bit weights as 16 bits: a layer loaded from F16 or
// BF16 tensors has that dtype, its 16-bit values go into the kernel as they are (a signalling
// NaN's bits survive, which a float32 step would quiet), and it computes exactly what the
// float32 layer computes on the widened weights. Saving a 16-bit layer writes 16-bit tensors.
import { describe, expect, it } from "vitest";
import {
  type CheckpointLayout,
  type SafetensorsTensorInput,
  FeedForward,
  GatedFeedForward,
  feedForwardFromCheckpoint,
  feedForwardFromCheckpointAsync,
  feedForwardTensors,
  gatedFeedForwardFromCheckpoint,
  gatedFeedForwardFromCheckpointAsync,
  gatedFeedForwardTensors,
  matrix,
  parseSafetensors,
  serializeSafetensors,
  tensorToFloat32,
} from "../../src/index";
import {
  bf16ToFloatBits,
  floatBitsToBf16,
  floatBitsToHalf,
  halfToFloatBits,
} from "../../src/dtype";
import { Random } from "../../src/random";
import { bitsOf } from "../helpers/bits";

type Layer = FeedForward | GatedFeedForward;
type FileType = "F32" | "F16" | "BF16";

interface Case {
  name: string;
  /** Weight and bias keys, in the layer's map order, with each map's (from, to). */
  maps: { w: string; b: string; from: "dModel" | "dHidden"; to: "dModel" | "dHidden" }[];
  load(tensors: unknown, names: unknown, options?: unknown): Layer;
  loadAsync(tensors: unknown, names: unknown, options?: unknown): Promise<Layer>;
  tensors(layer: unknown, names: unknown): Map<string, SafetensorsTensorInput>;
  fromWeights(weights: object, options?: object): Layer;
}

const CASES: Case[] = [
  {
    name: "FeedForward",
    maps: [
      { w: "w1", b: "b1", from: "dModel", to: "dHidden" },
      { w: "w2", b: "b2", from: "dHidden", to: "dModel" },
    ],
    load: (t, n, o) => feedForwardFromCheckpoint(t as never, n as never, o as never),
    loadAsync: (t, n, o) => feedForwardFromCheckpointAsync(t as never, n as never, o as never),
    tensors: (l, n) => feedForwardTensors(l as never, n as never),
    fromWeights: (w, o) => FeedForward.fromWeights(w as never, o as never),
  },
  {
    name: "GatedFeedForward",
    maps: [
      { w: "wGate", b: "bGate", from: "dModel", to: "dHidden" },
      { w: "wUp", b: "bUp", from: "dModel", to: "dHidden" },
      { w: "wDown", b: "bDown", from: "dHidden", to: "dModel" },
    ],
    load: (t, n, o) => gatedFeedForwardFromCheckpoint(t as never, n as never, o as never),
    loadAsync: (t, n, o) => gatedFeedForwardFromCheckpointAsync(t as never, n as never, o as never),
    tensors: (l, n) => gatedFeedForwardTensors(l as never, n as never),
    fromWeights: (w, o) => GatedFeedForward.fromWeights(w as never, o as never),
  },
];

const DIMS = { dModel: 24, dHidden: 40 };

/** 16-bit patterns of `type` for n random weights of magnitude about 0.2, and some specials. */
function bits16(type: "F16" | "BF16", n: number, rng: Random, specials: number[]): Uint16Array {
  const f = new Float32Array(n);
  rng.fillUniform(f, 0.2);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = type === "BF16" ? floatBitsToBf16(u[i] as number) : floatBitsToHalf(u[i] as number);
  }
  specials.forEach((s, i) => (out[(i * 7919) % n] = s));
  return out;
}

/** A file of one layer's tensors, every weight of `types[i]`, biases F32 if `bias`. */
function file(
  c: Case,
  layout: CheckpointLayout,
  types: FileType[],
  bias: boolean,
  seed: number,
  specials: (t: FileType) => number[] = () => [],
): { bytes: Uint8Array; names: Record<string, unknown> } {
  const rng = new Random(seed);
  const tensors: Record<string, SafetensorsTensorInput> = {};
  const names: Record<string, unknown> = { layout, activation: "silu" };
  c.maps.forEach((m, i) => {
    const [rows, cols] = [DIMS[m.from], DIMS[m.to]];
    const shape = layout === "linear" ? [cols, rows] : [rows, cols];
    const type = types[i] as FileType;
    let data: Float32Array | Uint16Array;
    if (type === "F32") {
      data = new Float32Array(rows * cols);
      rng.fillUniform(data, 0.2);
    } else data = bits16(type, rows * cols, rng, specials(type));
    tensors[`layer.${m.w}`] = { dtype: type, shape, data };
    names[m.w] = `layer.${m.w}`;
    if (bias) {
      const b = new Float32Array(cols);
      rng.fillUniform(b, 0.1);
      tensors[`layer.${m.b}`] = { dtype: "F32", shape: [cols], data: b };
      names[m.b] = `layer.${m.b}`;
    }
  });
  return { bytes: serializeSafetensors(tensors), names };
}

/** Batches that exercise a layer: a few tokens, one with large values. */
function inputs(): Float32Array {
  const x = new Float32Array(5 * DIMS.dModel);
  new Random(99).fillUniform(x, 1.5);
  x[3] = 3e4;
  return x;
}

const same = (a: Float32Array, b: Float32Array) =>
  expect(Array.from(bitsOf(a))).toEqual(Array.from(bitsOf(b)));

describe.each(CASES)("$name from a checkpoint", (c) => {
  describe.each(["linear", "conv1d"] as const)("layout %s", (layout) => {
    it.each([
      ["BF16", "bf16"],
      ["F16", "f16"],
      ["F32", "f32"],
    ] as const)(
      "%s weights give a %s layer: the float32 layer on the widened weights, bit for bit",
      (type, dtype) => {
        for (const bias of [true, false]) {
          const { bytes, names } = file(
            c,
            layout,
            c.maps.map(() => type),
            bias,
            7,
          );
          const parsed = parseSafetensors(bytes);
          const layer = c.load(parsed, names);
          expect(layer.dtype).toBe(dtype);
          expect(layer.hasBias).toBe(bias);
          // The weights are the file's values, exactly.
          const w = layer.weights as unknown as Record<string, { data: Float32Array }>;
          c.maps.forEach((m) => {
            const t = parsed.tensors.get(`layer.${m.w}`);
            const values = tensorToFloat32(t as never);
            const stored =
              layout === "linear" ? transpose32(values, DIMS[m.to], DIMS[m.from]) : values;
            same(w[m.w]?.data as Float32Array, stored);
          });
          // ... and the layer is the float32 layer on them, bit for bit, on both kernels.
          const x = inputs();
          for (const kernel of ["js", "wasm"] as const) {
            const half = c.load(parsed, names, { kernel });
            const full = c.fromWeights(half.weights, { kernel, activation: "silu" });
            const X = matrix(5, DIMS.dModel, x);
            same(half.forward(X).data, full.forward(X).data);
          }
        }
      },
    );

    it("keeps a 16-bit signalling NaN's bits: no float32 step on the way to the kernel", () => {
      // bf16 0x7f81 and f16 0x7c01 are signalling NaNs; narrowing a float32 would quiet them.
      for (const [type, snan] of [
        ["BF16", 0x7f81],
        ["F16", 0x7c01],
      ] as const) {
        const { bytes, names } = file(
          c,
          layout,
          c.maps.map(() => type),
          true,
          3,
          () => [snan],
        );
        for (const kernel of ["js", "wasm"] as const) {
          const layer = c.load(parseSafetensors(bytes), names, { kernel });
          const saved = c.tensors(layer, names);
          const back = saved.get(`layer.${c.maps[0]?.w}`);
          expect(back?.dtype).toBe(type);
          const orig = parseSafetensors(bytes).tensors.get(`layer.${c.maps[0]?.w}`);
          // The saved tensor is the file's tensor, byte for byte (the NaN included).
          expect(Buffer.from(serializeSafetensors({ t: back as SafetensorsTensorInput }))).toEqual(
            Buffer.from(serializeSafetensors({ t: orig as never })),
          );
        }
      }
    });
  });

  it("mixed 16-bit types give a float32 layer (no one 16-bit type holds both exactly)", () => {
    const types: FileType[] = c.maps.map((_, i) => (i === 0 ? "BF16" : "F16"));
    const { bytes, names } = file(c, "linear", types, false, 5);
    const layer = c.load(parseSafetensors(bytes), names);
    expect(layer.dtype).toBe("f32");
    const withF32: FileType[] = c.maps.map((_, i) => (i === 0 ? "F32" : "BF16"));
    const other = file(c, "linear", withF32, false, 5);
    expect(c.load(parseSafetensors(other.bytes), other.names).dtype).toBe("f32");
  });

  it("options.dtype converts: f32 widens, the other 16-bit type rounds once", () => {
    const { bytes, names } = file(
      c,
      "linear",
      c.maps.map(() => "BF16"),
      true,
      11,
    );
    const parsed = parseSafetensors(bytes);
    const bf = c.load(parsed, names);
    const f32 = c.load(parsed, names, { dtype: "f32" });
    expect(f32.dtype).toBe("f32");
    const x = matrix(5, DIMS.dModel, inputs());
    same(f32.forward(x).data, bf.forward(x).data);
    // bf16 -> f16: the bf16 value widened (exact) and rounded once to f16.
    const f16 = c.load(parsed, names, { dtype: "f16" });
    expect(f16.dtype).toBe("f16");
    const key = c.maps[0]?.w as string;
    const want = (bf.weights as unknown as Record<string, { data: Float32Array }>)[key]?.data;
    const got = (f16.weights as unknown as Record<string, { data: Float32Array }>)[key]?.data;
    const wantBits = bitsOf(want as Float32Array);
    const rounded = Array.from(wantBits, (b) => halfToFloatBits(floatBitsToHalf(b)));
    expect(Array.from(bitsOf(got as Float32Array))).toEqual(rounded);
    // f32 weights from a file rounded to bf16 on request.
    const g = file(
      c,
      "conv1d",
      c.maps.map(() => "F32"),
      false,
      2,
    );
    const gp = parseSafetensors(g.bytes);
    const asked = c.load(gp, g.names, { dtype: "bf16" });
    expect(asked.dtype).toBe("bf16");
    const f = (c.load(gp, g.names).weights as unknown as Record<string, { data: Float32Array }>)[
      key
    ]?.data as Float32Array;
    const r = (asked.weights as unknown as Record<string, { data: Float32Array }>)[key]
      ?.data as Float32Array;
    expect(Array.from(bitsOf(r))).toEqual(
      Array.from(bitsOf(f), (b) => bf16ToFloatBits(floatBitsToBf16(b))),
    );
  });

  it("quantizes a 16-bit file's weights on request: the q8_0 layer of the widened weights", () => {
    // Widths of whole blocks: the DIMS above are not, so this file is 32 x 64.
    const rng = new Random(31);
    const tensors: Record<string, SafetensorsTensorInput> = {};
    const names: Record<string, unknown> = { layout: "linear", activation: "silu" };
    const dims = { dModel: 32, dHidden: 64 };
    for (const m of c.maps) {
      const [rows, cols] = [dims[m.from], dims[m.to]];
      tensors[`l.${m.w}`] = {
        dtype: "BF16",
        shape: [cols, rows],
        data: bits16("BF16", rows * cols, rng, []),
      };
      names[m.w] = `l.${m.w}`;
    }
    const parsed = parseSafetensors(serializeSafetensors(tensors));
    const q = c.load(parsed, names, { dtype: "q8_0" });
    expect(q.dtype).toBe("q8_0");
    const wide = c.load(parsed, names, { dtype: "f32" });
    const again = c.fromWeights(wide.weights, { dtype: "q8_0", activation: "silu" });
    const x = matrix(
      3,
      32,
      new Float32Array(96).map((_, i) => Math.cos(i)),
    );
    same(q.forward(x).data, again.forward(x).data);
  });

  it("reads 16-bit data at an odd byte offset (a copy of the bits, the same layer)", () => {
    const { bytes, names } = file(
      c,
      "linear",
      c.maps.map(() => "F16"),
      false,
      13,
    );
    const parsed = parseSafetensors(bytes);
    const shifted = new Map(
      [...parsed.tensors].map(([k, t]) => {
        const buf = new Uint8Array(t.data.length + 1);
        buf.set(t.data, 1);
        return [k, { ...t, data: buf.subarray(1) }];
      }),
    );
    expect((shifted.values().next().value as { data: Uint8Array }).data.byteOffset % 2).toBe(1);
    const a = c.load(parsed, names);
    const b = c.load(shifted, names);
    expect(b.dtype).toBe("f16");
    const x = matrix(5, DIMS.dModel, inputs());
    same(a.forward(x).data, b.forward(x).data);
  });

  it("refuses what it cannot keep, naming the option or the tensor, and builds nothing", () => {
    const { bytes, names } = file(
      c,
      "linear",
      c.maps.map(() => "BF16"),
      false,
      17,
      () => [
        0x4780, // 65536 in bf16: beyond f16's range
      ],
    );
    const parsed = parseSafetensors(bytes);
    expect(() => c.load(parsed, names, { dtype: "f16" })).toThrow(
      new RegExp(`tensor "layer\\.${c.maps[0]?.w}"\\[\\d+, \\d+\\] = 65536 is beyond f16's range`),
    );
    expect(() => c.load(parsed, names, { dtype: "fp16" })).toThrow(RangeError);
    expect(() => c.load(parsed, names, { dtype: "fp16" })).toThrow(/options\.dtype/);
    expect(() => c.load(parsed, names, { layout: "conv1d" })).toThrow(TypeError);
    expect(() => c.load(parsed, names, { layout: "conv1d" })).toThrow(/options\.layout/);
    expect(() => c.load(parsed, names, { threads: 2 })).toThrow(/threads/);
    // A block type needs widths that are whole blocks of 32: this layer's are not.
    expect(() => c.load(parsed, names, { dtype: "q8_0" })).toThrow(
      /dModel = 24 is not a multiple of 32/,
    );
    // The same layout as the names' is accepted.
    expect(c.load(parsed, names, { layout: "linear" }).dtype).toBe("bf16");
  });

  it("loads asynchronously, on threads, keeping the 16 bits and the bits of the output", async () => {
    for (const type of ["BF16", "F16"] as const) {
      const { bytes, names } = file(
        c,
        "linear",
        c.maps.map(() => type),
        true,
        29,
      );
      const parsed = parseSafetensors(bytes);
      const one = c.load(parsed, names, { kernel: "wasm" });
      const two = await c.loadAsync(parsed, names, { threads: 2 });
      try {
        expect(two.dtype).toBe(type === "BF16" ? "bf16" : "f16");
        expect(two.threads).toBe(2);
        const x = matrix(5, DIMS.dModel, inputs());
        same(two.forward(x).data, one.forward(x).data);
        same((await two.forwardAsync(x)).data, one.forward(x).data);
      } finally {
        two.dispose();
      }
      await expect(c.loadAsync(parsed, names, { threads: 0 })).rejects.toThrow(/options\.threads/);
      await expect(c.loadAsync(parsed, names, { dtype: "q" })).rejects.toThrow(/options\.dtype/);
      const big = file(
        c,
        "linear",
        c.maps.map(() => "BF16"),
        false,
        37,
        () => [0x4780],
      );
      await expect(
        c.loadAsync(parseSafetensors(big.bytes), big.names, { dtype: "f16", threads: 2 }),
      ).rejects.toThrow(/= 65536 is beyond f16's range/);
    }
  });

  it("saves a 16-bit layer as 16-bit tensors, and loads it back as the same layer", () => {
    for (const dtype of ["bf16", "f16"] as const) {
      const { bytes, names } = file(
        c,
        "conv1d",
        c.maps.map(() => "F32"),
        true,
        23,
      );
      const layer = c.load(parseSafetensors(bytes), names, { dtype });
      for (const layout of ["linear", "conv1d"] as const) {
        const n = { ...names, layout };
        const saved = c.tensors(layer, n);
        for (const m of c.maps) expect(saved.get(`layer.${m.w}`)?.dtype).toBe(dtype.toUpperCase());
        for (const m of c.maps) expect(saved.get(`layer.${m.b}`)?.dtype).toBe("F32");
        const back = c.load(parseSafetensors(serializeSafetensors(saved)), n);
        expect(back.dtype).toBe(dtype);
        const x = matrix(5, DIMS.dModel, inputs());
        same(back.forward(x).data, layer.forward(x).data);
      }
    }
  });
});

/** (rows, cols) row-major to (cols, rows), as float32 bits. */
function transpose32(a: Float32Array, rows: number, cols: number): Float32Array {
  const from = bitsOf(a);
  const out = new Float32Array(a.length);
  const to = bitsOf(out);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) to[j * rows + i] = from[i * cols + j] as number;
  return out;
}
