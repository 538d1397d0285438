// The layer against PyTorch's nn.Sequential(Linear, ReLU, Linear), from the committed fixtures
// of scripts/fixtures/make_core_fixtures.py (test/fixtures/core/README.md).
import { describe, expect, it } from "vitest";
import { row } from "../../src/index";
import { expectSameBits } from "../helpers/bits";
import { decodeF32, readFixture } from "../helpers/fixtures";
import { forward64, outsideBound } from "../helpers/reference64";
import { KERNELS, layerFromWeights } from "../kernels";

interface Case {
  name: string;
  dModel: number;
  dHidden: number;
  tokens: number;
  bias: boolean;
  w1: string;
  b1: string | null;
  w2: string;
  b2: string | null;
  x: string;
  y: string;
}

const fixture = readFixture<{ madeBy: { torch: string }; cases: Case[] }>("core/core.json");

function load(c: Case) {
  const w1 = decodeF32(c.w1);
  const w2 = decodeF32(c.w2);
  const b1 = c.b1 === null ? null : decodeF32(c.b1);
  const b2 = c.b2 === null ? null : decodeF32(c.b2);
  return { w1, w2, b1, b2, x: decodeF32(c.x), y: decodeF32(c.y) };
}

/** Row t of the data is finite. */
const finiteRow = (x: Float32Array, d: number, t: number) =>
  x.subarray(t * d, (t + 1) * d).every(Number.isFinite);

describe.each(KERNELS)(`PyTorch ${fixture.madeBy.torch} fixtures, %s kernel`, (kernel) => {
  it("has the cases it was made with", () => {
    expect(fixture.cases.map((c) => c.name)).toEqual([
      "d7-h13-t5",
      "d16-h64-t1",
      "d16-h64-t5",
      "d1-h1-t3",
      "d5-h3-t4-nobias",
      "d17-h37-t5",
      "d4-h8-t4-nan-inf",
    ]);
  });

  it.each(fixture.cases)("$name: within twice the forward-error bound of PyTorch", async (c) => {
    const f = load(c);
    expect([f.w1.length, f.x.length, f.y.length]).toEqual([
      c.dModel * c.dHidden,
      c.tokens * c.dModel,
      c.tokens * c.dModel,
    ]);
    const ffn = await layerFromWeights(kernel, {
      w1: { rows: c.dModel, cols: c.dHidden, data: f.w1 },
      w2: { rows: c.dHidden, cols: c.dModel, data: f.w2 },
      ...(f.b1 === null ? {} : { b1: f.b1 }),
      ...(f.b2 === null ? {} : { b2: f.b2 }),
    });
    expect(ffn.hasBias).toBe(c.bias);
    const y = ffn.forward({ rows: c.tokens, cols: c.dModel, data: f.x });
    const ref = forward64(
      { dModel: c.dModel, dHidden: c.dHidden, w1: f.w1, b1: f.b1, w2: f.w2, b2: f.b2 },
      f.x,
      c.tokens,
    );
    let finiteTokens = 0;
    for (let t = 0; t < c.tokens; t++) {
      const ours = row(y, t);
      const theirs = f.y.subarray(t * c.dModel, (t + 1) * c.dModel);
      if (!finiteRow(f.x, c.dModel, t)) {
        // NaN and ±Infinity: no bound applies; both must give NaN, +Inf and -Inf in the same
        // places, which IEEE arithmetic fixes whatever the summation order.
        const kind = (v: number) => (Number.isNaN(v) ? "NaN" : Number.isFinite(v) ? "finite" : v);
        expect(Array.from(ours, kind), `token ${t}`).toEqual(Array.from(theirs, kind));
        continue;
      }
      finiteTokens++;
      const want = ref.y.subarray(t * c.dModel, (t + 1) * c.dModel);
      const bound = ref.bound.subarray(t * c.dModel, (t + 1) * c.dModel);
      // Each float32 result is within the bound of the exact value (float64 model included),
      // whatever its summation order, so ours and PyTorch's are within twice the bound of each
      // other; and each alone within the bound of the model, PyTorch's (MKL or OpenBLAS, with
      // FMA and its own blocking) included, which checks the bound on a kernel we did not write.
      expect(
        outsideBound(
          ours,
          Float64Array.from(theirs),
          bound.map((b) => 2 * b),
        ),
      ).toEqual([]);
      expect(outsideBound(ours, want, bound), `ours, token ${t}`).toEqual([]);
      expect(outsideBound(theirs, want, bound), `PyTorch, token ${t}`).toEqual([]);
    }
    expect(finiteTokens).toBeGreaterThan(0);
  });

  it("NaN and ±Infinity poison only their own token's row, as in PyTorch", async () => {
    const c = fixture.cases.find((k) => k.name === "d4-h8-t4-nan-inf") as Case;
    const f = load(c);
    const ffn = await layerFromWeights(kernel, {
      w1: { rows: c.dModel, cols: c.dHidden, data: f.w1 },
      w2: { rows: c.dHidden, cols: c.dModel, data: f.w2 },
      b1: f.b1 as Float32Array,
      b2: f.b2 as Float32Array,
    });
    const y = ffn.forward({ rows: c.tokens, cols: c.dModel, data: f.x });
    expect(Array.from(row(y, 0)).every(Number.isFinite)).toBe(true);
    expect(Array.from(row(y, 1)).every(Number.isNaN)).toBe(true);
    // Token 0 alone gives the same bits as in the batch with the poisoned tokens.
    expectSameBits(ffn.forwardToken(f.x.subarray(0, c.dModel)), row(y, 0));
  });
});
