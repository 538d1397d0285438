// Fits a FeedForward layer (GELU) to a toy mapping with Adam, written out in a few lines, and
// prints the loss going down. Run it with `npm run example:train`, or for a quick look
// `npm run example:train -- --steps 100`.
//
// The mapping takes 4 numbers in [-1, 1] to 4: (x0·x1, sin(πx2), |x3|, x0 − x3). The loss is
// the mean squared error over a fresh batch of 64 tokens each step; backward() gives its
// gradients, Adam updates the weights, and the layer is rebuilt from them.
import { FeedForward, Random, matrix, type FeedForwardWeights, type Matrix } from "../../src/index";

const stepsArg = process.argv.indexOf("--steps");
const STEPS = stepsArg >= 0 ? Number(process.argv[stepsArg + 1]) : 1500;
if (!Number.isInteger(STEPS) || STEPS < 1) throw new Error(`--steps must be a positive integer`);
const BATCH = 64;
const D = 4;

const rng = new Random(2024);
function batch(): { x: Matrix; y: Matrix } {
  const x = new Float32Array(BATCH * D);
  const y = new Float32Array(BATCH * D);
  for (let t = 0; t < BATCH; t++) {
    const [a, b, c, d] = [0, 1, 2, 3].map(() => 2 * rng.float() - 1) as [
      number,
      number,
      number,
      number,
    ];
    x.set([a, b, c, d], t * D);
    y.set([a * b, Math.sin(Math.PI * c), Math.abs(d), a - d], t * D);
  }
  return { x: matrix(BATCH, D, x), y: matrix(BATCH, D, y) };
}

// Adam (Kingma and Ba): per weight, running means of the gradient and of its square.
function adam(weights: Float32Array[], lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
  const m = weights.map((w) => new Float64Array(w.length));
  const v = weights.map((w) => new Float64Array(w.length));
  let step = 0;
  return (grads: Float32Array[]) => {
    step++;
    weights.forEach((w, i) => {
      const [g, mi, vi] = [grads[i]!, m[i]!, v[i]!];
      for (let j = 0; j < w.length; j++) {
        mi[j] = beta1 * mi[j]! + (1 - beta1) * g[j]!;
        vi[j] = beta2 * vi[j]! + (1 - beta2) * g[j]! * g[j]!;
        const mHat = mi[j]! / (1 - beta1 ** step);
        const vHat = vi[j]! / (1 - beta2 ** step);
        w[j] = w[j]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    });
  };
}

let layer = new FeedForward({ dModel: D, dHidden: 32, seed: 1, activation: "gelu" });
const w: FeedForwardWeights = layer.weights; // a copy we own and update
const update = adam([w.w1.data, w.b1!, w.w2.data, w.b2!]);

let first = NaN;
let last = NaN;
for (let step = 0; step < STEPS; step++) {
  const { x, y } = batch();
  const out = layer.forward(x);
  // loss = mean((out − y)²); its gradient with respect to out is 2 (out − y) / n.
  const n = out.data.length;
  const dY = matrix(BATCH, D);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const e = out.data[i]! - y.data[i]!;
    loss += (e * e) / n;
    dY.data[i] = (2 * e) / n;
  }
  const g = layer.backward(x, dY);
  update([g.dW1.data, g.db1!, g.dW2.data, g.db2!]);
  layer.dispose();
  layer = FeedForward.fromWeights(w, { activation: "gelu" });

  if (step === 0) first = loss;
  last = loss;
  if (step % Math.max(1, Math.floor(STEPS / 10)) === 0 || step === STEPS - 1) {
    console.log(`step ${String(step).padStart(5)}  loss ${loss.toFixed(6)}`);
  }
}
console.log(`loss fell from ${first.toFixed(6)} to ${last.toFixed(6)} in ${STEPS} steps`);
