// The backward passes of FeedForward and GatedFeedForward: against central finite differences
// of a float64 forward, against PyTorch autograd (test/fixtures/backward.json, made by
// scripts/fixtures/make_backward_fixtures.py), per-token independence of dX, and the errors.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  FeedForward,
  GatedFeedForward,
  ShapeError,
  matrix,
  zeros,
  type ActivationName,
  type FeedForwardGradients,
  type FeedForwardWeights,
  type GatedFeedForwardGradients,
  type GatedFeedForwardWeights,
  type Matrix,
} from "../../src/index";
import { ACTIVATIONS } from "../../src/kernels/activation";
import {
  type Grad64,
  centralDifference,
  feedForwardGrad64,
  gatedGrad64,
  loss64,
} from "../support/grad64";
import {
  type FeedForward64,
  type Gated64,
  LIPSCHITZ,
  feedForward64,
  gated64,
  gamma,
  linear64,
  outside,
} from "../support/layer64";
import { seededFloats as seeded } from "../helpers/arbitraries";

/** Where a gradient differs from a reference by more than the allowed error. */
function beyond(got: Float32Array, want: ArrayLike<number>, allowed: ArrayLike<number>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs((got[i] as number) - (want[i] as number));
    if (!(e <= (allowed[i] as number))) {
      bad.push(`[${i}] ${got[i]} vs ${want[i]}: error ${e} > ${allowed[i]}`);
    }
  }
  return bad;
}

function sum(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => (a[i] as number) + (b[i] as number));
}

function ffnWeights(D: number, H: number, seed: number, bias: boolean): FeedForwardWeights {
  const w: FeedForwardWeights = {
    w1: matrix(D, H, seeded(D * H, seed, 0.8)),
    w2: matrix(H, D, seeded(H * D, seed + 1, 0.8)),
  };
  if (bias) {
    w.b1 = seeded(H, seed + 2, 0.8);
    w.b2 = seeded(D, seed + 3, 0.8);
  }
  return w;
}

function gatedWeights(D: number, H: number, seed: number, bias: boolean): GatedFeedForwardWeights {
  const w: GatedFeedForwardWeights = {
    wGate: matrix(D, H, seeded(D * H, seed, 0.8)),
    wUp: matrix(D, H, seeded(D * H, seed + 1, 0.8)),
    wDown: matrix(H, D, seeded(H * D, seed + 2, 0.8)),
  };
  if (bias) {
    w.bGate = seeded(H, seed + 3, 0.8);
    w.bUp = seeded(H, seed + 4, 0.8);
    w.bDown = seeded(D, seed + 5, 0.8);
  }
  return w;
}

function ffn64(w: FeedForwardWeights, act: ActivationName): FeedForward64 {
  return {
    dModel: w.w1.rows,
    dHidden: w.w1.cols,
    activation: act,
    w1: Float64Array.from(w.w1.data),
    b1: w.b1 ? Float64Array.from(w.b1) : null,
    w2: Float64Array.from(w.w2.data),
    b2: w.b2 ? Float64Array.from(w.b2) : null,
  };
}

function gated64Params(w: GatedFeedForwardWeights, act: ActivationName): Gated64 {
  const copy = (v: Float32Array | undefined) => (v ? Float64Array.from(v) : null);
  return {
    dModel: w.wGate.rows,
    dHidden: w.wGate.cols,
    activation: act,
    wGate: Float64Array.from(w.wGate.data),
    bGate: copy(w.bGate),
    wUp: Float64Array.from(w.wUp.data),
    bUp: copy(w.bUp),
    wDown: Float64Array.from(w.wDown.data),
    bDown: copy(w.bDown),
  };
}

/** |dY · wᵀ| elementwise bound for token t: Σ_j |dY[t, j]| |w[h, j]|, w is (H, D). */
function upstreamAbs(dY: Float32Array, t: number, D: number, w: ArrayLike<number>, H: number) {
  return Float64Array.from({ length: H }, (_, h) => {
    let s = 0;
    for (let j = 0; j < D; j++)
      s += Math.abs(dY[t * D + j] as number) * Math.abs(w[h * D + j] as number);
    return s * (1 + gamma(D));
  });
}

// The step: a power of two, so θ ± h is exact in float64; small enough that the truncation
// h²/6·M3 stays near float32's rounding, large enough that the losses' float64 errors over 2h
// stay below it (docs/activations.md).
const H_STEP = 2 ** -14;
const T = 3;
const D = 4;
const HID = 6;

