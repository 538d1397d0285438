// parseGguf and ggufTensorToFloat32 on files written by an independent numpy writer
// (scripts/fixtures/make_gguf_fixtures.py: test/fixtures/gguf/*.gguf, described in files.json,
// with each tensor's float32 values from numpy dequantizers written from ggml's C), and on a
// corpus of malformed files built with the tests' own writer (test/support/gguf-writer.ts), one
// per check, each refused with its code, naming the key or tensor.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  GgufError,
  ggufTensorToFloat32,
  parseGguf,
  ShapeError,
  type GgufErrorCode,
  type GgufFile,
} from "../../src/index";
import { expectSameBits } from "../helpers/bits";
import { expectThrowsCleanly } from "../helpers/throws";
import { toJson, type JsonValue } from "../support/gguf-json";
import { ByteWriter, ggufBytes, type GgufSpec, type MetaValue } from "../support/gguf-writer";

interface FileFixture {
  file: string;
  version: number;
  alignment: number;
  metadata: { key: string; type: string; value: JsonValue }[];
  tensors: {
    name: string;
    type: string;
    shape: number[];
    offset: number;
    byteLength: number;
    values?: string | null;
  }[];
}

const DIR = new URL("../fixtures/gguf/", import.meta.url);
const FILES = (
  JSON.parse(readFileSync(new URL("files.json", DIR), "utf8")) as { files: FileFixture[] }
).files;

