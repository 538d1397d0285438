// MixtureOfExperts on the webgpu kernel in Node, on Dawn and SwiftShader's CPU Vulkan driver (a
// software adapter at about 0.2 GFLOP/s, so the shapes are small). As test/layers/moe.prop.test.ts
// does for the other kernels: a token's output and route are the same bits alone, among other
// rows, at any position, permuted and in [A; B]; the order of a token's sum is the documented
// one; the output agrees with a float64 model within the derived bound (test/support/moe64.ts,
// the experts bounded as test/helpers/gpu64.ts bounds the layers on a GPU); the routing is the
// wasm kernel's, bit for bit.
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type ActivationName,
  GatedFeedForward,
  type GatedFeedForwardWeights,
  type GpuDevice,
  type Matrix,
  MixtureOfExperts,
  type MixtureOfExpertsWeights,
  ShapeError,
  row,
} from "../src/index";
import { sigmoid64 } from "../src/kernels/activation";
import type { ExpertsKernel } from "../src/kernels/experts";
import { expertsOf } from "../src/layers/moe-make";
import { seededFloats } from "./helpers/arbitraries";
import { expectSameBits, snapshot } from "./helpers/bits";
import { makeDevice, withLimits } from "./helpers/webgpu";
import { againstModel, moe64, moe64Of } from "./support/moe64";

const ACTIVATIONS: readonly ActivationName[] = ["relu", "gelu", "geluTanh", "silu"];

let device: GPUDevice & GpuDevice;
beforeAll(async () => {
  device = await makeDevice();
});
afterAll(() => device.destroy());

const live: MixtureOfExperts[] = [];
afterEach(() => {
  for (const l of live.splice(0)) l.dispose();
});

const m = (rows: number, cols: number, data: Float32Array): Matrix => ({ rows, cols, data });

/** Normal float32 values or zeros: a GPU may flush subnormal inputs, which the bound leaves out. */
const floats = (n: number, seed: number, scale: number) =>
  seededFloats(n, seed, scale).map((v) => (Math.abs(v) < 2 ** -126 ? 0 : v));

const caseArb = fc
  .record({
    D: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(19, 31)),
    H: fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(23, 65)),
    E: fc.integer({ min: 1, max: 9 }),
    shared: fc.option(fc.integer({ min: 1, max: 33 }), { nil: undefined }),
    sharedGate: fc.boolean(),
    scoring: fc.constantFrom<"softmax" | "sigmoid">("softmax", "sigmoid"),
    normalize: fc.boolean(),
    routedScale: fc.constantFrom(1, 2.5),
    routerBias: fc.boolean(),
    selectionBias: fc.boolean(),
    bias: fc.boolean(),
    activation: fc.constantFrom(...ACTIVATIONS),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    kPick: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((c) => ({ ...c, topK: 1 + (c.kPick % c.E) }));
type Case = typeof caseArb extends fc.Arbitrary<infer C> ? C : never;

function expertWeights(c: Case, H: number, seed: number): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: m(c.D, H, floats(c.D * H, seed + 1, 1)),
    wUp: m(c.D, H, floats(c.D * H, seed + 2, 1)),
    wDown: m(H, c.D, floats(H * c.D, seed + 3, 1)),
  };
  if (c.bias) {
    w.bGate = floats(H, seed + 4, 1);
    w.bUp = floats(H, seed + 5, 1);
    w.bDown = floats(c.D, seed + 6, 1);
  }
  return w;
}

function weightsOf(c: Case): MixtureOfExpertsWeights {
  const s = c.seed;
  const w: MixtureOfExpertsWeights = {
    router: m(c.D, c.E, floats(c.D * c.E, s, 1 / Math.sqrt(c.D))),
    experts: Array.from({ length: c.E }, (_, e) => expertWeights(c, c.H, s + 10 * (e + 1))),
  };
  if (c.routerBias) w.routerBias = floats(c.E, s + 5, 1);
  if (c.selectionBias) w.selectionBias = floats(c.E, s + 6, 0.1);
  if (c.shared !== undefined) {
    w.shared = expertWeights(c, c.shared, s + 7);
    if (c.sharedGate) w.sharedGate = m(c.D, 1, floats(c.D, s + 8, 1));
  }
  return w;
}

async function make(
  c: Case,
  w: MixtureOfExpertsWeights,
  kernel: "webgpu" | "wasm" = "webgpu",
  on: GpuDevice = device,
  dtype: "f32" | "bf16" | "f16" = "f32",
): Promise<MixtureOfExperts> {
  const { topK, scoring, normalize, routedScale, activation } = c;
  const l = await MixtureOfExperts.create({
    weights: w,
    topK,
    scoring,
    normalize,
    routedScale,
    activation,
    dtype,
    kernel,
    ...(kernel === "webgpu" ? { device: on } : { threads: 1 }),
  });
  live.push(l);
  return l;
}