describe("FeedForward.backward against central finite differences in float64", () => {
  describe.each(ACTIVATIONS)("%s", (act) => {
    it.each([true, false])("bias %s: every gradient element within the derived bound", (bias) => {
      const { L2: _l2, L3 } = LIPSCHITZ[act];
      const w = ffnWeights(D, HID, 40 + ACTIVATIONS.indexOf(act), bias);
      const x = seeded(T * D, 7, 1.5);
      const dY = seeded(T * D, 8, 1.5);
      const layer = FeedForward.fromWeights(w, { activation: act, kernel: "js" });
      const g = layer.backward(matrix(T, D, x), matrix(T, D, dY));
      const p = ffn64(w, act);
      const model = feedForwardGrad64(p, x, T, dY);
      const dAabs = Array.from({ length: T }, (_, t) => upstreamAbs(dY, t, D, p.w2, HID));
      const pre = Array.from({ length: T }, (_, t) => linear64(x, t * D, D, p.w1, HID, p.b1));
      const lossWith = (set: (q: FeedForward64, xs: Float64Array) => void) => (theta: number) => {
        const q = { ...p, w1: p.w1.slice(), b1: p.b1?.slice() ?? null, w2: p.w2.slice() };
        q.b2 = p.b2?.slice() ?? null;
        const xs = Float64Array.from(x);
        set(q, xs);
        void theta;
        return loss64({ kind: "ffn", p: q }, xs, T, dY);
      };
      // relu has M3 = 0 but a kink: no pre-activation may cross 0 within the step.
      const noKink = (t: number, h: number, slope: number) => {
        if (act !== "relu") return;
        const v = Math.abs(pre[t]!.value[h] as number) - (pre[t]!.err[h] as number);
        expect(v, `pre-activation (${t}, ${h}) is clear of 0`).toBeGreaterThan(H_STEP * slope);
      };
      const check = (
        name: string,
        got: Float32Array | undefined,
        m: Grad64,
        fd: (i: number) => { value: number; err: number },
      ) => {
        expect(got, name).toBeDefined();
        const want = new Float64Array(got!.length);
        const allowed = new Float64Array(got!.length);
        for (let i = 0; i < got!.length; i++) {
          const d = fd(i);
          want[i] = d.value;
          allowed[i] = (m.kernelErr[i] as number) + d.err;
        }
        expect(beyond(got!, want, allowed), name).toEqual([]);
      };

      check("dX", g.dX.data, model.dX, (i) => {
        const t = Math.floor(i / D);
        const k = i % D;
        let m3 = 0;
        for (let h = 0; h < HID; h++) {
          m3 += dAabs[t]![h]! * Math.abs(p.w1[k * HID + h] as number) ** 3;
          noKink(t, h, Math.abs(p.w1[k * HID + h] as number));
        }
        const f = (theta: number) => lossWith((_q, xs) => (xs[i] = theta))(theta);
        return centralDifference(f, x[i] as number, H_STEP, L3 * m3);
      });
      check("dW1", g.dW1.data, model.dW1, (i) => {
        const k = Math.floor(i / HID);
        const h = i % HID;
        let m3 = 0;
        for (let t = 0; t < T; t++) {
          m3 += dAabs[t]![h]! * Math.abs(x[t * D + k] as number) ** 3;
          noKink(t, h, Math.abs(x[t * D + k] as number));
        }
        const f = (theta: number) => lossWith((q) => (q.w1[i] = theta))(theta);
        return centralDifference(f, p.w1[i] as number, H_STEP, L3 * m3);
      });
      check("dW2", g.dW2.data, model.dW2, (i) => {
        const f = (theta: number) => lossWith((q) => (q.w2[i] = theta))(theta);
        return centralDifference(f, p.w2[i] as number, H_STEP, 0); // L is linear in W2
      });
      if (bias) {
        check("db1", g.db1, model.db1, (h) => {
          let m3 = 0;
          for (let t = 0; t < T; t++) {
            m3 += dAabs[t]![h]!;
            noKink(t, h, 1);
          }
          const f = (theta: number) => lossWith((q) => (q.b1![h] = theta))(theta);
          return centralDifference(f, p.b1![h] as number, H_STEP, L3 * m3);
        });
        check("db2", g.db2, model.db2, (j) => {
          const f = (theta: number) => lossWith((q) => (q.b2![j] = theta))(theta);
          return centralDifference(f, p.b2![j] as number, H_STEP, 0);
        });
      } else {
        expect(g.db1).toBeUndefined();
        expect(g.db2).toBeUndefined();
      }
    });
  });
});

