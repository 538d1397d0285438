// Random valid GGUF files for property tests: metadata of every value type (arrays nested up to
// 3 deep, which @huggingface/gguf also reads), tensors of many ggml types and shapes, with or
// without general.alignment. Each comes with its spec, so a parse can be checked against what
// was written.
import fc from "fast-check";
import { ggufBytes, GGML, type GgufSpec, type MetaValue, type ValueTypeName } from "./gguf-writer";

const SCALARS = [
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "FLOAT32",
  "BOOL",
  "STRING",
  "UINT64",
  "INT64",
  "FLOAT64",
] as const satisfies readonly ValueTypeName[];

const stringArb = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "grapheme", maxLength: 4 }),
  fc.constantFrom("", "<0x0A>", "▁the", "\u0000", "é😀"),
);

/** A value of a scalar type. */
function scalarOf(type: (typeof SCALARS)[number]): fc.Arbitrary<MetaValue> {
  switch (type) {
    case "UINT8":
      return fc.integer({ min: 0, max: 255 }).map((value) => ({ type, value }));
    case "INT8":
      return fc.integer({ min: -128, max: 127 }).map((value) => ({ type, value }));
    case "UINT16":
      return fc.integer({ min: 0, max: 65535 }).map((value) => ({ type, value }));
    case "INT16":
      return fc.integer({ min: -32768, max: 32767 }).map((value) => ({ type, value }));
    case "UINT32":
      return fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((value) => ({ type, value }));
    case "INT32":
      return fc.integer().map((value) => ({ type, value }));
    case "FLOAT32":
      return fc.float().map((value) => ({ type, value }));
    case "FLOAT64":
      return fc.double().map((value) => ({ type, value }));
    case "UINT64":
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type, value }));
    case "INT64":
      return fc
        .bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        .map((value) => ({ type, value }));
    case "BOOL":
      return fc.boolean().map((value) => ({ type, value }));
    case "STRING":
      return stringArb.map((value) => ({ type, value }));
  }
}

/** An array `depth` levels deep at most: its items all of one type. */
function arrayOf(depth: number): fc.Arbitrary<MetaValue> {
  const element: fc.Arbitrary<"ARRAY" | (typeof SCALARS)[number]> =
    depth > 1 ? fc.constantFrom(...SCALARS, "ARRAY") : fc.constantFrom(...SCALARS);
  return element.chain((type) => {
    const item = type === "ARRAY" ? arrayOf(depth - 1) : scalarOf(type);
    return fc
      .array(item, { maxLength: 5 })
      .map((items): MetaValue => ({ type: "ARRAY", element: type, items }));
  });
}

export const metaValueArb: fc.Arbitrary<MetaValue> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SCALARS).chain(scalarOf) },
  { weight: 2, arbitrary: arrayOf(3) },
);

/** Keys of GGUF's form (and a few odd ones), never integer-like (a plain object would reorder those). */
const keyArb = fc
  .oneof(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,6}(\.[a-z][a-z0-9_]{0,6}){0,2}$/),
    fc.constantFrom("__proto__", "constructor", "é.key", "general.name"),
  )
  .filter((k) => k !== "general.alignment");

const TENSOR_TYPES = [
  "F32",
  "F16",
  "BF16",
  "Q8_0",
  "Q4_0",
  "Q4_1",
  "Q5_0",
  "Q5_1",
  "Q4_K",
  "Q6_K",
  "I8",
  "I32",
  "Q2_K",
  "MXFP4",
];

const tensorArb = fc
  .record({
    type: fc.constantFrom(...TENSOR_TYPES),
    rows: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    blocks: fc.integer({ min: 0, max: 3 }),
    seed: fc.integer(),
  })
  .map(({ type, rows, blocks, seed }) => {
    const [, block, size] = GGML[type] as [number, number, number];
    const shape = [...rows, block * blocks];
    const count = shape.reduce((a, b) => a * b, 1);
    const data = new Uint8Array((count / block) * size);
    let x = seed | 0;
    for (let i = 0; i < data.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      data[i] = x >>> 24;
    }
    return { type, shape, data };
  });

const nameArb = fc.oneof(
  fc.stringMatching(/^blk\.[0-9]{1,2}\.[a-z_]{1,12}\.(weight|bias)$/),
  fc.string({ maxLength: 10 }),
  fc.constantFrom("__proto__", "token_embd.weight", "é"),
);

/** A valid file's spec and bytes. */
export const ggufFileArb: fc.Arbitrary<{ spec: GgufSpec; bytes: Uint8Array }> = fc
  .record({
    metadata: fc.uniqueArray(fc.tuple(keyArb, metaValueArb), {
      selector: ([k]) => k,
      maxLength: 6,
    }),
    tensors: fc.uniqueArray(fc.tuple(nameArb, tensorArb), { selector: ([n]) => n, maxLength: 4 }),
    alignment: fc.option(fc.constantFrom(1, 8, 32, 64, 128)),
    version: fc.constantFrom(2, 3),
  })
  .map(({ metadata, tensors, alignment, version }) => {
    const meta: [string, MetaValue][] = [...metadata];
    if (alignment !== null) meta.push(["general.alignment", { type: "UINT32", value: alignment }]);
    const spec: GgufSpec = {
      version,
      alignment: alignment ?? 32,
      metadata: meta,
      tensors: tensors
        .filter(([name]) => new TextEncoder().encode(name).length < 64)
        .map(([name, t]) => ({ name, ...t })),
    };
    return { spec, bytes: ggufBytes(spec) };
  });

/** What parseGguf gives for a value the writer wrote. */
export function expectedValue(v: MetaValue): unknown {
  if (v.type === "ARRAY") {
    const element = v.element ?? v.items[0]?.type;
    const values = v.items.map(expectedValue);
    switch (element) {
      case "UINT8":
        return new Uint8Array(values as number[]);
      case "INT8":
        return new Int8Array(values as number[]);
      case "UINT16":
        return new Uint16Array(values as number[]);
      case "INT16":
        return new Int16Array(values as number[]);
      case "UINT32":
        return new Uint32Array(values as number[]);
      case "INT32":
        return new Int32Array(values as number[]);
      case "FLOAT32":
        return new Float32Array(values as number[]);
      case "FLOAT64":
        return new Float64Array(values as number[]);
      case "UINT64":
        return new BigUint64Array(values as bigint[]);
      case "INT64":
        return new BigInt64Array(values as bigint[]);
      default:
        return values;
    }
  }
  if (v.type === "FLOAT32") return Math.fround(Number(v.value));
  if (v.type === "STRING" && typeof v.value === "string") {
    // lone surrogates become U+FFFD in UTF-8; a leading byte order mark stays
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(new TextEncoder().encode(v.value));
  }
  if (v.type === "BOOL") return v.value === true || v.value === 1;
  return v.value;
}

/** The declared type parseGguf reports for a value the writer wrote. */
export function expectedType(v: MetaValue): string {
  if (v.type !== "ARRAY") return String(v.type);
  return `ARRAY<${String(v.element ?? v.items[0]?.type ?? "UINT8")}>`;
}
