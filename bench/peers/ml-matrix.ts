// ml-matrix: the general matrix library of the ml.js family (float64 rows, plain JavaScript).
// The activation is applied with Matrix.apply and Math's functions (there is no erf among them,
// so no exact gelu: index.ts lists this peer as unavailable for it).
import type { Contender } from "../contender";
import type { ActivationName, Variant } from "../layer";
import { isGated } from "../problem";
import type { PeerContext } from "./context";

interface MlMatrix {
  mmul(other: MlMatrix): MlMatrix;
  mul(other: MlMatrix): MlMatrix;
  addRowVector(v: ArrayLike<number>): MlMatrix;
  apply(f: (this: MlMatrix, row: number, col: number) => void): MlMatrix;
  get(row: number, col: number): number;
  set(row: number, col: number, value: number): MlMatrix;
  to1DArray(): number[];
}
interface MlMatrixModule {
  Matrix: { from1DArray(rows: number, cols: number, data: ArrayLike<number>): MlMatrix };
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

const FUNCTIONS: Readonly<Record<Exclude<ActivationName, "gelu">, (v: number) => number>> = {
  relu: (v) => (v < 0 ? 0 : v),
  geluTanh: (v) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))),
  silu: (v) => v / (1 + Math.exp(-v)),
};

let loaded: Promise<MlMatrixModule> | undefined;

export async function mlMatrixContender(ctx: PeerContext, variant: Variant): Promise<Contender> {
  loaded ??= ctx.load("ml-matrix") as unknown as Promise<MlMatrixModule>;
  const { Matrix } = await loaded;
  const act = variant.activation;
  if (act === "gelu") throw new Error("ml-matrix: no exact gelu (no erf)");
  const f = FUNCTIONS[act];
  const apply = (m: MlMatrix) =>
    m.apply(function (i, j) {
      this.set(i, j, f(this.get(i, j)));
    });
  return {
    id: "ml-matrix",
    label: "ml-matrix",
    group: "peer",
    threads: 1,
    library: "ml-matrix",
    host: { kind: "peer", name: "ml-matrix", threads: 1 },
    async setup(shape, w) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      if (isGated(w)) {
        const wg = Matrix.from1DArray(D, H, w.wGate);
        const wu = Matrix.from1DArray(D, H, w.wUp);
        const wd = Matrix.from1DArray(H, D, w.wDown);
        return {
          forward(x) {
            const xm = Matrix.from1DArray(T, D, x);
            const p = apply(xm.mmul(wg)).mul(xm.mmul(wu));
            return Float32Array.from(p.mmul(wd).to1DArray());
          },
        };
      }
      const w1 = Matrix.from1DArray(D, H, w.w1);
      const w2 = Matrix.from1DArray(H, D, w.w2);
      const b1 = Array.from(w.b1);
      const b2 = Array.from(w.b2);
      return {
        forward(x) {
          const h = apply(Matrix.from1DArray(T, D, x).mmul(w1).addRowVector(b1));
          return Float32Array.from(h.mmul(w2).addRowVector(b2).to1DArray());
        },
      };
    },
  };
}
