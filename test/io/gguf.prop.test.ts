// The fuzz test of parseGguf. Valid random files (test/support/gguf-arbitrary.ts) must read
// back exactly as written. Mutated ones (bytes flipped, cut, appended, copied over; a count,
// length, dimension, type or offset field set to an extreme; a key or tensor written twice)
// must either fail with a GgufError, or parse to a result that holds together (every tensor's
// data where its offset says, in order, padded, inside the file) and that an independent
// reader, @huggingface/gguf, reads the same way. Nothing else: no other exception, no hang,
// no allocation sized by a number the file states without checking it (the counts and lengths
// set to 2^32, 2^53, 2^63, 2^64 - 1 below would otherwise be).
import fc from "fast-check";
import { gguf } from "@huggingface/gguf";
import { describe, expect, it } from "vitest";
import { GgufError, parseGguf, type GgufFile, type GgufValue } from "../../src/index";
import { expectedType, expectedValue, ggufFileArb } from "../support/gguf-arbitrary";
import { ggufLayout, GGML, type GgufSpec } from "../support/gguf-writer";

type Mutation =
  | { kind: "flip"; at: number; value: number; inHeader: boolean }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "copy"; from: number; length: number; to: number }
  | { kind: "field"; which: number; value: bigint; add: boolean }
  | {
      kind: "spec";
      change: "duplicateKey" | "duplicateTensor" | "retype" | "swapOffsets";
      which: number;
      type: number;
    };

const EXTREMES = [
  0n,
  1n,
  2n,
  3n,
  4n,
  9n,
  13n,
  31n,
  32n,
  63n,
  64n,
  255n,
  2n ** 16n,
  2n ** 31n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 53n,
  2n ** 63n,
  2n ** 64n - 1n,
];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    inHeader: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("append" as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }),
  }),
  fc.record({
    kind: fc.constant("copy" as const),
    from: fc.nat(),
    length: fc.integer({ min: 1, max: 24 }),
    to: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("field" as const),
    which: fc.nat(),
    value: fc.oneof(fc.constantFrom(...EXTREMES), fc.bigInt({ min: -8n, max: 8n })),
    add: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("spec" as const),
    change: fc.constantFrom(
      "duplicateKey" as const,
      "duplicateTensor" as const,
      "retype" as const,
      "swapOffsets" as const,
    ),
    which: fc.nat(),
    type: fc.constantFrom(0, 1, 2, 4, 8, 12, 14, 30, 31, 39, 43, 1000),
  }),
);

/** The spec's bytes, the bytes after the mutations, in order. */
function mutate(spec: GgufSpec, ms: Mutation[]): Uint8Array {
  // Changes to the spec come first, then the byte edits on the file written from it.
  let s: GgufSpec = spec;
  for (const m of ms) {
    if (m.kind !== "spec") continue;
    const meta = [...(s.metadata ?? [])];
    const tensors = [...(s.tensors ?? [])];
    if (m.change === "duplicateKey" && meta.length > 0) meta.push(meta[m.which % meta.length]!);
    if (m.change === "duplicateTensor" && tensors.length > 0)
      tensors.push(tensors[m.which % tensors.length]!);
    if (m.change === "retype" && tensors.length > 0) {
      const i = m.which % tensors.length;
      tensors[i] = { ...tensors[i]!, type: m.type };
    }
    if (m.change === "swapOffsets" && tensors.length > 1) {
      const i = m.which % (tensors.length - 1);
      [tensors[i], tensors[i + 1]] = [tensors[i + 1]!, tensors[i]!];
      // the data stays in place: the infos now say the other order
      tensors[i] = { ...tensors[i]!, offset: BigInt(i + 1) * 32n };
    }
    s = { ...s, metadata: meta, tensors };
  }
  const layout = ggufLayout(s);
  let bytes = layout.bytes;
  const headerEnd = Math.max(24, ...layout.fields.map((f) => f.at + f.size));
  for (const m of ms) {
    const len = bytes.length;
    switch (m.kind) {
      case "flip": {
        if (len === 0) break;
        bytes = bytes.slice();
        bytes[m.inHeader ? m.at % Math.min(len, headerEnd) : m.at % len] = m.value;
        break;
      }
      case "truncate":
        bytes = bytes.slice(0, m.at % (len + 1));
        break;
      case "append": {
        const out = new Uint8Array(len + m.bytes.length);
        out.set(bytes);
        out.set(m.bytes, len);
        bytes = out;
        break;
      }
      case "copy": {
        if (len === 0) break;
        const from = m.from % len;
        const piece = bytes.slice(from, from + m.length);
        bytes = bytes.slice();
        bytes.set(piece.subarray(0, Math.max(0, len - (m.to % len))), m.to % len);
        break;
      }
      case "field": {
        const f = layout.fields[m.which % layout.fields.length];
        if (f === undefined || f.at + f.size > len) break;
        bytes = bytes.slice();
        const view = new DataView(bytes.buffer);
        if (f.size === 4) {
          const old = BigInt(view.getUint32(f.at, true));
          view.setUint32(f.at, Number(BigInt.asUintN(32, m.add ? old + m.value : m.value)), true);
        } else {
          const old = view.getBigUint64(f.at, true);
          view.setBigUint64(f.at, BigInt.asUintN(64, m.add ? old + m.value : m.value), true);
        }
        break;
      }
      case "spec":
        break;
    }
  }
  return bytes;
}

