// MixtureOfExperts's API: construction, the routing rules (order, ties, normalisation, scale,
// sigmoid with a selection-only bias, a gated shared expert), a token's output as the
// documented sum of gated layers' outputs bit for bit, weights and JSON, one pool for many
// experts, only the chosen experts at one token, faults, and one test per throw path (the
// message names the parameter; nothing is written).
import { afterAll, describe, expect, it } from "vitest";
import {
  GatedFeedForward,
  type GatedFeedForwardWeights,
  type Matrix,
  MixtureOfExperts,
  type MixtureOfExpertsWeights,
  ShapeError,
  fromRows,
  matrix,
  row,
} from "../../src/index";
import { sigmoid64 } from "../../src/kernels/activation";
import type { ExpertsKernel } from "../../src/kernels/experts";
import { expertsOf } from "../../src/layers/moe-make";
import type { Pool } from "../../src/threads/pool";
import { threadHost } from "../../src/threads/platform";
import { seededFloats as seeded } from "../helpers/arbitraries";
import { expectSameBits, snapshot } from "../helpers/bits";

const live: MixtureOfExperts[] = [];
afterAll(() => {
  for (const l of live) l.dispose();
});
const keep = (l: MixtureOfExperts) => (live.push(l), l);

function expectThrows(
  call: () => unknown,
  error: new (message: string) => Error,
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
  expect((thrown as Error).message).toBe(message);
}

function expert(D: number, H: number, seed: number, bias = false): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: matrix(D, H, seeded(D * H, seed, 0.5)),
    wUp: matrix(D, H, seeded(D * H, seed + 1, 0.5)),
    wDown: matrix(H, D, seeded(H * D, seed + 2, 0.5)),
  };
  if (bias)
    [w.bGate, w.bUp, w.bDown] = [seeded(H, seed + 3), seeded(H, seed + 4), seeded(D, seed + 5)];
  return w;
}

function mixture(
  D: number,
  H: number,
  E: number,
  seed: number,
  shared = 0,
): MixtureOfExpertsWeights {
  const w: MixtureOfExpertsWeights = {
    router: matrix(D, E, seeded(D * E, seed, 1)),
    experts: Array.from({ length: E }, (_, e) => expert(D, H, seed + 10 * (e + 1))),
  };
  if (shared > 0) {
    w.shared = expert(D, shared, seed + 7);
    w.sharedGate = matrix(D, 1, seeded(D, seed + 8));
  }
  return w;
}

const KERNELS = ["js", "wasm"] as const;

describe("construction", () => {
  it("defaults: softmax, normalized, scale 1, silu, no biases, no shared expert, the wasm kernel", () => {
    const m = new MixtureOfExperts({ dModel: 4, dHidden: 6, experts: 3, topK: 2 });
    expect(m.routing).toEqual({ topK: 2, scoring: "softmax", normalize: true, routedScale: 1 });
    expect([m.activation, m.hasBias, m.sharedHidden, m.kernel, m.threads]).toEqual([
      "silu",
      false,
      0,
      "wasm",
      1,
    ]);
    expect([m.dModel, m.dHidden, m.experts, m.threadsFallback]).toEqual([4, 6, 3, null]);
    expect(m.parameterCount).toBe(4 * 3 + 3 * 3 * 4 * 6);
    const s = new MixtureOfExperts({
      dModel: 4,
      dHidden: 6,
      experts: 3,
      topK: 1,
      sharedHidden: 5,
      bias: true,
    });
    expect(s.sharedHidden).toBe(5);
    expect(s.parameterCount).toBe(12 + 3 * (3 * 24 + 16) + (3 * 20 + 14) + 4);
  });

  it("a seed gives the same weights on both kernels; another seed others", () => {
    const o = { dModel: 5, dHidden: 7, experts: 4, topK: 2, sharedHidden: 3, bias: true, seed: 9 };
    const a = new MixtureOfExperts({ ...o, kernel: "js" }).weights;
    const b = new MixtureOfExperts({ ...o, kernel: "wasm" }).weights;
    expect(b).toEqual(a);
    expect(new MixtureOfExperts({ ...o, seed: 10 }).weights.router).not.toEqual(a.router);
    // Every weight within ±1/√fan_in, as nn.Linear's initialisation
    expect(a.router.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(5))).toBe(true);
    expect(a.experts[3]!.wDown.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(7))).toBe(true);
    expect(a.sharedGate!.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(5))).toBe(true);
  });
});

