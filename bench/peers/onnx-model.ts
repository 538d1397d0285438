// A protobuf writer just big enough to build an ONNX ModelProto for the FeedForward layer,
// x → MatMul(W1) → Add(b1) → activation → MatMul(W2) → Add(b2) → y, and for the gated layer,
// weights as initializers.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto). No protobuf dependency; large tensors are not
// copied until the one final concatenation.
import { halfOverflowAt, narrowInto } from "../../src/dtype";
import type { ActivationName } from "../layer";
import {
  type GatedProblemWeights,
  type LayerWeights,
  type ProblemWeights,
  isGated,
} from "../problem";
import type { Shape } from "../shapes";

const VARINT = 0;
const LENGTH_DELIMITED = 2;

/** Protobuf varint bytes of a non-negative integer below 2^53. */
export function varint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`varint: ${value} is not a non-negative safe integer`);
  const bytes: number[] = [];
  let v = value;
  while (v >= 128) {
    bytes.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** A message under construction: a list of byte chunks and their total length. */
export class ProtoWriter {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  #push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  #key(field: number, wire: number): this {
    return this.#push(Uint8Array.from(varint(field * 8 + wire)));
  }

  int(field: number, value: number): this {
    return this.#key(field, VARINT).#push(Uint8Array.from(varint(value)));
  }

  bytes(field: number, data: Uint8Array): this {
    return this.#key(field, LENGTH_DELIMITED)
      .#push(Uint8Array.from(varint(data.length)))
      .#push(data);
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    this.#key(field, LENGTH_DELIMITED).#push(Uint8Array.from(varint(inner.length)));
    for (const c of inner.chunks) this.#push(c);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The float32 values as little-endian bytes (a view, not a copy, on little-endian machines). */
function floatBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return out;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const FLOAT16 = 10; // TensorProto.DataType.FLOAT16
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT

/** Element types of a tensor: float32, or float16 (IEEE binary16). */
export type OnnxFloat = "float32" | "float16";

/**
 * The values as IEEE half-precision bits, little-endian, rounded to nearest even; a value beyond
 * float16's range (it would round to infinity) is an error naming the tensor: the model could not
 * hold the layer.
 */
function halfBytes(data: Float32Array, name: string): Uint8Array {
  const over = halfOverflowAt(data, "f32");
  if (over >= 0) {
    throw new RangeError(
      `${name}[${over}] = ${data[over]} is beyond float16's range (65504): a float16 model cannot hold this layer`,
    );
  }
  const bits = narrowInto("f16", data, new Uint16Array(data.length));
  if (LITTLE_ENDIAN) return new Uint8Array(bits.buffer);
  const out = new Uint8Array(bits.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < bits.length; i++) view.setUint16(i * 2, bits[i] as number, true);
  return out;
}

function tensor(
  w: ProtoWriter,
  name: string,
  dims: number[],
  data: Float32Array,
  type: OnnxFloat,
): void {
  for (const d of dims) w.int(1, d); // dims
  w.int(2, type === "float16" ? FLOAT16 : FLOAT); // data_type
  w.string(8, name); // name
  w.bytes(9, type === "float16" ? halfBytes(data, name) : floatBytes(data)); // raw_data
}

function valueInfo(w: ProtoWriter, name: string, dims: number[]): void {
  w.string(1, name); // ValueInfoProto.name
  w.message(2, (type) =>
    // TypeProto.tensor_type
    type.message(1, (t) => {
      t.int(1, FLOAT); // elem_type
      t.message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => dim.int(1, d)); // dim { dim_value }
      });
    }),
  );
}

function node(
  w: ProtoWriter,
  op: string,
  inputs: string[],
  output: string,
  ints: Record<string, number>,
  domain = "",
): void {
  for (const i of inputs) w.string(1, i);
  w.string(2, output);
  w.string(3, `${op}_${output}`);
  w.string(4, op);
  if (domain !== "") w.string(7, domain);
  for (const [name, value] of Object.entries(ints)) {
    // AttributeProto { name, i, type: INT }
    w.message(5, (a) => a.string(1, name).int(3, value).int(20, ATTRIBUTE_INT));
  }
}

/**
 * A graph under construction: nodes and initializers, written in order by `write`. `compute` is
 * the type its activations are computed in (its scalar constants have that type).
 */
