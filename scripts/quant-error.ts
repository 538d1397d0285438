// The error of quantized layers against the float32 layer on the same weights, for
// docs/numerics.md ("Quantized weights"): `npx tsx scripts/quant-error.ts`.
//
// The weights are synthetic but shaped like a trained transformer's: Student-t with 4 degrees of
// freedom (heavy tails: a few weights many times the typical one), scaled to a standard
// deviation of 0.02, as GPT-2's and LLaMA's feedforward matrices are; biases 0.02 too. The
// tokens are standard normal (a layer norm's output), with two channels 20 times larger, the
// activation outliers that large language models are known for. Shapes: GPT-2 small's
// FeedForward (768 x 3072, gelu) and a gated layer of the same widths (silu), 64 tokens.
//
// For each dtype it prints the relative RMS error (RMS of y_q - y over RMS of y) and the
// largest error over RMS of y, for the layer (weights and activations quantized) and for the
// float32 layer on the dequantized weights (the weights' share of the error).
import { FeedForward, GatedFeedForward } from "../src/index";
import { Random } from "../src/random";

const D = 768;
const H = 3072;
const T = 64;

function studentT(rng: Random, n: number, std: number): Float32Array {
  // t_4 = z / sqrt(chi2_4 / 4); its variance is 2, so divide by sqrt(2).
  const out = new Float32Array(n);
  const normal = () => {
    const u = Math.max(rng.float(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
  };
  for (let i = 0; i < n; i++) {
    let chi = 0;
    for (let j = 0; j < 4; j++) chi += normal() ** 2;
    out[i] = ((normal() / Math.sqrt(chi / 4)) * std) / Math.SQRT2;
  }
  return out;
}

function tokens(rng: Random): Float32Array {
  const x = new Float32Array(T * D);
  for (let i = 0; i < x.length; i++) {
    const u = Math.max(rng.float(), 1e-300);
    x[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.float());
    if (i % D === 5 || i % D === 400) x[i] = (x[i] as number) * 20;
  }
  return x;
}

function errors(y: Float32Array, yq: Float32Array): [number, number] {
  let e2 = 0;
  let r2 = 0;
  let emax = 0;
  for (let i = 0; i < y.length; i++) {
    const e = Math.abs((yq[i] as number) - (y[i] as number));
    e2 += e * e;
    r2 += (y[i] as number) ** 2;
    emax = Math.max(emax, e);
  }
  const rms = Math.sqrt(r2 / y.length);
  return [Math.sqrt(e2 / y.length) / rms, emax / rms];
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rng = new Random(2026);
const mat = (rows: number, cols: number) => ({
  rows,
  cols,
  data: studentT(rng, rows * cols, 0.02),
});
const ffn = {
  w1: mat(D, H),
  b1: studentT(rng, H, 0.02),
  w2: mat(H, D),
  b2: studentT(rng, D, 0.02),
};
const gated = { wGate: mat(D, H), wUp: mat(D, H), wDown: mat(H, D) };
const x = { rows: T, cols: D, data: tokens(rng) };

console.log(
  "| layer | dtype | relative RMS error | largest error / RMS | weights only: RMS | weights only: largest |",
);
console.log("|---|---|---|---|---|---|");
for (const [name, make] of [
  [
    "FeedForward 768 x 3072, gelu",
    (dtype: "f32" | "q8_0" | "q4_0") => FeedForward.fromWeights(ffn, { dtype, activation: "gelu" }),
  ],
  [
    "GatedFeedForward 768 x 3072, silu",
    (dtype: "f32" | "q8_0" | "q4_0") => GatedFeedForward.fromWeights(gated, { dtype }),
  ],
] as const) {
  const y = make("f32").forward(x).data;
  for (const dtype of ["q8_0", "q4_0"] as const) {
    const q = make(dtype);
    const [rms, max] = errors(y, q.forward(x).data);
    const deq =
      q instanceof FeedForward
        ? FeedForward.fromWeights(q.weights, { activation: "gelu" })
        : GatedFeedForward.fromWeights((q as GatedFeedForward).weights);
    const [wrms, wmax] = errors(y, deq.forward(x).data);
    console.log(`| ${name} | ${dtype} | ${pct(rms)} | ${pct(max)} | ${pct(wrms)} | ${pct(wmax)} |`);
  }
}
