// The backward passes of FeedForward and GatedFeedForward, in plain JavaScript on the layers'
// unpacked weights.
//
// Nothing is kept from the forward pass: the pre-activations are recomputed from x with the JS
// kernel's formula (the float64 sum in increasing k, plus the bias, rounded once to float32),
// so they are the same bits as the JS kernel's forward. A backward call needs only (x, dY),
// the layer keeps no state between calls, and a token's gradient cannot depend on which batch
// its forward ran in. The price is one more pass over the first linear map(s).
//
// Numerics. Every gradient element is one float64 sum in a fixed order, rounded once to
// float32:
//   dX[t, k]  sums over the hidden index h (for the gated layer, the gate's terms, then the up
//             projection's), so row t of dX depends on row t of x and of dY alone;
//   dW, db    sum over the tokens t in increasing order.
// The hidden gradient dH = act'(pre) · (dY · W2ᵀ) is formed in float64 from the unrounded sum
// and rounded once. Derivatives of the activations are evaluated in float64
// (src/kernels/activation.ts).
import { ACTIVATION_GRAD, ACTIVATION_SCALAR, type ActivationName } from "../kernels/activation";
import type { Matrix } from "../matrix";

/**
 * The gradients of a {@link FeedForward} layer's loss, from {@link FeedForward.backward}: each
 * the derivative of the loss with respect to the input or parameter of the same name.
 *
 * @category FeedForward
 */
export interface FeedForwardGradients {
  /** (tokens, dModel): with respect to the input x. */
  dX: Matrix;
  /** (dModel, dHidden): with respect to w1. */
  dW1: Matrix;
  /** length dHidden: with respect to b1; absent for a layer without biases. */
  db1?: Float32Array;
  /** (dHidden, dModel): with respect to w2. */
  dW2: Matrix;
  /** length dModel: with respect to b2; absent for a layer without biases. */
  db2?: Float32Array;
}

/**
 * The gradients of a {@link GatedFeedForward} layer's loss, from
 * {@link GatedFeedForward.backward}.
 *
 * @category GatedFeedForward
 */
export interface GatedFeedForwardGradients {
  /** (tokens, dModel): with respect to the input x. */
  dX: Matrix;
  /** (dModel, dHidden): with respect to wGate. */
  dWGate: Matrix;
  /** length dHidden; absent for a layer without biases. */
  dbGate?: Float32Array;
  /** (dModel, dHidden): with respect to wUp. */
  dWUp: Matrix;
  /** length dHidden; absent for a layer without biases. */
  dbUp?: Float32Array;
  /** (dHidden, dModel): with respect to wDown. */
  dWDown: Matrix;
  /** length dModel; absent for a layer without biases. */
  dbDown?: Float32Array;
}

/**
 * out[t, n] = fl32(Σ_k a[t, k] w[k, n] + bias[n]): a is (T, K), w is (K, N). The float64 sum
 * runs over k in increasing order and the bias comes last, as in the JS kernel, so the result
 * is the same bits as its pre-activation.
 */
function linearRows(
  a: Float32Array,
  T: number,
  K: number,
  w: Float32Array,
  N: number,
  bias: Float32Array | null,
): Float32Array {
  const out = new Float32Array(T * N);
  const acc = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    acc.fill(0);
    for (let k = 0; k < K; k++) {
      const av = a[t * K + k] as number;
      const wo = k * N;
      for (let n = 0; n < N; n++) acc[n] = (acc[n] as number) + av * (w[wo + n] as number);
    }
    const o = t * N;
    for (let n = 0; n < N; n++) {
      const s = acc[n] as number;
      out[o + n] = bias === null ? s : s + (bias[n] as number);
    }
  }
  return out;
}

/** Row t of a (T, N) times wᵀ, w is (M, N): out[m] = Σ_n a[t, n] w[m, n] in float64. */
function rowTimesTransposed(
  a: Float32Array | Float64Array,
  t: number,
  N: number,
  w: Float32Array,
  M: number,
  out: Float64Array,
): void {
  const ao = t * N;
  for (let m = 0; m < M; m++) {
    const wo = m * N;
    let s = 0;
    for (let n = 0; n < N; n++) s += (a[ao + n] as number) * (w[wo + n] as number);
    out[m] = s;
  }
}

/** aᵀ b rounded once: a is (T, K), b is (T, N), the result (K, N); sums over t in order. */
function transposedTimes(
  a: Float32Array,
  T: number,
  K: number,
  b: Float32Array | Float64Array,
  N: number,
  acc: Float64Array,
): Matrix {
  acc.fill(0, 0, K * N);
  for (let t = 0; t < T; t++) {
    const bo = t * N;
    for (let k = 0; k < K; k++) {
      const av = a[t * K + k] as number;
      const o = k * N;
      for (let n = 0; n < N; n++) acc[o + n] = (acc[o + n] as number) + av * (b[bo + n] as number);
    }
  }
  return { rows: K, cols: N, data: Float32Array.from(acc.subarray(0, K * N)) };
}