const floats = (b64: string) => {
  const b = Buffer.from(b64, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

function parseError(bytes: Uint8Array): GgufError {
  try {
    parseGguf(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(GgufError);
    return e as GgufError;
  }
  throw new Error("parseGguf accepted the file");
}

describe("parseGguf on the numpy-written files", () => {
  it("reads them all", () => {
    expect(FILES.map((f) => f.file).sort()).toEqual([
      "align-64.gguf",
      "empty.gguf",
      "every-type-v2.gguf",
      "every-type-v3.gguf",
      "gpt2-ffn.gguf",
      "llama-ffn.gguf",
      "qwen2moe-ffn.gguf",
    ]);
  });

  describe.each(FILES.map((f) => [f.file, f] as const))("%s", (_, fixture) => {
    const bytes = new Uint8Array(readFileSync(new URL(fixture.file, DIR)));
    const file: GgufFile = parseGguf(bytes);

    it("has the version, alignment and every key with its type and value", () => {
      expect(file.version).toBe(fixture.version);
      expect(file.alignment).toBe(fixture.alignment);
      expect([...file.metadata.keys()]).toEqual(fixture.metadata.map((m) => m.key));
      for (const m of fixture.metadata) {
        const type = file.metadataTypes.get(m.key) as string;
        expect(type, m.key).toBe(m.type);
        expect(toJson(file.metadata.get(m.key)!, type), m.key).toEqual(m.value);
      }
    });

    it("has every tensor's info, and a view of its bytes where the info says", () => {
      expect([...file.tensors.keys()]).toEqual(fixture.tensors.map((t) => t.name));
      expect(file.tensorInfos).toBe(file.tensors);
      for (const t of fixture.tensors) {
        const got = file.tensors.get(t.name)!;
        expect({ ...got, data: undefined }).toEqual({ ...t, data: undefined, values: undefined });
        expect(got.data.buffer).toBe(bytes.buffer);
        expect(got.data.byteOffset).toBe(t.offset);
        expect(got.data.byteLength).toBe(t.byteLength);
      }
      if (fixture.tensors.length > 0) {
        expect(file.dataOffset).toBe(fixture.tensors[0]!.offset);
        expect(file.dataOffset % fixture.alignment).toBe(0);
      }
    });

    it("converts each tensor to numpy's float32 values, bit for bit, or refuses its type", () => {
      for (const t of fixture.tensors) {
        if (t.values === undefined) continue;
        const tensor = file.tensors.get(t.name)!;
        if (t.values === null) {
          const e = (() => {
            try {
              ggufTensorToFloat32(tensor);
            } catch (err) {
              return err as GgufError;
            }
            throw new Error(`${t.name} converted`);
          })();
          expect(e).toBeInstanceOf(GgufError);
          expect(e.code).toBe("UnsupportedType");
          expect(e.tensor).toBe(t.name);
          expect(e.message).toBe(
            `ggufTensorToFloat32: tensor "${t.name}" has type ${t.type}; tokenwise converts F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K and Q6_K`,
          );
        } else {
          expectSameBits(ggufTensorToFloat32(tensor), floats(t.values), t.name);
        }
      }
    });
  });

  it("versions 2 and 3 of the same content read alike", () => {
    const v2 = parseGguf(readFileSync(new URL("every-type-v2.gguf", DIR)));
    const v3 = parseGguf(readFileSync(new URL("every-type-v3.gguf", DIR)));
    expect(v2.version).toBe(2);
    expect(v3.version).toBe(3);
    expect(v2.metadata).toEqual(v3.metadata);
    expect([...v2.tensors.values()].map((t) => ({ ...t, data: [...t.data] }))).toEqual(
      [...v3.tensors.values()].map((t) => ({ ...t, data: [...t.data] })),
    );
  });

  it("converts a copy: the file's bytes can change afterwards", () => {
    const bytes = new Uint8Array(readFileSync(new URL("every-type-v3.gguf", DIR)));
    const t = parseGguf(bytes).tensors.get("f32")!;
    const values = ggufTensorToFloat32(t);
    const before = [...values];
    bytes.fill(0);
    expect([...values]).toEqual(before);
  });
});

describe("parseGguf on files of the tests' own writer", () => {
  const f32Data = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

  it("reads back every value type, a key named __proto__, and the tensors", () => {
    const metadata: [string, MetaValue][] = [
      ["__proto__", { type: "STRING", value: "safe" }],
      ["constructor", { type: "UINT8", value: 1 }],
      ["a.u64", { type: "UINT64", value: 2n ** 64n - 1n }],
      ["a.i64", { type: "INT64", value: -(2n ** 63n) }],
      [
        "a.nested",
        {
          type: "ARRAY",
          items: [
            { type: "ARRAY", items: [{ type: "INT16", value: -3 }] },
            { type: "ARRAY", items: [{ type: "BOOL", value: true }] },
          ],
        },
      ],
      ["a.f64", { type: "FLOAT64", value: -0.1 }],
    ];
    const file = parseGguf(
      ggufBytes({
        metadata,
        tensors: [
          { name: "t", type: "F32", shape: [2], data: f32Data(1.5, -2) },
          { name: "u", type: "F32", shape: [1, 1], data: f32Data(3) },
        ],
      }),
    );
    expect(file.metadata.get("__proto__")).toBe("safe");
    expect(file.metadata.get("constructor")).toBe(1);
    expect(file.metadata.get("a.u64")).toBe(2n ** 64n - 1n);
    expect(file.metadata.get("a.i64")).toBe(-(2n ** 63n));
    expect(file.metadata.get("a.nested")).toEqual([new Int16Array([-3]), [true]]);
    expect(file.metadataTypes.get("a.nested")).toBe("ARRAY<ARRAY>");
    expect(file.metadata.get("a.f64")).toBe(-0.1);
    expect([...ggufTensorToFloat32(file.tensors.get("t")!)]).toEqual([1.5, -2]);
    expect(file.tensors.get("u")!.offset).toBe(file.dataOffset + 32);
  });

  it("keeps a string value's byte order mark, and decodes bytes that are not UTF-8 to U+FFFD", () => {
    const file = parseGguf(
      ggufBytes({
        metadata: [
          ["bom", { type: "STRING", value: "\ufeffx" }],
          ["bad", { type: "STRING", value: new Uint8Array([0x61, 0xff, 0x62, 0xe2, 0x82]) }],
        ],
      }),
    );
    expect(file.metadata.get("bom")).toBe("\ufeffx");
    expect(file.metadata.get("bad")).toBe("a\ufffdb\ufffd");
  });

  it("places the data section at the header's end padded to general.alignment", () => {
    for (const alignment of [1, 8, 64, 256]) {
      const file = parseGguf(
        ggufBytes({
          alignment,
          metadata: [["general.alignment", { type: "UINT32", value: alignment }]],
          tensors: [
            { name: "a", type: "F32", shape: [3], data: f32Data(1, 2, 3) },
            { name: "b", type: "F32", shape: [1], data: f32Data(4) },
          ],
        }),
      );
      expect(file.alignment).toBe(alignment);
      expect(file.dataOffset % alignment).toBe(0);
      expect(file.tensors.get("b")!.offset).toBe(
        file.dataOffset + Math.ceil(12 / alignment) * alignment,
      );
      expect([...ggufTensorToFloat32(file.tensors.get("b")!)]).toEqual([4]);
    }
  });

  it("accepts trailing bytes and a last tensor without its padding, as llama.cpp does", () => {
    const good = ggufBytes({ tensors: [{ name: "a", type: "F32", shape: [1], data: f32Data(7) }] });
    const cut = good.subarray(0, good.length - 28); // the last tensor's 28 bytes of padding
    expect(parseGguf(cut).tensors.get("a")!.data.length).toBe(4);
    const longer = new Uint8Array(good.length + 5);
    longer.set(good);
    expect(parseGguf(longer).tensors.size).toBe(1);
  });

  it("takes an ArrayBuffer, and a view that does not start its buffer", () => {
    const bytes = ggufBytes({ metadata: [["k", { type: "BOOL", value: false }]] });
    expect(parseGguf(bytes.slice().buffer).metadata.get("k")).toBe(false);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(parseGguf(shifted.subarray(3)).metadata.get("k")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

const F32_ONE = new Uint8Array(new Float32Array([1]).buffer);
const tensor = (over: Partial<NonNullable<GgufSpec["tensors"]>[number]> = {}) => ({
  name: "w",
  type: "F32",
  shape: [1],
  data: F32_ONE,
  ...over,
});

interface Bad {
  what: string;
  bytes: Uint8Array;
  code: GgufErrorCode;
  message: string | RegExp;
  key?: string;
  tensor?: string;
}

/** A valid file's bytes with a u64 written at `at`. */
function patchU64(bytes: Uint8Array, at: number, v: bigint): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(at, v, true);
  return out;
}

const ONE_KV = ggufBytes({ metadata: [["k", { type: "UINT32", value: 5 }]] });

const CORPUS: Bad[] = [
  {
    what: "an empty file",
    bytes: new Uint8Array(0),
    code: "UnexpectedEnd",
    message: "parseGguf: the file ends inside the magic (4 bytes at byte 0; the file has 0)",
  },
  {
    what: "the wrong magic",
    bytes: ggufBytes({ magic: "GGML" }),
    code: "InvalidMagic",
    message: 'parseGguf: the file begins with "GGML", not "GGUF"',
  },
  {
    what: "version 1",
    bytes: ggufBytes({ version: 1 }),
    code: "UnsupportedVersion",
    message:
      "parseGguf: version 1 files (before 64-bit counts) are no longer read, by ggml or tokenwise",
  },
  {
    what: "version 4",
    bytes: ggufBytes({ version: 4 }),
    code: "UnsupportedVersion",
    message: "parseGguf: version 4; tokenwise reads versions 2 and 3",
  },
  {
    what: "version 0",
    bytes: ggufBytes({ version: 0 }),
    code: "UnsupportedVersion",
    message: "parseGguf: version 0; tokenwise reads versions 2 and 3",
  },
  {
    what: "a big-endian file",
    bytes: ggufBytes({ version: 0x03000000 }),
    code: "UnsupportedVersion",
    message:
      "parseGguf: the version reads as 50331648 (0x3000000): a big-endian file, which tokenwise does not read",
  },
  {
    what: "a file that ends inside the counts",
    bytes: ggufBytes({}).subarray(0, 20),
    code: "UnexpectedEnd",
    message:
      "parseGguf: the file ends inside the metadata count (8 bytes at byte 16; the file has 20)",
  },
  {
    what: "2^64 - 1 key-value pairs",
    bytes: ggufBytes({ kvCount: 2n ** 64n - 1n }),
    code: "InvalidCount",
    message:
      "parseGguf: 0 tensors and 2^53 or more key-value pairs cannot fit in the 0 bytes after the counts",
  },
  {
    what: "more tensors than the rest of the file could hold",
    bytes: ggufBytes({ tensorCount: 4, tensors: [tensor()] }),
    code: "InvalidCount",
    message:
      /^parseGguf: 4 tensors and 0 key-value pairs cannot fit in the \d+ bytes after the counts$/,
  },
  {
    what: "a key count one too many",
    bytes: ggufBytes({
      kvCount: 2,
      metadata: [
        ["a", { type: "UINT8", value: 1 }],
        ["b", { type: "STRING", value: "xyzxyzxyzxyzxyzxyz" }],
      ],
    }).subarray(0, 24 + 14 + 34),
    code: "UnexpectedEnd",
    message: 'parseGguf: key "b": a STRING of 18 bytes runs past the end of the file (byte 51)',
    key: "b",
  },
  {
    what: "an empty key",
    bytes: ggufBytes({ metadata: [["", { type: "UINT8", value: 1 }]] }),
    code: "InvalidKey",
    message: "parseGguf: key 0 is empty",
  },
  {
    what: "a key that is not UTF-8",
    bytes: ggufBytes({
      metadata: [[new Uint8Array([0x61, 0xc0, 0x80]), { type: "UINT8", value: 1 }]],
    }),
    code: "InvalidUtf8",
    message: "parseGguf: key 0 is not valid UTF-8 (byte 32)",
  },
  {
    what: "a duplicate key",
    bytes: ggufBytes({
      metadata: [
        ["general.name", { type: "STRING", value: "a" }],
        ["general.name", { type: "STRING", value: "b" }],
      ],
    }),
    code: "DuplicateKey",
    message: 'parseGguf: key "general.name": the key appears twice',
    key: "general.name",
  },
  {
    what: "a value type of 13",
    bytes: ggufBytes({ metadata: [["k", { type: 13, value: 0 }]] }),
    code: "InvalidValueType",
    message:
      'parseGguf: key "k": the value type is 13; the format\'s value types are 0 (UINT8) to 12 (FLOAT64)',
    key: "k",
  },
  {
    what: "an array element type of 99",
    bytes: ggufBytes({ metadata: [["k", { type: "ARRAY", element: 99, items: [] }]] }),
    code: "InvalidValueType",
    message:
      "parseGguf: key \"k\": an array's element type is 99; the format's value types are 0 (UINT8) to 12 (FLOAT64)",
    key: "k",
  },
  {
    what: "a BOOL of 2",
    bytes: ggufBytes({ metadata: [["flag", { type: "BOOL", value: 2 }]] }),
    code: "InvalidValue",
    message: 'parseGguf: key "flag": a BOOL must be 0 or 1, found 2 (byte 40)',
    key: "flag",
  },
  {
    what: "a BOOL of 255 in an array",
    bytes: ggufBytes({
      metadata: [
        [
          "flags",
          {
            type: "ARRAY",
            items: [
              { type: "BOOL", value: 1 },
              { type: "BOOL", value: 255 },
            ],
          },
        ],
      ],
    }),
    code: "InvalidValue",
    message: /^parseGguf: key "flags": a BOOL must be 0 or 1, found 255/,
    key: "flags",
  },
  {
    what: "a string longer than the file",
    bytes: patchU64(ONE_KV, 24, 1000n),
    code: "UnexpectedEnd",
    message: "parseGguf: key 0 of 1000 bytes runs past the end of the file (byte 24)",
  },
  {
    what: "a string length of 2^64 - 1",
    bytes: patchU64(
      ggufBytes({ metadata: [["k", { type: "STRING", value: "v" }]] }),
      24 + 8 + 1 + 4,
      2n ** 64n - 1n,
    ),
    code: "UnexpectedEnd",
    message:
      'parseGguf: key "k": a STRING of 2^53 or more bytes runs past the end of the file (byte 37)',
    key: "k",
  },
  {
    what: "an array longer than the file",
    bytes: ggufBytes({
      metadata: [["k", { type: "ARRAY", element: "UINT32", count: 2n ** 40n, items: [] }]],
    }),
    code: "UnexpectedEnd",
    message:
      'parseGguf: key "k": an array of 1099511627776 UINT32 runs past the end of the file (byte 41)',
    key: "k",
  },
  {
    what: "an array of 2^62 strings",
    bytes: ggufBytes({
      metadata: [["k", { type: "ARRAY", element: "STRING", count: 2n ** 62n, items: [] }]],
    }),
    code: "UnexpectedEnd",
    message:
      'parseGguf: key "k": an array of 2^53 or more STRING runs past the end of the file (byte 41)',
    key: "k",
  },
  {
    what: "arrays nested 33 deep",
    bytes: (() => {
      let v: MetaValue = { type: "ARRAY", element: "UINT8", items: [] };
      for (let i = 0; i < 32; i++) v = { type: "ARRAY", items: [v] };
      return ggufBytes({ metadata: [["deep", v]] });
    })(),
    code: "InvalidValue",
    message: /^parseGguf: key "deep": arrays nest more than 32 deep \(byte \d+\)$/,
    key: "deep",
  },
  {
    what: "general.alignment of type UINT64",
    bytes: ggufBytes({ metadata: [["general.alignment", { type: "UINT64", value: 32n }]] }),
    code: "InvalidAlignment",
    message: 'parseGguf: key "general.alignment": the alignment must be a UINT32, found UINT64',
    key: "general.alignment",
  },
  {
    what: "general.alignment 0",
    bytes: ggufBytes({ metadata: [["general.alignment", { type: "UINT32", value: 0 }]] }),
    code: "InvalidAlignment",
    message: 'parseGguf: key "general.alignment": the alignment 0 is not a power of two',
    key: "general.alignment",
  },
  {
    what: "general.alignment 48",
    bytes: ggufBytes({ metadata: [["general.alignment", { type: "UINT32", value: 48 }]] }),
    code: "InvalidAlignment",
    message: 'parseGguf: key "general.alignment": the alignment 48 is not a power of two',
    key: "general.alignment",
  },
  {
    what: "a tensor name of 64 bytes",
    bytes: ggufBytes({ tensors: [tensor({ name: "n".repeat(64) })] }),
    code: "InvalidTensorInfo",
    message: /^parseGguf: tensor "n{64}": the name has 64 bytes; ggml allows 63$/,
    tensor: "n".repeat(64),
  },
  {
    what: "a tensor name that is not UTF-8",
    bytes: ggufBytes({ tensors: [tensor({ name: new Uint8Array([0xed, 0xa0, 0x80]) })] }),
    code: "InvalidUtf8",
    message: "parseGguf: the name of tensor 0 is not valid UTF-8 (byte 32)",
  },
  {
    what: "two tensors with one name",
    bytes: ggufBytes({ tensors: [tensor(), tensor()] }),
    code: "DuplicateName",
    message: 'parseGguf: tensor "w": two tensors have this name',
    tensor: "w",
  },
  {
    what: "5 dimensions",
    bytes: ggufBytes({ tensors: [tensor({ shape: [1, 1, 1, 1, 1] })] }),
    code: "InvalidTensorInfo",
    message: 'parseGguf: tensor "w": 5 dimensions; ggml allows 4',
    tensor: "w",
  },
  {
    what: "a dimension of 2^63",
    bytes: ggufBytes({ tensors: [tensor({ ne: [2n ** 63n] })] }),
    code: "SizeOverflow",
    message: 'parseGguf: tensor "w": dimension 0 (ne[0]) is 2^53 or more',
    tensor: "w",
  },
  {
    what: "2^60 elements",
    bytes: ggufBytes({ tensors: [tensor({ ne: [2 ** 30, 2 ** 30] })] }),
    code: "SizeOverflow",
    message: 'parseGguf: tensor "w": ne [1073741824, 1073741824] has 2^53 or more elements',
    tensor: "w",
  },
  {
    what: "a Q8_0 row of 2^53 - 32: its elements fit under 2^53, its bytes do not",
    bytes: ggufBytes({ tensors: [tensor({ type: "Q8_0", ne: [2 ** 53 - 32] })] }),
    code: "SizeOverflow",
    message: 'parseGguf: tensor "w": ne [9007199254740960] x Q8_0 is 2^53 or more bytes',
    tensor: "w",
  },
  {
    what: "ggml type 4 (Q4_2, removed)",
    bytes: ggufBytes({ tensors: [tensor({ type: 4 })] }),
    code: "UnknownType",
    message: 'parseGguf: tensor "w": ggml type 4 is not one the format defines (it was removed)',
    tensor: "w",
  },
  {
    what: "ggml type 1000",
    bytes: ggufBytes({ tensors: [tensor({ type: 1000 })] }),
    code: "UnknownType",
    message: 'parseGguf: tensor "w": ggml type 1000 is not one the format defines',
    tensor: "w",
  },
  {
    what: "a Q4_0 row of 48",
    bytes: ggufBytes({
      tensors: [tensor({ type: "Q4_0", shape: [2, 48], data: new Uint8Array(54) })],
    }),
    code: "BlockMismatch",
    message:
      'parseGguf: tensor "w": ne [48, 2] x Q4_0: a row of 48 is not a whole number of blocks of 32',
    tensor: "w",
  },
  {
    what: "a Q4_K scalar",
    bytes: ggufBytes({ tensors: [tensor({ type: "Q4_K", shape: [], data: new Uint8Array(144) })] }),
    code: "BlockMismatch",
    message:
      'parseGguf: tensor "w": ne [] x Q4_K: a row of 1 is not a whole number of blocks of 256',
    tensor: "w",
  },
  {
    what: "an offset of 2^63",
    bytes: ggufBytes({ tensors: [tensor({ offset: 2n ** 63n })] }),
    code: "InvalidOffset",
    message: 'parseGguf: tensor "w": the data offset is 2^53 or more',
    tensor: "w",
  },
  {
    what: "a first offset that is not 0",
    bytes: ggufBytes({ tensors: [tensor({ offset: 32 })] }),
    code: "InvalidOffset",
    message:
      'parseGguf: tensor "w": the data offset is 32, expected 0: the start of the data section (offsets follow the order of the tensors, with no gap or overlap)',
    tensor: "w",
  },
  {
    what: "overlapping tensors",
    bytes: ggufBytes({
      tensors: [
        tensor({ name: "a", shape: [16], data: new Uint8Array(64) }),
        tensor({ name: "b", offset: 32 }),
      ],
    }),
    code: "InvalidOffset",
    message:
      'parseGguf: tensor "b": the data offset is 32, expected 64: the end of "a"\'s data, padded to 32 (offsets follow the order of the tensors, with no gap or overlap)',
    tensor: "b",
  },
  {
    what: "a gap between tensors",
    bytes: ggufBytes({ tensors: [tensor({ name: "a" }), tensor({ name: "b", offset: 64 })] }),
    code: "InvalidOffset",
    message: /^parseGguf: tensor "b": the data offset is 64, expected 32: the end of "a"'s data/,
    tensor: "b",
  },
  {
    what: "tensors out of order",
    bytes: ggufBytes({
      tensors: [tensor({ name: "a", offset: 32 }), tensor({ name: "b", offset: 0 })],
    }),
    code: "InvalidOffset",
    message: /^parseGguf: tensor "a": the data offset is 32, expected 0/,
    tensor: "a",
  },
  {
    what: "a misaligned offset",
    bytes: ggufBytes({ tensors: [tensor({ name: "a" }), tensor({ name: "b", offset: 4 })] }),
    code: "InvalidOffset",
    message: /^parseGguf: tensor "b": the data offset is 4, expected 32/,
    tensor: "b",
  },
  {
    what: "tensor data past the end of the file",
    bytes: ggufBytes({ tensors: [tensor({ shape: [4], data: new Uint8Array(16) })] }).subarray(
      0,
      64 + 8,
    ),
    code: "DataOutOfBounds",
    message:
      'parseGguf: tensor "w": its 16 bytes of data at byte 64 run past the end of the file (72 bytes)',
    tensor: "w",
  },
  {
    what: "a tensor claiming 4 GiB in a small file",
    bytes: ggufBytes({ tensors: [tensor({ ne: [2 ** 30] })] }),
    code: "DataOutOfBounds",
    message:
      'parseGguf: tensor "w": its 4294967296 bytes of data at byte 64 run past the end of the file (96 bytes)',
    tensor: "w",
  },
  {
    what: "a data section that would begin past the end",
    bytes: ggufBytes({ tensors: [tensor({ shape: [0], data: new Uint8Array(0) })] }).subarray(
      0,
      60,
    ),
    code: "DataOutOfBounds",
    message:
      "parseGguf: the tensor data would begin at byte 64 (the header, aligned to 32), past the end of the file (60 bytes)",
  },
  {
    what: "a file cut inside a tensor info",
    bytes: ggufBytes({ tensors: [tensor()] }).subarray(0, 50),
    code: "UnexpectedEnd",
    message:
      'parseGguf: tensor "w": the file ends inside the data offset (8 bytes at byte 49; the file has 50)',
    tensor: "w",
  },
];

describe("parseGguf refuses malformed files, one check each", () => {
  it("the corpus reaches every code the parser can give", () => {
    const codes = new Set(CORPUS.map((c) => c.code));
    const parserCodes: GgufErrorCode[] = [
      "UnexpectedEnd",
      "InvalidMagic",
      "UnsupportedVersion",
      "InvalidCount",
      "InvalidUtf8",
      "InvalidKey",
      "DuplicateKey",
      "InvalidValueType",
      "InvalidValue",
      "InvalidAlignment",
      "DuplicateName",
      "InvalidTensorInfo",
      "UnknownType",
      "SizeOverflow",
      "BlockMismatch",
      "InvalidOffset",
      "DataOutOfBounds",
    ];
    expect([...codes].sort()).toEqual([...parserCodes].sort());
  });

  it.each(CORPUS.map((c) => [c.what, c] as const))("%s", (_, c) => {
    const before = c.bytes.slice();
    const e = parseError(c.bytes);
    expect(e.code).toBe(c.code);
    if (typeof c.message === "string") expect(e.message).toBe(c.message);
    else expect(e.message).toMatch(c.message);
    expect(e.key).toBe(c.key);
    expect(e.tensor).toBe(c.tensor);
    expect(c.bytes).toEqual(before);
  });

  it("a string over 2^28 bytes (in a file that holds it) is refused before it is decoded", () => {
    const n = 2 ** 28 + 1;
    const bytes = new Uint8Array(24 + 8 + 1 + 4 + 8 + n);
    const w = new ByteWriter().bytes(new TextEncoder().encode("GGUF")).u32(3).u64(0).u64(1);
    w.string("k").u32(8).u64(n);
    bytes.set(w.result());
    const e = parseError(bytes);
    expect(e.code).toBe("InvalidValue");
    expect(e.message).toBe(
      'parseGguf: key "k": a STRING has 268435457 bytes, over tokenwise\'s limit of 2^28',
    );
  });

  it("wrong kinds of argument are TypeErrors", () => {
    expectThrowsCleanly({
      what: "a string",
      call: () => parseGguf("GGUF" as unknown as Uint8Array),
      error: TypeError,
      message: "parseGguf: bytes must be a Uint8Array or an ArrayBuffer, got string GGUF",
    });
  });
});

describe("ggufTensorToFloat32: bad input", () => {
  const q8 = new Uint8Array(34);
  it.each([
    {
      what: "not an object",
      call: () => ggufTensorToFloat32(null as never),
      error: TypeError,
      message: "ggufTensorToFloat32: tensor must be a tensor { type, shape, data }, got null",
    },
    {
      what: "an unknown type",
      call: () => ggufTensorToFloat32({ type: "Q9_9" as never, shape: [32], data: q8 }),
      error: TypeError,
      message:
        'ggufTensorToFloat32: tensor.type must be a ggml type name such as "F32" or "Q4_K", got "Q9_9"',
    },
    {
      what: "a shape that is not an array",
      call: () => ggufTensorToFloat32({ name: "x", type: "Q8_0", shape: 32 as never, data: q8 }),
      error: TypeError,
      message: 'ggufTensorToFloat32: tensor "x".shape must be an array of sizes, got number 32',
    },
    {
      what: "a negative dimension",
      call: () => ggufTensorToFloat32({ type: "F32", shape: [-1], data: q8 }),
      error: TypeError,
      message: "ggufTensorToFloat32: tensor.shape[0] must be a non-negative integer, got number -1",
    },
    {
      what: "data that is not a Uint8Array",
      call: () =>
        ggufTensorToFloat32({ type: "F32", shape: [1], data: new Float32Array(1) as never }),
      error: TypeError,
      message: "ggufTensorToFloat32: tensor.data must be a Uint8Array, got a Float32Array",
    },
    {
      what: "a row that is not whole blocks",
      call: () =>
        ggufTensorToFloat32({
          name: "blk.0.ffn_up.weight",
          type: "Q4_K",
          shape: [2, 128],
          data: q8,
        }),
      error: ShapeError,
      message:
        'ggufTensorToFloat32: tensor "blk.0.ffn_up.weight" has rows of 128 values (its last dimension), not a whole number of Q4_K blocks of 256',
    },
    {
      what: "the wrong byte count",
      call: () => ggufTensorToFloat32({ type: "Q8_0", shape: [2, 32], data: q8 }),
      error: ShapeError,
      message: "ggufTensorToFloat32: tensor.data has 34 bytes, expected shape [2, 32] x Q8_0 = 68",
    },
  ])("$what", (c) => expectThrowsCleanly({ ...c, buffers: [q8] }));

  it("an unsupported type names the tensor and the type", () => {
    const e = (() => {
      try {
        ggufTensorToFloat32({ name: "t", type: "Q5_K", shape: [256], data: new Uint8Array(176) });
      } catch (err) {
        return err as GgufError;
      }
      throw new Error("converted");
    })();
    expect(e).toBeInstanceOf(GgufError);
    expect([e.code, e.tensor]).toEqual(["UnsupportedType", "t"]);
    expect(e.message).toMatch(
      /^ggufTensorToFloat32: tensor "t" has type Q5_K; tokenwise converts /,
    );
  });

  it("F16 and BF16 convert exactly, infinities and NaN included", () => {
    const h = new Uint8Array(new Uint16Array([0x3c00, 0xfc00, 0x0001, 0x7e00, 0x8000]).buffer);
    expect([...ggufTensorToFloat32({ type: "F16", shape: [5], data: h })]).toEqual([
      1,
      -Infinity,
      2 ** -24,
      NaN,
      -0,
    ]);
    const b = new Uint8Array(new Uint16Array([0x3f80, 0xff80, 0x0001, 0x7fc0]).buffer);
    expect([...ggufTensorToFloat32({ type: "BF16", shape: [2, 2], data: b })]).toEqual([
      1,
      -Infinity,
      2 ** -133,
      NaN,
    ]);
  });
});