describe("GatedFeedForward.backward against central finite differences in float64", () => {
  describe.each(ACTIVATIONS)("%s", (act) => {
    it.each([false, true])("bias %s: every gradient element within the derived bound", (bias) => {
      const { L2, L3 } = LIPSCHITZ[act];
      const w = gatedWeights(D, HID, 60 + ACTIVATIONS.indexOf(act), bias);
      const x = seeded(T * D, 17, 1.5);
      const dY = seeded(T * D, 18, 1.5);
      const layer = GatedFeedForward.fromWeights(w, { activation: act });
      const g = layer.backward(matrix(T, D, x), matrix(T, D, dY));
      const p = gated64Params(w, act);
      const model = gatedGrad64(p, x, T, dY);
      const dMabs = Array.from({ length: T }, (_, t) => upstreamAbs(dY, t, D, p.wDown, HID));
      const gate = Array.from({ length: T }, (_, t) =>
        linear64(x, t * D, D, p.wGate, HID, p.bGate),
      );
      const up = Array.from({ length: T }, (_, t) => linear64(x, t * D, D, p.wUp, HID, p.bUp));
      const lossWith = (set: (q: Gated64, xs: Float64Array) => void) => {
        const q: Gated64 = {
          ...p,
          wGate: p.wGate.slice(),
          bGate: p.bGate?.slice() ?? null,
          wUp: p.wUp.slice(),
          bUp: p.bUp?.slice() ?? null,
          wDown: p.wDown.slice(),
          bDown: p.bDown?.slice() ?? null,
        };
        const xs = Float64Array.from(x);
        set(q, xs);
        return loss64({ kind: "gated", p: q }, xs, T, dY);
      };
      const noKink = (t: number, h: number, slope: number) => {
        if (act !== "relu") return;
        const v = Math.abs(gate[t]!.value[h] as number) - (gate[t]!.err[h] as number);
        expect(v, `gate pre-activation (${t}, ${h}) is clear of 0`).toBeGreaterThan(H_STEP * slope);
      };
      const check = (
        name: string,
        got: Float32Array | undefined,
        m: Grad64,
        fd: (i: number) => { value: number; err: number },
      ) => {
        expect(got, name).toBeDefined();
        const want = new Float64Array(got!.length);
        const allowed = new Float64Array(got!.length);
        for (let i = 0; i < got!.length; i++) {
          const d = fd(i);
          want[i] = d.value;
          allowed[i] = (m.kernelErr[i] as number) + d.err;
        }
        expect(beyond(got!, want, allowed), name).toEqual([]);
      };
      const uAbs = (t: number, h: number) => up[t]!.abs[h] as number;

      check("dX", g.dX.data, model.dX, (i) => {
        const t = Math.floor(i / D);
        const k = i % D;
        // f = φ(g)·u with g' = Wg[k, h], u' = Wu[k, h]: f''' = φ'''g'³u + 3φ''g'²u'.
        let m3 = 0;
        for (let h = 0; h < HID; h++) {
          const wg = Math.abs(p.wGate[k * HID + h] as number);
          const wu = Math.abs(p.wUp[k * HID + h] as number);
          m3 += dMabs[t]![h]! * (L3 * wg ** 3 * (uAbs(t, h) + H_STEP * wu) + 3 * L2 * wg * wg * wu);
          noKink(t, h, wg);
        }
        return centralDifference(
          (th) => lossWith((_q, xs) => (xs[i] = th)),
          x[i] as number,
          H_STEP,
          m3,
        );
      });
      check("dWGate", g.dWGate.data, model.dWGate, (i) => {
        const k = Math.floor(i / HID);
        const h = i % HID;
        let m3 = 0;
        for (let t = 0; t < T; t++) {
          m3 += dMabs[t]![h]! * uAbs(t, h) * Math.abs(x[t * D + k] as number) ** 3;
          noKink(t, h, Math.abs(x[t * D + k] as number));
        }
        return centralDifference(
          (th) => lossWith((q) => (q.wGate[i] = th)),
          p.wGate[i] as number,
          H_STEP,
          L3 * m3,
        );
      });
      // L is linear in wUp, bUp, wDown, bDown: no truncation error.
      check("dWUp", g.dWUp.data, model.dWUp, (i) =>
        centralDifference((th) => lossWith((q) => (q.wUp[i] = th)), p.wUp[i] as number, H_STEP, 0),
      );
      check("dWDown", g.dWDown.data, model.dWDown, (i) =>
        centralDifference(
          (th) => lossWith((q) => (q.wDown[i] = th)),
          p.wDown[i] as number,
          H_STEP,
          0,
        ),
      );
      if (bias) {
        check("dbGate", g.dbGate, model.dbGate, (h) => {
          let m3 = 0;
          for (let t = 0; t < T; t++) {
            m3 += dMabs[t]![h]! * uAbs(t, h);
            noKink(t, h, 1);
          }
          return centralDifference(
            (th) => lossWith((q) => (q.bGate![h] = th)),
            p.bGate![h] as number,
            H_STEP,
            L3 * m3,
          );
        });
        check("dbUp", g.dbUp, model.dbUp, (h) =>
          centralDifference(
            (th) => lossWith((q) => (q.bUp![h] = th)),
            p.bUp![h] as number,
            H_STEP,
            0,
          ),
        );
        check("dbDown", g.dbDown, model.dbDown, (j) =>
          centralDifference(
            (th) => lossWith((q) => (q.bDown![j] = th)),
            p.bDown![j] as number,
            H_STEP,
            0,
          ),
        );
      } else {
        expect([g.dbGate, g.dbUp, g.dbDown]).toEqual([undefined, undefined, undefined]);
      }
    });
  });
});

