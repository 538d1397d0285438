// The fuzz test of parseSafetensors: valid files, mutated (bytes flipped, cut, appended, the
// header edited), must either parse correctly or fail with a SafetensorsError, never anything
// else. "Correctly" is checked against an independent reading: JSON.parse of the header (which
// our grammar is a subset of) must agree on every field, the views must sit where the offsets
// say and cover the data exactly, and writing the result again must give back the same tensors.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  type SafetensorsDtype,
  type SafetensorsFile,
  type SafetensorsTensorInput,
} from "../../src/index";

const BITS: Record<SafetensorsDtype, number> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};
const DTYPES = Object.keys(BITS) as SafetensorsDtype[];

function wellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

const nameArb = fc
  .oneof(
    fc.string({ maxLength: 10 }),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.constantFrom(
      "__proto__",
      "constructor",
      "toString",
      "a.b.0.fc1.weight",
      "é",
      "😀",
      '"\\',
      "",
    ),
  )
  .filter((s) => s !== "__metadata__" && wellFormed(s));

const tensorArb = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    seed: fc.integer(),
  })
  .map(({ dtype, shape, seed }) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const fixed = (count * BITS[dtype]) % 8 === 0 ? shape : [...shape, 8];
    const bytes = (fixed.reduce((a, b) => a * b, 1) * BITS[dtype]) / 8;
    const data = new Uint8Array(bytes);
    let x = seed | 0;
    for (let i = 0; i < bytes; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      data[i] = x >>> 24;
    }
    return { dtype, shape: fixed, data } as SafetensorsTensorInput;
  });

const fileArb = fc
  .record({
    tensors: fc.uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([n]) => n, maxLength: 5 }),
    metadata: fc.option(
      fc.uniqueArray(fc.tuple(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })), {
        selector: ([k]) => k,
        maxLength: 3,
      }),
    ),
  })
  .map(({ tensors, metadata }) =>
    serializeSafetensors(new Map(tensors), metadata === null ? null : new Map(metadata)),
  );

const TOKENS = [
  "",
  ",",
  '"',
  "{",
  "}",
  "[",
  "]",
  ":",
  "-",
  "0",
  "1",
  "8",
  "00",
  "9007199254740993",
  "1.5",
  "1e3",
  " ",
  "\t",
  "\u0000",
  "\\",
  "\\u0000",
  "\\ud800",
  "\\udc00",
  '"dtype":"F32",',
  '"dtype":"I64",',
  '"shape":[],',
  '"data_offsets":[0,0],',
  "null",
  "true",
  '"__proto__"',
  '"__metadata__":{},',
  '"__metadata__":{"a":"b"},',
  "\ufeff",
  "é",
];

type Mutation =
  | { kind: "flip"; at: number; value: number; inHeader: boolean }
  | { kind: "truncate"; at: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "edit"; at: number; remove: number; insert: string; fixLength: boolean; pad: boolean }
  | { kind: "copy"; from: number; to: number; at: number; fixLength: boolean }
  | { kind: "length"; delta: number }
  | { kind: "duplicate"; which: number }
  | { kind: "number"; which: number; delta: number; fixLength: boolean }
  | { kind: "dtype"; which: number; dtype: SafetensorsDtype; fixLength: boolean };

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
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
  fc.record({
    kind: fc.constant("edit" as const),
    at: fc.nat(),
    remove: fc.integer({ min: 0, max: 4 }),
    insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 3 })),
    fixLength: fc.boolean(),
    pad: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("copy" as const),
    from: fc.nat(),
    to: fc.nat(),
    at: fc.nat(),
    fixLength: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("length" as const), delta: fc.integer({ min: -9, max: 9 }) }),
  // Semantic edits that keep the JSON valid, to reach the offset, size and overflow checks.
  fc.record({
    kind: fc.constant("number" as const),
    which: fc.nat(),
    delta: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.constantFrom(2 ** 30, 2 ** 53, -(2 ** 60))),
    fixLength: fc.constant(true),
  }),
  fc.record({ kind: fc.constant("duplicate" as const), which: fc.nat() }),
  fc.record({
    kind: fc.constant("dtype" as const),
    which: fc.nat(),
    dtype: fc.constantFrom(...DTYPES),
    fixLength: fc.boolean(),
  }),
);

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
}

