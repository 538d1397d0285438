// The webgpu kernel in Node, on Dawn and SwiftShader's CPU Vulkan driver (a software adapter
// at about 0.2 GFLOP/s, so the shapes are small). Per token, bit for bit: a token alone, in any
// batch, at any position, in batches split into chunks. Against a float64 model: within the
// bound of docs/kernels.md ("Accuracy"), both layers, every activation.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActivationName,
  FeedForward,
  GatedFeedForward,
  type GpuDevice,
  ShapeError,
  fromRows,
  matrix,
} from "../src/index";
import { finite } from "./helpers/arbitraries";
import { expectSameBits, snapshot } from "./helpers/bits";
import { gpuForward64 } from "./helpers/gpu64";
import { outsideBound } from "./helpers/reference64";
import { makeDevice, withLimits } from "./helpers/webgpu";

const ACTIVATIONS: readonly ActivationName[] = ["relu", "gelu", "geluTanh", "silu"];

let device: GPUDevice & GpuDevice;
beforeAll(async () => {
  device = await makeDevice();
});
afterAll(() => device.destroy());

type AnyLayer = FeedForward | GatedFeedForward;

/** A layer of either kind on the device, from seeded weights. */
function seeded(
  gated: boolean,
  o: { dModel: number; dHidden: number; activation: ActivationName; bias: boolean; seed: number },
  on: GpuDevice = device,
): Promise<AnyLayer> {
  const { dModel, dHidden, activation, bias, seed } = o;
  const options = {
    dModel,
    dHidden,
    activation,
    bias,
    seed,
    kernel: "webgpu" as const,
    device: on,
  };
  return gated ? GatedFeedForward.create(options) : FeedForward.create(options);
}

/** Normal float32 values or zeros: a GPU may flush subnormal inputs, which the bound leaves out. */
const normal = (n: number, max = 2) =>
  finite(n, max).map((a) => a.map((v) => (Math.abs(v) < 2 ** -126 ? 0 : v)));

const layerShape = fc.record({
  gated: fc.boolean(),
  dModel: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(19, 31, 67)),
  dHidden: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(23, 65, 129)),
  activation: fc.constantFrom(...ACTIVATIONS),
  bias: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1000 }),
});

describe("webgpu kernel: per token, bit for bit", () => {
  it("a token alone is its row of any batch, at any position (batches across the 16-row tile)", async () => {
    await fc.assert(
      fc.asyncProperty(
        layerShape,
        fc.constantFrom(2, 5, 16, 17, 33),
        fc.integer({ min: 0, max: 2 ** 31 }),
        async (shape, rows, seed) => {
          const layer = await seeded(shape.gated, shape);
          try {
            const D = shape.dModel;
            const x = fc.sample(finite(rows * D), { numRuns: 1, seed })[0] as Float32Array;
            const batch = await layer.forwardAsync(matrix(rows, D, x));
            // Each token alone, and the batch reversed.
            for (let t = 0; t < rows; t++) {
              const alone = await layer.forwardAsync(matrix(1, D, x.slice(t * D, (t + 1) * D)));
              expectSameBits(alone.data, batch.data.subarray(t * D, (t + 1) * D), `token ${t}`);
            }
            const rev = new Float32Array(rows * D);
            for (let t = 0; t < rows; t++)
              rev.set(x.subarray(t * D, (t + 1) * D), (rows - 1 - t) * D);
            const back = await layer.forwardAsync(matrix(rows, D, rev));
            for (let t = 0; t < rows; t++) {
              expectSameBits(
                back.data.subarray((rows - 1 - t) * D, (rows - t) * D),
                batch.data.subarray(t * D, (t + 1) * D),
                `token ${t} reversed`,
              );
            }
          } finally {
            layer.dispose();
          }
        },
      ),
      { numRuns: 5 },
    );
  });

  it("a batch split into chunks by small device limits gives the same bits", async () => {
    const shape = { dModel: 4, dHidden: 40, activation: "relu" as const, bias: true, seed: 4 };
    // Storage buffers of 10 KiB (w2, 40 rows of 64 padded columns, just fits): 64 rows of
    // dHidden, so a batch of 150 runs as 3 chunks.
    const small = withLimits(device, { maxStorageBufferBindingSize: 40 * 64 * 4 });
    for (const gated of [false, true]) {
      const whole = await seeded(gated, shape);
      const split = await seeded(gated, shape, small);
      const x = fc.sample(finite(150 * 4), { numRuns: 1, seed: 9 })[0] as Float32Array;
      const a = await whole.forwardAsync(matrix(150, 4, x));
      const b = await split.forwardAsync(matrix(150, 4, x));
      expectSameBits(b.data, a.data, gated ? "gated" : "plain");
      whole.dispose();
      split.dispose();
    }
  });
});

