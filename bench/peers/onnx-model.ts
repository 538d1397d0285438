// A protobuf writer just big enough to build an ONNX ModelProto for the FeedForward layer,
// x → MatMul(W1) → Add(b1) → activation → MatMul(W2) → Add(b2) → y, and for the gated layer,
// weights as initializers.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto). No protobuf dependency; large tensors are not
// copied until the one final concatenation.
import type { ActivationName } from "../layer";
import type { GatedProblemWeights, ProblemWeights } from "../problem";
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

function tensor(w: ProtoWriter, name: string, dims: number[], data: Float32Array): void {
  for (const d of dims) w.int(1, d); // dims
  w.int(2, FLOAT); // data_type
  w.string(8, name); // name
  w.bytes(9, floatBytes(data)); // raw_data
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

function node(w: ProtoWriter, op: string, inputs: string[], output: string): void {
  for (const i of inputs) w.string(1, i);
  w.string(2, output);
  w.string(3, `${op}_${output}`);
  w.string(4, op);
}

/** A graph under construction: nodes and initializers, written in order by `write`. */
class Graph {
  readonly #parts: ((g: ProtoWriter) => void)[] = [];
  readonly #inits: ((g: ProtoWriter) => void)[] = [];
  readonly #scalars = new Map<number, string>();

  node(op: string, inputs: string[], output: string): string {
    this.#parts.push((g) => g.message(1, (n) => node(n, op, inputs, output)));
    return output;
  }

  init(name: string, dims: number[], data: Float32Array): string {
    this.#inits.push((g) => g.message(5, (t) => tensor(t, name, dims, data)));
    return name;
  }

  /** A float32 scalar constant (an initializer of rank 0), one per value. */
  scalar(value: number): string {
    let name = this.#scalars.get(value);
    if (name === undefined) {
      name = `c${this.#scalars.size}`;
      this.#scalars.set(value, name);
      this.init(name, [], Float32Array.of(value));
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

function model(shape: Shape, name: string, build: (g: Graph) => void): Uint8Array {
  const { tokens: T, dModel: D } = shape;
  const graph = new Graph();
  build(graph);
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
  return m.finish();
}

/** The ONNX model bytes of y = act(x·W1 + b1)·W2 + b2 for a fixed shape. */
export function feedForwardModel(
  shape: Shape,
  weights: ProblemWeights,
  act: ActivationName = "relu",
): Uint8Array {
  const { dModel: D, dHidden: H } = shape;
  return model(shape, "feedforward", (g) => {
    const h0 = g.node("Add", [g.node("MatMul", ["x", "w1"], "xw1"), "b1"], "h0");
    const h = activation(g, act, h0, "h");
    g.node("Add", [g.node("MatMul", [h, "w2"], "hw2"), "b2"], "y");
    g.init("w1", [D, H], weights.w1);
    g.init("b1", [H], weights.b1);
    g.init("w2", [H, D], weights.w2);
    g.init("b2", [D], weights.b2);
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
): Uint8Array {
  const { dModel: D, dHidden: H } = shape;
  return model(shape, "gated-feedforward", (g) => {
    const a = activation(g, act, g.node("MatMul", ["x", "w_gate"], "gate"), "act");
    const p = g.node("Mul", [a, g.node("MatMul", ["x", "w_up"], "up")], "p");
    g.node("MatMul", [p, "w_down"], "y");
    g.init("w_gate", [D, H], weights.wGate);
    g.init("w_up", [D, H], weights.wUp);
    g.init("w_down", [H, D], weights.wDown);
  });
}
