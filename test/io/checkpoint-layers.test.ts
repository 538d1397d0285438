// The checkpoint functions of both layers, from one table: loading and saving by a names spec
// round-trips bit for bit in both layouts, and careless or hostile input (null or shape-less
// map entries, names with null fields, the wrong layer, getters that change) is refused with a
// TypeError that names the parameter, never a native "Cannot read properties of null".
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type ActivationName,
  type CheckpointLayout,
  type SafetensorsTensorInput,
  FeedForward,
  GatedFeedForward,
  feedForwardFromCheckpoint,
  feedForwardTensors,
  feedForwardToSafetensors,
  feedForwardWeightsFromCheckpoint,
  gatedFeedForwardFromCheckpoint,
  gatedFeedForwardTensors,
  gatedFeedForwardToSafetensors,
  gatedFeedForwardWeightsFromCheckpoint,
  llamaFeedForwardNames,
  matrix,
  optFeedForwardNames,
  parseSafetensors,
  SafetensorsError,
  ShapeError,
} from "../../src/index";
import { bitsOf } from "../helpers/bits";

const FIXTURES = new URL("../fixtures/checkpoints/", import.meta.url);

type Layer = FeedForward | GatedFeedForward;
type Spec = Record<string, string | undefined> & {
  layout: CheckpointLayout;
  activation: ActivationName;
};
type Tensors = Map<string, SafetensorsTensorInput>;

interface LayerCase {
  name: string;
  /** The weight keys, in order of the layer's maps, and each one's bias key. */
  keys: [string, string][];
  /** The names of the layer's functions, as their errors say them. */
  fn: { load: string; weights: string; tensors: string; save: string; param: string };
  load(tensors: unknown, names: unknown, options?: unknown): Layer;
  weights(tensors: unknown, names: unknown): Record<string, unknown>;
  tensors(layer: unknown, names: unknown): Tensors;
  save(layer: unknown, names: unknown): Uint8Array;
  /** A layer with every kind of float32 in its weights (NaN payloads, -0, ±Infinity, subnormals). */
  special(bias: boolean, activation: ActivationName): Layer;
  className: string;
}

// Weights with every kind of float32: NaN payloads, -0, infinities, subnormals.
function specialValues(n: number, seed: number): Float32Array {
  const special = [
    0x7fc00001, 0xffbfffff, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff,
  ];
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++)
    bits[i] =
      i < special.length
        ? (special[(i + seed) % special.length] as number)
        : (Math.imul(i + seed, 2654435761) >>> 0) & 0xbfffffff;
  return new Float32Array(bits.buffer);
}

const D = 5;
const H = 7;

const PLAIN: LayerCase = {
  name: "FeedForward",
  keys: [
    ["w1", "b1"],
    ["w2", "b2"],
  ],
  fn: {
    load: "feedForwardFromCheckpoint",
    weights: "feedForwardWeightsFromCheckpoint",
    tensors: "feedForwardTensors",
    save: "feedForwardToSafetensors",
    param: "ffn",
  },
  load: (t, n, o) => feedForwardFromCheckpoint(t as never, n as never, o as never),
  weights: (t, n) => ({ ...feedForwardWeightsFromCheckpoint(t as never, n as never) }),
  tensors: (l, n) => feedForwardTensors(l as never, n as never),
  save: (l, n) => feedForwardToSafetensors(l as never, n as never),
  special: (bias, activation) =>
    FeedForward.fromWeights(
      {
        w1: matrix(D, H, specialValues(D * H, 1)),
        w2: matrix(H, D, specialValues(H * D, 2)),
        ...(bias ? { b1: specialValues(H, 3), b2: specialValues(D, 4) } : {}),
      },
      { activation },
    ),
  className: "FeedForward",
};

const GATED: LayerCase = {
  name: "GatedFeedForward",
  keys: [
    ["wGate", "bGate"],
    ["wUp", "bUp"],
    ["wDown", "bDown"],
  ],
  fn: {
    load: "gatedFeedForwardFromCheckpoint",
    weights: "gatedFeedForwardWeightsFromCheckpoint",
    tensors: "gatedFeedForwardTensors",
    save: "gatedFeedForwardToSafetensors",
    param: "glu",
  },
  load: (t, n, o) => gatedFeedForwardFromCheckpoint(t as never, n as never, o as never),
  weights: (t, n) => ({ ...gatedFeedForwardWeightsFromCheckpoint(t as never, n as never) }),
  tensors: (l, n) => gatedFeedForwardTensors(l as never, n as never),
  save: (l, n) => gatedFeedForwardToSafetensors(l as never, n as never),
  special: (bias, activation) =>
    GatedFeedForward.fromWeights(
      {
        wGate: matrix(D, H, specialValues(D * H, 1)),
        wUp: matrix(D, H, specialValues(D * H, 5)),
        wDown: matrix(H, D, specialValues(H * D, 2)),
        ...(bias
          ? { bGate: specialValues(H, 3), bUp: specialValues(H, 6), bDown: specialValues(D, 4) }
          : {}),
      },
      { activation },
    ),
  className: "GatedFeedForward",
};