describe("webgpu kernel: within the forward-error bound of a float64 model", () => {
  for (const gated of [false, true]) {
    for (const activation of ACTIVATIONS) {
      it(`${gated ? "GatedFeedForward" : "FeedForward"}, ${activation}`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom([1, 1, 3], [7, 13, 5], [19, 70, 17], [67, 129, 9]),
            fc.boolean(),
            fc.integer({ min: 0, max: 2 ** 31 }),
            async ([D, H, rows], bias, seed) => {
              const d = D as number;
              const h = H as number;
              const n = rows as number;
              const nIn = gated ? 2 : 1;
              const sample = <T>(a: fc.Arbitrary<T>, s: number) =>
                fc.sample(a, { numRuns: 1, seed: seed + s })[0] as T;
              const wIn = Array.from({ length: nIn }, (_, m) => sample(normal(d * h, 1), m));
              const bIn = Array.from({ length: nIn }, (_, m) =>
                bias ? sample(normal(h, 1), 10 + m) : null,
              );
              const wOut = sample(normal(h * d, 1), 20);
              const bOut = bias ? sample(normal(d, 1), 21) : null;
              const x = sample(normal(n * d, 3), 22);
              const m = (w: Float32Array, r: number, c: number) => matrix(r, c, w);
              const layer: AnyLayer = gated
                ? await GatedFeedForward.create({
                    weights: {
                      wGate: m(wIn[0] as Float32Array, d, h),
                      wUp: m(wIn[1] as Float32Array, d, h),
                      wDown: m(wOut, h, d),
                      ...(bias
                        ? {
                            bGate: bIn[0] as Float32Array,
                            bUp: bIn[1] as Float32Array,
                            bDown: bOut as Float32Array,
                          }
                        : {}),
                    },
                    activation,
                    kernel: "webgpu",
                    device,
                  })
                : await FeedForward.create({
                    weights: {
                      w1: m(wIn[0] as Float32Array, d, h),
                      w2: m(wOut, h, d),
                      ...(bias ? { b1: bIn[0] as Float32Array, b2: bOut as Float32Array } : {}),
                    },
                    activation,
                    kernel: "webgpu",
                    device,
                  });
              try {
                const got = await layer.forwardAsync(matrix(n, d, x));
                const model = gpuForward64(
                  { dModel: d, dHidden: h, activation, wIn, bIn, wOut, bOut },
                  x,
                  n,
                );
                expect(outsideBound(got.data, model.y, model.bound)).toEqual([]);
              } finally {
                layer.dispose();
              }
            },
          ),
          { numRuns: 3 },
        );
      });
    }
  }
});

