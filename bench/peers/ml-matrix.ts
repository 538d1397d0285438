// ml-matrix: the general matrix library of the ml.js family (float64 rows, plain JavaScript).
import type { Contender } from "../contender";
import type { PeerContext } from "./index";
import { importPeer } from "./resolve";

interface MlMatrix {
  mmul(other: MlMatrix): MlMatrix;
  addRowVector(v: ArrayLike<number>): MlMatrix;
  apply(f: (this: MlMatrix, row: number, col: number) => void): MlMatrix;
  get(row: number, col: number): number;
  set(row: number, col: number, value: number): MlMatrix;
  to1DArray(): number[];
}
interface MlMatrixModule {
  Matrix: { from1DArray(rows: number, cols: number, data: ArrayLike<number>): MlMatrix };
}

let loaded: Promise<MlMatrixModule> | undefined;

export async function mlMatrixContender(ctx: PeerContext): Promise<Contender> {
  loaded ??= importPeer(ctx.dir, "ml-matrix") as unknown as Promise<MlMatrixModule>;
  const { Matrix } = await loaded;
  return {
    id: "ml-matrix",
    label: "ml-matrix",
    group: "peer",
    threads: 1,
    library: "ml-matrix",
    host: { kind: "peer", name: "ml-matrix", threads: 1 },
    async setup(shape, w) {
      const { tokens: T, dModel: D, dHidden: H } = shape;
      const w1 = Matrix.from1DArray(D, H, w.w1);
      const w2 = Matrix.from1DArray(H, D, w.w2);
      const b1 = Array.from(w.b1);
      const b2 = Array.from(w.b2);
      return {
        forward(x) {
          const h = Matrix.from1DArray(T, D, x).mmul(w1).addRowVector(b1);
          h.apply(function (i, j) {
            if (this.get(i, j) < 0) this.set(i, j, 0);
          });
          return Float32Array.from(h.mmul(w2).addRowVector(b2).to1DArray());
        },
      };
    },
  };
}
