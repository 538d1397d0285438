// parseGguf against an independent reader, @huggingface/gguf: on every file in
// test/fixtures/gguf (written by numpy) and on random files of the tests' writer, both must
// agree on the version, every key's type (and element type) and value, and every tensor's
// name, dimensions, type and data offset. @huggingface/gguf reads through `fetch` with range
// requests; here a fetch that serves the bytes from memory.
//
// Two differences, which the comparison allows: @huggingface/gguf decodes strings with
// TextDecoder's defaults, which drop a leading byte order mark (tokenwise keeps it); and it
// keeps metadata in a plain object, where a key "__proto__" is lost (tokenwise uses a Map), so
// the random files given to it have no such key.
import { readFileSync, readdirSync } from "node:fs";
import fc from "fast-check";
import { gguf, type GGUFParseOutput, type GGUFTypedMetadata } from "@huggingface/gguf";
import { describe, expect, it } from "vitest";
import { parseGguf, type GgufFile, type GgufValue } from "../../src/index";
import { ggufFileArb } from "../support/gguf-arbitrary";
import { GGML, VALUE_TYPES } from "../support/gguf-writer";

const DIR = new URL("../fixtures/gguf/", import.meta.url);
async function hfParse(
  bytes: Uint8Array,
): Promise<GGUFParseOutput & { typedMetadata: GGUFTypedMetadata }> {
  const serve = async (_url: unknown, init?: { headers?: Record<string, string> }) => {
    const range = /bytes=(\d+)-(\d+)/.exec(init?.headers?.Range ?? "");
    const from = Math.min(Number(range?.[1] ?? 0), bytes.length);
    const to = Math.min(Number(range?.[2] ?? bytes.length - 1), bytes.length - 1);
    return new Response(bytes.slice(from, to + 1), {
      status: 206,
      headers: { "content-range": `bytes ${from}-${to}/${bytes.length}` },
    });
  };
  return gguf("https://gguf.invalid/file.gguf", {
    fetch: serve as unknown as typeof fetch,
    typedMetadata: true,
  });
}

/** Our value in @huggingface/gguf's form: typed arrays as arrays, a leading BOM dropped. */
function asHf(v: GgufValue): unknown {
  if (typeof v === "string") return v.startsWith("\ufeff") ? v.slice(1) : v;
  if (ArrayBuffer.isView(v)) return Array.from(v as ArrayLike<unknown>);
  if (Array.isArray(v)) return v.map((x) => asHf(x as GgufValue));
  return v;
}

async function expectAgreement(bytes: Uint8Array): Promise<void> {
  const ours: GgufFile = parseGguf(bytes);
  const hf = await hfParse(bytes);
  expect(hf.littleEndian).toBe(true);
  expect(hf.metadata.version).toBe(ours.version);
  expect(hf.metadata.kv_count).toBe(BigInt(ours.metadata.size));
  expect(hf.metadata.tensor_count).toBe(BigInt(ours.tensors.size));

  const hfKeys = Object.keys(hf.typedMetadata).filter(
    (k) => k !== "version" && k !== "kv_count" && k !== "tensor_count",
  );
  expect(new Set(hfKeys)).toEqual(new Set(ours.metadata.keys()));
  for (const [key, value] of ours.metadata) {
    const entry = hf.typedMetadata[key]!;
    const type = ours.metadataTypes.get(key)!;
    const array = /^ARRAY<(\w+)>$/.exec(type);
    expect(VALUE_TYPES[entry.type], key).toBe(array === null ? type : "ARRAY");
    if (array !== null) expect(VALUE_TYPES[entry.subType!], key).toBe(array[1]);
    expect(entry.value, key).toEqual(asHf(value));
  }

  expect(hf.tensorInfos.map((t) => t.name)).toEqual([...ours.tensors.keys()]);
  hf.tensorInfos.forEach((t, i) => {
    const mine = [...ours.tensors.values()][i]!;
    expect(t.dtype, t.name).toBe(GGML[mine.type]![0]);
    expect(t.n_dims, t.name).toBe(mine.shape.length);
    expect(t.shape.map(Number).reverse(), t.name).toEqual(mine.shape);
    expect(Number(hf.tensorDataOffset + t.offset), t.name).toBe(mine.offset);
  });
  if (ours.tensors.size > 0) expect(Number(hf.tensorDataOffset)).toBe(ours.dataOffset);
}

describe("parseGguf agrees with @huggingface/gguf", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".gguf"));

  it("on every fixture file", async () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) await expectAgreement(new Uint8Array(readFileSync(new URL(f, DIR))));
  });

  it("on random files of every value type, nested arrays and tensor type", async () => {
    await fc.assert(
      fc.asyncProperty(
        ggufFileArb.filter(({ spec }) => !spec.metadata!.some(([k]) => k === "__proto__")),
        async ({ bytes }) => {
          await expectAgreement(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