interface TorchCase {
  layer: "FeedForward" | "GatedFeedForward";
  activation: ActivationName;
  bias: boolean;
  inputs: Record<string, number[]>;
  y: number[];
  grads: Record<string, number[]>;
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/backward.json", import.meta.url), "utf8"),
) as { shape: { tokens: number; dModel: number; dHidden: number }; cases: TorchCase[] };

describe("against PyTorch autograd (float64, from the same float32 inputs)", () => {
  const { tokens: TT, dModel: DD, dHidden: HH } = fixture.shape;
  const f32 = (v: number[] | undefined) => (v === undefined ? undefined : Float32Array.from(v));
  it("the fixture covers every activation for both layers", () => {
    for (const layer of ["FeedForward", "GatedFeedForward"]) {
      const acts = fixture.cases.filter((c) => c.layer === layer).map((c) => c.activation);
      expect(new Set(acts)).toEqual(new Set(ACTIVATIONS));
    }
  });

  it.each(
    fixture.cases.map(
      (c) => [c.layer, c.activation, c.bias ? "with biases" : "no biases", c] as const,
    ),
  )("%s %s %s: forward and every gradient within the derived bound", (_layer, act, _b, c) => {
    const x = f32(c.inputs.x)!;
    const dY = f32(c.inputs.dY)!;
    const allowed = (m: Grad64) => sum(m.kernelErr, m.modelErr); // ours vs exact + theirs vs exact
    if (c.layer === "FeedForward") {
      const w: FeedForwardWeights = {
        w1: matrix(DD, HH, f32(c.inputs.w1)!),
        w2: matrix(HH, DD, f32(c.inputs.w2)!),
      };
      if (c.bias) [w.b1, w.b2] = [f32(c.inputs.b1), f32(c.inputs.b2)];
      const layer = FeedForward.fromWeights(w, { activation: act, kernel: "js" });
      const p = ffn64(w, act);
      const fwd = feedForward64(p, x, TT);
      expect(
        outside(
          layer.forward(matrix(TT, DD, x)).data,
          Float64Array.from(c.y),
          sum(fwd.bound, fwd.modelBound),
        ),
      ).toEqual([]);
      const g: FeedForwardGradients = layer.backward(matrix(TT, DD, x), matrix(TT, DD, dY));
      const m = feedForwardGrad64(p, x, TT, dY);
      expect(beyond(g.dX.data, c.grads.dX!, allowed(m.dX))).toEqual([]);
      expect(beyond(g.dW1.data, c.grads.dW1!, allowed(m.dW1))).toEqual([]);
      expect(beyond(g.dW2.data, c.grads.dW2!, allowed(m.dW2))).toEqual([]);
      if (c.bias) {
        expect(beyond(g.db1!, c.grads.db1!, allowed(m.db1))).toEqual([]);
        expect(beyond(g.db2!, c.grads.db2!, allowed(m.db2))).toEqual([]);
      }
    } else {
      const w: GatedFeedForwardWeights = {
        wGate: matrix(DD, HH, f32(c.inputs.wGate)!),
        wUp: matrix(DD, HH, f32(c.inputs.wUp)!),
        wDown: matrix(HH, DD, f32(c.inputs.wDown)!),
      };
      if (c.bias) {
        [w.bGate, w.bUp, w.bDown] = [f32(c.inputs.bGate), f32(c.inputs.bUp), f32(c.inputs.bDown)];
      }
      const layer = GatedFeedForward.fromWeights(w, { activation: act });
      const p = gated64Params(w, act);
      const fwd = gated64(p, x, TT);
      expect(
        outside(
          layer.forward(matrix(TT, DD, x)).data,
          Float64Array.from(c.y),
          sum(fwd.bound, fwd.modelBound),
        ),
      ).toEqual([]);
      const g: GatedFeedForwardGradients = layer.backward(matrix(TT, DD, x), matrix(TT, DD, dY));
      const m = gatedGrad64(p, x, TT, dY);
      expect(beyond(g.dX.data, c.grads.dX!, allowed(m.dX))).toEqual([]);
      expect(beyond(g.dWGate.data, c.grads.dWGate!, allowed(m.dWGate))).toEqual([]);
      expect(beyond(g.dWUp.data, c.grads.dWUp!, allowed(m.dWUp))).toEqual([]);
      expect(beyond(g.dWDown.data, c.grads.dWDown!, allowed(m.dWDown))).toEqual([]);
      if (c.bias) {
        expect(beyond(g.dbGate!, c.grads.dbGate!, allowed(m.dbGate))).toEqual([]);
        expect(beyond(g.dbUp!, c.grads.dbUp!, allowed(m.dbUp))).toEqual([]);
        expect(beyond(g.dbDown!, c.grads.dbDown!, allowed(m.dbDown))).toEqual([]);
      }
    }
  });
});