/** Column sums of a (T, N) matrix, over t in order, rounded once. */
function columnSums(b: Float32Array | Float64Array, T: number, N: number): Float32Array {
  const acc = new Float64Array(N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) acc[n] = (acc[n] as number) + (b[t * N + n] as number);
  }
  return Float32Array.from(acc);
}

/** The weights backward needs, tokenwise's layout: w1 (D, H), w2 (H, D). */
export interface FeedForwardParams {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  w1: Float32Array;
  b1: Float32Array | null;
  w2: Float32Array;
  b2: Float32Array | null;
}

/** The gradients of act(x W1 + b1) W2 + b2 for the upstream gradient dY. Trusts its input. */
export function feedForwardBackward(
  p: FeedForwardParams,
  x: Float32Array,
  T: number,
  dY: Float32Array,
): FeedForwardGradients {
  const { dModel: D, dHidden: H, w1, b1, w2, b2 } = p;
  const act = ACTIVATION_SCALAR[p.activation];
  const grad = ACTIVATION_GRAD[p.activation];
  const pre = linearRows(x, T, D, w1, H, b1);
  const hidden = new Float32Array(T * H);
  for (let i = 0; i < hidden.length; i++) hidden[i] = act(pre[i] as number);

  const dH = new Float32Array(T * H);
  const dA = new Float64Array(H);
  const dX = new Float32Array(T * D);
  const dXRow = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    rowTimesTransposed(dY, t, D, w2, H, dA);
    for (let h = 0; h < H; h++) {
      dH[t * H + h] = grad(pre[t * H + h] as number) * (dA[h] as number);
    }
    rowTimesTransposed(dH, t, H, w1, D, dXRow);
    dX.set(dXRow, t * D);
  }

  const acc = new Float64Array(D * H);
  const g: FeedForwardGradients = {
    dX: { rows: T, cols: D, data: dX },
    dW1: transposedTimes(x, T, D, dH, H, acc),
    dW2: transposedTimes(hidden, T, H, dY, D, acc),
  };
  if (b1 !== null) g.db1 = columnSums(dH, T, H);
  if (b2 !== null) g.db2 = columnSums(dY, T, D);
  return g;
}

/** The weights of a gated layer, tokenwise's layout: wGate, wUp (D, H), wDown (H, D). */
export interface GatedParams {
  dModel: number;
  dHidden: number;
  activation: ActivationName;
  wGate: Float32Array;
  bGate: Float32Array | null;
  wUp: Float32Array;
  bUp: Float32Array | null;
  wDown: Float32Array;
  bDown: Float32Array | null;
}

/**
 * The gradients of (act(x Wg + bg) ⊙ (x Wu + bu)) Wd + bd for dY. Trusts its input. dY may be
 * float64 (a mixture of experts passes each expert w · dY unrounded): it is only read.
 */
export function gatedBackward(
  p: GatedParams,
  x: Float32Array,
  T: number,
  dY: Float32Array | Float64Array,
): GatedFeedForwardGradients {
  const { dModel: D, dHidden: H, wGate, bGate, wUp, bUp, wDown, bDown } = p;
  const act = ACTIVATION_SCALAR[p.activation];
  const grad = ACTIVATION_GRAD[p.activation];
  const gate = linearRows(x, T, D, wGate, H, bGate);
  const up = linearRows(x, T, D, wUp, H, bUp);
  const mixed = new Float32Array(T * H); // act(gate) ⊙ up, as the forward rounds it
  const dGate = new Float32Array(T * H);
  const dUp = new Float32Array(T * H);
  const dM = new Float64Array(H);
  const dX = new Float32Array(T * D);
  for (let t = 0; t < T; t++) {
    rowTimesTransposed(dY, t, D, wDown, H, dM);
    for (let h = 0; h < H; h++) {
      const i = t * H + h;
      const g = gate[i] as number;
      const a = act(g);
      const u = up[i] as number;
      const dm = dM[h] as number;
      mixed[i] = a * u;
      dGate[i] = dm * u * grad(g);
      dUp[i] = dm * a;
    }
    // dX row t: the gate's terms, then the up projection's, in one float64 sum per element.
    for (let k = 0; k < D; k++) {
      let s = 0;
      const wo = k * H;
      const go = t * H;
      for (let h = 0; h < H; h++) s += (dGate[go + h] as number) * (wGate[wo + h] as number);
      for (let h = 0; h < H; h++) s += (dUp[go + h] as number) * (wUp[wo + h] as number);
      dX[t * D + k] = s;
    }
  }

  const acc = new Float64Array(D * H);
  const g: GatedFeedForwardGradients = {
    dX: { rows: T, cols: D, data: dX },
    dWGate: transposedTimes(x, T, D, dGate, H, acc),
    dWUp: transposedTimes(x, T, D, dUp, H, acc),
    dWDown: transposedTimes(mixed, T, H, dY, D, acc),
  };
  if (bGate !== null) g.dbGate = columnSums(dGate, T, H);
  if (bUp !== null) g.dbUp = columnSums(dUp, T, H);
  if (bDown !== null) g.dbDown = columnSums(dY, T, D);
  return g;
}
