// The main job: one FeedForward layer at GPT-2 small widths on a batch of tokens, timed, and a
// check that every token was processed on its own. Runs against the built package:
//
//   npm run build && node scripts/demo.mjs [--tokens=64] [--kernel=auto]
//
// Exits with status 1 if a token's output depends on the rest of its batch.
import { distProblem } from "./built.mjs";

const dist = new URL("../dist/index.js", import.meta.url);
const problem = distProblem();
if (problem !== null) {
  console.error(`${problem}: run \`npm run build\` first (npm run demo does).`);
  process.exit(2);
}
const { FeedForward, Random, matrix, row } = await import(dist.href);

const arg = (name, fallback) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const tokens = Number(arg("tokens", "64"));
const kernel = arg("kernel", "auto");
if (!Number.isSafeInteger(tokens) || tokens < 2) {
  console.error(`--tokens must be an integer of at least 2, got ${arg("tokens")}`);
  process.exit(2);
}

const dModel = 768;
const dHidden = 3072;
const seed = 42;
const options = { dModel, dHidden, seed, kernel };
// FeedForward.create is the way to a kernel that needs instantiating (WebAssembly).
const ffn =
  typeof FeedForward.create === "function"
    ? await FeedForward.create(options)
    : new FeedForward(options);

const rng = new Random(1);
const x = matrix(tokens, dModel, rng.fillUniform(new Float32Array(tokens * dModel), 1));

// The first call is timed on its own; the figures quoted are those of warm calls after it.
let t0 = performance.now();
let y = ffn.forward(x);
const first = performance.now() - t0;
const runs = 9;
const times = [];
for (let r = 0; r < runs; r++) {
  t0 = performance.now();
  y = ffn.forward(x);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[(runs - 1) / 2];

const sameBits = (a, b) => {
  const x32 = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y32 = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x32.length === y32.length && x32.every((v, i) => v === y32[i]);
};

// 1. a few tokens alone, through forwardToken
const picks = [0, 1, Math.floor(tokens / 3), Math.floor(tokens / 2), tokens - 2, tokens - 1];
const alone = picks.every((i) => sameBits(ffn.forwardToken(row(x, i)), row(y, i)));

// 2. the whole batch shuffled: each row follows its token
const perm = Array.from({ length: tokens }, (_, i) => i);
for (let i = tokens - 1; i > 0; i--) {
  const j = rng.uint32() % (i + 1);
  [perm[i], perm[j]] = [perm[j], perm[i]];
}
const shuffled = matrix(tokens, dModel);
perm.forEach((from, to) => shuffled.data.set(row(x, from), to * dModel));
const ys = ffn.forward(shuffled);
const followed = perm.every((from, to) => sameBits(row(ys, to), row(y, from)));

// 3. one token among strangers: every other row replaced by new random values
const i = Math.floor(tokens / 2);
const strangers = matrix(tokens, dModel, rng.fillUniform(new Float32Array(tokens * dModel), 3));
strangers.data.set(row(x, i), i * dModel);
const unmoved = sameBits(row(ffn.forward(strangers), i), row(y, i));

const yes = (ok) => (ok ? "yes" : "NO");
const flops = 2 * 2 * tokens * dModel * dHidden;
console.log(`tokenwise demo: one feedforward layer at GPT-2 small widths`);
console.log(
  `  layer   dModel ${dModel}, dHidden ${dHidden}, ${ffn.parameterCount.toLocaleString("en")} parameters, seed ${seed}, kernel ${ffn.kernel}, ${ffn.threads ?? 1} thread${(ffn.threads ?? 1) > 1 ? "s" : ""}`,
);
console.log(`  input   ${x.rows} x ${x.cols} (${tokens} tokens)`);
console.log(`  output  ${y.rows} x ${y.cols}`);
console.log(
  `  time    ${median.toFixed(1)} ms for the batch, ${(median / tokens).toFixed(2)} ms per token, ${(flops / median / 1e6).toFixed(1)} GFLOP/s: warm, the median of ${runs} calls (${times[0].toFixed(1)} to ${times[runs - 1].toFixed(1)} ms)`,
);
console.log(`          the first call, before them: ${first.toFixed(1)} ms`);
console.log(`  each token on its own, bit for bit:`);
const checks = [
  [`${picks.length} tokens alone (forwardToken) as in the batch`, alone],
  [`the batch shuffled: each row follows its token`, followed],
  [`token ${i} with every other row replaced`, unmoved],
];
for (const [what, ok] of checks) console.log(`    ${what.padEnd(50)}${yes(ok)}`);
const ok = alone && followed && unmoved;
console.log(`  bitwise identical: ${yes(ok)}`);
ffn.dispose();
process.exit(ok ? 0 : 1);