describe("MixtureOfExperts on the webgpu kernel: per token, bit for bit", () => {
  it("a token alone, among other rows, permuted and in [A; B] is its row of the batch; its route is the wasm kernel's", async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom(1, 2, 5, 17, 33), async (c, T) => {
        for (const l of live.splice(0)) l.dispose();
        const w = weightsOf(c);
        const l = await make(c, w);
        expect(l.kernel).toBe("webgpu");
        const D = c.D;
        const x = m(T, D, floats(T * D, c.seed + 50, 3));
        const y = await l.forwardAsync(x);
        // Routing: the same experts and weights as the wasm kernel's, bit for bit.
        const wasm = await make(c, w, "wasm");
        const r = l.route(x);
        const rw = wasm.route(x);
        expect(Array.from(r.experts)).toEqual(Array.from(rw.experts));
        expectSameBits(r.weights, rw.weights, "route weights");
        const other = floats(T * D, c.seed + 51, 3);
        for (let i = 0; i < T; i++) {
          const alone = await l.forwardAsync(m(1, D, row(x, i).slice()));
          expectSameBits(alone.data, row(y, i), `token ${i} alone`);
          if (T > 1 && (i === 0 || i === T - 1 || i === 16)) {
            const x2 = m(T, D, other.slice());
            x2.data.set(row(x, i), i * D);
            expectSameBits(row(await l.forwardAsync(x2), i), row(y, i), `row ${i} among others`);
          }
        }
        // The batch reversed, and [x; other] in one call.
        const rev = m(T, D, new Float32Array(T * D));
        for (let i = 0; i < T; i++) rev.data.set(row(x, i), (T - 1 - i) * D);
        const back = await l.forwardAsync(rev);
        for (let i = 0; i < T; i++)
          expectSameBits(row(back, T - 1 - i), row(y, i), `row ${i} reversed`);
        const ab = new Float32Array(2 * T * D);
        ab.set(x.data);
        ab.set(other, T * D);
        const out = m(2 * T, D, new Float32Array(ab.length).fill(NaN));
        expect(await l.forwardAsync(m(2 * T, D, ab), out)).toBe(out);
        expectSameBits(out.data.subarray(0, T * D), y.data, "[A; B] rows of A");
        const yb = await l.forwardAsync(m(T, D, other));
        expectSameBits(out.data.subarray(T * D), yb.data, "[A; B] rows of B");
      }),
      { numRuns: 6 },
    );
  });

  it("a batch past one block (128 tokens) and split into submissions by small limits gives the same bits", async () => {
    const c = fc.sample(caseArb, { numRuns: 1, seed: 11 })[0] as Case satisfies Case;
    const k = { ...c, D: 5, H: 9, E: 4, topK: 2, shared: 7 };
    const w = weightsOf(k);
    const whole = await make(k, w);
    // Storage buffers of 128 rows of the widest (9) values, the least a mixture takes: a block's
    // 128 · 2 + 128 rows go in three submissions.
    const small = withLimits(device, { maxStorageBufferBindingSize: 128 * 9 * 4 });
    const split = await make(k, w, "webgpu", small);
    const x = m(130, 5, floats(130 * 5, 21, 2));
    const a = await whole.forwardAsync(x);
    expectSameBits((await split.forwardAsync(x)).data, a.data, "split");
    const tail = await whole.forwardAsync(m(2, 5, x.data.slice(128 * 5)));
    expectSameBits(tail.data, a.data.subarray(128 * 5), "rows 128 and 129 alone");
  });
});