/** Splices a new header text in place of the old one; with fixLength, N follows it. */
function withHeader(bytes: Uint8Array, text: string, fixLength: boolean, pad = false): Uint8Array {
  const n = Math.min(headerLength(bytes), bytes.length - 8);
  let header = encoder.encode(text);
  if (pad && header.length % 8 !== 0) {
    const padded = new Uint8Array(Math.ceil(header.length / 8) * 8).fill(0x20);
    padded.set(header);
    header = padded;
  }
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + header.length + data.length);
  out.set(bytes.subarray(0, 8));
  if (fixLength) new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const len = bytes.length;
  const n = len >= 8 ? Math.min(headerLength(bytes), len - 8) : 0;
  switch (m.kind) {
    case "flip": {
      if (len === 0) return bytes;
      const out = bytes.slice();
      out[m.inHeader ? m.at % Math.min(len, 8 + n) : m.at % len] = m.value;
      return out;
    }
    case "truncate":
      return bytes.slice(0, m.at % (len + 1));
    case "append": {
      const out = new Uint8Array(len + m.bytes.length);
      out.set(bytes);
      out.set(m.bytes, len);
      return out;
    }
    case "edit":
    case "copy": {
      if (len < 8) return bytes;
      const text = decoder.decode(bytes.subarray(8, 8 + n));
      const at = m.at % (text.length + 1);
      if (m.kind === "edit") {
        const edited = text.slice(0, at) + m.insert + text.slice(at + m.remove);
        return withHeader(bytes, edited, m.fixLength, m.pad);
      }
      const a = m.from % (text.length + 1);
      const b = m.to % (text.length + 1);
      const piece = text.slice(Math.min(a, b), Math.max(a, b));
      return withHeader(bytes, text.slice(0, at) + piece + text.slice(at), m.fixLength);
    }
    case "duplicate": {
      // A tensor's entry written twice, with its name: what JSON.parse would silently merge.
      if (len < 8) return bytes;
      const text = decoder.decode(bytes.subarray(8, 8 + n));
      const found = [...text.matchAll(/"(?:[^"\\]|\\.)*":\{"dtype"[^}]*\}/g)];
      if (found.length === 0) return bytes;
      const hit = found[m.which % found.length] as RegExpMatchArray;
      const end = (hit.index as number) + hit[0].length;
      return withHeader(bytes, `${text.slice(0, end)},${hit[0]}${text.slice(end)}`, true, true);
    }
    case "number":
    case "dtype": {
      if (len < 8) return bytes;
      const text = decoder.decode(bytes.subarray(8, 8 + n));
      const pattern = m.kind === "number" ? /\d+/g : /"dtype":"([A-Z0-9_]+)"/g;
      const found = [...text.matchAll(pattern)];
      if (found.length === 0) return bytes;
      const hit = found[m.which % found.length] as RegExpMatchArray;
      const start = hit.index as number;
      const replacement =
        m.kind === "number"
          ? String(Math.max(0, Number(hit[0]) + m.delta))
          : `"dtype":"${m.dtype}"`;
      const edited = text.slice(0, start) + replacement + text.slice(start + hit[0].length);
      return withHeader(bytes, edited, m.fixLength);
    }
    case "length": {
      if (len < 8) return bytes;
      const out = bytes.slice();
      new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, n + m.delta)), true);
      return out;
    }
  }
}

function quoteName(name: string): string {
  return JSON.stringify(name.length > 200 ? `${name.slice(0, 200)}...` : name);
}

/** Parses, and checks that the outcome is a SafetensorsError or a parse that the oracle confirms. */
function parseAndCheck(bytes: Uint8Array): SafetensorsFile | SafetensorsError {
  let parsed: SafetensorsFile;
  try {
    parsed = parseSafetensors(bytes);
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    expect(e.message.startsWith("parseSafetensors: ")).toBe(true);
    if (e.tensor !== undefined) expect(e.message).toContain(`tensor ${quoteName(e.tensor)}`);
    return e;
  }
  checkParse(bytes, parsed);
  return parsed;
}

