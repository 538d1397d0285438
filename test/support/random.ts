// Seeded test data, independent of src/random.ts: xorshift32 mapped to float32 values.

/** `length` float32 values uniform in [-scale, scale), the same for the same seed. */
export function seeded(length: number, seed: number, scale = 1): Float32Array {
  let s = (seed >>> 0) ^ 0x9e3779b9 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