describe("routing", () => {
  // dModel 1: the logits are x · router[0], so each token's scores are set by hand.
  const ones = (E: number) => Array.from({ length: E }, () => expert(1, 1, 3));
  const layer = (router: number[], topK: number, extra: object = {}, w: object = {}) =>
    MixtureOfExperts.fromWeights(
      { router: fromRows([router]), experts: ones(router.length), ...w },
      { topK, ...extra },
    );

  it("k experts a token, in decreasing weight, equal weights (ties) in increasing index", () => {
    const m = layer([0, 2, 1, 2, 0], 3);
    const r = m.route(fromRows([[1], [-1]]));
    expect(Array.from(r.experts)).toEqual([1, 3, 2, 0, 4, 2]);
    expect(r.topK).toBe(3);
    const [a, b, c] = r.weights;
    expect(a).toBe(b); // a tie: 1 before 3
    expect(a! > c!).toBe(true);
    // All tied: the lowest indices.
    expect(Array.from(layer([0, 0, 0, 0], 2).route(fromRows([[5]])).experts)).toEqual([0, 1]);
  });

  it("softmax over all experts, then the chosen ones renormalised (or not), times the scale", () => {
    const x = fromRows([[1]]);
    const l = [0, Math.log(3), 0, 0];
    const z = 1 + 3 + 1 + 1;
    expect(Array.from(layer(l, 2, { normalize: false }).route(x).weights)).toEqual(
      [3 / z, 1 / z].map(Math.fround),
    );
    expect(Array.from(layer(l, 2).route(x).weights)).toEqual([0.75, 0.25]);
    expect(Array.from(layer(l, 2, { routedScale: 2.5 }).route(x).weights)).toEqual([1.875, 0.625]);
  });

  it("sigmoid with a selection-only bias (DeepSeek-V3): the bias chooses, the scores weigh", () => {
    const x = fromRows([[1]]);
    const bias = new Float32Array([0, 0, 0.5, 0]);
    const m = layer(
      [2, 1, -1, 0],
      2,
      { scoring: "sigmoid", routedScale: 2 },
      { selectionBias: bias },
    );
    const r = m.route(x);
    // keys: σ(2), σ(1), σ(-1) + 0.5, σ(0): experts 2 and 0 are chosen, weighted by σ alone
    const [s0, s2] = [sigmoid64(2), sigmoid64(-1)];
    expect(Array.from(r.experts)).toEqual([0, 2]);
    expect(Array.from(r.weights)).toEqual([
      Math.fround((s0 / (s0 + s2)) * 2),
      Math.fround((s2 / (s0 + s2)) * 2),
    ]);
  });

  it("a router bias moves the logits (gpt-oss)", () => {
    const m = layer([1, 1], 1, {}, { routerBias: new Float32Array([0, 0.5]) });
    expect(Array.from(m.route(fromRows([[1]])).experts)).toEqual([1]);
  });

  it("a NaN token gets experts 0 .. k-1 and NaN weights; its output is NaN, and no other token's changes", () => {
    const w = mixture(3, 4, 5, 1);
    const m = MixtureOfExperts.fromWeights(w, { topK: 2 });
    const x = matrix(2, 3, seeded(6, 5));
    const y = m.forward(x);
    x.data[1] = NaN;
    const r = m.route(x);
    expect(Array.from(r.experts.subarray(0, 2))).toEqual([0, 1]);
    expect(Number.isNaN(r.weights[0])).toBe(true);
    const y2 = m.forward(x);
    expect(Array.from(row(y2, 0)).every(Number.isNaN)).toBe(true);
    expectSameBits(row(y2, 1), row(y, 1));
  });
});