/** Names for a layer case: `m0.weight`, `m0.bias`, ... */
function namesOf(
  c: LayerCase,
  bias: boolean,
  layout: CheckpointLayout,
  activation: ActivationName,
): Spec {
  const spec: Spec = { layout, activation };
  c.keys.forEach(([w, b], i) => {
    spec[w] = `m${i}.weight`;
    if (bias) spec[b] = `m${i}.bias`;
  });
  return spec;
}

const layerWeights = (l: Layer) =>
  l.weights as unknown as Record<string, { data: Float32Array } | Float32Array | undefined>;
const dataOf = (v: { data: Float32Array } | Float32Array | undefined) =>
  v instanceof Float32Array ? v : (v as { data: Float32Array }).data;

describe.each([PLAIN, GATED])("$name: load and save by a names spec", (c) => {
  it.each([
    ["linear", true, "gelu"],
    ["linear", false, "silu"],
    ["conv1d", true, "geluTanh"],
    ["conv1d", false, "relu"],
  ] as const)("round-trips bit for bit (%s, biases %s, %s)", (layout, bias, activation) => {
    const a = c.special(bias, activation);
    const names = namesOf(c, bias, layout, activation);
    const bytes = c.save(a, names);
    const file = parseSafetensors(bytes);
    // The file holds the names' layout: nn.Linear (out, in), Conv1D (in, out).
    const [w0] = c.keys[0] as [string, string];
    expect(file.tensors.get(names[w0] as string)!.shape).toEqual(
      layout === "linear" ? [H, D] : [D, H],
    );
    expect(file.tensors.size).toBe(c.keys.length * (bias ? 2 : 1));
    const b = c.load(file, names);
    expect([b.dModel, b.hasBias, b.activation]).toEqual([D, bias, activation]);
    const wa = layerWeights(a);
    const wb = layerWeights(b);
    for (const [w, bk] of c.keys) {
      expect(Array.from(bitsOf(dataOf(wb[w])))).toEqual(Array.from(bitsOf(dataOf(wa[w]))));
      if (bias)
        expect(Array.from(bitsOf(dataOf(wb[bk])))).toEqual(Array.from(bitsOf(dataOf(wa[bk]))));
    }
    // The weights loader reads the same, and the file again is the same bytes.
    const weights = c.weights(file, names);
    expect(Object.keys(weights).sort()).toEqual(
      c.keys.flatMap(([w, bk]) => (bias ? [w, bk] : [w])).sort(),
    );
    expect(Array.from(c.save(b, names))).toEqual(Array.from(bytes));
  });

  it("a wrong layout without biases fits only with the sizes swapped, so dModel shows it", () => {
    const a = c.special(false, "relu");
    const file = parseSafetensors(c.save(a, namesOf(c, false, "linear", "relu")));
    const wrong = c.load(file, namesOf(c, false, "conv1d", "relu"));
    expect([wrong.dModel, wrong.dHidden]).toEqual([H, D]);
  });

  it("refuses weights that do not fit the first one, naming both", () => {
    const a = c.special(true, "relu");
    const names = namesOf(c, true, "linear", "relu");
    const tensors = c.tensors(a, names);
    const [lastW, lastB] = c.keys.at(-1) as [string, string];
    const [firstW, firstB] = c.keys[0] as [string, string];
    // The last map's weight replaced by the first's: (H, D) where (D, H) is due.
    const swapped = new Map(tensors);
    swapped.set(names[lastW] as string, tensors.get(names[firstW] as string)!);
    expect(() => c.load(swapped, names)).toThrow(
      new ShapeError(
        `${c.fn.load}: tensor "${names[lastW]}" has shape [${H}, ${D}], expected [${D}, ${H}] to fit "${names[firstW]}" [${H}, ${D}] (layout "linear")`,
      ),
    );
    const wrongBias = new Map(tensors);
    wrongBias.set(names[lastB] as string, tensors.get(names[firstB] as string)!);
    expect(() => c.weights(wrongBias, names)).toThrow(
      new ShapeError(
        `${c.fn.weights}: tensor "${names[lastB]}" has shape [${H}], expected [${D}] (dModel)`,
      ),
    );
  });

  it("refuses to save under names whose biases or activation are not the layer's", () => {
    const a = c.special(true, "gelu");
    const biases = c.keys.map(([, b]) => `names.${b}`);
    const list = `${biases.slice(0, -1).join(", ")} and ${biases.at(-1) as string}`;
    expect(() => c.tensors(a, namesOf(c, false, "linear", "gelu"))).toThrow(
      new TypeError(`${c.fn.tensors}: the layer has biases but ${list} are absent`),
    );
    expect(() => c.save(c.special(false, "gelu"), namesOf(c, true, "linear", "gelu"))).toThrow(
      new TypeError(`${c.fn.save}: the layer has no biases but ${list} are given`),
    );
    expect(() => c.save(a, namesOf(c, true, "linear", "silu"))).toThrow(
      new TypeError(
        `${c.fn.save}: the layer's activation is "gelu" but names.activation is "silu"; loading the file by these names would compute another layer`,
      ),
    );
  });
});