class Graph {
  readonly #parts: ((g: ProtoWriter) => void)[] = [];
  readonly #inits: ((g: ProtoWriter) => void)[] = [];
  readonly #scalars = new Map<number, string>();
  readonly compute: OnnxFloat;

  constructor(compute: OnnxFloat = "float32") {
    this.compute = compute;
  }

  node(
    op: string,
    inputs: string[],
    output: string,
    ints: Record<string, number> = {},
    domain = "",
  ): string {
    this.#parts.push((g) => g.message(1, (n) => node(n, op, inputs, output, ints, domain)));
    return output;
  }

  /** An initializer of raw little-endian bytes of ONNX data type `dataType` (UINT8: 2). */
  initBytes(name: string, dims: number[], bytes: Uint8Array, dataType: number): string {
    this.#inits.push((g) =>
      g.message(5, (t) => {
        for (const d of dims) t.int(1, d);
        t.int(2, dataType).string(8, name).bytes(9, bytes);
      }),
    );
    return name;
  }

  /** Cast(input) to a float type. */
  cast(input: string, to: OnnxFloat, output: string): string {
    return this.node("Cast", [input], output, { to: to === "float16" ? FLOAT16 : FLOAT });
  }

  init(name: string, dims: number[], data: Float32Array, type: OnnxFloat = "float32"): string {
    this.#inits.push((g) => g.message(5, (t) => tensor(t, name, dims, data, type)));
    return name;
  }

  /** A scalar constant of the compute type (an initializer of rank 0), one per value. */
  scalar(value: number): string {
    let name = this.#scalars.get(value);
    if (name === undefined) {
      name = `c${this.#scalars.size}`;
      this.#scalars.set(value, name);
      this.init(name, [], Float32Array.of(value), this.compute);
    }
    return name;
  }

  write(g: ProtoWriter): void {
    for (const p of this.#parts) p(g);
    for (const p of this.#inits) p(g);
  }
}

/**
 * The activation from standard ONNX ops (opset 17 has no Gelu: it came in opset 20), the way an
 * exporter writes them; onnxruntime's optimizer fuses the gelu patterns into its own kernels.
 *   relu:     Relu(h)
 *   gelu:     0.5 · h · (1 + Erf(h · (1/√2)))
 *   geluTanh: 0.5 · h · (1 + Tanh(√(2/π) · (h + 0.044715 · h³)))
 *   silu:     h · Sigmoid(h)
 */
function activation(g: Graph, act: ActivationName, h: string, out: string): string {
  switch (act) {
    case "relu":
      return g.node("Relu", [h], out);
    case "gelu": {
      const e = g.node("Erf", [g.node("Mul", [h, g.scalar(Math.SQRT1_2)], `${out}_s`)], `${out}_e`);
      const p = g.node("Add", [e, g.scalar(1)], `${out}_p`);
      return g.node("Mul", [g.node("Mul", [h, p], `${out}_hp`), g.scalar(0.5)], out);
    }
    case "geluTanh": {
      const h3 = g.node("Mul", [g.node("Mul", [h, h], `${out}_h2`), h], `${out}_h3`);
      const inner = g.node(
        "Add",
        [h, g.node("Mul", [h3, g.scalar(0.044715)], `${out}_k`)],
        `${out}_i`,
      );
      const z = g.node("Mul", [inner, g.scalar(Math.sqrt(2 / Math.PI))], `${out}_z`);
      const p = g.node("Add", [g.node("Tanh", [z], `${out}_t`), g.scalar(1)], `${out}_p`);
      return g.node("Mul", [g.node("Mul", [h, p], `${out}_hp`), g.scalar(0.5)], out);
    }
    case "silu":
      return g.node("Mul", [h, g.node("Sigmoid", [h], `${out}_sig`)], out);
  }
}

/**
 * How the model holds its weights: "float32"; "float16", FLOAT16 initializers each Cast to
 * float32 before its MatMul (biases float32, as a 16-bit tokenwise layer keeps them), so the
 * arithmetic is float32's on the 16-bit values; or "float16-graph", every initializer FLOAT16
 * and the whole layer computed in float16 (x cast to float16 on the way in, y to float32 on the
 * way out), as a model converted to float16 throughout.
 */
export type OnnxWeights = "float32" | "float16" | "float16-graph";

export const ONNX_WEIGHTS: readonly OnnxWeights[] = ["float32", "float16", "float16-graph"];

/** A weight matrix as the compute type sees it: an initializer, cast if the model says so. */
function matrixInit(
  g: Graph,
  weights: OnnxWeights,
  name: string,
  dims: number[],
  data: Float32Array,
): string {
  if (weights === "float32") return g.init(name, dims, data);
  if (weights === "float16-graph") return g.init(name, dims, data, "float16");
  g.init(`${name}_f16`, dims, data, "float16");
  return g.cast(`${name}_f16`, "float32", name);
}

/** A bias: float16 only in a float16 graph. */
function biasInit(g: Graph, weights: OnnxWeights, name: string, data: Float32Array): string {
  return g.init(name, [data.length], data, weights === "float16-graph" ? "float16" : "float32");
}

function model(
  shape: Shape,
  name: string,
  weights: OnnxWeights,
  build: (g: Graph, x: string) => string,
  microsoft = false,
): Uint8Array {
  const { tokens: T, dModel: D } = shape;
  const half = weights === "float16-graph";
  const graph = new Graph(half ? "float16" : "float32");
  // The model's input and output stay float32 whatever it computes in: a caller feeds and reads
  // the same tensors.
  const y = build(graph, half ? graph.cast("x", "float16", "x_f16") : "x");
  if (half) graph.cast(y, "float32", "y");
  const m = new ProtoWriter();
  m.int(1, 8); // ir_version 8
  m.string(2, "tokenwise-bench"); // producer_name
  m.message(7, (g) => {
    graph.write(g);
    g.string(2, name);
    g.message(11, (v) => valueInfo(v, "x", [T, D]));
    g.message(12, (v) => valueInfo(v, "y", [T, D]));
  });
  m.message(8, (o) => o.string(1, "").int(2, 17)); // opset_import { domain "", version 17 }
  if (microsoft) m.message(8, (o) => o.string(1, "com.microsoft").int(2, 1));
  return m.finish();
}

/** The ONNX model bytes of y = act(x·W1 + b1)·W2 + b2 for a fixed shape. */
export function feedForwardModel(
  shape: Shape,
  weights: ProblemWeights,
  act: ActivationName = "relu",
  type: OnnxWeights = "float32",
): Uint8Array {
  const { dModel: D, dHidden: H } = shape;
  const out = type === "float16-graph" ? "y_f16" : "y";
  return model(shape, "feedforward", type, (g, x) => {
    const w1 = matrixInit(g, type, "w1", [D, H], weights.w1);
    const b1 = biasInit(g, type, "b1", weights.b1);
    const w2 = matrixInit(g, type, "w2", [H, D], weights.w2);
    const b2 = biasInit(g, type, "b2", weights.b2);
    const h0 = g.node("Add", [g.node("MatMul", [x, w1], "xw1"), b1], "h0");
    const h = activation(g, act, h0, "h");
    return g.node("Add", [g.node("MatMul", [h, w2], "hw2"), b2], out);
  });
}

/**
 * The ONNX model bytes of the gated layer y = (act(x·Wgate) ⊙ (x·Wup))·Wdown, no biases (for
 * silu: MatMul, Sigmoid, Mul, MatMul, Mul, MatMul).
 */
export function gatedModel(
  shape: Shape,
  weights: GatedProblemWeights,
  act: ActivationName = "silu",
  type: OnnxWeights = "float32",
): Uint8Array {
  const { dModel: D, dHidden: H } = shape;
  const out = type === "float16-graph" ? "y_f16" : "y";
  return model(shape, "gated-feedforward", type, (g, x) => {
    const wg = matrixInit(g, type, "w_gate", [D, H], weights.wGate);
    const wu = matrixInit(g, type, "w_up", [D, H], weights.wUp);
    const wd = matrixInit(g, type, "w_down", [H, D], weights.wDown);
    const a = activation(g, act, g.node("MatMul", [x, wg], "gate"), "act");
    const p = g.node("Mul", [a, g.node("MatMul", [x, wu], "up")], "p");
    return g.node("MatMul", [p, wd], out);
  });
}

// ---- quantized weights: onnxruntime's MatMulNBits ------------------------------------------------

const UINT8 = 2; // TensorProto.DataType.UINT8

/**
 * ggml blocks (N rows of K / 32 blocks: an f16 scale, then Q8_0's 32 int8 quants or Q4_0's 16
 * bytes of nibbles, input k < 16 low and 16 + k high) as MatMulNBits' inputs, block size 32: B
 * (N, K/32, blob) of unsigned quants, Q8_0's q + 128 a byte, Q4_0's nibbles two a byte (input 2i
 * low, 2i + 1 high), and the scales (float32, exact: f16 values). With no zero points the
 * operator takes 128 (8 bits) and 8 (4 bits), so each weight is (u − zero) · scale: the very
 * values of the ggml blocks.
 */
export function matMulNBitsInputs(
  blocks: Uint8Array,
  dtype: "q8_0" | "q4_0",
  K: number,
  N: number,
  scaleOf: (blocks: Uint8Array) => Float32Array,
): { b: Uint8Array; scales: Float32Array; blob: number } {
  const nb = K / 32;
  const q8 = dtype === "q8_0";
  const bytes = q8 ? 34 : 18;
  const blob = q8 ? 32 : 16;
  const b = new Uint8Array(N * nb * blob);
  for (let i = 0; i < N * nb; i++) {
    const src = i * bytes + 2;
    const dst = i * blob;
    if (q8) {
      for (let k = 0; k < 32; k++) b[dst + k] = ((blocks[src + k] as number) + 128) & 255;
    } else {
      const nib = (k: number) => {
        const v = blocks[src + (k & 15)] as number;
        return k < 16 ? v & 15 : v >> 4;
      };
      for (let t = 0; t < 16; t++) b[dst + t] = nib(2 * t) | (nib(2 * t + 1) << 4);
    }
  }
  return { b, scales: scaleOf(blocks), blob };
}

/** One quantized map as a MatMulNBits node: y = x · W, W (K, N) given as ggml blocks. */
function matMulNBits(
  g: Graph,
  x: string,
  name: string,
  blocks: Uint8Array,
  dtype: "q8_0" | "q4_0",
  K: number,
  N: number,
  scaleOf: (blocks: Uint8Array) => Float32Array,
): string {
  const { b, scales, blob } = matMulNBitsInputs(blocks, dtype, K, N, scaleOf);
  const bName = g.initBytes(`${name}_q`, [N, K / 32, blob], b, UINT8);
  const sName = g.init(`${name}_scales`, [N * (K / 32)], scales);
  return g.node(
    "MatMulNBits",
    [x, bName, sName],
    `${name}_y`,
    // accuracy_level 4: the activations quantized to int8 (per block) and integer dot products.
    { K, N, bits: dtype === "q8_0" ? 8 : 4, block_size: 32, accuracy_level: 4 },
    "com.microsoft",
  );
}

/** A quantized layer's maps, as ggml blocks of `dtype`, for {@link quantizedModel}. */
export interface QuantizedMaps {
  dtype: "q8_0" | "q4_0";
  /** Each map's blocks (N rows of K / 32 blocks), in the layer's order of maps. */
  maps: Uint8Array[];
  /** The block scales of a map's blocks as float32 values, in their order. */
  scaleOf: (blocks: Uint8Array) => Float32Array;
}

/**
 * The ONNX model of the layer with quantized weights: each MatMul a MatMulNBits (com.microsoft)
 * on the same blocks; biases (FeedForward) float32 Adds; the activation as in the float models.
 */
export function quantizedModel(
  shape: Shape,
  weights: LayerWeights,
  q: QuantizedMaps,
  act: ActivationName,
): Uint8Array {
  const { dModel: D, dHidden: H } = shape;
  const mm = (g: Graph, x: string, name: string, i: number, K: number, N: number) =>
    matMulNBits(g, x, name, q.maps[i] as Uint8Array, q.dtype, K, N, q.scaleOf);
  if (isGated(weights)) {
    return model(
      shape,
      "gated-feedforward-nbits",
      "float32",
      (g, x) => {
        const a = activation(g, act, mm(g, x, "gate", 0, D, H), "act");
        const p = g.node("Mul", [a, mm(g, x, "up", 1, D, H)], "p");
        return g.node("Identity", [mm(g, p, "down", 2, H, D)], "y");
      },
      true,
    );
  }
  return model(
    shape,
    "feedforward-nbits",
    "float32",
    (g, x) => {
      const h0 = g.node("Add", [mm(g, x, "w1", 0, D, H), g.init("b1", [H], weights.b1)], "h0");
      const h = activation(g, act, h0, "h");
      return g.node("Add", [mm(g, h, "w2", 1, H, D), g.init("b2", [D], weights.b2)], "y");
    },
    true,
  );
}