function checkParse(bytes: Uint8Array, parsed: SafetensorsFile): void {
  const n = headerLength(bytes);
  expect(n).toBeLessThanOrEqual(100_000_000);
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
    bytes.subarray(8, 8 + n),
  );
  expect(text[0]).toBe("{");
  const json = JSON.parse(text) as Record<string, unknown>;
  expect(typeof json === "object" && json !== null && !Array.isArray(json)).toBe(true);
  const names = Object.keys(json).filter((k) => k !== "__metadata__");
  expect(new Set(parsed.tensors.keys())).toEqual(new Set(names));
  if (Object.prototype.hasOwnProperty.call(json, "__metadata__")) {
    const meta = json.__metadata__ as Record<string, unknown>;
    for (const v of Object.values(meta)) expect(typeof v).toBe("string");
    expect(parsed.metadata).toEqual(new Map(Object.entries(meta)));
  } else {
    expect(parsed.metadata).toBeNull();
  }
  const dataStart = bytes.byteOffset + 8 + n;
  const spans: [number, number][] = [];
  for (const [name, t] of parsed.tensors) {
    const entry = json[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    expect(Object.keys(entry).sort()).toEqual(["data_offsets", "dtype", "shape"]);
    expect(t.name).toBe(name);
    expect(t.dtype).toBe(entry.dtype);
    expect(t.shape).toEqual(entry.shape);
    const [begin, end] = entry.data_offsets;
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(t.data.byteOffset).toBe(dataStart + begin);
    expect(t.data.byteLength).toBe(end - begin);
    expect(end - begin).toBe((t.shape.reduce((a, b) => a * b, 1) * BITS[t.dtype]) / 8);
    spans.push([begin, end]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end] of spans) {
    expect(begin).toBe(at);
    at = end;
  }
  expect(at).toBe(bytes.length - 8 - n);

  const again = parseSafetensors(serializeSafetensors(parsed.tensors, parsed.metadata));
  expect(again.metadata).toEqual(parsed.metadata);
  expect(again.tensors.size).toBe(parsed.tensors.size);
  for (const [name, t] of parsed.tensors) {
    const u = again.tensors.get(name);
    expect(u?.dtype).toBe(t.dtype);
    expect(u?.shape).toEqual(t.shape);
    expect(Array.from(u?.data ?? [])).toEqual(Array.from(t.data));
  }
}

describe("parseSafetensors on fuzzed files", () => {
  it("reads every valid file back exactly", () => {
    fc.assert(
      fc.property(fileArb, (bytes) => {
        expect(parseAndCheck(bytes)).not.toBeInstanceOf(SafetensorsError);
      }),
      { numRuns: 500 },
    );
  });

  it("mutated files: a correct parse or a SafetensorsError, nothing else", () => {
    let refused = 0;
    let accepted = 0;
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(fileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (bytes, ms) => {
        const mutated = ms.reduce(mutate, bytes);
        const r = parseAndCheck(mutated);
        if (r instanceof SafetensorsError) {
          refused++;
          codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        } else accepted++;
      }),
      { numRuns: 6000 },
    );
    // The mutations must reach both outcomes and most checks, or this test proves little.
    expect(refused).toBeGreaterThan(1000);
    expect(accepted).toBeGreaterThan(100);
    expect(codes.size, [...codes.keys()].join(", ")).toBeGreaterThanOrEqual(14);
  });

  it("a flipped data byte changes that byte of that tensor, and nothing else", () => {
    fc.assert(
      fc.property(fileArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, xor) => {
        const n = headerLength(bytes);
        const dataLength = bytes.length - 8 - n;
        fc.pre(dataLength > 0);
        const pos = 8 + n + (at % dataLength);
        const flipped = bytes.slice();
        flipped[pos] = (flipped[pos] as number) ^ xor;
        const before = parseSafetensors(bytes);
        const after = parseAndCheck(flipped) as SafetensorsFile;
        let changed = 0;
        for (const [name, t] of before.tensors) {
          const u = after.tensors.get(name)!;
          for (let i = 0; i < t.data.length; i++) if (t.data[i] !== u.data[i]) changed++;
        }
        expect(changed).toBe(1);
      }),
      { numRuns: 500 },
    );
  });

  it("random bytes and random headers: a correct parse or a SafetensorsError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        parseAndCheck(bytes);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 16 }), (text, data) => {
        const header = encoder.encode(text);
        const bytes = new Uint8Array(8 + header.length + data.length);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
        bytes.set(header, 8);
        bytes.set(data, 8 + header.length);
        parseAndCheck(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