/** A parse's own consistency: the data section and every tensor where the rules put them. */
function checkStructure(bytes: Uint8Array, file: GgufFile): void {
  expect([2, 3]).toContain(file.version);
  expect(file.alignment & (file.alignment - 1)).toBe(0);
  expect(file.metadata.size).toBe(file.metadataTypes.size);
  if (file.tensors.size > 0) expect(file.dataOffset % file.alignment).toBe(0);
  let expected = file.dataOffset;
  for (const [name, t] of file.tensors) {
    expect(t.name).toBe(name);
    expect(Object.keys(GGML)).toContain(t.type);
    const [, block, size] = GGML[t.type] as [number, number, number]; // every type is there
    const count = t.shape.reduce((a, b) => a * b, 1);
    expect(t.byteLength).toBe((count / block) * size);
    expect(t.offset).toBe(expected);
    expect(t.offset + t.byteLength).toBeLessThanOrEqual(bytes.length);
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(t.data.byteOffset).toBe(bytes.byteOffset + t.offset);
    expect(t.data.byteLength).toBe(t.byteLength);
    expect(new TextEncoder().encode(name).length).toBeLessThan(64);
    expected = t.offset + Math.ceil(t.byteLength / file.alignment) * file.alignment;
  }
}

/** Whether @huggingface/gguf read the file (not when its own limits refuse it), agreeing. */
async function hfAgrees(bytes: Uint8Array, file: GgufFile): Promise<boolean> {
  const serve = async (_url: unknown, init?: { headers?: Record<string, string> }) => {
    const range = /bytes=(\d+)-(\d+)/.exec(init?.headers?.Range ?? "");
    const from = Math.min(Number(range?.[1] ?? 0), bytes.length);
    const to = Math.min(Number(range?.[2] ?? bytes.length - 1), bytes.length - 1);
    return new Response(bytes.slice(from, to + 1), {
      status: 206,
      headers: { "content-range": `bytes ${from}-${to}/${bytes.length}` },
    });
  };
  let hf: Awaited<ReturnType<typeof gguf>>;
  try {
    hf = await gguf("https://gguf.invalid/f.gguf", { fetch: serve as unknown as typeof fetch });
  } catch (e) {
    // Its own limits (a dimension over 2^32, arrays nested 4 deep, ...), not the format's.
    if (/exceeds (the )?maximum allowed/.test(String(e))) return false;
    throw e;
  }
  const meta = hf.metadata as unknown as Record<string, unknown>;
  const asHf = (v: GgufValue): unknown =>
    typeof v === "string"
      ? v.replace(/^\ufeff/, "")
      : ArrayBuffer.isView(v)
        ? Array.from(v as ArrayLike<unknown>)
        : Array.isArray(v)
          ? v.map((x) => asHf(x as GgufValue))
          : v;
  for (const [key, value] of file.metadata) {
    if (key === "__proto__" || key === "version" || key === "kv_count" || key === "tensor_count")
      continue;
    expect(meta[key], key).toEqual(asHf(value));
  }
  expect(
    hf.tensorInfos.map((t) => [
      t.name,
      t.shape.map(Number).reverse(),
      Number(hf.tensorDataOffset + t.offset),
    ]),
  ).toEqual([...file.tensors.values()].map((t) => [t.name, t.shape, t.offset]));
  return true;
}

