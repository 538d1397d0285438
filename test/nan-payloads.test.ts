// NaN payloads in a layer's stored weights (docs/numerics.md, "NaN payloads"): a quiet NaN of
// any payload and either sign goes in through fromWeights, create or fromJSON and comes out of
// `weights` and toJSON with its very bits; a signalling NaN may come back quieted (its quiet bit
// set, the rest of its payload kept), since the matrices are packed through JavaScript numbers;
// and whatever a layer stores, toJSON writes and fromJSON reads back exactly, for both layers on
// every kernel. Only the canonical NaN (0x7fc00000) would pass a toJSON that canonicalises NaNs.
import { afterAll, describe, expect, it } from "vitest";
import {
  FeedForward,
  GatedFeedForward,
  matrix,
  type FeedForwardJSON,
  type GatedFeedForwardJSON,
  type Matrix,
} from "../src/index";

// Quiet NaNs (exponent all ones, quiet bit 0x00400000 set): both signs, the canonical one, the
// lowest and highest payloads, alternating bits.
const QUIET = [
  0x7fc00000, 0xffc00000, 0x7fc00001, 0xffc00001, 0x7fd55555, 0xffeaaaaa, 0x7fffffff, 0xffffffff,
];
// Signalling NaNs (quiet bit clear, payload not zero): both signs, lowest and highest payloads.
const SIGNALLING = [0x7f800001, 0xff800001, 0x7fa00000, 0xffbfffff, 0x7f812345];
const QUIET_BIT = 0x00400000;
const PATTERNS = [...QUIET, ...SIGNALLING];

const D = 13; // every tensor has at least 13 elements: each pattern lands in each of them
const H = 16;

const hex = (u: number) => `0x${(u >>> 0).toString(16).padStart(8, "0")}`;
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** n floats: every pattern once, from a different start in each tensor, between finite values. */
function tensor(n: number, start: number): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    bits[i] = i < PATTERNS.length ? (PATTERNS[(i + start) % PATTERNS.length] as number) : 0;
    if (i >= PATTERNS.length) out[i] = (i % 7) - 3.25;
  }
  return out;
}

/** The little-endian bytes of float32 values in base64: the JSON's tensor encoding. */
function base64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, "base64");
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

/** A stored value is the given one, or (a signalling NaN only) the given one quieted. */
function expectKept(stored: Float32Array, given: Float32Array, what: string): void {
  const s = bitsOf(stored);
  const g = bitsOf(given);
  expect(s.length, `${what}: length`).toBe(g.length);
  const wrong: string[] = [];
  s.forEach((b, i) => {
    const want = g[i] as number;
    const quieted = SIGNALLING.includes(want) && b === (want | QUIET_BIT) >>> 0;
    if (b !== want && !quieted) wrong.push(`[${i}] ${hex(want)} came back as ${hex(b)}`);
  });
  expect(wrong, what).toEqual([]);
}

function expectIdentical(a: Float32Array, b: Float32Array, what: string): void {
  expect(bitsOf(a).map(hex), what).toEqual(bitsOf(b).map(hex));
}

type Tensors = Record<string, Float32Array>;

/** What the test needs of a layer kind: make one from tensors, read them back, JSON both ways. */
interface Kind {
  name: string;
  /** Each tensor's name and length. */
  shapes: [string, number][];
  make(t: Tensors, kernel: "js" | "wasm", threads: number): Promise<Layer>;
  fromJSON(json: object, kernel: "js" | "wasm"): Layer;
}

interface Layer {
  readonly threads: number;
  readonly weights: object;
  toJSON(): object;
  dispose(): void;
}

const m = (rows: number, cols: number, data: Float32Array): Matrix => matrix(rows, cols, data);

const KINDS: Kind[] = [
  {
    name: "FeedForward",
    shapes: [
      ["w1", D * H],
      ["b1", H],
      ["w2", H * D],
      ["b2", D],
    ],
    make: (t, kernel, threads) =>
      FeedForward.create({
        weights: { w1: m(D, H, t.w1!), b1: t.b1!, w2: m(H, D, t.w2!), b2: t.b2! },
        kernel,
        threads,
        activation: "gelu",
      }),
    fromJSON: (json, kernel) => FeedForward.fromJSON(json as FeedForwardJSON, { kernel }),
  },
  {
    name: "GatedFeedForward",
    shapes: [
      ["wGate", D * H],
      ["bGate", H],
      ["wUp", D * H],
      ["bUp", H],
      ["wDown", H * D],
      ["bDown", D],
    ],
    make: (t, kernel, threads) =>
      GatedFeedForward.create({
        weights: {
          wGate: m(D, H, t.wGate!),
          bGate: t.bGate!,
          wUp: m(D, H, t.wUp!),
          bUp: t.bUp!,
          wDown: m(H, D, t.wDown!),
          bDown: t.bDown!,
        },
        kernel,
        threads,
      }),
    fromJSON: (json, kernel) => GatedFeedForward.fromJSON(json as GatedFeedForwardJSON, { kernel }),
  },
];