describe("MixtureOfExperts on the webgpu kernel: a token's output", () => {
  it("is fl32(Σ over its experts in increasing index of w · expert(x), + g · shared(x)), the webgpu gated layers' bits", async () => {
    const c = { ...(fc.sample(caseArb, { numRuns: 1, seed: 7 })[0] as Case) };
    const k = { ...c, D: 7, H: 11, E: 5, topK: 3, shared: 9, sharedGate: true, bias: true };
    const w = weightsOf(k);
    const moe = await make(k, w);
    const gated = (e: GatedFeedForwardWeights) =>
      GatedFeedForward.create({ weights: e, activation: k.activation, kernel: "webgpu", device });
    const experts = await Promise.all(w.experts.map(gated));
    const shared = await gated(w.shared as GatedFeedForwardWeights);
    const T = 20;
    const x = m(T, k.D, floats(T * k.D, 91, 2));
    const y = await moe.forwardAsync(x);
    const r = moe.route(x);
    for (let t = 0; t < T; t++) {
      const tok = m(1, k.D, row(x, t).slice());
      const pairs = [0, 1, 2].map((i) => [r.experts[3 * t + i]!, r.weights[3 * t + i]!] as const);
      pairs.sort((a, b) => a[0] - b[0]);
      let z = 0;
      for (let j = 0; j < k.D; j++) z += tok.data[j]! * w.sharedGate!.data[j]!;
      const g = Math.fround(sigmoid64(Math.fround(z)));
      const want = new Float64Array(k.D);
      for (const [e, wt] of pairs) {
        const ye = (await experts[e]!.forwardAsync(tok)).data;
        for (let j = 0; j < k.D; j++) want[j] = want[j]! + wt * ye[j]!;
      }
      const ys = (await shared.forwardAsync(tok)).data;
      for (let j = 0; j < k.D; j++) want[j] = want[j]! + g * ys[j]!;
      expectSameBits(row(y, t), Float32Array.from(want), `token ${t}`);
    }
    for (const l of [...experts, shared]) l.dispose();
  });
});

// As test/layers/moe.prop.test.ts: experts whose outputs are constant rows v_e of ±2^60, small
// integers and 2^-30 (hidden width 1: relu(x_0) · x_0 · v_e with x_0 = 1, exact on any GPU),
// routed by sigmoid on logits 0 or ±100·n, so the weights are exactly 1 or 1/2 (or tiny): only
// the documented sum (float64 over each token's experts in increasing index, rounded once)
// gives these bits, in every batch.
describe("MixtureOfExperts on the webgpu kernel: the order of a token's sum", () => {
  it("is each token's experts in increasing index, then rounded once, whatever the batch", async () => {
    const arb = fc.record({
      D: fc.integer({ min: 2, max: 9 }),
      E: fc.integer({ min: 3, max: 12 }),
      T: fc.integer({ min: 2, max: 40 }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      kPick: fc.integer({ min: 0, max: 2 ** 30 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        for (const l of live.splice(0)) l.dispose();
        const k = 3 + (c.kPick % (c.E - 2));
        const u = seededFloats(c.D * c.E + c.E * c.D + c.T * c.D, c.seed);
        let at = 0;
        const pick = (options: number[]) =>
          options[Math.floor(((u[at++] as number) * 0.5 + 0.5) * options.length)] as number;
        const router = Float32Array.from({ length: c.D * c.E }, () => pick([-100, -100, 0, 100]));
        const rows = Array.from({ length: c.E }, () =>
          Float32Array.from({ length: c.D }, () => pick([2 ** 60, -(2 ** 60), 3, -1, 1, 2 ** -30])),
        );
        const one = (D: number) => Float32Array.from({ length: D }, (_, i) => (i === 0 ? 1 : 0));
        const l = await MixtureOfExperts.create({
          weights: {
            router: m(c.D, c.E, router),
            experts: rows.map((v) => ({
              wGate: m(c.D, 1, one(c.D)),
              wUp: m(c.D, 1, one(c.D)),
              wDown: m(1, c.D, v),
            })),
          },
          topK: k,
          scoring: "sigmoid",
          normalize: false,
          activation: "relu",
          kernel: "webgpu",
          device,
        });
        live.push(l);
        const x = m(
          c.T,
          c.D,
          Float32Array.from({ length: c.T * c.D }, (_, i) =>
            i % c.D === 0 ? 1 : pick([-1, 0, 1]),
          ),
        );
        const y = await l.forwardAsync(x);
        const r = l.route(x);
        for (let t = 0; t < c.T; t++) {
          const chosen = Array.from({ length: k }, (_, i) => i)
            .map((i) => [r.experts[t * k + i] as number, r.weights[t * k + i] as number] as const)
            .sort((a, b) => a[0] - b[0]);
          const want = new Float32Array(c.D);
          for (let j = 0; j < c.D; j++) {
            let s = 0;
            for (const [e, wt] of chosen) s += wt * (rows[e]![j] as number);
            want[j] = s;
          }
          expectSameBits(row(y, t), want, `token ${t}`);
        }
      }),
      { numRuns: 8 },
    );
  });
});

describe("MixtureOfExperts on the webgpu kernel: within the derived bound of a float64 model", () => {
  it("chooses the model's experts and agrees within the bound, every activation", async () => {
    let checked = 0;
    let ambiguous = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, fc.constantFrom(1, 3, 17), async (c, T) => {
        for (const l of live.splice(0)) l.dispose();
        const w = weightsOf(c);
        const l = await make(c, w);
        const x = floats(T * c.D, c.seed + 80, 4);
        const got = (await l.forwardAsync(m(T, c.D, x))).data;
        const r = l.route(m(T, c.D, x));
        const model = moe64(
          moe64Of(w, {
            dModel: c.D,
            activation: c.activation,
            topK: c.topK,
            scoring: c.scoring,
            normalize: c.normalize,
            routedScale: c.routedScale,
          }),
          x,
          T,
          "gpu",
        );
        const got64 = againstModel(model, r.experts, got, T, c.topK, c.D);
        expect(got64.wrong).toEqual([]);
        checked += got64.checked;
        ambiguous += got64.ambiguous;
      }),
      { numRuns: 12 },
    );
    expect(checked).toBeGreaterThan(10 * Math.max(1, ambiguous));
  });
});