describe("a gradient is per token: row i of dX depends on row i of x and dY alone", () => {
  const layers: [
    string,
    (act: ActivationName) => { backward(x: Matrix, dY: Matrix): { dX: Matrix } },
  ][] = [
    [
      "FeedForward",
      (act) => FeedForward.fromWeights(ffnWeights(5, 11, 3, true), { activation: act }),
    ],
    [
      "GatedFeedForward",
      (act) => GatedFeedForward.fromWeights(gatedWeights(5, 11, 3, true), { activation: act }),
    ],
  ];
  describe.each(layers)("%s", (_name, make) => {
    it.each(ACTIVATIONS)("%s: bit for bit, whatever the other rows hold", (act) => {
      const layer = make(act);
      const rows = 7;
      const x = seeded(rows * 5, 1, 2);
      const dY = seeded(rows * 5, 2, 2);
      const dX = layer.backward(matrix(rows, 5, x), matrix(rows, 5, dY)).dX.data;
      for (let i = 0; i < rows; i++) {
        // Other rows replaced by other data, and row i alone: the same bits.
        const x2 = seeded(rows * 5, 100 + i, 3);
        const dY2 = seeded(rows * 5, 200 + i, 3);
        x2.set(x.subarray(i * 5, (i + 1) * 5), i * 5);
        dY2.set(dY.subarray(i * 5, (i + 1) * 5), i * 5);
        const other = layer.backward(matrix(rows, 5, x2), matrix(rows, 5, dY2)).dX.data;
        const alone = layer.backward(
          matrix(1, 5, x.slice(i * 5, (i + 1) * 5)),
          matrix(1, 5, dY.slice(i * 5, (i + 1) * 5)),
        ).dX.data;
        const mine = dX.subarray(i * 5, (i + 1) * 5);
        expect(
          Array.from(other.subarray(i * 5, (i + 1) * 5)).map((v, j) => Object.is(v, mine[j])),
        ).toEqual(Array(5).fill(true));
        expect(Array.from(alone).map((v, j) => Object.is(v, mine[j]))).toEqual(Array(5).fill(true));
      }
    });
  });
});

