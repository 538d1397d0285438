// `--dtype f32,bf16,f16`: tokenwise's rows once per weight type, side by side (rows made by
// tokenwise.ts's withLayerOptions, tagged "bf16" and "f16", so child processes rebuild them
// too). A 16-bit layer computes the float32 layer's bits on its rounded weights, so for the rows
// to be one layer, and for the float64 reference to check every contender (peers too) against
// the same layer, a run with a 16-bit type draws its weights as usual and rounds each to a value
// that both bf16 and f16 hold exactly (bf16 first, then f16: at most 8 significant bits, within
// f16's range); the problem says so in its variant, which every child process receives. (The
// exact problem's weights, exact.ts, are small integers times powers of two that both types
// hold already.)
import { type WeightDtype, narrowInto, widenInto } from "../src/dtype";

export const DTYPES: readonly WeightDtype[] = ["f32", "bf16", "f16", "q8_0", "q4_0"];

/** `--dtype`'s list, checked. */
export function parseDtypes(list: readonly string[]): WeightDtype[] {
  for (const d of list) {
    if (!(DTYPES as readonly string[]).includes(d)) {
      throw new RangeError(`--dtype: "${d}" is not one of ${DTYPES.join(", ")}`);
    }
  }
  return [...new Set(list)] as WeightDtype[];
}

/**
 * Rounds float32 values in place to values exact in both bf16 and f16 (for values within f16's
 * range, as the bench's weights are: at most 1 in magnitude).
 */
export function exactIn16(data: Float32Array): Float32Array {
  const bits = new Uint16Array(data.length);
  widenInto("bf16", narrowInto("bf16", data, bits), data);
  return widenInto("f16", narrowInto("f16", data, bits), data);
}
