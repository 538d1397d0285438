// Rows of quantized tokenwise layers (`--dtype q8_0,q4_0`). A quantized layer computes llama.cpp's
// numerics, not the float32 layer's, so neither the float64 reference's bound nor the exact
// problem applies to it. Its check instead: its output is, bit for bit, the output of tokenwise's
// js kernel of the same dtype on the same weights (the js kernel is checked bit for bit against
// an independent numpy implementation of ggml's reference functions in
// test/layers/quant.test.ts), layer by layer at a shape of several layers; the worst ratio
// reported is 0 (equal) or the row is wrong. The bench's float32 weights are quantized by the
// layer with ggml's reference quantizers; peers and float32 rows run the float32 weights.
import { QUANT_BLOCK, type QuantDtype, blockBytes, isQuant } from "../src/dtype";
import { blockScales, dequantizeMap } from "../src/kernels/quant";
import { quantizeQ4_0Blocks, quantizeQ8_0Blocks } from "../src/quant";
import type { QuantizedMaps } from "./peers/onnx-model";
import { type LayerWeights, isGated } from "./problem";
import type { Shape } from "./shapes";
import type { Contender } from "./contender";
import type { Problem } from "./problem";
import {
  ACTIVATION_REF,
  ALPHA32,
  ALPHA64,
  type CheckResult,
  LIPSCHITZ,
  type Reference,
  gamma,
} from "./reference";
import { findTokenwiseEntry, tokenwiseContender, withLayerOptions } from "./tokenwise";

/** The quantized dtype of a tokenwise row made by `--dtype`, or null. */
export function quantizedRow(c: Contender): QuantDtype | null {
  const host = c.host;
  if (host?.kind !== "tokenwise") return null;
  const dtype = host.options?.dtype;
  return typeof dtype === "string" && isQuant(dtype as never) ? (dtype as QuantDtype) : null;
}

/**
 * Checks a quantized row's outputs (one per layer, each layer alone on the problem's input)
 * against the js kernel's layers of the same dtype, bit for bit.
 */
export async function checkQuantized(
  outputs: readonly unknown[],
  problem: Problem,
  dtype: QuantDtype,
): Promise<CheckResult> {
  const { shape, variant } = problem;
  const entry = withLayerOptions(findTokenwiseEntry("js", variant.layer), dtype, { dtype });
  const oracle = tokenwiseContender(entry, 1, variant.activation);
  const base = {
    ok: false,
    rowsChecked: shape.tokens,
    totalRows: shape.tokens,
    maxAbsError: NaN,
    worstRatio: NaN,
  };
  for (let l = 0; l < problem.layers.length; l++) {
    const inst = await oracle.setup(shape, problem.layers[l] as Problem["weights"]);
    const want = (await inst.forward(problem.x)).slice();
    await inst.dispose?.();
    const got = outputs[l];
    if (!(got instanceof Float32Array) || got.length !== want.length) {
      return { ...base, reason: `layer ${l + 1}: not a Float32Array of ${want.length} values` };
    }
    const wantBits = new Uint32Array(want.buffer, want.byteOffset, want.length);
    const gotBits = new Uint32Array(got.buffer, got.byteOffset, got.length);
    for (let i = 0; i < want.length; i++) {
      if (gotBits[i] === wantBits[i]) continue;
      const e = Math.abs((got[i] as number) - (want[i] as number));
      return {
        ...base,
        maxAbsError: e,
        reason: `layer ${l + 1}: output ${i} is ${got[i]}, the js kernel's ${dtype} layer gives ${want[i]}`,
      };
    }
  }
  return { ...base, ok: true, maxAbsError: 0, worstRatio: 0, against: `js ${dtype}` };
}

/**
 * A map's ggml blocks of `dtype` from its float32 weights W (K, N) row-major: N rows (one per
 * output) of K / 32 blocks, each column quantized with ggml's reference quantizer, as a
 * tokenwise layer of that dtype quantizes them (the same bits).
 */
