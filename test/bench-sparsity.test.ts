// The bench's `--sparsity`: its list is checked, b1 switches off exactly the share asked for on
// every token of the run's inputs (layer after layer at a shape of several layers), the other
// units are on, and tokenwise gets a dense row beside each f32 row.
import { describe, expect, it } from "vitest";
import { FeedForward } from "../src/index";
import { makeProblem } from "../bench/problem";
import { parseSparsity, withSparsity } from "../bench/sparsity";
import { tokenwiseContenders } from "../bench/tokenwise";
import { FFN_RELU } from "../bench/layer";
import { sparsityTable } from "../bench/report";
import type { ShapeReport } from "../bench/harness";

describe("--sparsity", () => {
  it("takes shares between 0 and 1, once each, and names anything else", () => {
    expect(parseSparsity(["0", "0.5", "0.9", "0.5"])).toEqual([0, 0.5, 0.9]);
    expect(() => parseSparsity(["1.5"])).toThrow(
      new RangeError('--sparsity: "1.5" is not a share between 0 and 1'),
    );
    expect(() => parseSparsity(["half"])).toThrow(RangeError);
    expect(withSparsity({ name: "D1", tokens: 1, dModel: 8, dHidden: 16 }, 0.9).name).toBe(
      "D1@s90",
    );
  });

  it("switches off exactly that share of hidden units on every token, through layers in turn", async () => {
    for (const share of [0, 0.5, 0.9, 0.95, 1]) {
      const shape = withSparsity(
        { name: "t", tokens: 5, dModel: 12, dHidden: 40, layers: 3 },
        share,
      );
      const p = makeProblem(shape, 7);
      let x = { rows: shape.tokens, cols: shape.dModel, data: p.x };
      for (const w of p.layers) {
        if (!("w1" in w)) throw new Error("ffn weights expected");
        const ffn = FeedForward.fromWeights(
          {
            w1: { rows: 12, cols: 40, data: w.w1 },
            b1: w.b1,
            w2: { rows: 40, cols: 12, data: w.w2 },
            b2: w.b2,
          },
          { kernel: "wasm" },
        );
        for (let t = 0; t < shape.tokens; t++) {
          const stats = { hidden: 0, zeros: 0, zeroShare: 0 };
          ffn.forwardToken(x.data.subarray(t * 12, t * 12 + 12), undefined, stats);
          expect(stats.zeros, `share ${share}, token ${t}`).toBe(Math.round(share * 40));
        }
        x = ffn.forward(x);
        ffn.dispose();
      }
    }
  });

  it("gives each tokenwise f32 row a dense row (sparse: false)", async () => {
    const rows = await tokenwiseContenders(["wasm"], [1], FFN_RELU, ["f32"], true);
    expect(rows.map((r) => r.label)).toEqual(["tokenwise wasm@1t", "tokenwise wasm dense@1t"]);
  });

  it("tabulates each row's ratio to the lowest share and to its dense row", () => {
    const result = (id: string, label: string, gflops: number) => ({
      id,
      label,
      group: "tokenwise",
      status: "ok",
      timing: { gflops },
    });
    const shape = (share: number, sparse: number, dense: number) =>
      ({
        name: `D1@s${share * 100}`,
        sparsity: share,
        results: [
          result("tokenwise-wasm@1t", "tokenwise wasm@1t", sparse),
          result("tokenwise-wasm-dense@1t", "tokenwise wasm dense@1t", dense),
        ],
      }) as unknown as ShapeReport;
    const table = sparsityTable([shape(0, 2, 2), shape(0.9, 4, 2.5)]);
    expect(table.slice(-2)).toEqual([
      "| D1 | tokenwise wasm@1t | 0% | 1.00x | 1.00x |",
      "| D1 | tokenwise wasm@1t | 90% | 2.00x | 1.60x |",
    ]);
    expect(sparsityTable([{ ...shape(0, 1, 1), sparsity: undefined }])).toEqual([]);
  });
});