describe.each(KERNELS)("on the %s kernel, a token's output", (kernel) => {
  it("is fl32(Σ over its experts in increasing index of w · expert(x), + g · shared(x)), the gated layers' bits", () => {
    const D = 7;
    const w = mixture(D, 5, 6, 21, 9);
    const m = keep(MixtureOfExperts.fromWeights(w, { topK: 3, normalize: false, kernel }));
    const experts = w.experts.map((e) => GatedFeedForward.fromWeights(e, { kernel }));
    const shared = GatedFeedForward.fromWeights(w.shared!, { kernel });
    const x = matrix(20, D, seeded(20 * D, 3, 2));
    const y = m.forward(x);
    const r = m.route(x);
    for (let t = 0; t < 20; t++) {
      const tok = row(x, t);
      const pairs = [0, 1, 2].map((i) => [r.experts[3 * t + i]!, r.weights[3 * t + i]!] as const);
      pairs.sort((a, b) => a[0] - b[0]);
      let z = 0;
      for (let j = 0; j < D; j++) z += tok[j]! * w.sharedGate!.data[j]!;
      const g = Math.fround(sigmoid64(Math.fround(z)));
      const want = new Float64Array(D);
      for (const [e, wt] of pairs) {
        const ye = experts[e]!.forwardToken(tok);
        for (let j = 0; j < D; j++) want[j] = want[j]! + wt * ye[j]!;
      }
      const ys = shared.forwardToken(tok);
      for (let j = 0; j < D; j++) want[j] = want[j]! + g * ys[j]!;
      expectSameBits(row(y, t), Float32Array.from(want), `token ${t}`);
    }
  });

  it("reads only its chosen experts (and the shared one) at one token", () => {
    const m = keep(MixtureOfExperts.fromWeights(mixture(6, 4, 16, 2, 3), { topK: 4, kernel }));
    const k = expertsOf(m) as ExpertsKernel;
    const ran: number[] = [];
    const run = (k.run as NonNullable<ExpertsKernel["run"]>).bind(k);
    k.run = (e, x, rows, out) => (ran.push(e), run(e, x, rows, out));
    const tok = seeded(6, 4);
    m.forwardToken(tok);
    const chosen = Array.from(m.route(matrix(1, 6, tok)).experts).sort((a, b) => a - b);
    expect(ran).toEqual([...chosen, 16]);
  });
});