describe("MixtureOfExperts on the webgpu kernel: its calls and its errors", () => {
  const seeded = { dModel: 4, dHidden: 8, experts: 3, topK: 2, seed: 3 } as const;

  it('only through create: the constructor, fromWeights and fromJSON say so; "auto" never picks it', async () => {
    expect(() => new MixtureOfExperts({ ...seeded, kernel: "webgpu" })).toThrow(
      new TypeError(
        'MixtureOfExperts: kernel "webgpu" needs the async factory: await MixtureOfExperts.create(options)',
      ),
    );
    const wasm = await MixtureOfExperts.create({ ...seeded, threads: 1 });
    live.push(wasm);
    expect(wasm.kernel).toBe("wasm");
    expect(() => MixtureOfExperts.fromWeights(wasm.weights, { topK: 2, kernel: "webgpu" })).toThrow(
      /^MixtureOfExperts\.fromWeights: kernel "webgpu" needs the async factory/,
    );
    expect(() => MixtureOfExperts.fromJSON(wasm.toJSON(), { kernel: "webgpu" })).toThrow(
      /^MixtureOfExperts\.fromJSON: kernel "webgpu" needs the async factory/,
    );
  });

  it("options: a device is for kernel webgpu only and must be a device", async () => {
    await expect(MixtureOfExperts.create({ ...seeded, kernel: "wasm", device })).rejects.toThrow(
      new TypeError(
        'MixtureOfExperts.create: options.device is for kernel: "webgpu", got kernel "wasm"',
      ),
    );
    await expect(
      MixtureOfExperts.create({ ...seeded, kernel: "webgpu", device: {} as GpuDevice }),
    ).rejects.toThrow(
      new TypeError(
        "MixtureOfExperts.create: options.device must be a GPUDevice, got an object (Object)",
      ),
    );
    const wasm = new MixtureOfExperts(seeded);
    live.push(wasm);
    await expect(
      MixtureOfExperts.create({ weights: wasm.weights, topK: 2, device }),
    ).rejects.toThrow(/options\.device is for kernel: "webgpu", got kernel "auto"/);
  });

  it("forward and forwardToken throw, saying to use forwardAsync, and write nothing", async () => {
    const l = await MixtureOfExperts.create({ ...seeded, kernel: "webgpu", device });
    live.push(l);
    expect(l.kernel).toBe("webgpu");
    const out = m(1, 4, new Float32Array([7, 8, 9, 10]));
    expect(() => l.forward(m(1, 4, new Float32Array(4)), out)).toThrow(
      new Error("forward: the webgpu kernel computes asynchronously; use forwardAsync"),
    );
    const token = new Float32Array([7, 8, 9, 10]);
    expect(() => l.forwardToken(new Float32Array(4), token)).toThrow(
      new Error("forwardToken: the webgpu kernel computes asynchronously; use forwardAsync"),
    );
    expect(Array.from(out.data)).toEqual([7, 8, 9, 10]);
    expect(Array.from(token)).toEqual([7, 8, 9, 10]);
  });

  it("bad input rejects naming the parameter, before anything is written", async () => {
    const l = await MixtureOfExperts.create({ ...seeded, kernel: "webgpu", device });
    live.push(l);
    const out = m(2, 4, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const unchanged = snapshot(out.data);
    await expect(l.forwardAsync(m(2, 5, new Float32Array(10)), out)).rejects.toThrow(ShapeError);
    await expect(l.forwardAsync(m(2, 5, new Float32Array(10)), out)).rejects.toThrow(
      /^forwardAsync: x /,
    );
    await expect(
      l.forwardAsync(m(2, 4, new Float32Array(8)), m(3, 4, new Float32Array(12))),
    ).rejects.toThrow(/^forwardAsync: out /);
    await expect(l.forwardAsync("x" as unknown as Matrix)).rejects.toThrow(TypeError);
    unchanged();
  });

  it("16-bit experts are widened on upload: the same bits as float32 experts of those values; JSON, weights and backward from the host copy", async () => {
    const c = { ...(fc.sample(caseArb, { numRuns: 1, seed: 5 })[0] as Case) };
    const k = { ...c, D: 6, H: 10, E: 3, topK: 2, shared: 5 };
    const w = weightsOf(k);
    const x = m(5, 6, floats(30, 31, 2));
    for (const dtype of ["bf16", "f16"] as const) {
      const half = await make(k, w, "webgpu", device, dtype);
      expect(half.dtype).toBe(dtype);
      const full = await make(k, half.weights);
      expectSameBits((await half.forwardAsync(x)).data, (await full.forwardAsync(x)).data, dtype);
      // The host copy: JSON keeps the type and the bits; backward is the wasm layer's.
      const json = half.toJSON();
      expect(json.dtype).toBe(dtype);
      const wasm = MixtureOfExperts.fromJSON(json, { kernel: "wasm" });
      live.push(wasm);
      expect(JSON.stringify(wasm)).toBe(JSON.stringify(json));
      const dY = m(5, 6, floats(30, 32, 1));
      const a = half.backward(x, dY);
      const b = wasm.backward(x, dY);
      expectSameBits(a.dX.data, b.dX.data, "dX");
      expectSameBits(a.dRouter.data, b.dRouter.data, "dRouter");
    }
  });

  it("a lost device rejects clearly and writes nothing; a later create works; dispose is final", async () => {
    const own = await makeDevice();
    const l = await MixtureOfExperts.create({ ...seeded, kernel: "webgpu", device: own });
    const x = m(3, 4, floats(12, 41, 1));
    const before = await l.forwardAsync(x);
    own.destroy();
    const out = m(3, 4, new Float32Array(12).fill(5));
    await expect(l.forwardAsync(x, out)).rejects.toThrow(
      /^forwardAsync: the webgpu kernel's device was lost \(.+\); make the layer again with create$/,
    );
    expect(Array.from(out.data)).toEqual(new Array(12).fill(5));
    l.dispose();
    const fresh = await makeDevice();
    const again = await MixtureOfExperts.create({ ...seeded, kernel: "webgpu", device: fresh });
    expectSameBits((await again.forwardAsync(x)).data, before.data);
    again.dispose();
    await expect(again.forwardAsync(x)).rejects.toThrow("forwardAsync: the layer was disposed");
    fresh.destroy();
  });

  it("without a device, in an engine with no navigator.gpu, create says what to pass", async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    await expect(MixtureOfExperts.create({ ...seeded, kernel: "webgpu" })).rejects.toThrow(
      new Error(
        'MixtureOfExperts.create: kernel "webgpu" needs WebGPU: this engine has no navigator.gpu; pass a GPUDevice as options.device to create (in Node, one from the "webgpu" package)',
      ),
    );
  });

  it("at one token, only its chosen experts (and the shared one) run, in one submission", async () => {
    const l = await MixtureOfExperts.create({
      ...seeded,
      experts: 16,
      topK: 3,
      sharedHidden: 4,
      kernel: "webgpu",
      device,
    });
    live.push(l);
    const k = expertsOf(l) as ExpertsKernel;
    const calls: number[][] = [];
    const runMany = (k.runMany as NonNullable<ExpertsKernel["runMany"]>).bind(k);
    k.runMany = (experts, rows, steps, x, out) => {
      calls.push(Array.from(experts.subarray(0, steps)));
      return runMany(experts, rows, steps, x, out);
    };
    const tok = m(1, 4, floats(4, 61, 2));
    await l.forwardAsync(tok);
    const chosen = Array.from(l.route(tok).experts).sort((a, b) => a - b);
    expect(calls).toEqual([[...chosen, 16]]);
  });

  it("calls in flight together queue and each gets its own result", async () => {
    const l = await MixtureOfExperts.create({
      ...seeded,
      sharedHidden: 6,
      kernel: "webgpu",
      device,
    });
    live.push(l);
    const xs = [1, 3, 17].map((r, i) => m(r, 4, floats(r * 4, 50 + i, 2)));
    const together = await Promise.all(xs.map((x) => l.forwardAsync(x)));
    for (const [i, x] of xs.entries())
      expectSameBits(together[i]?.data as Float32Array, (await l.forwardAsync(x)).data);
  });
});
