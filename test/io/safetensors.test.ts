import { describe, expect, it } from "vitest";
import {
  parseSafetensors,
  SafetensorsError,
  serializeSafetensors,
  ShapeError,
  tensorToFloat32,
  tensorToMatrix,
  type SafetensorsDtype,
  type SafetensorsErrorCode,
} from "../../src/index";
import { halfToFloatBits } from "../../src/dtype";
import { swapBytes } from "../../src/io/safetensors";

const ALL_DTYPES: [SafetensorsDtype, number][] = [
  ["BOOL", 8],
  ["F4", 4],
  ["F6_E2M3", 6],
  ["F6_E3M2", 6],
  ["U8", 8],
  ["I8", 8],
  ["F8_E5M2", 8],
  ["F8_E4M3", 8],
  ["F8_E8M0", 8],
  ["F8_E4M3FNUZ", 8],
  ["F8_E5M2FNUZ", 8],
  ["I16", 16],
  ["U16", 16],
  ["F16", 16],
  ["BF16", 16],
  ["I32", 32],
  ["U32", 32],
  ["F32", 32],
  ["C64", 64],
  ["F64", 64],
  ["I64", 64],
  ["U64", 64],
];

const encoder = new TextEncoder();

/** A file from a header text (padded to 8 bytes with spaces unless `pad` is false) and data. */
function file(header: string, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let h = encoder.encode(header);
  if (pad && h.length % 8 !== 0) {
    const padded = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    padded.set(h);
    h = padded;
  }
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** A file whose header is raw bytes. */
function rawFile(header: number[], data = 0): Uint8Array {
  const out = new Uint8Array(8 + header.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  return out;
}

function parseError(bytes: Uint8Array): SafetensorsError {
  try {
    parseSafetensors(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error("parseSafetensors accepted the file");
}

function expectRefused(
  bytes: Uint8Array,
  code: SafetensorsErrorCode,
  message: RegExp,
  tensor?: string,
): void {
  const e = parseError(bytes);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(/^parseSafetensors: /);
  expect(e.message).toMatch(message);
  expect(e.tensor).toBe(tensor);
  if (tensor !== undefined) expect(e.message).toContain(`tensor ${JSON.stringify(tensor)}`);
  expect(e.name).toBe("SafetensorsError");
  expect(e).toBeInstanceOf(Error);
}

const info = (dtype: string, shape: number[], begin: number, end: number) =>
  `{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${begin},${end}]}`;

describe("serializeSafetensors matches the reference writer byte for byte", () => {
  // The expected bytes are the reference implementation's own test vectors
  // (safetensors/src/tensor.rs: test_serialization, test_empty, test_serialization_forced_alignement).
  const six = new Float32Array([0, 1, 2, 3, 4, 5]);
  const tail = [0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64];

  it("one F32 tensor whose header is already a multiple of 8", () => {
    const out = serializeSafetensors({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data: six } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(Array.from(out)).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...encoder.encode(header), ...tail]);
    const t = parseSafetensors(out).tensors.get("attn.0");
    expect(t?.shape).toEqual([1, 2, 3]);
    expect(Array.from(tensorToFloat32(t!))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("pads the header with spaces to a multiple of 8, so the data is aligned", () => {
    const out = serializeSafetensors({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data: six } });
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ';
    expect(header.length).toBe(72);
    expect(Array.from(out)).toEqual([72, 0, 0, 0, 0, 0, 0, 0, ...encoder.encode(header), ...tail]);
  });

  it("no tensors, with and without metadata", () => {
    expect(Array.from(serializeSafetensors({}))).toEqual([
      8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32,
    ]);
    const out = serializeSafetensors(new Map(), { framework: "pt" });
    expect(Array.from(out)).toEqual([
      40,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      ...encoder.encode('{"__metadata__":{"framework":"pt"}}     '),
    ]);
    expect(parseSafetensors(out).metadata).toEqual(new Map([["framework", "pt"]]));
    expect(parseSafetensors(serializeSafetensors({})).metadata).toBeNull();
  });
});

describe("parseSafetensors", () => {
  it("gives every tensor's name, dtype, shape and bytes, in file order, as views", () => {
    const bytes = file(
      `{"b":${info("I64", [2], 0, 16)},"a":${info("F16", [3], 16, 22)},"c":${info("U8", [2], 22, 24)}}`,
      new Uint8Array(24).map((_, i) => i),
    );
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(["b", "a", "c"]);
    const a = parsed.tensors.get("a")!;
    expect(a).toMatchObject({ name: "a", dtype: "F16", shape: [3] });
    expect(Array.from(a.data)).toEqual([16, 17, 18, 19, 20, 21]);
    expect(a.data.buffer).toBe(bytes.buffer); // a view, not a copy
    expect(parsed.metadata).toBeNull();
  });

  it("sorts tensors by their offsets, whatever the header's key order", () => {
    const bytes = file(
      `{"z":${info("U8", [1], 2, 3)},"y":${info("U8", [1], 1, 2)},"x":${info("U8", [1], 0, 1)}}`,
      new Uint8Array([10, 11, 12]),
    );
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(["x", "y", "z"]);
    expect(parsed.tensors.get("z")!.data[0]).toBe(12);
  });

  it("takes an ArrayBuffer, and a Uint8Array at an offset in a larger buffer", () => {
    const inner = serializeSafetensors({
      t: { dtype: "F32", shape: [2], data: new Float32Array([1.5, -2]) },
    });
    const big = new Uint8Array(inner.length + 13);
    big.set(inner, 5);
    const fromView = parseSafetensors(big.subarray(5, 5 + inner.length));
    expect(Array.from(tensorToFloat32(fromView.tensors.get("t")!))).toEqual([1.5, -2]);
    const fromBuffer = parseSafetensors(inner.slice().buffer);
    expect(Array.from(tensorToFloat32(fromBuffer.tensors.get("t")!))).toEqual([1.5, -2]);
  });

  it("accepts scalars, empty tensors (several at one offset), and whitespace between tokens", () => {
    const bytes = file(
      `{ "s" : {"dtype":"F32","shape":[],"data_offsets":[0,4]},\n\t"e1":${info("F32", [0, 5], 4, 4)},\r\n"e2":${info("I8", [3, 0], 4, 4)} }\n`,
      4,
    );
    const parsed = parseSafetensors(bytes);
    expect(parsed.tensors.get("s")!.shape).toEqual([]);
    expect(parsed.tensors.get("e1")!.data.byteLength).toBe(0);
    expect(parsed.tensors.get("e2")!.shape).toEqual([3, 0]);
  });

  it("accepts a header that is not a multiple of 8 bytes, as the reference does", () => {
    const bytes = file(`{"t":${info("U8", [1], 0, 1)}}`, new Uint8Array([9]), false);
    expect((bytes.length - 9) % 8).not.toBe(0);
    expect(parseSafetensors(bytes).tensors.get("t")!.data[0]).toBe(9);
  });

  it("reads escapes in names and metadata, surrogate pairs included", () => {
    const bytes = file(
      `{"__metadata__":{"k\\n":"\\u00e9\\ud83d\\ude00\\/"},"a\\"b\\\\\\u0041\\t":${info("U8", [0], 0, 0)}}`,
    );
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(['a"b\\A\t']);
    expect(parsed.metadata).toEqual(new Map([["k\n", "é😀/"]]));
  });

  it("keeps names like __proto__ and constructor as data: nothing reaches a prototype", () => {
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "prototype", ""];
    const header = `{"__metadata__":{"__proto__":"x","constructor":"y"},${names.map((n, i) => `${JSON.stringify(n)}:${info("U8", [1], i, i + 1)}`).join(",")}}`;
    const parsed = parseSafetensors(file(header, 6));
    expect([...parsed.tensors.keys()]).toEqual(names);
    expect(parsed.tensors.get("__proto__")!.dtype).toBe("U8");
    expect(parsed.metadata!.get("__proto__")).toBe("x");
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    expect(Object.getPrototypeOf(parsed.tensors.get("constructor"))).toBe(Object.prototype);
    const again = parseSafetensors(serializeSafetensors(parsed.tensors, parsed.metadata));
    expect([...again.tensors.keys()].sort()).toEqual([...names].sort());
  });

  it("refuses a value that is not bytes with a TypeError", () => {
    expect(() => parseSafetensors("abc" as unknown as Uint8Array)).toThrow(
      new TypeError(
        "parseSafetensors: bytes must be a Uint8Array or an ArrayBuffer, got string abc",
      ),
    );
    expect(() => parseSafetensors(new Uint16Array(8) as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe("parseSafetensors refuses every malformed file with a SafetensorsError", () => {
  it("HeaderTooSmall: fewer than 8 bytes", () => {
    for (let n = 0; n < 8; n++) {
      expectRefused(new Uint8Array(n), "HeaderTooSmall", new RegExp(`has ${n} bytes`));
    }
  });

  it("HeaderTooLarge: a header length over 100,000,000, or over 2^32", () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 100_000_001n, true);
    expectRefused(big, "HeaderTooLarge", /100000001, over the limit of 100000000/);
    new DataView(big.buffer).setBigUint64(0, 2n ** 32n, true);
    expectRefused(big, "HeaderTooLarge", /4294967296 or more/);
    new DataView(big.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expectRefused(big, "HeaderTooLarge", /or more, over the limit/);
    // The limit itself is allowed; this file is just too short for it.
    new DataView(big.buffer).setBigUint64(0, 100_000_000n, true);
    expectRefused(big, "InvalidHeaderLength", /100000000, past the end of the file \(8 bytes/);
  });

  it("InvalidHeaderLength: a header past the end of the file", () => {
    const bytes = file(`{}`);
    expectRefused(bytes.subarray(0, bytes.length - 1), "InvalidHeaderLength", /header length is 8/);
  });

  it("InvalidUtf8: bytes that are not UTF-8, overlong forms, encoded surrogates", () => {
    const open = [0x7b, 0x22];
    const close = [0x22, 0x3a, 0x7b, 0x7d, 0x7d];
    for (const bad of [
      [0xff],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xe2, 0x82],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      expectRefused(rawFile([...open, ...bad, ...close]), "InvalidUtf8", /not valid UTF-8/);
    }
  });

  it("InvalidHeaderStart: anything but { first, a byte order mark and whitespace included", () => {
    expectRefused(file(` {}`), "InvalidHeaderStart", /begin with "\{", found " "/);
    expectRefused(rawFile([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), "InvalidHeaderStart", /found "\ufeff"/);
    expectRefused(file(`[]`), "InvalidHeaderStart", /found "\["/);
    expectRefused(rawFile([]), "InvalidHeaderStart", /an empty header/);
  });

  it.each([
    [`{"a":${info("U8", [0], 0, 0)}} x`, /unexpected text after the header's object/],
    [`{}\u0000\u0000\u0000\u0000\u0000\u0000`, /unexpected text after/],
    [`{"a":${info("U8", [0], 0, 0)},}`, /expected a tensor name, found "}"/],
    [`{'a':1}`, /expected a tensor name, found "'"/],
    [`{"a":${info("U8", [0], 0, 0)}`, /expected "}", found the end of the header/],
    [`{"a\u0001":${info("U8", [0], 0, 0)}}`, /control character U\+0001/],
    [`{"a\\x":${info("U8", [0], 0, 0)}}`, /invalid escape/],
    [`{"a\\u12g4":${info("U8", [0], 0, 0)}}`, /invalid \\u escape/],
    [`{"a\\ud800":${info("U8", [0], 0, 0)}}`, /lone high surrogate \\uD800/],
    [`{"a\\ud800\\u0041":${info("U8", [0], 0, 0)}}`, /lone high surrogate/],
    [`{"a\\udc00":${info("U8", [0], 0, 0)}}`, /lone low surrogate \\uDC00/],
    [`{"a`, /unterminated string/],
  ])("InvalidJson: %j", (header, message) => {
    expectRefused(file(header), "InvalidJson", message);
  });

  it("InvalidJson inside a tensor's entry names the tensor", () => {
    expectRefused(
      file(`{"a"${info("U8", [0], 0, 0)}}`),
      "InvalidJson",
      /expected ":", found "\{"/,
      "a",
    );
    expectRefused(
      file(`{"t":{"dtype":"U8","shape":[01],"data_offsets":[0,1]}}`, 1),
      "InvalidJson",
      /shape\[0\] has a leading zero/,
      "t",
    );
    expectRefused(
      file(`{"t":{"dtype":"U8","shape":[1] "data_offsets":[0,1]}}`, 1),
      "InvalidJson",
      /expected "}", found "\\""/,
      "t",
    );
  });

  it("DuplicateName: a tensor twice (JSON.parse would keep the last one silently)", () => {
    const header = `{"w":${info("U8", [1], 0, 1)},"w":${info("U8", [1], 1, 2)}}`;
    expect(Object.keys(JSON.parse(header))).toEqual(["w"]);
    expectRefused(file(header, 2), "DuplicateName", /appears twice/, "w");
    expectRefused(
      file(`{"__metadata__":{},"__metadata__":{}}`),
      "DuplicateName",
      /appears twice/,
      "__metadata__",
    );
    expectRefused(file(`{"__metadata__":{"k":"a","k":"b"}}`), "DuplicateName", /key "k" twice/);
    expectRefused(
      file(`{"t":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}`, 1),
      "DuplicateName",
      /field dtype appears twice/,
      "t",
    );
  });

  it.each([
    [`{"__metadata__":[]}`, /__metadata__ must be an object of strings/],
    [`{"__metadata__":"pt"}`, /__metadata__ must be an object of strings/],
    [`{"__metadata__":{"format":1}}`, /__metadata__\["format"\] must be a string/],
    [`{"__metadata__":{"format":null}}`, /must be a string/],
    [`{"__metadata__":{"format":{"a":"b"}}}`, /must be a string/],
  ])("InvalidMetadata: %j", (header, message) => {
    expectRefused(file(header), "InvalidMetadata", message);
  });

  it.each([
    [`{"t":5}`, /the entry must be an object/],
    [`{"t":[]}`, /the entry must be an object/],
    [`{"t":{}}`, /missing dtype, shape, data_offsets/],
    [`{"t":{"shape":[1],"data_offsets":[0,1]}}`, /missing dtype/],
    [`{"t":{"dtype":"U8","data_offsets":[0,1]}}`, /missing shape/],
    [`{"t":{"dtype":"U8","shape":[1]}}`, /missing data_offsets/],
    [`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}`, /unknown field "x"/],
    [`{"t":{"dtype":8,"shape":[1],"data_offsets":[0,1]}}`, /dtype must be a string/],
    [`{"t":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}`, /shape must be an array/],
    [`{"t":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}`, /shape\[0\] must be an integer/],
    [`{"t":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}`, /shape\[0\] must be an integer/],
    [`{"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, /shape\[0\] is negative/],
    [`{"t":{"dtype":"U8","shape":[1],"data_offsets":[-0,1]}}`, /data_offsets\[0\] is negative/],
    [
      `{"t":{"dtype":"U8","shape":["1"],"data_offsets":[0,1]}}`,
      /expected an integer for shape\[0\]/,
    ],
    [`{"t":{"dtype":"U8","shape":[1],"data_offsets":{}}}`, /data_offsets must be an array/],
    [`{"t":{"dtype":"U8","shape":[1],"data_offsets":[1]}}`, /found 1 numbers/],
    [`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, /found 3 numbers/],
  ])("InvalidTensorInfo: %j", (header, message) => {
    const e = parseError(file(header, 1));
    expect(["InvalidTensorInfo", "InvalidJson"]).toContain(e.code);
    expect(e.tensor).toBe("t");
    expect(e.message).toMatch(message);
    expect(e.message).toContain('tensor "t"');
  });

  it.each(["F128", "f32", "FLOAT", "", "toString", "__proto__", "constructor"])(
    "UnknownDtype: %j",
    (dtype) => {
      expectRefused(
        file(`{"t":${info(dtype, [1], 0, 1)}}`, 1),
        "UnknownDtype",
        /unknown dtype/,
        "t",
      );
    },
  );

  it("ValidationOverflow: integers over 2^53 - 1, shapes over 2^64 - 1 elements or bits", () => {
    const big = 2 ** 27;
    expectRefused(
      file(`{"t":${info("U8", [big, big, 2 ** 0, big], 0, 1)}}`, 1),
      "ValidationOverflow",
      /shape \[134217728, 134217728, 1, 134217728\] has over 2\^64 - 1 elements/,
      "t",
    );
    expectRefused(
      file(
        `{"t":${info("U8", [1], 0, 1)},"u":{"dtype":"U8","shape":[9007199254740992],"data_offsets":[1,1]}}`,
        1,
      ),
      "ValidationOverflow",
      /shape\[0\] is over 2\^53 - 1/,
      "u",
    );
    expectRefused(
      file(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,99999999999999999999999]}}`, 1),
      "ValidationOverflow",
      /data_offsets\[1\] is over/,
      "t",
    );
    expectRefused(
      file(`{"t":${info("F64", [2 ** 30, 2 ** 31], 0, 1)}}`, 1),
      "ValidationOverflow",
      /x F64 overflows 2\^64 - 1 bits/,
      "t",
    );
  });
  it("MisalignedSlice: sub-byte elements that do not fill whole bytes", () => {
    expectRefused(file(`{"t":${info("F4", [3], 0, 2)}}`, 2), "MisalignedSlice", /12 bits/, "t");
    expectRefused(
      file(`{"t":${info("F6_E2M3", [5], 0, 4)}}`, 4),
      "MisalignedSlice",
      /30 bits/,
      "t",
    );
    expect(
      parseSafetensors(file(`{"t":${info("F6_E3M2", [4], 0, 3)}}`, 3)).tensors.get("t")!.data
        .length,
    ).toBe(3);
  });

  it("SizeMismatch: offsets that do not span shape x dtype", () => {
    expectRefused(
      file(`{"t":${info("F32", [2, 2], 0, 12)}}`, 12),
      "SizeMismatch",
      /hold 12 bytes, but shape \[2, 2\] x F32 is 16 bytes/,
      "t",
    );
    expectRefused(file(`{"t":${info("F16", [3], 0, 8)}}`, 8), "SizeMismatch", /hold 8 bytes/, "t");
  });

  it("InvalidOffset: a gap, an overlap, an end before the beginning", () => {
    expectRefused(
      file(`{"t":${info("U8", [4], 4, 8)}}`, 8),
      "InvalidOffset",
      /leave a gap; they must begin at 0, the start of the data/,
      "t",
    );
    expectRefused(
      file(`{"a":${info("U8", [4], 0, 4)},"b":${info("U8", [4], 6, 10)}}`, 10),
      "InvalidOffset",
      /leave a gap; they must begin at 4, the end of "a"/,
      "b",
    );
    expectRefused(
      file(`{"a":${info("U8", [8], 0, 8)},"b":${info("U8", [8], 4, 12)}}`, 12),
      "InvalidOffset",
      /overlap the data before them/,
      "b",
    );
    expectRefused(
      file(`{"a":${info("U8", [4], 0, 4)},"b":${info("U8", [4], 0, 4)}}`, 8),
      "InvalidOffset",
      /overlap/,
      "b",
    );
    expectRefused(
      file(`{"t":${info("U8", [0], 4, 0)}}`, 4),
      "InvalidOffset",
      /\[4, 0\] end before they begin/,
      "t",
    );
  });

  it("DataOutOfBounds: a truncated file", () => {
    const whole = serializeSafetensors({
      t: { dtype: "F32", shape: [4], data: new Float32Array(4) },
    });
    expectRefused(
      whole.subarray(0, whole.length - 1),
      "DataOutOfBounds",
      /\[0, 16\] run past the end of the data \(15 bytes\)/,
      "t",
    );
  });

  it("TrailingBytes: bytes after the last tensor (the data must be covered exactly)", () => {
    const whole = serializeSafetensors({
      t: { dtype: "F32", shape: [4], data: new Float32Array(4) },
    });
    const longer = new Uint8Array(whole.length + 3);
    longer.set(whole);
    expectRefused(
      longer,
      "TrailingBytes",
      /^parseSafetensors: 3 bytes follow the last tensor's data/,
    );
    expectRefused(file(`{}`, 1), "TrailingBytes", /1 bytes follow/);
  });

  it("shortens a very long tensor name in messages, and keeps it whole in .tensor", () => {
    const name = "n".repeat(1000);
    const e = parseError(file(`{"${name}":${info("U8", [1], 0, 2)}}`, 2));
    expect(e.tensor).toBe(name);
    expect(e.message.length).toBeLessThan(400);
    expect(e.message).toContain(`"${"n".repeat(200)}..."`);
  });
});

describe("tensorToFloat32", () => {
  it("copies F32 bit for bit, NaN payloads and -0 included, into memory of its own", () => {
    const bits = new Uint32Array([
      0x3f800000, 0x80000000, 0x7fc00001, 0xffa00000, 0x00000001, 0x7f800000,
    ]);
    const bytes = serializeSafetensors({
      t: { dtype: "F32", shape: [6], data: new Uint8Array(bits.buffer) },
    });
    const t = parseSafetensors(bytes).tensors.get("t")!;
    const out = tensorToFloat32(t);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual(Array.from(bits));
    expect(out.buffer).not.toBe(bytes.buffer);
    bytes.fill(0);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual(Array.from(bits));
  });

  it("converts every F16 value exactly (all 65536 bit patterns)", () => {
    const data = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      data[2 * h] = h & 0xff;
      data[2 * h + 1] = h >> 8;
    }
    const out = tensorToFloat32({ dtype: "F16", shape: [65536], data });
    const outBits = new Uint32Array(out.buffer);
    for (let h = 0; h < 65536; h++) {
      // binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), or (-1)^s 2^-14 (m/1024) for e = 0.
      const s = h >> 15 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      if (e === 31) {
        // Infinity or NaN: the float32 of the same sign, exponent all ones, payload moved up.
        expect(outBits[h]).toBe((((h & 0x8000) << 16) | 0x7f800000 | (m << 13)) >>> 0);
      } else {
        const value = e === 0 ? s * 2 ** -14 * (m / 1024) : s * 2 ** (e - 15) * (1 + m / 1024);
        if (!Object.is(out[h], value)) {
          expect.fail(`F16 0x${h.toString(16)} gave ${out[h]}, expected ${value}`);
        }
      }
    }
    expect(halfToFloatBits(0x0001)).toBe(0x33800000); // 2^-24, the smallest subnormal
    expect(halfToFloatBits(0x83ff)).toBe(0xb87fc000); // -(1023/1024) 2^-14, the largest
  });

  it("converts every BF16 value exactly: it is the float32 with the same high 16 bits", () => {
    const data = new Uint8Array(65536 * 2);
    for (let h = 0; h < 65536; h++) {
      data[2 * h] = h & 0xff;
      data[2 * h + 1] = h >> 8;
    }
    const out = tensorToFloat32({ dtype: "BF16", shape: [256, 256], data });
    const view = new DataView(new ArrayBuffer(4));
    for (let h = 0; h < 65536; h++) {
      view.setUint16(0, 0, true);
      view.setUint16(2, h, true);
      const expected = view.getFloat32(0, true);
      if (Number.isNaN(expected)) {
        expect(new Uint32Array(out.buffer)[h]).toBe(h * 65536);
      } else if (!Object.is(out[h], expected)) {
        expect.fail(`BF16 0x${h.toString(16)} gave ${out[h]}, expected ${expected}`);
      }
    }
  });

  it("takes typed arrays of the dtype's width as well as bytes", () => {
    expect(
      Array.from(tensorToFloat32({ dtype: "F32", shape: [2], data: new Float32Array([3, -4]) })),
    ).toEqual([3, -4]);
    expect(
      Array.from(tensorToFloat32({ dtype: "BF16", shape: [1], data: new Uint16Array([0x3fc0]) })),
    ).toEqual([1.5]);
  });

  it.each(ALL_DTYPES.filter(([d]) => d !== "F32" && d !== "F16" && d !== "BF16"))(
    "refuses %s with UnsupportedDtype, naming the tensor",
    (dtype, bits) => {
      const bytes = serializeSafetensors({
        "model.w": { dtype, shape: [8], data: new Uint8Array(bits) },
      });
      const t = parseSafetensors(bytes).tensors.get("model.w")!;
      let thrown: unknown;
      try {
        tensorToFloat32(t);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(SafetensorsError);
      expect((thrown as SafetensorsError).code).toBe("UnsupportedDtype");
      expect((thrown as SafetensorsError).tensor).toBe("model.w");
      expect((thrown as Error).message).toBe(
        `tensorToFloat32: tensor "model.w" has dtype ${dtype}; weights must be F32, F16 or BF16`,
      );
    },
  );

  it("refuses a tensor of the wrong kind or size", () => {
    expect(() => tensorToFloat32(null as never)).toThrow(
      new TypeError("tensorToFloat32: tensor must be a tensor { dtype, shape, data }, got null"),
    );
    expect(() => tensorToFloat32({ dtype: "F32", shape: [3], data: new Uint8Array(8) })).toThrow(
      new ShapeError("tensorToFloat32: tensor.data has 8 bytes, expected shape [3] x F32 = 12"),
    );
    expect(() => tensorToFloat32({ dtype: "F32", shape: [3], data: [1, 2, 3] as never })).toThrow(
      new TypeError("tensorToFloat32: tensor.data must be a typed array, got a plain Array"),
    );
  });
});

describe("serializeSafetensors", () => {
  it("round-trips every dtype, shape, byte and metadata string", () => {
    const tensors = new Map(
      ALL_DTYPES.map(([dtype, bits], i) => {
        const shape = [2, 4];
        const data = new Uint8Array((8 * bits) / 8).map((_, j) => (i * 31 + j * 7) & 0xff);
        return [`t${i}.${dtype}`, { dtype, shape, data }];
      }),
    );
    const metadata = { format: "pt", "": "", "é 😀": '\n"\\' };
    const parsed = parseSafetensors(serializeSafetensors(tensors, metadata));
    expect(parsed.metadata).toEqual(new Map(Object.entries(metadata)));
    expect(parsed.tensors.size).toBe(tensors.size);
    for (const [name, t] of tensors) {
      const p = parsed.tensors.get(name)!;
      expect(p.dtype).toBe(t.dtype);
      expect(p.shape).toEqual(t.shape);
      expect(Array.from(p.data)).toEqual(Array.from(t.data));
    }
  });

  it("sorts tensors widest dtype first, then by name in code point order, so data is aligned", () => {
    const bytes = serializeSafetensors({
      b: { dtype: "U8", shape: [3], data: new Uint8Array(3) },
      a: { dtype: "F16", shape: [1], data: new Uint8Array(2) },
      "\u{1F600}": { dtype: "F64", shape: [1], data: new Float64Array(1) },
      "\uFFFD": { dtype: "F64", shape: [1], data: new Float64Array(1) },
      c: { dtype: "F32", shape: [1], data: new Float32Array(1) },
    });
    const parsed = parseSafetensors(bytes);
    expect([...parsed.tensors.keys()]).toEqual(["\uFFFD", "\u{1F600}", "c", "a", "b"]);
    for (const t of parsed.tensors.values()) {
      const width = t.dtype === "F64" ? 8 : t.dtype === "F32" ? 4 : t.dtype === "F16" ? 2 : 1;
      expect(t.data.byteOffset % width).toBe(0);
    }
  });

  it("writes a typed array's elements little-endian", () => {
    const bytes = serializeSafetensors({
      t: { dtype: "I32", shape: [1], data: new Int32Array([0x01020304]) },
    });
    expect(Array.from(parseSafetensors(bytes).tensors.get("t")!.data)).toEqual([4, 3, 2, 1]);
  });

  it("refuses bad arguments with TypeError, bad sizes with ShapeError or RangeError", () => {
    const ok = { dtype: "F32" as const, shape: [1], data: new Float32Array(1) };
    const cases: [() => unknown, ErrorConstructor | typeof ShapeError, string][] = [
      [
        () => serializeSafetensors(null as never),
        TypeError,
        "serializeSafetensors: tensors must be a Map or a plain object, got null",
      ],
      [
        () => serializeSafetensors([ok] as never),
        TypeError,
        "serializeSafetensors: tensors must be a Map or a plain object, got a plain Array",
      ],
      [
        () => serializeSafetensors(new Map([[1, ok]]) as never),
        TypeError,
        "serializeSafetensors: the keys of tensors must be strings, got number 1",
      ],
      [
        () => serializeSafetensors({ __metadata__: ok }),
        TypeError,
        'serializeSafetensors: a tensor cannot be named "__metadata__"; pass metadata instead',
      ],
      [
        () => serializeSafetensors({ "a\ud800": ok }),
        TypeError,
        'serializeSafetensors: the name tensors["a\\ud800"] has a lone surrogate',
      ],
      [
        () => serializeSafetensors({ t: { ...ok, dtype: "F8" as never } }),
        TypeError,
        `serializeSafetensors: tensors["t"].dtype must be one of ${ALL_DTYPES.map(([d]) => d).join(", ")}, got "F8"`,
      ],
      [
        () => serializeSafetensors({ t: { ...ok, shape: [-1] } }),
        TypeError,
        'serializeSafetensors: tensors["t"].shape[0] must be a non-negative integer, got number -1',
      ],
      [
        () => serializeSafetensors({ t: { ...ok, shape: "1" as never } }),
        TypeError,
        'serializeSafetensors: tensors["t"].shape must be an array of sizes, got string 1',
      ],
      [
        () => serializeSafetensors({ t: { ...ok, dtype: "BF16" } }),
        ShapeError,
        'serializeSafetensors: tensors["t"].data has 4 bytes, expected shape [1] x BF16 = 2',
      ],
      [
        () => serializeSafetensors({ t: { ...ok, dtype: "BF16", shape: [2] } }),
        TypeError,
        'serializeSafetensors: tensors["t"].data is a Float32Array for dtype BF16; pass a Uint8Array of its bytes or a typed array of its width',
      ],
      [
        () => serializeSafetensors({ t: { dtype: "F4", shape: [3], data: new Uint8Array(2) } }),
        ShapeError,
        'serializeSafetensors: tensors["t"]: shape [3] x F4 is 12 bits, not a whole number of bytes',
      ],
      [
        () => serializeSafetensors({}, { k: 1 as never }),
        TypeError,
        'serializeSafetensors: metadata["k"] must be a string, got number 1',
      ],
      [
        () => serializeSafetensors({}, { k: "\udc00" }),
        TypeError,
        'serializeSafetensors: metadata["k"] has a lone surrogate',
      ],
      [
        () => serializeSafetensors({}, "pt" as never),
        TypeError,
        "serializeSafetensors: metadata must be a Map or a plain object, got string pt",
      ],
    ];
    for (const [call, error, message] of cases) {
      let thrown: unknown;
      try {
        call();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, message).toBeInstanceOf(error);
      if (error === TypeError) expect(thrown).not.toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toBe(message);
    }
  });

  it("refuses a header over the format's 100,000,000-byte limit with a RangeError", () => {
    const long = "x".repeat(100_000_000);
    expect(() => serializeSafetensors({}, { long })).toThrow(
      new RangeError(
        "serializeSafetensors: the header would be 100000032 bytes, over the format's limit of 100000000",
      ),
    );
  });
});

describe("swapBytes (the big-endian path)", () => {
  it("reverses each element's bytes in place", () => {
    expect(Array.from(swapBytes(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 4))).toEqual([
      4, 3, 2, 1, 8, 7, 6, 5,
    ]);
    expect(Array.from(swapBytes(new Uint8Array([1, 2, 3, 4]), 2))).toEqual([2, 1, 4, 3]);
    expect(Array.from(swapBytes(new Uint8Array([1, 2, 3]), 1))).toEqual([1, 2, 3]);
  });
});

describe("one shape rule for the reader and the writer (the reference's: 2^64 - 1)", () => {
  // The reference reader (Metadata::validate) multiplies the dimensions in order with
  // checked_mul in usize, then by the dtype's bits: each partial product must stay at most
  // 2^64 - 1. A zero makes the product 0 from where it stands, not before.
  const M = Number.MAX_SAFE_INTEGER; // 2^53 - 1, the largest dimension a header may write here
  const empty: [string, SafetensorsDtype, number[]][] = [
    ["a zero alone", "F32", [0]],
    ["the largest dimension after a zero", "F32", [0, M]],
    ["the largest dimension before a zero", "F64", [M, 0]],
    ["2^30 x 2^30 x 0, a product of 2^60 first", "U8", [2 ** 30, 2 ** 30, 0]],
    ["a zero first, 2^104 after it", "U8", [0, 2 ** 52, 2 ** 52]],
    ["a zero in the middle", "BF16", [3, 0, M, M]],
    ["2^32 x (2^32 - 1), just under 2^64, then 0", "U8", [2 ** 32, 2 ** 32 - 1, 0]],
    ["(2^53 - 1) x 2^11 = 2^64 - 2^11, then 0", "F32", [M, 2 ** 11, 0]],
  ];
  const overflow: [string, SafetensorsDtype, number[], RegExp][] = [
    ["2^32 x 2^32 = 2^64 before the zero", "U8", [2 ** 32, 2 ** 32, 0], /elements/],
    ["(2^53 - 1) x (2^11 + 1) before the zero", "U8", [M, 2 ** 11 + 1, 0], /elements/],
    ["2^52 x 2^52 before the zero", "F32", [2 ** 52, 2 ** 52, 0], /elements/],
    ["(2^53 - 1)^2 before the zero", "F32", [M, M, 0], /elements/],
    ["a zero last of four", "U8", [1, 2 ** 40, 2 ** 40, 0], /elements/],
    ["2^61 bytes: 2^64 bits", "U8", [2 ** 31, 2 ** 30], /overflows 2\^64 - 1 bits/],
    [
      "3 x 2^62 F4 elements: 3 x 2^64 bits",
      "F4",
      [2 ** 31, 2 ** 31, 3],
      /overflows 2\^64 - 1 bits/,
    ],
    ["2^61 F64 elements", "F64", [2 ** 30, 2 ** 31], /overflows 2\^64 - 1 bits/],
    ["2^60 F32 elements, a count that fits", "F32", [2 ** 40, 2 ** 20], /overflows 2\^64 - 1 bits/],
  ];

  it.each(empty)("both accept %s", (_what, dtype, shape) => {
    // A header written here by hand, not by the writer under test ...
    const parsed = parseSafetensors(file(`{"t":${info(dtype, shape, 0, 0)}}`));
    expect(parsed.tensors.get("t")!.shape).toEqual(shape);
    // ... and the writer's file, which the reader takes back.
    const bytes = serializeSafetensors({ t: { dtype, shape, data: new Uint8Array(0) } });
    const again = parseSafetensors(bytes).tensors.get("t")!;
    expect([again.dtype, again.shape, again.data.length]).toEqual([dtype, shape, 0]);
  });

  it.each(overflow)("both refuse %s, in the same words", (_what, dtype, shape, what) => {
    const e = parseError(file(`{"t":${info(dtype, shape, 0, 0)}}`));
    expect(e.code).toBe("ValidationOverflow");
    expect(e.message).toMatch(what);
    let thrown: unknown;
    try {
      serializeSafetensors({ t: { dtype, shape, data: new Uint8Array(0) } });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ShapeError);
    const rule = `shape [${shape.join(", ")}]`;
    const said = (m: string) => m.slice(m.indexOf(rule)).replace(/ \(header character \d+\)$/, "");
    expect(said((thrown as Error).message)).toBe(said(e.message));
    expect((thrown as Error).message).toMatch(/^serializeSafetensors: tensors\["t"\]: shape \[/);
  });

  it("a shape of more than 2^53 - 1 elements within 2^64 has no data to match", () => {
    // Valid by the rule, but no file or typed array holds 2^60 bytes: the sizes differ.
    const shape = [2 ** 40, 2 ** 20];
    const e = parseError(file(`{"t":${info("U8", shape, 0, 4)}}`, 4));
    expect([e.code, e.message]).toEqual([
      "SizeMismatch",
      `parseSafetensors: tensor "t": data_offsets [0, 4] hold 4 bytes, but shape [${shape.join(", ")}] x U8 is over 2^53 - 1 bytes`,
    ]);
    expect(() =>
      serializeSafetensors({ t: { dtype: "U8", shape, data: new Uint8Array(4) } }),
    ).toThrow(
      new ShapeError(
        `serializeSafetensors: tensors["t"].data has 4 bytes, expected shape [${shape.join(", ")}] x U8 = over 2^53 - 1`,
      ),
    );
  });

  it("tensorToFloat32 applies it too, before it allocates", () => {
    expect(() =>
      tensorToFloat32({ dtype: "F32", shape: [2 ** 32, 2 ** 32, 0], data: new Uint8Array(0) }),
    ).toThrow(
      /^tensorToFloat32: tensor: shape \[4294967296, 4294967296, 0\] has over 2\^64 - 1 elements$/,
    );
    expect(
      tensorToFloat32({ dtype: "F32", shape: [2 ** 30, 2 ** 30, 0], data: new Uint8Array(0) }),
    ).toEqual(new Float32Array(0));
  });
});

describe("tensorToMatrix", () => {
  const file = parseSafetensors(
    serializeSafetensors({
      w: { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, -0, NaN]) },
      h: { dtype: "F16", shape: [1, 2], data: new Uint8Array([0x00, 0x3c, 0x01, 0x00]) },
      b: { dtype: "BF16", shape: [2, 1], data: new Uint8Array([0x80, 0x3f, 0x00, 0xc0]) },
      e: { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
      v: { dtype: "F32", shape: [3], data: new Float32Array(3) },
      c: { dtype: "F32", shape: [1, 2, 1], data: new Float32Array(2) },
      s: { dtype: "F32", shape: [], data: new Float32Array(1) },
      i: { dtype: "I32", shape: [1, 1], data: new Int32Array(1) },
    }),
  );
  const get = (name: string) => file.tensors.get(name)!;

  it("gives the stored (rows, cols) as a matrix of its own, for F32, F16 and BF16", () => {
    const w = tensorToMatrix(get("w"));
    expect([w.rows, w.cols]).toEqual([2, 3]);
    expect(Array.from(w.data)).toEqual([1, 2, 3, 4, -0, NaN]);
    expect(Object.is(w.data[4], -0)).toBe(true);
    expect(w.data.buffer).not.toBe(get("w").data.buffer);
    expect(tensorToMatrix(get("h"))).toEqual({
      rows: 1,
      cols: 2,
      data: new Float32Array([1, 2 ** -24]),
    });
    expect(tensorToMatrix(get("b"))).toEqual({ rows: 2, cols: 1, data: new Float32Array([1, -2]) });
    expect(tensorToMatrix(get("e"))).toEqual({ rows: 0, cols: 4, data: new Float32Array(0) });
    expect(
      tensorToMatrix({ dtype: "F32", shape: [1, 2], data: new Float32Array([5, 6]) }).data,
    ).toEqual(new Float32Array([5, 6]));
  });

  it.each([
    ["v", "[3]"],
    ["c", "[1, 2, 1]"],
    ["s", "[]"],
  ])("refuses %s, of shape %s, naming it", (name, shape) => {
    expect(() => tensorToMatrix(get(name))).toThrow(
      new ShapeError(
        `tensorToMatrix: tensor "${name}" has shape ${shape}, expected a matrix (2 dimensions)`,
      ),
    );
    expect(() => tensorToMatrix(get(name))).toThrow(ShapeError);
  });

  it("refuses other dtypes and things that are not tensors", () => {
    let e: unknown;
    try {
      tensorToMatrix(get("i"));
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(SafetensorsError);
    expect([(e as SafetensorsError).code, (e as Error).message]).toEqual([
      "UnsupportedDtype",
      'tensorToMatrix: tensor "i" has dtype I32; weights must be F32, F16 or BF16',
    ]);
    for (const [bad, says] of [
      [null, "tensor must be a tensor { dtype, shape, data }, got null"],
      [
        { dtype: "F32", data: new Float32Array(1) },
        "tensor.shape must be an array of sizes, got undefined",
      ],
      [
        { dtype: "F32", shape: [1, null], data: new Float32Array(1) },
        "tensor.shape[1] must be a non-negative integer, got null",
      ],
    ] as const) {
      expect(() => tensorToMatrix(bad as never)).toThrow(new TypeError(`tensorToMatrix: ${says}`));
    }
    expect(() =>
      tensorToMatrix({ dtype: "F32", shape: [2, 2], data: new Float32Array(3) }),
    ).toThrow(
      new ShapeError("tensorToMatrix: tensor.data has 12 bytes, expected shape [2, 2] x F32 = 16"),
    );
  });
});