export function ggmlBlocks(w: Float32Array, K: number, N: number, dtype: QuantDtype): Uint8Array {
  const nb = K / QUANT_BLOCK;
  const bytes = blockBytes(dtype);
  const out = new Uint8Array(N * nb * bytes);
  const col = new Float32Array(K);
  const quantize = dtype === "q8_0" ? quantizeQ8_0Blocks : quantizeQ4_0Blocks;
  for (let j = 0; j < N; j++) {
    for (let k = 0; k < K; k++) col[k] = w[k * N + j] as number;
    quantize(out, j * nb * bytes, col, 0, nb);
  }
  return out;
}

/** A layer's maps as ggml blocks of `dtype`, in the layer's order (a peer's quantized model). */
export function quantizedMaps(shape: Shape, w: LayerWeights, dtype: QuantDtype): QuantizedMaps {
  const { dModel: D, dHidden: H } = shape;
  for (const [name, width] of [
    ["dModel", D],
    ["dHidden", H],
  ] as const) {
    if (width % 32 !== 0)
      throw new RangeError(
        `a ${dtype} model: ${name} = ${width} is not a multiple of 32, the block size (blocks run along each matrix's input dimension)`,
      );
  }
  const maps = isGated(w)
    ? [
        ggmlBlocks(w.wGate, D, H, dtype),
        ggmlBlocks(w.wUp, D, H, dtype),
        ggmlBlocks(w.wDown, H, D, dtype),
      ]
    : [ggmlBlocks(w.w1, D, H, dtype), ggmlBlocks(w.w2, H, D, dtype)];
  return { dtype, maps, scaleOf: (blocks) => blockScales(blocks, dtype) };
}

// ---- a quantized peer's check ------------------------------------------------------------------
//
// A peer running the same blocks (MatMulNBits, accuracy_level 4) computes with numerics of its
// own, not tokenwise's: it may quantize each token's activations to int8 per block of 32 (as
// llama.cpp does, with a rounding, a scale precision and an order of sums of its own) or, where
// its build has no such kernel, multiply the float32 activations by the dequantized weights. So
// it is checked against the float64 product of the activations with the blocks' dequantized
// weights Ŵ, within a bound that holds for either. For a map of K inputs, an input x whose block
// b (32 inputs) has largest magnitude A_b is read as x̂ with
//
//   |x̂_k − x_k| ≤ δ_k = A_b (1/2 + 2^-10) / 127
//
// (half a step of the scale A_b / 127; the 2^-10 covers a scale kept in float32 or in f16, whose
// rounding moves the step by at most 2^-11 of itself, and the float32 rounding of x_k / s; an
// unquantized input has δ = 0 <= δ_k). Then y_j = Σ_k x̂_k Ŵ_kj + b_j computed in float32 in any
// order (integer block sums times scales, or float products) is off from Σ_k x_k Ŵ_kj + b_j by
// at most
//
//   E_j = Σ_k |Ŵ_kj| δ_k + γ_{K+3} (Σ_k (|x_k| + δ_k) |Ŵ_kj| + |b_j|)
//
// and the next map's input carries its error on (activation and gate as in reference.ts: L,
// α), its block maxima taken with that error added. The float64 reference's own roundings get
// their γ twins (u = 2^-53) as in reference.ts.
const U32 = 2 ** -24;
const U64 = 2 ** -53;
const STEP = (0.5 + 2 ** -10) / 127;

/**
 * One quantized map for one token: y = p · Ŵ (+ b) in float64 into y, and into e the bound E_j
 * above given the input's own error ep (0 for the layer's input).
 */
function quantLinear(
  p: Float64Array,
  ep: Float64Array,
  w: Float32Array,
  b: Float32Array | null,
  K: number,
  N: number,
  y: Float64Array,
  e: Float64Array,
): void {
  const delta = new Float64Array(K);
  for (let blk = 0; blk < K; blk += QUANT_BLOCK) {
    let amax = 0;
    for (let k = blk; k < blk + QUANT_BLOCK; k++) {
      amax = Math.max(amax, Math.abs(p[k] as number) + (ep[k] as number));
    }
    delta.fill(amax * STEP, blk, blk + QUANT_BLOCK);
  }
  const abs = new Float64Array(N);
  const carry = new Float64Array(N);
  for (let j = 0; j < N; j++) {
    const bj = b === null ? 0 : (b[j] as number);
    y[j] = bj;
    abs[j] = Math.abs(bj);
  }
  for (let k = 0; k < K; k++) {
    const pk = p[k] as number;
    const c = Math.abs(pk) + (ep[k] as number) + (delta[k] as number);
    const d = (ep[k] as number) + (delta[k] as number);
    const off = k * N;
    for (let j = 0; j < N; j++) {
      const wv = w[off + j] as number;
      const aw = Math.abs(wv);
      y[j] = (y[j] as number) + pk * wv;
      abs[j] = (abs[j] as number) + c * aw;
      carry[j] = (carry[j] as number) + d * aw;
    }
  }
  const g = gamma(K + 3, U32) + gamma(K + 3, U64);
  for (let j = 0; j < N; j++) e[j] = (carry[j] as number) + g * (abs[j] as number);
}

