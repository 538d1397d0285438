import { assertFloat32Array, assertSize, kindOf } from "./check";

/** The largest finite float32, 2^128 − 2^104. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A seeded generator of uniform numbers: xoshiro128** (Blackman and Vigna), its 128-bit state
 * filled from the seed by SplitMix32. It uses only 32-bit integer arithmetic (`Math.imul`,
 * shifts), so a seed gives the same sequence on every JavaScript engine and platform.
 *
 * @category Random
 * @example
 * ```ts
 * import { Random } from "tokenwise";
 * const a = new Random(7), b = new Random(7);
 * console.log(a.uint32() === b.uint32(), a.float() < 1);
 * // true true
 * ```
 */
export class Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /** @param seed - an integer in [0, 2^32); the same seed gives the same sequence */
  constructor(seed: number) {
    assertSize(seed, "Random", "seed");
    if (seed > 0xffffffff) throw new RangeError(`Random: seed must be below 2^32, got ${seed}`);
    let x = seed >>> 0;
    const next = () => {
      // SplitMix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = next();
    this.#s1 = next();
    this.#s2 = next();
    this.#s3 = next();
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** @returns the next 32-bit unsigned integer */
  uint32(): number {
    const s1 = this.#s1;
    const t = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const u = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= u;
    this.#s3 = rotl(this.#s3, 11);
    return t >>> 0;
  }

  /** @returns a uniform number in [0, 1) with 24 random bits, exactly a float32 */
  float(): number {
    return (this.uint32() >>> 8) * 2 ** -24;
  }

  /**
   * Fills `out` with uniform float32 values in [-bound, bound].
   *
   * @param out - the array to fill
   * @param bound - half the width of the interval: a number from 0 to the largest float32
   * @returns `out`
   * @throws TypeError if `out` is not a Float32Array or `bound` not a number
   * @throws RangeError if `bound` is negative, NaN, or beyond float32's range (its values would
   *   not all be finite float32 values within [-bound, bound])
   * @example
   * ```ts
   * import { Random } from "tokenwise";
   * const v = new Random(1).fillUniform(new Float32Array(1000), 0.5);
   * console.log(v.every((x) => x >= -0.5 && x <= 0.5), v.some((x) => x < 0), v.some((x) => x > 0));
   * // true true true
   * ```
   */
  fillUniform(out: Float32Array, bound: number): Float32Array {
    assertFloat32Array(out, "Random.fillUniform", "out");
    if (typeof bound !== "number") {
      throw new TypeError(`Random.fillUniform: bound must be a number, got ${kindOf(bound)}`);
    }
    if (!(bound >= 0 && bound <= FLOAT32_MAX)) {
      throw new RangeError(
        `Random.fillUniform: bound must be from 0 to the largest float32 (${FLOAT32_MAX}), got ${bound}`,
      );
    }
    for (let i = 0; i < out.length; i++) out[i] = (2 * this.float() - 1) * bound;
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
