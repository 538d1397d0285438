// The float32 <-> base64 codec behind toJSON/fromJSON, against Node's own base64.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFloat32, encodeFloat32 } from "../src/base64";
import { anyFloat32 } from "./helpers/arbitraries";
import { bitsOf } from "./helpers/bits";

const nodeBase64 = (a: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

describe("base64 of float32 data", () => {
  it("encodes as Node's Buffer does (little-endian bytes) and decodes back to the same bits", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 40 }).chain((n) => anyFloat32(n)),
        (a) => {
          const text = encodeFloat32(a);
          expect(text).toBe(nodeBase64(a));
          const back = decodeFloat32(text, a.length);
          expect(back === null ? null : Array.from(bitsOf(back))).toEqual(Array.from(bitsOf(a)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("encodes a view at an offset, not its whole buffer", () => {
    const a = new Float32Array([1, 2, 3, 4]).subarray(1, 3);
    expect(encodeFloat32(a)).toBe(nodeBase64(new Float32Array([2, 3])));
  });

  it("rejects text of the wrong length", () => {
    const text = encodeFloat32(new Float32Array([1, 2]));
    expect(decodeFloat32(text, 3)).toBeNull();
    expect(decodeFloat32(text, 1)).toBeNull();
    expect(decodeFloat32(text.slice(0, -1), 2)).toBeNull();
    expect(decodeFloat32("", 0)).toEqual(new Float32Array(0));
  });

  it("rejects characters outside the alphabet", () => {
    const text = encodeFloat32(new Float32Array([1, 2, 3]));
    for (const bad of ["!", "-", "_", " ", "\n", "é", "\u{1F600}".charAt(0)]) {
      expect(decodeFloat32(bad + text.slice(1), 3), JSON.stringify(bad)).toBeNull();
    }
  });

  it("accepts '=' only as the padding at the end, where no data goes", () => {
    // 1 float = 4 bytes = 6 characters of data and 2 of padding.
    const text = encodeFloat32(new Float32Array([1]));
    expect(text).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(decodeFloat32(text, 1)).toEqual(new Float32Array([1]));
    expect(decodeFloat32("AAAA=AAA", 1)).toBeNull();
    expect(decodeFloat32(text.slice(0, 5) + "===", 1)).toBeNull();
    expect(decodeFloat32(text.slice(0, 6) + "A=", 1)).toBeNull();
    expect(decodeFloat32(text.slice(0, 6) + "AA", 1)).toBeNull();
  });
});