describe("weights and JSON", () => {
  const w = mixture(5, 3, 4, 8, 6);
  w.routerBias = seeded(4, 1);
  w.selectionBias = seeded(4, 2, 0.1);
  w.experts = w.experts.map((_, e) => expert(5, 3, 40 + e, true));
  const x = matrix(9, 5, seeded(45, 6));

  it("weights returns copies of what was given; fromWeights of them is the same layer", () => {
    const m = MixtureOfExperts.fromWeights(w, { topK: 2, scoring: "sigmoid" });
    expect(m.weights).toEqual(w);
    const again = MixtureOfExperts.fromWeights(m.weights, { topK: 2, scoring: "sigmoid" });
    expectSameBits(again.forward(x).data, m.forward(x).data);
  });

  it("nn.Linear's layout ({ layout: 'linear' }) gives the same layer", () => {
    const t = (a: Matrix): Matrix => {
      const out = new Float32Array(a.data.length);
      for (let i = 0; i < a.rows; i++)
        for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j]!;
      return matrix(a.cols, a.rows, out);
    };
    const te = (e: GatedFeedForwardWeights) => ({
      ...e,
      wGate: t(e.wGate),
      wUp: t(e.wUp),
      wDown: t(e.wDown),
    });
    const lin = {
      ...w,
      router: t(w.router),
      experts: w.experts.map(te),
      shared: te(w.shared!),
      sharedGate: t(w.sharedGate!),
    };
    const a = MixtureOfExperts.fromWeights(w, { topK: 3 });
    const b = MixtureOfExperts.fromWeights(lin, { topK: 3, layout: "linear" });
    expectSameBits(b.forward(x).data, a.forward(x).data);
  });

  it("toJSON and fromJSON round-trip to the bit, through JSON.stringify", () => {
    const a = MixtureOfExperts.fromWeights(w, {
      topK: 3,
      normalize: false,
      routedScale: 1.5,
      activation: "gelu",
    });
    const b = MixtureOfExperts.fromJSON(JSON.parse(JSON.stringify(a)), { kernel: "js" });
    expect(b.routing).toEqual(a.routing);
    expect([b.activation, b.sharedHidden, b.kernel]).toEqual(["gelu", 6, "js"]);
    expect(b.weights).toEqual(a.weights);
    const plain = new MixtureOfExperts({ dModel: 3, dHidden: 2, experts: 2, topK: 1 });
    const c = MixtureOfExperts.fromJSON(plain.toJSON());
    expectSameBits(
      c.forwardToken(new Float32Array([1, 2, 3])),
      plain.forwardToken(new Float32Array([1, 2, 3])),
    );
  });

  it("fromJSON refuses what is not a mixture's JSON, naming the field", () => {
    const j = new MixtureOfExperts({ dModel: 3, dHidden: 2, experts: 2, topK: 1 }).toJSON();
    const where = "MixtureOfExperts.fromJSON";
    expectThrows(
      () => MixtureOfExperts.fromJSON({ ...j, format: "x" } as never),
      TypeError,
      `${where}: json is not a tokenwise.MixtureOfExperts (format field missing)`,
    );
    expectThrows(
      () => MixtureOfExperts.fromJSON({ ...j, version: 2 } as never),
      TypeError,
      `${where}: unsupported version 2 or encoding float32-le-base64 (version 1 is "float32-le-base64", version 2 "le-base64")`,
    );
    expectThrows(
      () => MixtureOfExperts.fromJSON({ ...j, router: "AAAA" }),
      TypeError,
      `${where}: json.router is not base64 of 6 float32 values`,
    );
    expectThrows(
      () => MixtureOfExperts.fromJSON({ ...j, topK: 3 }),
      RangeError,
      `${where}: options.topK = 3 is more than the number of experts, 2`,
    );
    const e1 = { ...j.experts[1]!, dHidden: 3 };
    expectThrows(
      () => MixtureOfExperts.fromJSON({ ...j, experts: [j.experts[0]!, e1] }),
      TypeError,
      `${where}: json.experts[1]: json.wGate is not base64 of 9 float32 values`,
    );
  });
});

