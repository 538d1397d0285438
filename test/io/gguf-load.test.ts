// loadGguf reads what parseGguf reads, but only the header and the tensors asked for: every
// read of the file handle is counted, and a sparse file of 6 GiB (whose data is never on disk)
// loads in a moment, its small tensor read and its 6 GiB one not.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { GgufError, parseGguf, type GgufFile } from "../../src/index";
import { loadGguf } from "../../src/node";
import { ggufBytes, type MetaValue } from "../support/gguf-writer";

const DIR = new URL("../fixtures/gguf/", import.meta.url);
const TMP = mkdtempSync(join(tmpdir(), "tokenwise-gguf-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts what every FileHandle read returns, from here on. */
async function countReads(): Promise<{ bytes: number; calls: number }> {
  const probe = await open(new URL("empty.gguf", DIR), "r");
  const proto = Object.getPrototypeOf(probe) as {
    read: (...a: unknown[]) => Promise<{ bytesRead: number }>;
  };
  await probe.close();
  const counted = { bytes: 0, calls: 0 };
  const read = proto.read;
  vi.spyOn(proto, "read").mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const r = await read.apply(this, args);
    counted.bytes += r.bytesRead;
    counted.calls++;
    return r;
  });
  return counted;
}

function expectSameFile(loaded: GgufFile, parsed: GgufFile, names: string[]): void {
  expect(loaded.version).toBe(parsed.version);
  expect(loaded.alignment).toBe(parsed.alignment);
  expect(loaded.dataOffset).toBe(parsed.dataOffset);
  expect(loaded.metadata).toEqual(parsed.metadata);
  expect(loaded.metadataTypes).toEqual(parsed.metadataTypes);
  expect([...loaded.tensorInfos.values()]).toEqual(
    [...parsed.tensorInfos.values()].map(({ name, type, shape, offset, byteLength }) => ({
      name,
      type,
      shape,
      offset,
      byteLength,
    })),
  );
  expect([...loaded.tensors.keys()]).toEqual(names);
  for (const name of names) {
    expect(loaded.tensors.get(name)!.data).toEqual(new Uint8Array(parsed.tensors.get(name)!.data));
  }
}

describe("loadGguf", () => {
  const path = new URL("every-type-v3.gguf", DIR);
  const parsed = parseGguf(new Uint8Array(readFileSync(path)));
  const all = [...parsed.tensors.keys()];

  it("without tensors: the header only, every info, no data", async () => {
    const counted = await countReads();
    const file = await loadGguf(path);
    expectSameFile(file, parsed, []);
    expect(counted.bytes).toBe(readFileSync(path).length); // under 1 MiB: one read of it all
  });

  it('"all", a list, a function; a path or a file: URL', async () => {
    expectSameFile(await loadGguf(path, { tensors: "all" }), parsed, all);
    expectSameFile(await loadGguf(path.pathname, { tensors: ["q4_k", "f32"] }), parsed, [
      "f32",
      "q4_k",
    ]);
    expectSameFile(
      await loadGguf(pathToFileURL(path.pathname), { tensors: (t) => t.type === "Q8_0" }),
      parsed,
      ["q8_0"],
    );
  });

  it("gives each tensor a buffer of its own", async () => {
    const file = await loadGguf(path, { tensors: ["f32", "bf16"] });
    const f32 = file.tensors.get("f32")!.data;
    expect(f32.byteOffset).toBe(0);
    expect(f32.buffer.byteLength).toBe(60);
    expect(file.tensors.get("bf16")!.data.buffer).not.toBe(f32.buffer);
  });

  it("a name not in the file is a TensorNotFound naming it and the file, before any tensor is read", async () => {
    const counted = await countReads();
    const e = await loadGguf(path, { tensors: ["f32", "blk.9.ffn_up.weight"] }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(GgufError);
    expect((e as GgufError).code).toBe("TensorNotFound");
    expect((e as GgufError).tensor).toBe("blk.9.ffn_up.weight");
    expect((e as GgufError).message).toBe(
      `loadGguf: ${path.pathname}: tensor "blk.9.ffn_up.weight" is not in the file`,
    );
    expect(counted.calls).toBe(1); // the header's read
  });

  it("an invalid file is a GgufError naming the file", async () => {
    const bad = join(TMP, "bad.gguf");
    writeFileSync(bad, ggufBytes({ version: 7 }));
    const e = await loadGguf(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GgufError);
    expect((e as GgufError).message).toBe(
      `loadGguf: ${bad}: version 7; tokenwise reads versions 2 and 3`,
    );
  });

  it("a missing file is node:fs's ENOENT; bad arguments are TypeErrors", async () => {
    await expect(loadGguf(join(TMP, "none.gguf"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(loadGguf(42 as never)).rejects.toThrow(
      new TypeError("loadGguf: path must be a string or a file: URL, got number"),
    );
    await expect(loadGguf(path, { tensors: "some" as never })).rejects.toThrow(
      new TypeError(
        'loadGguf: options.tensors must be "all", an array of tensor names or a function of a tensor\'s info',
      ),
    );
    await expect(loadGguf(path, { tensors: [1] as never })).rejects.toThrow(TypeError);
  });

  it("a header longer than the first read is read on, at most twice its length in all", async () => {
    // 3 MiB of vocabulary: the header outgrows the first 1 MiB read twice.
    const tokens: MetaValue[] = [];
    for (let i = 0; i < 120_000; i++)
      tokens.push({ type: "STRING", value: `token-${i}-`.padEnd(20, "x") });
    const bytes = ggufBytes({
      metadata: [["tokenizer.ggml.tokens", { type: "ARRAY", items: tokens }]],
      tensors: [{ name: "w", type: "F32", shape: [4], data: new Uint8Array(16).fill(1) }],
    });
    const big = join(TMP, "vocab.gguf");
    writeFileSync(big, bytes);
    const counted = await countReads();
    const file = await loadGguf(big, { tensors: ["w"] });
    const whole = parseGguf(bytes);
    expectSameFile(file, whole, ["w"]);
    expect((file.metadata.get("tokenizer.ggml.tokens") as string[]).length).toBe(120_000);
    expect(whole.dataOffset).toBeGreaterThan(3 * 2 ** 20);
    expect(counted.bytes).toBeLessThanOrEqual(2 * whole.dataOffset + 16);
  });

  it("a 6 GiB sparse file: its header and a 64-byte tensor are read, the 6 GiB tensor is not", async () => {
    const huge = 6 * 2 ** 30;
    const bytes = ggufBytes({
      metadata: [["general.architecture", { type: "STRING", value: "llama" }]],
      tensors: [
        { name: "small", type: "F32", shape: [16], data: new Uint8Array(64).fill(7) },
        // The huge tensor's info only: its data is the file's sparse tail.
        { name: "huge", type: "F32", shape: [3, 2 ** 29], data: new Uint8Array(0) },
      ],
    });
    const sparse = join(TMP, "sparse.gguf");
    writeFileSync(sparse, bytes); // the header, then "small"'s 64 bytes
    await truncate(sparse, bytes.length + huge);
    const counted = await countReads();
    const file = await loadGguf(sparse, { tensors: ["small"] });
    expect(file.tensorInfos.get("huge")).toMatchObject({
      byteLength: huge,
      offset: bytes.length,
      shape: [3, 2 ** 29],
    });
    expect([...file.tensors.get("small")!.data]).toEqual(new Array(64).fill(7));
    expect(counted.bytes).toBeLessThanOrEqual(2 ** 20 + 64);
    expect(counted.calls).toBe(2);
  });
});