describe("gated checkpoints", () => {
  it("give back PyTorch's own tensors, byte for byte, in PyTorch's layout", () => {
    const llama = parseSafetensors(readFileSync(new URL("llama.safetensors", FIXTURES)));
    for (const n of [0, 1]) {
      const names = llamaFeedForwardNames(n);
      const tensors = gatedFeedForwardTensors(gatedFeedForwardFromCheckpoint(llama, names), names);
      expect([...tensors.keys()].sort()).toEqual([names.wDown, names.wGate, names.wUp].sort());
      for (const [name, t] of tensors) {
        const original = llama.tensors.get(name)!;
        expect(t.shape).toEqual(original.shape);
        const data = t.data as Float32Array;
        expect(Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))).toEqual(
          Array.from(original.data),
        );
      }
    }
  });

  it("refuse a missing tensor with TensorNotFound, and names given to the other layer", () => {
    const llama = parseSafetensors(readFileSync(new URL("llama.safetensors", FIXTURES)));
    const e = (() => {
      try {
        gatedFeedForwardFromCheckpoint(llama, llamaFeedForwardNames(2));
      } catch (err) {
        return err as SafetensorsError;
      }
      throw new Error("no error");
    })();
    expect(e).toBeInstanceOf(SafetensorsError);
    expect([e.code, e.tensor, e.message]).toEqual([
      "TensorNotFound",
      "model.layers.2.mlp.gate_proj.weight",
      'gatedFeedForwardFromCheckpoint: tensor "model.layers.2.mlp.gate_proj.weight" is not in the checkpoint (18 tensors; similar names: "model.layers.0.mlp.gate_proj.weight", "model.layers.1.mlp.gate_proj.weight")',
    ]);
    expect(() => feedForwardFromCheckpoint(llama, llamaFeedForwardNames(0) as never)).toThrow(
      new TypeError(
        "feedForwardFromCheckpoint: names has wGate, not w1, w2: these name another layer's weights; use gatedFeedForwardFromCheckpoint and its siblings",
      ),
    );
    expect(() =>
      gatedFeedForwardWeightsFromCheckpoint(llama, optFeedForwardNames(0) as never),
    ).toThrow(
      new TypeError(
        "gatedFeedForwardWeightsFromCheckpoint: names has w1, not wGate, wUp, wDown: these name another layer's weights; use feedForwardFromCheckpoint and its siblings",
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Careless and hostile input, for every function of both layers.

interface Refusal {
  what: string;
  call: (c: LayerCase) => unknown;
  message: (c: LayerCase) => string;
}

/** A map of the layer's tensors (with biases) whose entry for `key` is replaced by `value`. */
function withEntry(c: LayerCase, key: "weight" | "bias", value: unknown) {
  const names = namesOf(c, true, "linear", "relu");
  const map = new Map<string, unknown>(c.tensors(c.special(true, "relu"), names));
  const [w, b] = c.keys[0] as [string, string];
  const name = names[key === "weight" ? w : b] as string;
  map.set(name, value);
  return { map, names, label: `tensors.get(${JSON.stringify(name)})` };
}

const data6 = new Float32Array(D * H);
const badEntries: [string, unknown, string][] = [
  ["null", null, "must be a tensor { dtype, shape, data }, got null"],
  ["a number", 5, "must be a tensor { dtype, shape, data }, got number 5"],
  [
    "without a shape",
    { dtype: "F32", data: data6 },
    ".shape must be an array of sizes, got undefined",
  ],
  [
    "a null shape",
    { dtype: "F32", shape: null, data: data6 },
    ".shape must be an array of sizes, got null",
  ],
  [
    "a null dimension",
    { dtype: "F32", shape: [H, null], data: data6 },
    ".shape[1] must be a non-negative integer, got null",
  ],
  [
    "a dimension of 1.5",
    { dtype: "F32", shape: [1.5, D], data: data6 },
    ".shape[0] must be a non-negative integer, got number 1.5",
  ],
  [
    "a null dtype",
    { dtype: null, shape: [H, D], data: data6 },
    /* the list of dtypes is long */ ".dtype must be one of ",
  ],
  [
    "null data",
    { dtype: "F32", shape: [H, D], data: null },
    ".data must be a typed array, got null",
  ],
  [
    "a plain Array of data",
    { dtype: "F32", shape: [H, D], data: [1, 2] },
    ".data must be a typed array, got a plain Array",
  ],
];

const REFUSALS: Refusal[] = [
  ...[null, undefined, 42, "file.safetensors", [], {}, { tensors: null }, { tensors: {} }].flatMap(
    (bad): Refusal[] => [
      {
        what: `tensors ${JSON.stringify(bad) ?? "undefined"} (loader)`,
        call: (c) => c.load(bad, namesOf(c, false, "linear", "relu")),
        message: (c) =>
          `${c.fn.load}: tensors must be a Map of tensors or a parsed file { tensors }, got ${kind(bad)}`,
      },
      {
        what: `tensors ${JSON.stringify(bad) ?? "undefined"} (weights loader)`,
        call: (c) => c.weights(bad, namesOf(c, false, "linear", "relu")),
        message: (c) =>
          `${c.fn.weights}: tensors must be a Map of tensors or a parsed file { tensors }, got ${kind(bad)}`,
      },
    ],
  ),
  ...badEntries.flatMap(([what, value, says]): Refusal[] =>
    (["weight", "bias"] as const).map((key) => ({
      what: `a ${key} entry that is ${what}`,
      call: (c) => {
        const { map, names } = withEntry(c, key, value);
        return c.load(map, names);
      },
      message: (c) => {
        const { label } = withEntry(c, key, value);
        return `${c.fn.load}: ${label}${says.startsWith(".") ? "" : " "}${says}`;
      },
    })),
  ),
  {
    what: "a parsed file whose tensors map holds null",
    call: (c) =>
      c.weights({ tensors: withEntry(c, "weight", null).map }, withEntry(c, "weight", null).names),
    message: (c) =>
      `${c.fn.weights}: ${withEntry(c, "weight", null).label} must be a tensor { dtype, shape, data }, got null`,
  },
  ...[null, "names", [], 7].map((bad): Refusal => ({
    what: `names ${JSON.stringify(bad)}`,
    call: (c) => c.load(new Map(), bad),
    message: (c) => `${c.fn.load}: names must be an object, got ${kind(bad)}`,
  })),
  {
    what: "no names",
    call: (c) => c.weights(new Map(), undefined),
    message: (c) =>
      `${c.fn.weights}: names { ${c.keys.map(([w]) => w).join(", ")}, ${c.keys.map(([, b]) => `${b}?`).join(", ")}, layout, activation } are required`,
  },
  {
    what: "a null weight name",
    call: (c) =>
      c.load(new Map(), { ...namesOf(c, false, "linear", "relu"), [c.keys[1]![0]]: null }),
    message: (c) => `${c.fn.load}: names.${c.keys[1]![0]} must be a tensor name, got null`,
  },
  {
    what: "a null bias name",
    call: (c) =>
      c.weights(new Map(), { ...namesOf(c, true, "linear", "relu"), [c.keys[0]![1]]: null }),
    message: (c) =>
      `${c.fn.weights}: names.${c.keys[0]![1]} must be a tensor name or absent, got null`,
  },
  {
    what: "a null layout",
    call: (c) => c.load(new Map(), { ...namesOf(c, false, "linear", "relu"), layout: null }),
    message: (c) =>
      `${c.fn.load}: names.layout must be "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out), got null`,
  },
  {
    what: "a null activation",
    call: (c) => c.load(new Map(), { ...namesOf(c, false, "linear", "relu"), activation: null }),
    message: (c) =>
      `${c.fn.load}: names.activation must be one of "relu", "gelu", "geluTanh", "silu", got null`,
  },
  {
    what: "no activation",
    call: (c) => {
      const { activation: _, ...names } = namesOf(c, false, "linear", "relu");
      return c.weights(new Map(), names);
    },
    message: (c) =>
      `${c.fn.weights}: names.activation is missing: the model's activation, one of "relu", "gelu", "geluTanh", "silu" (its config.json's hidden_act or activation_function)`,
  },
  {
    what: "an unknown activation",
    call: (c) =>
      c.load(new Map(), { ...namesOf(c, false, "linear", "relu"), activation: "gelu_new" }),
    message: (c) =>
      `${c.fn.load}: names.activation must be one of "relu", "gelu", "geluTanh", "silu", got "gelu_new"`,
  },
  ...[null, undefined, {}, "layer"].map((bad): Refusal => ({
    what: `a layer that is ${JSON.stringify(bad) ?? "undefined"}`,
    call: (c) => c.tensors(bad, namesOf(c, false, "linear", "relu")),
    message: (c) => `${c.fn.tensors}: ${c.fn.param} must be a ${c.className}, got ${kind(bad)}`,
  })),
  {
    what: "the other layer",
    call: (c) =>
      c.save(
        (c === PLAIN ? GATED : PLAIN).special(false, "relu"),
        namesOf(c, false, "linear", "relu"),
      ),
    message: (c) =>
      `${c.fn.save}: ${c.fn.param} must be a ${c.className}, got an object (${(c === PLAIN ? GATED : PLAIN).className})`,
  },
  {
    what: "null names to the saver",
    call: (c) => c.save(c.special(false, "relu"), null),
    message: (c) => `${c.fn.save}: names must be an object, got null`,
  },
  {
    what: "a null weight name to the saver",
    call: (c) =>
      c.tensors(c.special(false, "relu"), {
        ...namesOf(c, false, "linear", "relu"),
        [c.keys[0]![0]]: null,
      }),
    message: (c) => `${c.fn.tensors}: names.${c.keys[0]![0]} must be a tensor name, got null`,
  },
  {
    what: "a null layout to the saver",
    call: (c) =>
      c.save(c.special(false, "relu"), { ...namesOf(c, false, "linear", "relu"), layout: null }),
    message: (c) =>
      `${c.fn.save}: names.layout must be "linear" (nn.Linear, out x in) or "conv1d" (GPT-2 Conv1D, in x out), got null`,
  },
  {
    what: "a null activation to the saver",
    call: (c) =>
      c.tensors(c.special(false, "relu"), {
        ...namesOf(c, false, "linear", "relu"),
        activation: null,
      }),
    message: (c) =>
      `${c.fn.tensors}: names.activation must be one of "relu", "gelu", "geluTanh", "silu", got null`,
  },
];

function kind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "a plain Array";
  if (typeof value === "object") return "an object (Object)";
  return `${typeof value} ${String(value)}`;
}

describe.each([PLAIN, GATED])("$name: careless and hostile input", (c) => {
  it.each(REFUSALS)("refuses $what with a TypeError naming it", ({ call, message }) => {
    let thrown: unknown;
    try {
      call(c);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).not.toMatch(/Cannot read properties|is not a function/);
    const want = message(c);
    if (want.endsWith(".dtype must be one of "))
      expect((thrown as Error).message.startsWith(want)).toBe(true);
    else expect((thrown as Error).message).toBe(want);
  });

  it("reads each field of the names once, so a getter cannot change it after the checks", () => {
    const names = namesOf(c, false, "linear", "relu");
    const [w0] = c.keys[0] as [string, string];
    const good = names[w0] as string;
    let reads = 0;
    const hostile = { ...names };
    Object.defineProperty(hostile, w0, {
      enumerable: true,
      get: () => (reads++ === 0 ? good : null),
    });
    const file = parseSafetensors(c.save(c.special(false, "relu"), names));
    expect(c.load(file, hostile).dModel).toBe(D);
    expect(reads).toBe(1);
  });

  it("reads each field of a map entry once", () => {
    const names = namesOf(c, false, "linear", "relu");
    const tensors = c.tensors(c.special(false, "relu"), names);
    const [w0] = c.keys[0] as [string, string];
    const entry = tensors.get(names[w0] as string)!;
    let reads = 0;
    // The shape passes the checks once, then would claim 2^40 x 2^40 elements.
    const hostile = {
      dtype: entry.dtype,
      data: entry.data,
      get shape() {
        return reads++ === 0 ? entry.shape : [2 ** 40, 2 ** 40];
      },
    };
    const map = new Map<string, unknown>(tensors);
    map.set(names[w0] as string, hostile);
    expect(c.load(map, names).dHidden).toBe(H);
    expect(reads).toBe(1);
  });
});
