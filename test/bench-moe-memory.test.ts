// The mixture bench's memory reading (bench/moe-memory.ts) measures the layer: a mixture's
// resident memory holds at least its weights (its WebAssembly memory keeps every one of them),
// and not much more.
import { describe, expect, it } from "vitest";
import { measureMoEMemory, moeWeightBytes } from "../bench/moe-memory";

describe("the mixture bench's memory reading", () => {
  it("reads at least the weights and at most them plus the scratch and a few MiB", () => {
    const s = { name: "t", dModel: 512, dHidden: 256, experts: 16, topK: 2, normalize: true };
    const m = measureMoEMemory(s, 128);
    expect(m.weightBytes).toBe(moeWeightBytes(s));
    expect(m.weightBytes).toBe(4 * (16 * 3 * 512 * 256 + 512 * 16));
    // 24 MiB of weights; the rest (the kernel's scratch, the layer's block buffers, code compiled
    // on the first calls) measured 8.6 MiB. Taking the baseline after building reads 5 MiB.
    expect(m.after).toBeGreaterThanOrEqual(m.weightBytes);
    expect(m.peak).toBeGreaterThanOrEqual(m.after);
    expect(m.peak).toBeLessThan(m.weightBytes + 16 * 2 ** 20);
  }, 60_000);
});
