// Rows of quantized tokenwise layers (`--dtype q8_0,q4_0`). A quantized layer computes llama.cpp's
// numerics, not the float32 layer's, so neither the float64 reference's bound nor the exact
// problem applies to it. Its check instead: its output is, bit for bit, the output of tokenwise's
// js kernel of the same dtype on the same weights (the js kernel is checked bit for bit against
// an independent numpy implementation of ggml's reference functions in
// test/layers/quant.test.ts), layer by layer at a shape of several layers; the worst ratio
// reported is 0 (equal) or the row is wrong. The bench's float32 weights are quantized by the
// layer with ggml's reference quantizers; peers and float32 rows run the float32 weights.
import { type QuantDtype, isQuant } from "../src/dtype";
import type { Contender } from "./contender";
import type { Problem } from "./problem";
import type { CheckResult } from "./reference";
import { findTokenwiseEntry, tokenwiseContender, withLayerOptions } from "./tokenwise";

/** The quantized dtype of a tokenwise row made by `--dtype`, or null. */
export function quantizedRow(c: Contender): QuantDtype | null {
  const host = c.host;
  if (host?.kind !== "tokenwise") return null;
  const dtype = host.options?.dtype;
  return typeof dtype === "string" && isQuant(dtype as never) ? (dtype as QuantDtype) : null;
}

/**
 * Checks a quantized row's outputs (one per layer, each layer alone on the problem's input)
 * against the js kernel's layers of the same dtype, bit for bit.
 */
export async function checkQuantized(
  outputs: readonly unknown[],
  problem: Problem,
  dtype: QuantDtype,
): Promise<CheckResult> {
  const { shape, variant } = problem;
  const entry = withLayerOptions(findTokenwiseEntry("js", variant.layer), dtype, { dtype });
  const oracle = tokenwiseContender(entry, 1, variant.activation);
  const base = {
    ok: false,
    rowsChecked: shape.tokens,
    totalRows: shape.tokens,
    maxAbsError: NaN,
    worstRatio: NaN,
  };
  for (let l = 0; l < problem.layers.length; l++) {
    const inst = await oracle.setup(shape, problem.layers[l] as Problem["weights"]);
    const want = (await inst.forward(problem.x)).slice();
    await inst.dispose?.();
    const got = outputs[l];
    if (!(got instanceof Float32Array) || got.length !== want.length) {
      return { ...base, reason: `layer ${l + 1}: not a Float32Array of ${want.length} values` };
    }
    const wantBits = new Uint32Array(want.buffer, want.byteOffset, want.length);
    const gotBits = new Uint32Array(got.buffer, got.byteOffset, got.length);
    for (let i = 0; i < want.length; i++) {
      if (gotBits[i] === wantBits[i]) continue;
      const e = Math.abs((got[i] as number) - (want[i] as number));
      return {
        ...base,
        maxAbsError: e,
        reason: `layer ${l + 1}: output ${i} is ${got[i]}, the js kernel's ${dtype} layer gives ${want[i]}`,
      };
    }
  }
  return { ...base, ok: true, maxAbsError: 0, worstRatio: 0, against: `js ${dtype}` };
}