describe("errors name the parameter and write nothing", () => {
  const where = "MixtureOfExperts.fromWeights";
  const w = mixture(4, 3, 5, 1);

  it("topK below 1, above the number of experts, or missing", () => {
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 0 }),
      RangeError,
      `${where}: options.topK must be at least 1, got 0`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 6 }),
      RangeError,
      `${where}: options.topK = 6 is more than the number of experts, 5`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, {} as never),
      TypeError,
      `${where}: options.topK is required`,
    );
    expectThrows(
      () => new MixtureOfExperts({ dModel: 2, dHidden: 2, experts: 2, topK: 3 }),
      RangeError,
      "MixtureOfExperts: options.topK = 3 is more than the number of experts, 2",
    );
  });

  it("experts of different shapes", () => {
    const bad = { ...w, experts: [...w.experts.slice(0, 4), expert(4, 2, 9)] };
    expectThrows(
      () => MixtureOfExperts.fromWeights(bad, { topK: 1 }),
      ShapeError,
      `${where}: weights.experts[4] has dModel 4, dHidden 2, without biases, but weights.experts[0] has dModel 4, dHidden 3, without biases; the experts must all have one shape`,
    );
    const biased = { ...w, experts: [expert(4, 3, 9, true), ...w.experts.slice(1)] };
    expectThrows(
      () => MixtureOfExperts.fromWeights(biased, { topK: 1 }),
      ShapeError,
      `${where}: weights.experts[1] has dModel 4, dHidden 3, without biases, but weights.experts[0] has dModel 4, dHidden 3, with biases; the experts must all have one shape`,
    );
    const inner = {
      ...w,
      experts: [...w.experts.slice(0, 2), { ...expert(4, 3, 9), wUp: matrix(4, 2) }],
    };
    expectThrows(
      () => MixtureOfExperts.fromWeights(inner, { topK: 1 }),
      ShapeError,
      `${where}: weights.experts[2]: weights.wUp is 4 x 2, expected (wGate.rows, wGate.cols) = 4 x 3`,
    );
    const shared = { ...w, shared: expert(5, 3, 9) };
    expectThrows(
      () => MixtureOfExperts.fromWeights(shared, { topK: 1 }),
      ShapeError,
      `${where}: weights.shared has dModel 5, expected the experts' dModel = 4`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights({ ...w, experts: [] }, { topK: 1 }),
      TypeError,
      `${where}: weights.experts must be a non-empty Array of gated weights, got a plain Array`,
    );
  });

  it("a router of the wrong shape, biases of the wrong length, a gate without a shared expert", () => {
    expectThrows(
      () => MixtureOfExperts.fromWeights({ ...w, router: matrix(4, 4) }, { topK: 1 }),
      ShapeError,
      `${where}: weights.router is 4 x 4, expected (dModel, experts) = 4 x 5 for 5 experts of dModel 4`,
    );
    const lin = {
      router: matrix(4, 5),
      experts: [{ wGate: matrix(3, 4), wUp: matrix(3, 4), wDown: matrix(4, 3) }],
    };
    expectThrows(
      () => MixtureOfExperts.fromWeights(lin, { topK: 1, layout: "linear" }),
      ShapeError,
      `${where}: weights.router is 4 x 5, expected (experts, dModel) = 1 x 4 for 1 experts of dModel 4`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights({ ...w, routerBias: new Float32Array(4) }, { topK: 1 }),
      ShapeError,
      `${where}: weights.routerBias has length 4, expected experts = 5`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights({ ...w, sharedGate: matrix(4, 1) }, { topK: 1 }),
      TypeError,
      `${where}: weights.sharedGate is given without weights.shared`,
    );
    expectThrows(
      () =>
        MixtureOfExperts.fromWeights(
          { ...w, shared: expert(4, 2, 1), sharedGate: matrix(1, 4) },
          { topK: 1 },
        ),
      ShapeError,
      `${where}: weights.sharedGate is 1 x 4, expected (dModel, 1) = 4 x 1`,
    );
  });

  it("bad routing options", () => {
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, scoring: "max" as never }),
      TypeError,
      `${where}: options.scoring must be "softmax" or "sigmoid", got "max"`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, routedScale: 0 }),
      RangeError,
      `${where}: options.routedScale must be a finite number above 0, got 0`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, routedScale: Infinity }),
      RangeError,
      `${where}: options.routedScale must be a finite number above 0, got Infinity`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, normalize: 1 as never }),
      TypeError,
      `${where}: options.normalize must be a boolean, got number 1`,
    );
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, groups: 2 } as never),
      TypeError,
      `${where}: unknown option options.groups; known options are kernel, activation, layout, dtype, topK, normalize, scoring, routedScale`,
    );
    expectThrows(
      () => new MixtureOfExperts({ dModel: 2, dHidden: 2, experts: 2, topK: 1, threads: 2 }),
      TypeError,
      "MixtureOfExperts: options.threads = 2 needs the async factory: await MixtureOfExperts.create(options)",
    );
    expectThrows(
      () => new MixtureOfExperts({ dModel: 2, dHidden: 2, experts: 2, topK: 1, sharedGate: true }),
      TypeError,
      "MixtureOfExperts: options.sharedGate needs a shared expert (options.sharedHidden)",
    );
  });

  it("too many experts for any kernel: a RangeError before a list of them is made", () => {
    const t0 = performance.now();
    expectThrows(
      () => new MixtureOfExperts({ dModel: 1000, dHidden: 1000, experts: 1e9, topK: 1 }),
      RangeError,
      "MixtureOfExperts: 1000000000 experts of dModel = 1000, dHidden = 1000 need 11179596.2 GiB, over any kernel's limit (64 GiB)",
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("too large for wasm32: a RangeError before anything is allocated", () => {
    expectThrows(
      () => new MixtureOfExperts({ dModel: 4096, dHidden: 14336, experts: 8, topK: 2 }),
      RangeError,
      'MixtureOfExperts: 8 experts of dModel = 4096, dHidden = 14336 needs 5394.0 MiB of WebAssembly memory, over wasm32\'s 4 GiB; use kernel: "js"',
    );
  });

  it("bad input to forward, forwardToken, route and backward; nothing written", async () => {
    const m = keep(MixtureOfExperts.fromWeights(w, { topK: 2 }));
    const out = matrix(3, 4, new Float32Array(12).fill(7));
    const unchanged = snapshot(out.data);
    expectThrows(
      () => m.forward(matrix(3, 5), out),
      ShapeError,
      "forward: x has 5 columns, expected dModel = 4",
    );
    expectThrows(
      () => m.forward(matrix(3, 4), matrix(2, 4)),
      ShapeError,
      "forward: out is 2 x 4, expected (x.rows, dModel) = 3 x 4",
    );
    expectThrows(
      () => m.forward(out, out),
      ShapeError,
      "forward: out overlaps x; pass a separate output buffer",
    );
    expectThrows(
      () => m.route(matrix(1, 3)),
      ShapeError,
      "route: x has 3 columns, expected dModel = 4",
    );
    expectThrows(
      () => m.forwardToken(new Float32Array(3)),
      ShapeError,
      "forwardToken: token has length 3, expected dModel = 4",
    );
    expectThrows(
      () => m.backward(matrix(2, 4), matrix(3, 4)),
      ShapeError,
      "backward: dY is 3 x 4, expected (x.rows, dModel) = 2 x 4",
    );
    await expect(m.forwardAsync(matrix(3, 5), out)).rejects.toThrow(
      "forwardAsync: x has 5 columns, expected dModel = 4",
    );
    unchanged();
    m.dispose();
    m.dispose();
    expectThrows(() => m.forward(matrix(1, 4)), Error, "forward: the layer was disposed");
    expectThrows(() => m.weights, Error, "weights: the layer was disposed");
  });
});

describe("threads", () => {
  it("64 experts on 2 threads start one pool of 2 workers, and give one thread's bits", async () => {
    const host = await threadHost();
    const spawn = host.spawn.bind(host);
    let spawned = 0;
    host.spawn = (source) => (spawned++, spawn(source));
    try {
      const w = mixture(24, 40, 64, 5, 20);
      const two = keep(await MixtureOfExperts.create({ weights: w, topK: 8, threads: 2 }));
      const one = keep(await MixtureOfExperts.create({ weights: w, topK: 8, threads: 1 }));
      expect([two.threads, two.kernel, one.threads]).toEqual([2, "wasm", 1]);
      const x = matrix(150, 24, seeded(150 * 24, 8, 2));
      const want = one.forward(x).data;
      expectSameBits(two.forward(x).data, want);
      expectSameBits((await two.forwardAsync(x)).data, want);
      expectSameBits(two.forwardToken(row(x, 149)), want.subarray(149 * 24));
      expect(spawned).toBe(2);
    } finally {
      host.spawn = spawn;
    }
  });

  it("on the js kernel, threads fall back to one, saying why", async () => {
    const m = keep(
      await MixtureOfExperts.create({
        dModel: 4,
        dHidden: 4,
        experts: 2,
        topK: 1,
        kernel: "js",
        threads: 2,
      }),
    );
    expect([m.threads, m.threadsFallback]).toEqual([
      1,
      "threads need the wasm kernel; this layer runs the js kernel",
    ]);
  });

  it("queued async calls and a blocking call beside them give the same bits", async () => {
    const w = mixture(8, 16, 6, 3, 5);
    const two = keep(await MixtureOfExperts.create({ weights: w, topK: 2, threads: 2 }));
    const x = matrix(140, 8, seeded(140 * 8, 1));
    const want = MixtureOfExperts.fromWeights(w, { topK: 2 }).forward(x).data;
    const pending = [two.forwardAsync(x), two.forwardAsync(x)];
    const meanwhile = two.forward(x);
    for (const y of await Promise.all(pending)) expectSameBits(y.data, want);
    expectSameBits(meanwhile.data, want);
  });

  it("a worker that throws fails the call, which writes nothing; the next call works", async () => {
    const w = mixture(8, 16, 6, 3);
    const two = keep(await MixtureOfExperts.create({ weights: w, topK: 2, threads: 2 }));
    const x = matrix(200, 8, seeded(200 * 8, 2));
    const want = two.forward(x).data;
    const pool = () => (expertsOf(two) as unknown as { pool(): Pool }).pool();
    const out = matrix(200, 8, new Float32Array(1600).fill(5));
    const unchanged = snapshot(out.data);
    pool().injectFault(0, "throw");
    expect(() => two.forward(x, out)).toThrow("worker 0 threw: fault injected by a test");
    unchanged();
    expectSameBits(two.forward(x).data, want);
    pool().injectFault(1, "throw");
    await expect(two.forwardAsync(x, out)).rejects.toThrow(
      "worker 1 threw: fault injected by a test",
    );
    unchanged();
    expectSameBits((await two.forwardAsync(x)).data, want);
  });

  it("dispose rejects a queued call; using disposes", async () => {
    const two = await MixtureOfExperts.create({
      weights: mixture(4, 4, 3, 1),
      topK: 1,
      threads: 2,
    });
    const x = matrix(3, 4, seeded(12, 1));
    const first = two.forwardAsync(x);
    const second = two.forwardAsync(x);
    two.dispose();
    await expect(first).rejects.toThrow("disposed");
    await expect(second).rejects.toThrow("forwardAsync: the layer was disposed");
    let kept: MixtureOfExperts;
    {
      using m = new MixtureOfExperts({ dModel: 2, dHidden: 2, experts: 2, topK: 1 });
      kept = m;
    }
    expectThrows(() => kept.forward(matrix(1, 2)), Error, "forward: the layer was disposed");
  });
});

describe("dtype", () => {
  it("keeps the experts in bf16 or f16 on every factory, and the router in float32", async () => {
    const w = mixture(8, 16, 4, 3, 8);
    for (const dtype of ["bf16", "f16"] as const) {
      const a = keep(MixtureOfExperts.fromWeights(w, { topK: 2, dtype }));
      const b = keep(await MixtureOfExperts.create({ weights: w, topK: 2, dtype }));
      const c = keep(new MixtureOfExperts({ dModel: 8, dHidden: 16, experts: 4, topK: 2, dtype }));
      for (const l of [a, b, c]) expect(l.dtype).toBe(dtype);
      // The router is the caller's, bit for bit; the experts' weights are rounded.
      expectSameBits(a.weights.router.data, w.router.data, "router");
      const r = a.weights.experts[1]?.wUp.data as Float32Array;
      const given = w.experts[1]?.wUp.data as Float32Array;
      expect(Array.from(r).some((v, i) => v !== given[i])).toBe(true);
      // fromJSON converts on request: a bf16 mixture as float32 computes the same bits.
      const json = JSON.parse(JSON.stringify(a));
      expect([json.version, json.dtype, json.encoding]).toEqual([2, dtype, "le-base64"]);
      const wide = keep(MixtureOfExperts.fromJSON(json, { dtype: "f32" }));
      expect(wide.dtype).toBe("f32");
      const x = matrix(5, 8, seeded(40, 9, 2));
      expectSameBits(wide.forward(x).data, a.forward(x).data, `${dtype} as f32`);
      expect(JSON.parse(JSON.stringify(wide)).version).toBe(1);
    }
    expect(keep(MixtureOfExperts.fromWeights(w, { topK: 2 })).dtype).toBe("f32");
  });

  it("refuses an unknown dtype and f16 weights beyond its range, naming them", async () => {
    const w = mixture(4, 8, 3, 5, 8);
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, dtype: "fp16" as never }),
      RangeError,
      'MixtureOfExperts.fromWeights: options.dtype must be one of "f32", "bf16", "f16", got "fp16"',
    );
    await expect(
      MixtureOfExperts.create({ dModel: 4, dHidden: 8, experts: 2, topK: 1, dtype: 16 as never }),
    ).rejects.toThrow(/MixtureOfExperts\.create: options\.dtype/);
    (w.experts[2] as GatedFeedForwardWeights).wDown.data[5] = -70000;
    expectThrows(
      () => MixtureOfExperts.fromWeights(w, { topK: 1, dtype: "f16" }),
      RangeError,
      `MixtureOfExperts.fromWeights: weights.experts[2].wDown[1, 1] = -70000 is beyond f16's range (65504 is its largest finite value; 65520 and above round to Infinity); use dtype "bf16" or "f32"`,
    );
    (w.shared as GatedFeedForwardWeights).wGate.data[0] = 1e6;
    (w.experts[2] as GatedFeedForwardWeights).wDown.data[5] = 0;
    expect(() => MixtureOfExperts.fromWeights(w, { topK: 1, dtype: "f16" })).toThrow(
      /weights\.shared\.wGate\[0, 0\] = 1000000 is beyond f16's range/,
    );
    const bf = keep(MixtureOfExperts.fromWeights(w, { topK: 1, dtype: "bf16" }));
    expect(() => MixtureOfExperts.fromJSON(bf.toJSON(), { dtype: "f16" })).toThrow(
      /MixtureOfExperts\.fromJSON: json\.shared\.wGate\[0, 0\] = 999424 is beyond f16's range/,
    );
  });

  it("keeps no quantized experts: q8_0 and q4_0 are refused, naming the choices", () => {
    for (const dtype of ["q8_0", "q4_0"] as const) {
      expectThrows(
        () => MixtureOfExperts.fromWeights(mixture(32, 32, 2, 3), { topK: 1, dtype }),
        RangeError,
        `MixtureOfExperts.fromWeights: options.dtype must be one of "f32", "bf16", "f16", got "${dtype}"`,
      );
    }
  });

  it("reads JSON versions by their dtype rules", () => {
    const bf = keep(MixtureOfExperts.fromWeights(mixture(4, 8, 2, 7), { topK: 1, dtype: "bf16" }));
    const j = bf.toJSON();
    expect(() => MixtureOfExperts.fromJSON({ ...j, dtype: undefined })).toThrow(/json\.dtype/);
    expect(() => MixtureOfExperts.fromJSON({ ...j, version: 1 })).toThrow(TypeError);
    const f = keep(MixtureOfExperts.fromWeights(mixture(4, 8, 2, 7), { topK: 1 })).toJSON();
    expect(() => MixtureOfExperts.fromJSON({ ...f, dtype: "bf16" })).toThrow(
      /json\.dtype is not part of version 1/,
    );
  });
});
