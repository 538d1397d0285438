// Ulp distances between float32 values, for tests that compare activations in units in the
// last place (test/helpers/bits.ts compares whole arrays bit for bit).

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The bit pattern of a float32 value. */
function bitsOf(v: number): number {
  F32[0] = v;
  return U32[0] as number;
}

/** The float32 value of a bit pattern. */
export function fromBits(bits: number): number {
  U32[0] = bits >>> 0;
  return F32[0] as number;
}

/**
 * The float32 values on one integer line: +0 and -0 at 0, each next float one further, so the
 * difference of two ordinals is their distance in ulps (the number of floats between them).
 */
export function ordinal(v: number): number {
  const b = bitsOf(v);
  return b >>> 31 ? -(b & 0x7fffffff) : b;
}

/**
 * Distance in float32 ulps between two float32 values: 0 for equal values (+0 and -0 are 0
 * apart; NaN and NaN are 0 apart), Infinity when exactly one is NaN.
 */
export function ulpDistance(a: number, b: number): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Infinity;
  return Math.abs(ordinal(a) - ordinal(b));
}

/** Same value and same sign of zero (any NaN equals any NaN). */
export function sameFloat(a: number, b: number): boolean {
  return Object.is(a, b);
}
