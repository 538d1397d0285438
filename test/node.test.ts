import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import {
  feedForwardFromCheckpoint,
  optFeedForwardNames,
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
} from "../src/index";
import { loadSafetensors, loadShardedSafetensors } from "../src/node";

const FIXTURES = new URL("fixtures/checkpoints/", import.meta.url);
const SINGLE = new URL("opt.safetensors", FIXTURES);
const INDEX = new URL("opt-sharded/model.safetensors.index.json", FIXTURES);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("the promise resolved");
}

describe("loadSafetensors", () => {
  it("reads a file by path or file: URL, as parseSafetensors reads its bytes", async () => {
    const byBytes = parseSafetensors(readFileSync(SINGLE));
    for (const file of [await loadSafetensors(SINGLE.pathname), await loadSafetensors(SINGLE)]) {
      expect([...file.tensors.keys()]).toEqual([...byBytes.tensors.keys()]);
      expect(file.metadata).toEqual(byBytes.metadata);
      for (const [name, t] of byBytes.tensors)
        expect(Array.from(file.tensors.get(name)!.data)).toEqual(Array.from(t.data));
    }
  });

  it("names the file in a SafetensorsError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokenwise-"));
    const path = join(dir, "cut.safetensors");
    const whole = serializeSafetensors({
      w: { dtype: "F32", shape: [2], data: new Float32Array(2) },
    });
    writeFileSync(path, whole.subarray(0, whole.length - 2));
    const e = await rejection(loadSafetensors(path));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe("DataOutOfBounds");
    expect((e as Error).message).toBe(
      `loadSafetensors: ${path}: parseSafetensors: tensor "w": data_offsets [0, 8] run past the end of the data (6 bytes)`,
    );
  });

  it("passes on the file system's error for a missing file, and refuses a bad path", async () => {
    const e = await rejection(loadSafetensors("/nonexistent/model.safetensors"));
    expect((e as NodeJS.ErrnoException).code).toBe("ENOENT");
    await expect(loadSafetensors(42 as never)).rejects.toThrow(
      new TypeError("loadSafetensors: path must be a string or a file: URL, got number"),
    );
  });
});

describe("loadShardedSafetensors", () => {
  it("reads the shards beside the index and merges them", async () => {
    const sharded = await loadShardedSafetensors(INDEX);
    expect(sharded.shards.size).toBe(2);
    const single = parseSafetensors(readFileSync(SINGLE));
    expect(sharded.tensors.size).toBe(single.tensors.size);
    const a = feedForwardFromCheckpoint(sharded, optFeedForwardNames(1));
    const b = feedForwardFromCheckpoint(single, optFeedForwardNames(1));
    expect(Array.from(a.weights.w1.data)).toEqual(Array.from(b.weights.w1.data));
    expect((await loadShardedSafetensors(INDEX.pathname)).tensors.size).toBe(single.tensors.size);
  });

  it("refuses an index that is not JSON, or that points outside its folder", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tokenwise-"));
    const bad = join(dir, "bad.index.json");
    writeFileSync(bad, "{ weight_map: ");
    const e = await rejection(loadShardedSafetensors(bad));
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).code).toBe("InvalidIndex");
    expect((e as Error).message).toMatch(
      new RegExp(`^loadShardedSafetensors: ${bad} is not JSON: SyntaxError`),
    );

    const outside = join(dir, "outside.index.json");
    writeFileSync(outside, JSON.stringify({ weight_map: { w: "../opt.safetensors" } }));
    const f = await rejection(loadShardedSafetensors(pathToFileURL(outside)));
    expect((f as SafetensorsError).code).toBe("InvalidIndex");
  });
});
