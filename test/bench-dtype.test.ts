// The bench's `--dtype`: its list is checked, a run with a 16-bit type rounds every contender's
// weights to values both 16-bit types hold (so the 16-bit rows and every peer compute one layer,
// checked against one float64 reference), and tokenwise gets one row per type.
import { describe, expect, it } from "vitest";
import type { Contender } from "../bench/contender";
import { exactIn16, parseDtypes } from "../bench/dtype";
import { checkQuantized, quantizedRow } from "../bench/quant";
import { makeProblem } from "../bench/problem";
import { tokenwiseContenders } from "../bench/tokenwise";
import { narrowInto, widenInto } from "../src/dtype";

describe("--dtype", () => {
  it("takes f32, bf16, f16, q8_0 and q4_0, once each, and names the list on anything else", () => {
    expect(parseDtypes(["f32", "bf16", "f16", "bf16", "q8_0"])).toEqual([
      "f32",
      "bf16",
      "f16",
      "q8_0",
    ]);
    expect(() => parseDtypes(["f32", "fp16"])).toThrow(
      new RangeError('--dtype: "fp16" is not one of f32, bf16, f16, q8_0, q4_0'),
    );
  });

  it("checks a quantized row bit for bit against the js kernel's layer, and catches one bit", async () => {
    const shape = { name: "t", tokens: 3, dModel: 64, dHidden: 96 };
    const variant = { layer: "ffn", activation: "gelu" } as const;
    const problem = makeProblem(shape, 4, variant);
    const [row] = await tokenwiseContenders(["wasm"], [1], variant, ["q8_0"]);
    expect(row !== undefined && "setup" in row && quantizedRow(row)).toBe("q8_0");
    const inst = await (row as Contender).setup(shape, problem.weights);
    const y = (await inst.forward(problem.x)).slice();
    await inst.dispose?.();
    const ok = await checkQuantized([y], problem, "q8_0");
    expect([ok.ok, ok.against]).toEqual([true, "js q8_0"]);
    const bits = new Uint32Array(y.buffer);
    bits[100] = (bits[100] as number) ^ 1;
    const bad = await checkQuantized([y], problem, "q8_0");
    expect(bad.ok).toBe(false);
    expect(bad.reason).toMatch(/^layer 1: output 100 is /);
  });

  it("rounds to values that bf16 and f16 both hold exactly, in every process alike", () => {
    const shape = { name: "t", tokens: 2, dModel: 9, dHidden: 40 };
    const plain = makeProblem(shape, 3);
    const exact = makeProblem(shape, 3, { layer: "ffn", activation: "relu", exact16: true });
    for (const [key, w] of Object.entries(exact.weights) as [string, Float32Array][]) {
      for (const dtype of ["bf16", "f16"] as const) {
        const back = widenInto(
          dtype,
          narrowInto(dtype, w, new Uint16Array(w.length)),
          new Float32Array(w.length),
        );
        expect([...back], `${key} in ${dtype}`).toEqual([...w]);
      }
      const orig = (plain.weights as unknown as Record<string, Float32Array>)[key] as Float32Array;
      // Within bf16's rounding of the drawn values (half an ulp of 8 bits), and f16's of a tiny
      // one (half of 2^-24): f16 holds every bf16 value of its normal range.
      orig.forEach((v, i) =>
        expect(Math.abs((w[i] as number) - v)).toBeLessThanOrEqual(
          Math.abs(v) * 2 ** -8 + 2 ** -25,
        ),
      );
    }
    expect([...exact.x]).toEqual([...plain.x]); // the tokens are not rounded
    expect([...exactIn16(new Float32Array([1 + 2 ** -8, 2 ** -30, 1000.3]))]).toEqual([1, 0, 1000]);
  });

  it("gives tokenwise one row per weight type, f32's under its usual name", async () => {
    const rows = await tokenwiseContenders(
      ["wasm", "js"],
      [1],
      { layer: "gated", activation: "silu" },
      ["f32", "bf16", "f16"],
    );
    expect(rows.map((r) => r.id)).toEqual([
      "tokenwise-gated-wasm@1t",
      "tokenwise-gated-wasm-bf16@1t",
      "tokenwise-gated-wasm-f16@1t",
      "tokenwise-gated-js",
      "tokenwise-gated-js-bf16",
      "tokenwise-gated-js-f16",
    ]);
  });
});
