// A protobuf writer just big enough to build an ONNX ModelProto for the FeedForward layer:
// x → MatMul(W1) → Add(b1) → Relu → MatMul(W2) → Add(b2) → y, weights as initializers.
// Field numbers are those of onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto). No protobuf dependency; large tensors are not
// copied until the one final concatenation.
import type { ProblemWeights } from "../problem";
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

/** The ONNX model bytes of y = relu(x·W1 + b1)·W2 + b2 for a fixed shape. */
export function feedForwardModel(shape: Shape, weights: ProblemWeights): Uint8Array {
  const { tokens: T, dModel: D, dHidden: H } = shape;
  const model = new ProtoWriter();
  model.int(1, 8); // ir_version 8
  model.string(2, "tokenwise-bench"); // producer_name
  model.message(7, (g) => {
    g.message(1, (n) => node(n, "MatMul", ["x", "w1"], "xw1"));
    g.message(1, (n) => node(n, "Add", ["xw1", "b1"], "h0"));
    g.message(1, (n) => node(n, "Relu", ["h0"], "h"));
    g.message(1, (n) => node(n, "MatMul", ["h", "w2"], "hw2"));
    g.message(1, (n) => node(n, "Add", ["hw2", "b2"], "y"));
    g.string(2, "feedforward");
    g.message(5, (t) => tensor(t, "w1", [D, H], weights.w1));
    g.message(5, (t) => tensor(t, "b1", [H], weights.b1));
    g.message(5, (t) => tensor(t, "w2", [H, D], weights.w2));
    g.message(5, (t) => tensor(t, "b2", [D], weights.b2));
    g.message(11, (v) => valueInfo(v, "x", [T, D]));
    g.message(12, (v) => valueInfo(v, "y", [T, D]));
  });
  model.message(8, (o) => o.string(1, "").int(2, 17)); // opset_import { domain "", version 17 }
  return model.finish();
}