/**
 * The float64 reference and bound of a quantized peer for the given rows of one layer of the
 * problem (see above): the layer's float32 weights quantized to `dtype` as tokenwise quantizes
 * them, then dequantized.
 */
export function quantPeerReference(
  problem: Problem,
  rows: number[],
  dtype: QuantDtype,
  layer = 0,
): Reference {
  const start = performance.now();
  const { shape } = problem;
  const { dModel: D, dHidden: H } = shape;
  const w = problem.layers[layer] as LayerWeights;
  const act = problem.variant.activation;
  const f = ACTIVATION_REF[act];
  const L = LIPSCHITZ[act];
  const a32 = ALPHA32[act] * U32;
  const a64 = ALPHA64[act] * U64;
  const q = quantizedMaps(shape, w, dtype);
  const Ks = isGated(w) ? [D, D, H] : [D, H];
  const Ns = isGated(w) ? [H, H, D] : [H, D];
  const ws = q.maps.map((m, i) => dequantizeMap(m, dtype, Ks[i] as number, Ns[i] as number));
  const expected = new Float64Array(rows.length * D);
  const bound = new Float64Array(rows.length * D);
  const x = new Float64Array(D);
  const zero = new Float64Array(D);
  const h = new Float64Array(H);
  const eh = new Float64Array(H);
  const v = new Float64Array(H);
  const ev = new Float64Array(H);
  const pa = new Float64Array(H);
  const ep = new Float64Array(H);
  const actError = (t: number, E: number) => L * E + a32 * (Math.abs(t) + E) + a64 * Math.abs(t);
  rows.forEach((r, n) => {
    for (let k = 0; k < D; k++) x[k] = problem.x[r * D + k] as number;
    const y = expected.subarray(n * D, (n + 1) * D);
    const yb = bound.subarray(n * D, (n + 1) * D);
    if (isGated(w)) {
      quantLinear(x, zero, ws[0] as Float32Array, null, D, H, h, eh);
      quantLinear(x, zero, ws[1] as Float32Array, null, D, H, v, ev);
      for (let i = 0; i < H; i++) {
        const gi = h[i] as number;
        const ai = f(gi);
        const Ea = actError(gi, eh[i] as number);
        const A = Math.abs(ai) + Ea;
        const V = Math.abs(v[i] as number) + (ev[i] as number);
        pa[i] = ai * (v[i] as number);
        ep[i] = A * (ev[i] as number) + V * Ea + (U32 + U64) * A * V;
      }
      quantLinear(pa, ep, ws[2] as Float32Array, null, H, D, y, yb);
    } else {
      quantLinear(x, zero, ws[0] as Float32Array, w.b1, D, H, h, eh);
      for (let i = 0; i < H; i++) {
        pa[i] = f(h[i] as number);
        ep[i] = actError(h[i] as number, eh[i] as number);
      }
      quantLinear(pa, ep, ws[1] as Float32Array, w.b2, H, D, y, yb);
    }
  });
  return { rows, expected, bound, ms: performance.now() - start };
}

/** The quantized dtype of a peer running quantized blocks (ort-web-q8_0, ort-web-q4_0), or null. */
export function quantizedPeer(c: Contender): QuantDtype | null {
  const host = c.host;
  if (host?.kind !== "peer") return null;
  const m = /-(q8_0|q4_0)$/.exec(host.name);
  return m === null ? null : (m[1] as QuantDtype);
}
