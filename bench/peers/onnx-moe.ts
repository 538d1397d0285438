// The ONNX model of a mixture of experts composed from standard ops (opset 17), as an exporter
// writes a Mixtral or OLMoE block without a fused MoE op:
//   probs = Softmax(x · router); (w, idx) = TopK(probs, k); w = w / ReduceSum(w) when normalised
//   for each expert e: (t, s) = NonZero(idx == e); xe = Gather(x, t); we = GatherND(w, (t, s))
//                      ye = (Sigmoid(xe·Wg) ⊙ xe·Wg ⊙ xe·Wu) · Wd ⊙ we
//   y = ScatterND(zeros, t of every expert, ye of every expert, reduction "add")
// The token count is a symbolic dimension: one session serves every batch.
// Weights are float32 initializers. Fields as onnx.proto; the writer is onnx-model.ts's.
import type { MoEProblem } from "../moe-problem";
import { ProtoWriter } from "./onnx-model";

const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;
const ATTR_STRING = 3;

type Attr = number | string;

class MoEGraph {
  readonly #parts: ((g: ProtoWriter) => void)[] = [];

  node(op: string, inputs: string[], output: string | string[], attrs: Record<string, Attr> = {}) {
    const outputs = typeof output === "string" ? [output] : output;
    this.#parts.push((g) =>
      g.message(1, (n) => {
        for (const i of inputs) n.string(1, i);
        for (const o of outputs) n.string(2, o);
        n.string(3, `${op}_${outputs[0]}`);
        n.string(4, op);
        for (const [name, v] of Object.entries(attrs)) {
          n.message(5, (a) =>
            typeof v === "number"
              ? a.string(1, name).int(3, v).int(20, ATTR_INT)
              : a.string(1, name).string(4, v).int(20, ATTR_STRING),
          );
        }
      }),
    );
    return outputs[0] as string;
  }

  float(name: string, dims: number[], data: Float32Array): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#parts.push((g) =>
      g.message(5, (t) => {
        for (const d of dims) t.int(1, d);
        t.int(2, FLOAT).string(8, name).bytes(9, bytes);
      }),
    );
    return name;
  }

  int64(name: string, dims: number[], values: number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    const bytes = new Uint8Array(data.buffer);
    this.#parts.push((g) =>
      g.message(5, (t) => {
        for (const d of dims) t.int(1, d);
        t.int(2, INT64).string(8, name).bytes(9, bytes);
      }),
    );
    return name;
  }

  write(g: ProtoWriter): void {
    for (const p of this.#parts) p(g);
  }
}

/** A float tensor of (T, D), T a symbolic dimension: one model serves every token count. */
function valueInfo(w: ProtoWriter, name: string, D: number): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (t) => {
      t.int(1, FLOAT);
      t.message(2, (shape) => {
        shape.message(1, (dim) => dim.string(2, "T")); // dim_param
        shape.message(1, (dim) => dim.int(1, D));
      });
    }),
  );
}

/** The model bytes (little-endian machines only, as the rest of the bench's ONNX writer). */
export function moeModel(p: Pick<MoEProblem, "shape" | "router" | "experts">): Uint8Array {
  const { dModel: D, dHidden: H, experts: E, topK: k, normalize } = p.shape;
  const g = new MoEGraph();
  const router = g.float("router", [D, E], p.router);
  const probs = g.node("Softmax", [g.node("MatMul", ["x", router], "logits")], "probs", {
    axis: 1,
  });
  g.int64("k", [1], [k]);
  g.node("TopK", [probs, "k"], ["top", "idx"], { axis: 1, largest: 1, sorted: 1 });
  let w = "top";
  if (normalize) {
    g.int64("last", [1], [1]);
    const s = g.node("ReduceSum", ["top", "last"], "top_sum", { keepdims: 1 });
    w = g.node("Div", ["top", s], "w");
  }
  g.int64("zero", [], [0]);
  g.int64("col", [1], [1]);
  const tokens: string[] = [];
  const outs: string[] = [];
  for (let e = 0; e < E; e++) {
    const ex = p.experts[e];
    if (ex === undefined) throw new RangeError(`moeModel: no expert ${e}`);
    const id = g.int64(`e${e}`, [], [e]);
    const nz = g.node("NonZero", [g.node("Equal", ["idx", id], `is${e}`)], `nz${e}`);
    const t = g.node("Gather", [nz, "zero"], `t${e}`, { axis: 0 });
    const ts = g.node("Transpose", [nz], `ts${e}`); // (n, 2): no perm reverses the axes
    const we = g.node("GatherND", [w, ts], `w${e}`);
    const xe = g.node("Gather", ["x", t], `x${e}`, { axis: 0 });
    const wg = g.float(`wg${e}`, [D, H], ex.wGate);
    const wu = g.float(`wu${e}`, [D, H], ex.wUp);
    const wd = g.float(`wd${e}`, [H, D], ex.wDown);
    const gate = g.node("MatMul", [xe, wg], `gate${e}`);
    const act = g.node("Mul", [gate, g.node("Sigmoid", [gate], `sig${e}`)], `act${e}`);
    const prod = g.node("Mul", [act, g.node("MatMul", [xe, wu], `up${e}`)], `p${e}`);
    const ye = g.node("MatMul", [prod, wd], `down${e}`);
    outs.push(g.node("Mul", [ye, g.node("Unsqueeze", [we, "col"], `wc${e}`)], `y${e}`));
    tokens.push(t);
  }
  const all = g.node("Concat", outs, "ys", { axis: 0 });
  const at = g.node("Unsqueeze", [g.node("Concat", tokens, "ts", { axis: 0 }), "col"], "at");
  const zeros = g.node("ConstantOfShape", [g.node("Shape", ["x"], "x_shape")], "zeros");
  g.node("ScatterND", [zeros, at, all], "y", { reduction: "add" });
  const m = new ProtoWriter();
  m.int(1, 8); // ir_version 8
  m.string(2, "tokenwise-bench");
  m.message(7, (gr) => {
    g.write(gr);
    gr.string(2, "mixture-of-experts");
    gr.message(11, (v) => valueInfo(v, "x", D));
    gr.message(12, (v) => valueInfo(v, "y", D));
  });
  m.message(8, (o) => o.string(1, "").int(2, 17));
  return m.finish();
}
