// The harness makes the timed layers of the contenders in this process layer by layer in turn
// (bench/contender.ts, setupInTurn): a stack made after another read main memory faster on the
// machine the bench was built on, so one contender's whole stack made first would be timed on
// older memory than the next one's.
import { describe, expect, it } from "vitest";
import { type Contender, type Instance, setupInTurn } from "../bench/contender";
import type { LayerWeights } from "../bench/problem";

const shape = { name: "t", tokens: 1, dModel: 4, dHidden: 8, layers: 3 };
const layers = [0, 1, 2].map((l) => ({ l }) as unknown as LayerWeights);

/** A contender that records each setup call in `log` (and throws at layer `failAt`). */
function recording(id: string, log: string[], disposed: string[], failAt = -1): Contender {
  return {
    id,
    label: id,
    group: "tokenwise",
    threads: 1,
    async setup(_shape, w) {
      const l = (w as unknown as { l: number }).l;
      log.push(`${id}${l}`);
      if (l === failAt) throw new Error(`${id} cannot make layer ${l}`);
      const made: Instance = { forward: (x) => x, dispose: () => void disposed.push(`${id}${l}`) };
      return made;
    },
  };
}

describe("setupInTurn", () => {
  it("makes layer l of every contender before layer l + 1 of any", async () => {
    const log: string[] = [];
    const disposed: string[] = [];
    const made = await setupInTurn(
      ["a", "b", "c"].map((id) => recording(id, log, disposed)),
      shape,
      layers,
    );
    expect(log).toEqual(["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]);
    for (const m of made) {
      if ("error" in m) throw new Error("no contender should fail here");
      expect(m.instances).toHaveLength(3);
      expect(m.ms).toBeGreaterThanOrEqual(0);
    }
    expect(disposed).toEqual([]);
  });

  it("a contender whose setup throws gets its error, its layers are disposed, the rest go on", async () => {
    const log: string[] = [];
    const disposed: string[] = [];
    const made = await setupInTurn(
      [
        recording("a", log, disposed),
        recording("b", log, disposed, 1),
        recording("c", log, disposed),
      ],
      shape,
      layers,
    );
    // b is not asked for layer 2 once layer 1 failed.
    expect(log).toEqual(["a0", "b0", "c0", "a1", "b1", "c1", "a2", "c2"]);
    expect(disposed).toEqual(["b0"]);
    const [a, b, c] = made;
    expect(a !== undefined && "instances" in a && a.instances.length).toBe(3);
    expect(c !== undefined && "instances" in c && c.instances.length).toBe(3);
    expect(b !== undefined && "error" in b && String(b.error)).toMatch(/b cannot make layer 1/);
  });

  it("no contenders, no calls", async () => {
    expect(await setupInTurn([], shape, layers)).toEqual([]);
  });
});