describe("backward, other cases", () => {
  it("is the same for every kernel: it recomputes with the js kernel's formula", async () => {
    const w = ffnWeights(6, 10, 9, true);
    const x = matrix(5, 6, seeded(30, 1, 2));
    const dY = matrix(5, 6, seeded(30, 2, 2));
    await FeedForward.create({ dModel: 1, dHidden: 1, kernel: "wasm" });
    const a = FeedForward.fromWeights(w, { kernel: "js", activation: "gelu" }).backward(x, dY);
    const b = FeedForward.fromWeights(w, { kernel: "wasm", activation: "gelu" }).backward(x, dY);
    for (const key of ["dX", "dW1", "dW2"] as const) {
      expect(Array.from(b[key].data)).toEqual(Array.from(a[key].data));
    }
    expect(Array.from(b.db1!)).toEqual(Array.from(a.db1!));
  });

  it("takes zero tokens: an empty dX and zero weight gradients", () => {
    const ffn = new FeedForward({ dModel: 3, dHidden: 4, activation: "silu" });
    const g = ffn.backward(zeros(0, 3), zeros(0, 3));
    expect([g.dX.rows, g.dX.cols, g.dW1.rows, g.dW1.cols, g.dW2.rows, g.dW2.cols]).toEqual([
      0, 3, 3, 4, 4, 3,
    ]);
    expect([...g.dW1.data, ...g.dW2.data, ...g.db1!, ...g.db2!].every((v) => v === 0)).toBe(true);
    const gated = new GatedFeedForward({ dModel: 3, dHidden: 4 }).backward(
      zeros(0, 3),
      zeros(0, 3),
    );
    expect(
      [...gated.dWGate.data, ...gated.dWUp.data, ...gated.dWDown.data].every((v) => v === 0),
    ).toBe(true);
  });

  it("computes the documented example", () => {
    const ffn = FeedForward.fromWeights({
      w1: matrix(1, 2, new Float32Array([1, -1])),
      b1: new Float32Array([0, 0]),
      w2: matrix(2, 1, new Float32Array([2, 3])),
      b2: new Float32Array([0.5]),
    });
    // pre = [1, -1], relu' = [1, 0]; dA = dY·W2ᵀ = [2, 3]; dH = [2, 0].
    const g = ffn.backward(
      matrix(1, 1, new Float32Array([1])),
      matrix(1, 1, new Float32Array([1])),
    );
    expect([...g.dX.data, ...g.dW1.data, ...g.db1!, ...g.dW2.data, ...g.db2!]).toEqual([
      2, 2, 0, 2, 0, 1, 0, 1,
    ]);
  });

  const ffn = new FeedForward({ dModel: 3, dHidden: 4 });
  const gated = new GatedFeedForward({ dModel: 3, dHidden: 4 });
  describe.each([
    ["FeedForward", ffn],
    ["GatedFeedForward", gated],
  ] as const)("%s rejects bad input, writing nothing", (_name, layer) => {
    it.each([
      [
        "x of the wrong width",
        zeros(2, 4),
        zeros(2, 3),
        ShapeError,
        "backward: x has 4 columns, expected dModel = 3",
      ],
      [
        "dY of the wrong shape",
        zeros(2, 3),
        zeros(3, 3),
        ShapeError,
        "backward: dY is 3 x 3, expected (x.rows, dModel) = 2 x 3",
      ],
      [
        "a non-matrix x",
        [[1, 2, 3]],
        zeros(1, 3),
        TypeError,
        "backward: x must be a matrix { rows, cols, data: Float32Array }, got a plain Array",
      ],
      [
        "a Float64Array dY",
        zeros(1, 3),
        { rows: 1, cols: 3, data: new Float64Array(3) },
        TypeError,
        "backward: dY.data must be a Float32Array, got a Float64Array",
      ],
      [
        "a null dY",
        zeros(1, 3),
        null,
        TypeError,
        "backward: dY must be a matrix { rows, cols, data: Float32Array }, got null",
      ],
    ] as const)("%s", (_what, x, dY, error, message) => {
      const buffers = [x, dY]
        .filter((m) => m && "data" in m)
        .map((m) => (m as Matrix).data.slice());
      let thrown: unknown;
      try {
        layer.backward(x as never, dY as never);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(error);
      if (error === TypeError) expect(thrown).not.toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toBe(message);
      const after = [x, dY].filter((m) => m && "data" in m).map((m) => (m as Matrix).data);
      after.forEach((d, i) => expect(Array.from(d)).toEqual(Array.from(buffers[i]!)));
    });
  });
});