function outcome(bytes: Uint8Array): GgufFile | GgufError {
  try {
    return parseGguf(bytes);
  } catch (e) {
    if (!(e instanceof GgufError)) throw e;
    expect(e.message.startsWith("parseGguf: ")).toBe(true);
    // Names are quoted in messages, cut at 200 characters.
    const quote = (n: string) => JSON.stringify(n.length > 200 ? `${n.slice(0, 200)}...` : n);
    if (e.tensor !== undefined) expect(e.message).toContain(`tensor ${quote(e.tensor)}`);
    else if (e.key !== undefined) expect(e.message).toContain(`key ${quote(e.key)}`);
    return e;
  }
}

describe("parseGguf on fuzzed files", () => {
  it("reads every valid file back exactly as written", () => {
    fc.assert(
      fc.property(ggufFileArb, ({ spec, bytes }) => {
        const file = parseGguf(bytes);
        checkStructure(bytes, file);
        expect(file.version).toBe(spec.version);
        expect([...file.metadata.keys()]).toEqual(spec.metadata!.map(([k]) => k));
        for (const [key, value] of spec.metadata!) {
          expect(file.metadata.get(key as string), key as string).toEqual(expectedValue(value));
          expect(file.metadataTypes.get(key as string)).toBe(expectedType(value));
        }
        expect([...file.tensors.keys()]).toEqual(spec.tensors!.map((t) => t.name));
        for (const t of spec.tensors!) {
          const got = file.tensors.get(t.name as string)!;
          expect(got.type).toBe(t.type);
          expect(got.shape).toEqual(t.shape);
          expect(got.data).toEqual(t.data);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("mutated files: a GgufError, or a parse that holds together and @huggingface/gguf reads alike", async () => {
    let refused = 0;
    let accepted = 0;
    let compared = 0;
    const codes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        ggufFileArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        async ({ spec }, ms) => {
          const bytes = mutate(spec, ms);
          const r = outcome(bytes);
          if (r instanceof GgufError) {
            refused++;
            codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
            return;
          }
          accepted++;
          checkStructure(bytes, r);
          if (await hfAgrees(bytes, r)) compared++;
        },
      ),
      { numRuns: 4000 },
    );
    // The mutations must reach both outcomes and most checks, or this test proves little.
    expect(refused).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(400);
    expect(compared).toBeGreaterThan(0.95 * accepted);
    expect(codes.size, [...codes.keys()].join(", ")).toBeGreaterThanOrEqual(16);
  }, 120_000);

  it("a byte flipped in the data section changes that byte of one tensor, or padding, and nothing else", () => {
    fc.assert(
      fc.property(ggufFileArb, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ bytes }, at, xor) => {
        const before = parseGguf(bytes);
        const dataLength = bytes.length - before.dataOffset;
        fc.pre(before.tensors.size > 0 && dataLength > 0);
        const pos = before.dataOffset + (at % dataLength);
        const flipped = bytes.slice();
        flipped[pos] = (flipped[pos] as number) ^ xor;
        const after = parseGguf(flipped);
        let changed = 0;
        let inside = false;
        for (const [name, t] of before.tensors) {
          const u = after.tensors.get(name)!;
          for (let i = 0; i < t.data.length; i++) if (t.data[i] !== u.data[i]) changed++;
          if (pos >= t.offset && pos < t.offset + t.byteLength) inside = true;
        }
        expect(changed).toBe(inside ? 1 : 0);
        expect(after.metadata).toEqual(before.metadata);
      }),
      { numRuns: 500 },
    );
  });

  it("random bytes after a valid start: a correct parse or a GgufError", () => {
    const head = new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), fc.boolean(), (tail, withHead) => {
        const bytes = new Uint8Array((withHead ? head.length : 0) + tail.length);
        if (withHead) bytes.set(head);
        bytes.set(tail, withHead ? head.length : 0);
        const r = outcome(bytes);
        if (!(r instanceof GgufError)) checkStructure(bytes, r);
      }),
      { numRuns: 3000 },
    );
  });
});
