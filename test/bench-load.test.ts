// bench/load-memory.ts (npm run bench:load): each way of loading a checkpoint runs in a child
// process of its own and reports the layer it built and its memory. Here on a tiny layer, for
// the plumbing only: memory figures are the bench's to report, not a test's to assert.
import { describe, expect, it } from "vitest";
import { measureLoads } from "../bench/load-memory";

describe("bench:load", () => {
  it("loads a 16-bit file each way, in its own process, and reads its memory", () => {
    for (const file of ["bf16", "f16"] as const) {
      const { weightBytes, readings } = measureLoads({
        dModel: 64,
        dHidden: 96,
        layer: "gated",
        file,
      });
      expect(weightBytes).toBe(3 * 64 * 96 * 2);
      expect(readings.map((r) => [r.way, r.dtype])).toEqual([
        ["kept", file],
        ["f32", "f32"],
        ["detour", file],
      ]);
      for (const r of readings) {
        expect(Number.isFinite(r.peak) && Number.isFinite(r.after)).toBe(true);
      }
    }
  }, 120_000);
});
