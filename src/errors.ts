/**
 * A size or shape that does not fit: mismatched dimensions, an output of the wrong size, an
 * output that overlaps an input. It extends `RangeError`, so `instanceof RangeError` holds.
 *
 * @category Errors
 * @example
 * ```ts
 * import { matmul, zeros, ShapeError } from "tokenwise";
 * try {
 *   matmul(zeros(2, 3), zeros(4, 5));
 * } catch (e) {
 *   console.log(e instanceof ShapeError, e instanceof RangeError);
 *   // true true
 *   console.log((e as Error).message);
 *   // matmul: b has 4 rows, expected a.cols = 3
 * }
 * ```
 */
export class ShapeError extends RangeError {
  /** @param message - what is wrong, naming the parameter, the expected and the actual shape */
  constructor(message: string) {
    super(message);
    this.name = "ShapeError";
  }
}
