// fast-check generators shared by the property tests. Dimensions include 1, every size up to
// 17 and a few primes, so each tail of the kernels' blocked loops (2 rows x 4 columns, blocks of
// 32 tokens) is reached; batch sizes also straddle the 32-token block.
import fc from "fast-check";
import type { FeedForwardWeights, Matrix } from "../../src/index";

/** A layer or matrix dimension: 1..17 or a prime up to 37. */
export const dim = fc.oneof(fc.integer({ min: 1, max: 17 }), fc.constantFrom(19, 23, 29, 31, 37));

/** A number of tokens, zero included, around the kernel's 32-token block too. */
export const batch = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(31, 32, 33, 64, 65));

/**
 * Finite float32 values in [-max, max], with -0 and subnormals, small enough that no sum of a
 * few hundred products overflows.
 */
export function finite(length: number, max = 4): fc.Arbitrary<Float32Array> {
  return fc.float32Array({
    min: Math.fround(-max),
    max: Math.fround(max),
    noNaN: true,
    minLength: length,
    maxLength: length,
  });
}

/** Any float32 values, NaN and ±Infinity included. */
export function anyFloat32(length: number): fc.Arbitrary<Float32Array> {
  return fc.float32Array({ minLength: length, maxLength: length });
}

/** A (rows, cols) matrix of finite values. */
export function finiteMatrix(rows: number, cols: number, max = 4): fc.Arbitrary<Matrix> {
  return finite(rows * cols, max).map((data) => ({ rows, cols, data }));
}

/** Weights for a (dModel, dHidden) layer, with or without biases. */
export function weights(
  dModel: number,
  dHidden: number,
  withBias: boolean,
  max = 1,
): fc.Arbitrary<FeedForwardWeights> {
  return fc
    .tuple(
      finite(dModel * dHidden, max),
      finite(dHidden, max),
      finite(dHidden * dModel, max),
      finite(dModel, max),
    )
    .map(([w1, b1, w2, b2]) => {
      const w: FeedForwardWeights = {
        w1: { rows: dModel, cols: dHidden, data: w1 },
        w2: { rows: dHidden, cols: dModel, data: w2 },
      };
      if (withBias) {
        w.b1 = b1;
        w.b2 = b2;
      }
      return w;
    });
}

/** Float32 values from a seeded stream, for bulk data that need not shrink. */
export function seededFloats(length: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    // xorshift32: plain and independent of src/random.ts
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/**
 * ggml blocks (Q8_0: 34 bytes, Q4_0: 18) from seeded bytes: scales of either sign over f16's
 * range up to 2^5 (zeros, subnormals and normals), quants of any byte (Q8_0's -128 too); with
 * `special`, one block in 16 gets an infinite or NaN scale. Blocks a file could hold that a
 * quantizer never writes.
 */
export function seededBlocks(
  dtype: "q8_0" | "q4_0",
  n: number,
  seed: number,
  special: boolean,
): Uint8Array {
  const bytes = dtype === "q8_0" ? 34 : 18;
  const u = seededFloats(n * bytes, seed, 1);
  const out = new Uint8Array(n * bytes);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(((u[i] as number) + 1) * 128) & 255;
  for (let b = 0; b < n; b++) {
    const at = b * bytes;
    const r = out[at] as number;
    const sign = (out[at + 1] as number) & 0x80;
    let h =
      sign | ((r % 21) << 10) | (((out[at + 1] as number) & 3) << 8) | (out[at + 2] as number);
    if (special && r % 16 === 5) h = [0x7c00, 0xfc00, 0x7e01, 0xfd00][r % 4] as number;
    out[at] = h & 255;
    out[at + 1] = h >> 8;
  }
  return out;
}
