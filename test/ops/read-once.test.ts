// Every op reads each field of its matrix arguments once: the sizes it checks are the sizes it
// uses, whatever a getter answers the second time.
import { describe, expect, it } from "vitest";
import {
  type Matrix,
  addBiasInto,
  geluInto,
  geluTanhInto,
  matmulInto,
  matrix,
  reluInto,
  sigmoidInto,
  siluInto,
} from "../../src/index";

/** A 2 x 3 matrix whose `data` is the given array on the first read and a longer one after. */
function sly(data: Float32Array): { m: Matrix; reads: () => number } {
  let n = 0;
  const m = {
    rows: 2,
    cols: 3,
    get data() {
      return n++ === 0 ? data : new Float32Array(1000).fill(9);
    },
  };
  return { m: m as unknown as Matrix, reads: () => n };
}

const OPS: [string, (out: Matrix, x: Matrix) => Matrix][] = [
  ["reluInto", reluInto],
  ["geluInto", geluInto],
  ["geluTanhInto", geluTanhInto],
  ["siluInto", siluInto],
  ["sigmoidInto", sigmoidInto],
  ["addBiasInto", (out, x) => addBiasInto(out, x, new Float32Array(3))],
  ["matmulInto", (out, x) => matmulInto(out, x, matrix(3, 3, new Float32Array(9).fill(0.5)))],
];

describe.each(OPS)("%s", (_, op) => {
  it("reads x.data and out.data once each", () => {
    const xd = new Float32Array([1, -2, 3, -4, 5, -6]);
    const x = sly(xd);
    const outData = new Float32Array(6);
    const out = sly(outData);
    expect(op(out.m, x.m)).toBe(out.m);
    expect([x.reads(), out.reads()]).toEqual([1, 1]);
    const want = op(matrix(2, 3), matrix(2, 3, xd));
    expect(Array.from(outData)).toEqual(Array.from(want.data));
  });
});
