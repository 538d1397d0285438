// The mixture composed in plain JavaScript, every operation rounded to float32 (Math.fround):
// what a peer does, written out, so that the quick run and the tests have a peer without the
// peer packages. Two near misses beside it must fail the check (bench/moe-problem.ts), or the
// check could not tell a wrong mixture from a right one: one takes each token's (k+1)-th expert
// instead of its k-th, one renormalises the chosen weights where the shape does not (or keeps
// them where it does).
import type { MoEInstance, MoEPeer } from "./peers/moe";
import type { MoEProblem } from "./moe-problem";

/** The composed peers: the right one and its two near misses. */
export const COMPOSED = [
  "js-f32-test-fixture",
  "js-f32-wrong-expert-test-fixture",
  "js-f32-flips-normalize-test-fixture",
] as const;

const f = Math.fround;

/** Row r of x (width K) times the (K, N) matrix w into out, float32 sums over k increasing. */
function rowTimes(
  x: Float32Array,
  off: number,
  K: number,
  w: Float32Array,
  N: number,
  out: Float32Array,
): void {
  out.fill(0);
  for (let k = 0; k < K; k++) {
    const xv = x[off + k] as number;
    for (let j = 0; j < N; j++) out[j] = f((out[j] as number) + f(xv * (w[k * N + j] as number)));
  }
}

function forward(
  p: Pick<MoEProblem, "shape" | "router" | "experts">,
  name: string,
  x: Float32Array,
  T: number,
): Float32Array {
  const { dModel: D, dHidden: H, experts: E, topK: k } = p.shape;
  const normalize =
    name === "js-f32-flips-normalize-test-fixture" ? !p.shape.normalize : p.shape.normalize;
  const y = new Float32Array(T * D);
  const l = new Float32Array(E);
  const g = new Float32Array(H);
  const u = new Float32Array(H);
  const o = new Float32Array(D);
  for (let t = 0; t < T; t++) {
    rowTimes(x, t * D, D, p.router, E, l);
    let m = -Infinity;
    for (const v of l) m = Math.max(m, v);
    const s = Array.from(l, (v) => f(Math.exp(f(v - m))));
    const z = s.reduce((a, b) => f(a + b), 0);
    const prob = s.map((v) => f(v / z));
    const order = Array.from(prob.keys()).sort(
      (a, b) => (prob[b] as number) - (prob[a] as number) || a - b,
    );
    const chosen = order.slice(0, k);
    if (name === "js-f32-wrong-expert-test-fixture" && k < E) chosen[k - 1] = order[k] as number;
    const sum = chosen.reduce((a, e) => f(a + (prob[e] as number)), 0);
    for (const e of chosen) {
      const w = normalize ? f((prob[e] as number) / sum) : (prob[e] as number);
      const ex = p.experts[e];
      if (ex === undefined) throw new RangeError(`composed: no expert ${e}`);
      rowTimes(x, t * D, D, ex.wGate, H, g);
      rowTimes(x, t * D, D, ex.wUp, H, u);
      for (let i = 0; i < H; i++) {
        const gi = g[i] as number;
        g[i] = f(f(gi * f(1 / f(1 + f(Math.exp(-gi))))) * (u[i] as number));
      }
      rowTimes(g, 0, H, ex.wDown, D, o);
      for (let j = 0; j < D; j++)
        y[t * D + j] = f((y[t * D + j] as number) + f(w * (o[j] as number)));
    }
  }
  return y;
}

/** One of COMPOSED as a peer. */
export function composedPeer(name: string): MoEPeer {
  return {
    id: name,
    library: "plain JavaScript, float32 (bench/moe-composed.ts)",
    setup(w) {
      const inst: MoEInstance = { forward: (x, T) => forward(w, name, x, T), dispose() {} };
      return Promise.resolve(inst);
    },
  };
}
