import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseSafetensors,
  parseShardedSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type SafetensorsIndex,
} from "../../src/index";

const DIR = new URL("../fixtures/checkpoints/opt-sharded/", import.meta.url);
const INDEX = JSON.parse(
  readFileSync(new URL("model.safetensors.index.json", DIR), "utf8"),
) as SafetensorsIndex;
const readFixture = (file: string) => readFileSync(new URL(file, DIR));

const f32 = (...v: number[]) => ({
  dtype: "F32" as const,
  shape: [v.length],
  data: new Float32Array(v),
});

async function rejection(promise: Promise<unknown>): Promise<SafetensorsError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error("the promise resolved");
}

describe("parseShardedSafetensors", () => {
  it("merges PyTorch's two shards into the tensors of the single file", async () => {
    const calls: string[] = [];
    const sharded = await parseShardedSafetensors(INDEX, async (file) => {
      calls.push(file);
      return readFixture(file);
    });
    expect(calls).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    expect([...sharded.shards.keys()]).toEqual(calls);
    const single = parseSafetensors(readFileSync(new URL("../opt.safetensors", DIR)));
    expect(new Set(sharded.tensors.keys())).toEqual(new Set(single.tensors.keys()));
    for (const [name, t] of single.tensors) {
      const s = sharded.tensors.get(name)!;
      expect([s.dtype, s.shape]).toEqual([t.dtype, t.shape]);
      expect(Array.from(s.data)).toEqual(Array.from(t.data));
    }
  });

  it("takes a readShard that answers synchronously, with an ArrayBuffer", async () => {
    const a = serializeSafetensors({ x: f32(1, 2) });
    const { tensors } = await parseShardedSafetensors(
      { weight_map: { x: "a" } },
      () => a.slice().buffer,
    );
    expect(tensors.get("x")!.shape).toEqual([2]);
  });

  it("keeps names like __proto__ from a JSON index as data", async () => {
    const index = JSON.parse(
      '{"weight_map":{"__proto__":"a.safetensors","constructor":"a.safetensors"}}',
    ) as SafetensorsIndex;
    const a = serializeSafetensors(
      new Map([
        ["__proto__", f32(1)],
        ["constructor", f32(2)],
      ]),
    );
    const { tensors } = await parseShardedSafetensors(index, () => a);
    expect([...tensors.keys()].sort()).toEqual(["__proto__", "constructor"]);
  });

  it.each([
    [null, "parseShardedSafetensors: the index must be an object with a weight_map object"],
    [{}, "parseShardedSafetensors: the index must be an object with a weight_map object"],
    [
      { weight_map: [] },
      "parseShardedSafetensors: the index must be an object with a weight_map object",
    ],
    [
      { weight_map: { x: 1 } },
      'parseShardedSafetensors: weight_map["x"] must be a file name, got number 1',
    ],
    [
      { weight_map: { x: "../secret.safetensors" } },
      'parseShardedSafetensors: weight_map["x"] is "../secret.safetensors", not a plain file name; shards must sit beside the index',
    ],
    [
      { weight_map: { x: "/etc/passwd" } },
      'parseShardedSafetensors: weight_map["x"] is "/etc/passwd", not a plain file name; shards must sit beside the index',
    ],
    [
      { weight_map: { x: "a\\b" } },
      'parseShardedSafetensors: weight_map["x"] is "a\\\\b", not a plain file name; shards must sit beside the index',
    ],
    [
      { weight_map: { x: "C:x" } },
      'parseShardedSafetensors: weight_map["x"] is "C:x", not a plain file name; shards must sit beside the index',
    ],
    [
      { weight_map: { x: ".." } },
      'parseShardedSafetensors: weight_map["x"] is "..", not a plain file name; shards must sit beside the index',
    ],
    [
      { weight_map: { x: "" } },
      'parseShardedSafetensors: weight_map["x"] is "", not a plain file name; shards must sit beside the index',
    ],
  ])("refuses the index %j with InvalidIndex, before reading any shard", async (index, message) => {
    let read = 0;
    const e = await rejection(
      parseShardedSafetensors(index as never, () => {
        read++;
        return new Uint8Array(0);
      }),
    );
    expect(e.code).toBe("InvalidIndex");
    expect(e.message).toBe(message);
    expect(read).toBe(0);
  });

  it("refuses a mapped tensor missing from its shard with TensorNotFound", async () => {
    const e = await rejection(
      parseShardedSafetensors({ weight_map: { x: "a", y: "a" } }, () =>
        serializeSafetensors({ x: f32(1) }),
      ),
    );
    expect([e.code, e.tensor, e.message]).toEqual([
      "TensorNotFound",
      "y",
      'parseShardedSafetensors: tensor "y" is not in shard "a", where the index maps it',
    ]);
  });

  it("refuses a shard tensor that the index maps elsewhere or not at all with ShardMismatch", async () => {
    const files: Record<string, Uint8Array> = {
      a: serializeSafetensors({ x: f32(1), y: f32(2) }),
      b: serializeSafetensors({ y: f32(3) }),
    };
    const elsewhere = await rejection(
      parseShardedSafetensors({ weight_map: { x: "a", y: "b" } }, (f) => files[f]!),
    );
    expect([elsewhere.code, elsewhere.tensor, elsewhere.message]).toEqual([
      "ShardMismatch",
      "y",
      'parseShardedSafetensors: shard "a" holds tensor "y", which the index maps to "b"',
    ]);
    const unlisted = await rejection(
      parseShardedSafetensors({ weight_map: { x: "a" } }, (f) => files[f]!),
    );
    expect(unlisted.message).toBe(
      'parseShardedSafetensors: shard "a" holds tensor "y", which the index does not list',
    );
  });

  it("refuses an invalid shard with its parse error, naming the shard", async () => {
    const bytes = serializeSafetensors({ x: f32(1, 2) });
    const e = await rejection(
      parseShardedSafetensors({ weight_map: { x: "a" } }, () =>
        bytes.subarray(0, bytes.length - 1),
      ),
    );
    expect([e.code, e.tensor]).toEqual(["DataOutOfBounds", "x"]);
    expect(e.message).toBe(
      'parseShardedSafetensors: shard "a": parseSafetensors: tensor "x": data_offsets [0, 8] run past the end of the data (7 bytes)',
    );
  });

  it("refuses a readShard that is not a function or gives no bytes, with a TypeError", async () => {
    await expect(parseShardedSafetensors({ weight_map: {} }, "a" as never)).rejects.toThrow(
      new TypeError("parseShardedSafetensors: readShard must be a function, got string a"),
    );
    await expect(
      parseShardedSafetensors({ weight_map: { x: "a" } }, () => "bytes" as never),
    ).rejects.toThrow(
      new TypeError(
        'parseShardedSafetensors: readShard("a") must be a Uint8Array or an ArrayBuffer, got string bytes',
      ),
    );
  });
});