describe("webgpu kernel: its calls and its errors", () => {
  it('only through create: the constructor and fromWeights say so; "auto" never picks it', async () => {
    expect(() => new FeedForward({ dModel: 2, dHidden: 4, kernel: "webgpu" })).toThrow(
      new TypeError(
        'FeedForward: kernel "webgpu" needs the async factory: await FeedForward.create(options)',
      ),
    );
    const w = { w1: fromRows([[1, 2]]), w2: fromRows([[1], [2]]) };
    expect(() => FeedForward.fromWeights(w, { kernel: "webgpu" })).toThrow(
      /needs the async factory/,
    );
    const auto = await FeedForward.create({ dModel: 2, dHidden: 4, threads: 1 });
    expect(auto.kernel).toBe("wasm");
    auto.dispose();
  });

  it("a synchronous forward throws, saying to use forwardAsync, and writes nothing", async () => {
    const layer = await seeded(false, {
      dModel: 3,
      dHidden: 5,
      activation: "relu",
      bias: true,
      seed: 1,
    });
    expect(layer.kernel).toBe("webgpu");
    const out = matrix(1, 3, new Float32Array([7, 8, 9]));
    expect(() => layer.forward(matrix(1, 3, new Float32Array(3)), out)).toThrow(
      new Error("forward: the webgpu kernel computes asynchronously; use forwardAsync"),
    );
    expect(() => layer.forwardToken(new Float32Array(3))).toThrow(/use forwardAsync/);
    expect(Array.from(out.data)).toEqual([7, 8, 9]);
    layer.dispose();
  });

  it("bad input rejects before anything is written", async () => {
    const layer = await seeded(true, {
      dModel: 3,
      dHidden: 5,
      activation: "silu",
      bias: false,
      seed: 2,
    });
    const out = matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6]));
    const unchanged = snapshot(out.data);
    await expect(layer.forwardAsync(matrix(2, 4, new Float32Array(8)), out)).rejects.toThrow(
      ShapeError,
    );
    await expect(
      layer.forwardAsync(matrix(2, 3, new Float32Array(6)), matrix(3, 3, new Float32Array(9))),
    ).rejects.toThrow(ShapeError);
    unchanged();
    layer.dispose();
  });

  it("options: a device is for kernel webgpu only and must be a device; quantized weights are refused", async () => {
    await expect(
      FeedForward.create({ dModel: 2, dHidden: 4, kernel: "wasm", device }),
    ).rejects.toThrow(
      new TypeError(
        'FeedForward.create: options.device is for kernel: "webgpu", got kernel "wasm"',
      ),
    );
    await expect(
      FeedForward.create({ dModel: 2, dHidden: 4, kernel: "webgpu", device: {} as GpuDevice }),
    ).rejects.toThrow(
      new TypeError(
        "FeedForward.create: options.device must be a GPUDevice, got an object (Object)",
      ),
    );
    await expect(
      FeedForward.create({ dModel: 32, dHidden: 32, kernel: "webgpu", device, dtype: "q8_0" }),
    ).rejects.toThrow(/kernel "webgpu" does not compute dtype "q8_0"/);
  });

  it("counts zero hidden values, as the other kernels do", async () => {
    const ffn = await FeedForward.create({
      weights: {
        w1: fromRows([[1, -1, 2, -2]]),
        b1: new Float32Array(4),
        w2: fromRows([[1], [1], [1], [1]]),
        b2: new Float32Array(1),
      },
      kernel: "webgpu",
      device,
    });
    const stats = { hidden: 0, zeros: 0, zeroShare: 0 };
    const y = await ffn.forwardAsync(fromRows([[1], [-1], [0]]), undefined, stats);
    expect(stats).toEqual({ hidden: 12, zeros: 8, zeroShare: 8 / 12 });
    expect(Array.from(y.data)).toEqual([3, 3, 0]);
    ffn.dispose();
  });

  it("16-bit weights are widened on upload: the same bits as float32 weights of those values", async () => {
    const half = await FeedForward.create({
      dModel: 9,
      dHidden: 21,
      seed: 5,
      dtype: "bf16",
      kernel: "webgpu",
      device,
    });
    expect(half.dtype).toBe("bf16");
    const full = await FeedForward.create({ weights: half.weights, kernel: "webgpu", device });
    const x = matrix(4, 9, fc.sample(finite(36), { numRuns: 1, seed: 3 })[0] as Float32Array);
    expectSameBits((await half.forwardAsync(x)).data, (await full.forwardAsync(x)).data);
    expect(half.toJSON().dtype).toBe("bf16");
    half.dispose();
    full.dispose();
  });

  it("a lost device rejects clearly and writes nothing; a later create works; dispose is final", async () => {
    const own = await makeDevice();
    const layer = await seeded(
      false,
      { dModel: 4, dHidden: 8, activation: "relu", bias: true, seed: 3 },
      own,
    );
    const x = matrix(2, 4, new Float32Array(8).fill(0.25));
    const before = await layer.forwardAsync(x);
    own.destroy();
    const out = matrix(2, 4, new Float32Array(8).fill(5));
    await expect(layer.forwardAsync(x, out)).rejects.toThrow(
      /^forwardAsync: the webgpu kernel's device was lost \(.+\); make the layer again with create$/,
    );
    expect(Array.from(out.data)).toEqual(new Array(8).fill(5));
    layer.dispose();
    const again = await seeded(
      false,
      { dModel: 4, dHidden: 8, activation: "relu", bias: true, seed: 3 },
      await makeDevice(),
    );
    expectSameBits((await again.forwardAsync(x)).data, before.data);
    again.dispose();
    await expect(again.forwardAsync(x)).rejects.toThrow("forwardAsync: the layer was disposed");
  });

  it("dispose: a call already running finishes with its result, calls not yet started reject and write nothing", async () => {
    const layer = await seeded(true, {
      dModel: 5,
      dHidden: 7,
      activation: "silu",
      bias: true,
      seed: 11,
    });
    const x = matrix(3, 5, fc.sample(finite(15), { numRuns: 1, seed: 4 })[0] as Float32Array);
    const expected = await layer.forwardAsync(x);
    // The first call starts (its turn comes on the next tick) and awaits the device; the two
    // queued behind it have not started when dispose comes.
    const running = layer.forwardAsync(x);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const outs = [1, 2].map(() => matrix(3, 5, new Float32Array(15).fill(7)));
    const queued = outs.map((out) => layer.forwardAsync(x, out));
    layer.dispose();
    layer.dispose(); // a second dispose changes nothing
    // The running call's buffers are freed only after it settles: its result is whole.
    expectSameBits((await running).data, expected.data);
    for (const [i, call] of queued.entries()) {
      await expect(call).rejects.toThrow("forwardAsync: the layer was disposed");
      expect(Array.from((outs[i] as { data: Float32Array }).data)).toEqual(new Array(15).fill(7));
    }
    await expect(layer.forwardAsync(x)).rejects.toThrow("forwardAsync: the layer was disposed");
    // The device is unharmed: another layer on it runs.
    const other = await seeded(false, {
      dModel: 5,
      dHidden: 7,
      activation: "relu",
      bias: false,
      seed: 2,
    });
    expect((await other.forwardAsync(x)).data.length).toBe(15);
    other.dispose();
  });

  it("calls in flight together queue and each gets its own result", async () => {
    const layer = await seeded(true, {
      dModel: 6,
      dHidden: 10,
      activation: "geluTanh",
      bias: true,
      seed: 8,
    });
    const xs = [1, 3, 17].map((r, i) =>
      matrix(r, 6, fc.sample(finite(r * 6), { numRuns: 1, seed: i })[0] as Float32Array),
    );
    const together = await Promise.all(xs.map((x) => layer.forwardAsync(x)));
    for (const [i, x] of xs.entries())
      expectSameBits(together[i]?.data as Float32Array, (await layer.forwardAsync(x)).data);
    layer.dispose();
  });
});
