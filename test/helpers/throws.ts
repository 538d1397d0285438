// One table row per throw path: the call, the error class, the message (which must name the
// parameter, and give expected and actual), and the buffers the call must leave untouched.
import { expect } from "vitest";
import { ShapeError } from "../../src/index";
import { snapshot } from "./bits";

export interface ThrowCase {
  /** What is wrong, for the test's name. */
  what: string;
  call: () => unknown;
  error: typeof TypeError | typeof ShapeError | typeof RangeError;
  /** The exact message, or a pattern where part of it may grow (the list of kernels). */
  message: string | RegExp;
  /** Every buffer the call could write to or read from; none may change. */
  buffers?: ArrayBufferView[];
}

export function expectThrowsCleanly(c: ThrowCase): void {
  const unchanged = snapshot(...(c.buffers ?? []));
  let thrown: unknown;
  try {
    c.call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "the call did not throw").toBeInstanceOf(c.error);
  // TypeError for a wrong kind, RangeError (ShapeError among them) for a wrong size: never both.
  if (c.error === TypeError) expect(thrown).not.toBeInstanceOf(RangeError);
  if (c.error === ShapeError) expect(thrown).toBeInstanceOf(RangeError);
  if (typeof c.message === "string") expect((thrown as Error).message).toBe(c.message);
  else expect((thrown as Error).message).toMatch(c.message);
  unchanged();
}