const KERNELS = [
  { name: "js", kernel: "js", threads: 1 },
  { name: "wasm", kernel: "wasm", threads: 1 },
  { name: "wasm-2t", kernel: "wasm", threads: 2 },
] as const;

/** A layer's tensors by name, from `weights` (matrices' data, biases as they are). */
function stored(layer: Layer): Tensors {
  const out: Tensors = {};
  for (const [name, value] of Object.entries(layer.weights)) {
    out[name] = value instanceof Float32Array ? value : (value as Matrix).data;
  }
  return out;
}

const made: Layer[] = [];
afterAll(() => made.forEach((l) => l.dispose()));

describe.each(KINDS)("$name", (kind) => {
  const given = (): Tensors =>
    Object.fromEntries(kind.shapes.map(([name, n], k) => [name, tensor(n, 3 * k)]));

  describe.each(KERNELS)("kernel $name", ({ kernel, threads }) => {
    it("keeps quiet NaN payloads exactly (signalling ones at most quieted) from its weights to `weights`", async () => {
      const t = given();
      const layer = await kind.make(t, kernel, threads);
      made.push(layer);
      expect(layer.threads).toBe(threads);
      const got = stored(layer);
      for (const [name] of kind.shapes) expectKept(got[name]!, t[name]!, `weights.${name}`);
    });

    it("writes in toJSON the bits it stores, and fromJSON reads them back exactly", async () => {
      const layer = await kind.make(given(), kernel, threads);
      made.push(layer);
      const json = JSON.parse(JSON.stringify(layer)) as Record<string, string>;
      const mine = stored(layer);
      // toJSON's tensors, decoded here, are the stored bits
      for (const [name] of kind.shapes) {
        expectIdentical(fromBase64(json[name]!), mine[name]!, `toJSON's ${name}`);
      }
      const back = kind.fromJSON(json, kernel);
      made.push(back);
      const theirs = stored(back);
      for (const [name] of kind.shapes) {
        expectIdentical(theirs[name]!, mine[name]!, `fromJSON(toJSON()).weights.${name}`);
      }
      expect(JSON.stringify(back)).toBe(JSON.stringify(layer));
    });

    it("takes a JSON written by hand with NaN payloads: quiet ones exactly, signalling ones at most quieted", async () => {
      // The JSON format is public (float32-le-base64): write one, tensor by tensor, here.
      const model = await kind.make(given(), kernel, threads);
      made.push(model);
      const template = model.toJSON() as Record<string, unknown>;
      const t = Object.fromEntries(kind.shapes.map(([name, n], k) => [name, tensor(n, 5 * k + 1)]));
      const json = {
        ...template,
        ...Object.fromEntries(kind.shapes.map(([name]) => [name, base64(t[name]!)])),
      };
      const layer = kind.fromJSON(json, kernel);
      made.push(layer);
      const got = stored(layer);
      for (const [name] of kind.shapes) expectKept(got[name]!, t[name]!, `fromJSON's ${name}`);
      const again = layer.toJSON() as Record<string, string>;
      for (const [name] of kind.shapes) {
        expectIdentical(fromBase64(again[name]!), got[name]!, `toJSON's ${name}`);
      }
    });
  });
});

it("the patterns are what their names say: quiet ones have the quiet bit, signalling ones not", () => {
  for (const q of QUIET) expect(((q >>> 23) & 0xff) === 0xff && (q & QUIET_BIT) !== 0).toBe(true);
  for (const s of SIGNALLING) {
    expect(((s >>> 23) & 0xff) === 0xff && (s & QUIET_BIT) === 0 && (s & 0x3fffff) !== 0).toBe(
      true,
    );
  }
  expect(new Set(PATTERNS).size).toBe(PATTERNS.length);
});
