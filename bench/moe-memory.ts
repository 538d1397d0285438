// The mixture bench's memory reading (bench/moe.ts): what a MixtureOfExperts holds, measured as
// the process's resident memory, against its float32 weight bytes. Each shape runs in a child
// process of its own: the child settles, takes its resident set as the baseline, builds a seeded
// mixture on one thread (a seeded layer draws each row of weights straight into its packed
// memory, so no other copy of the weights exists to be counted), runs it on 128 tokens and on
// one, and reports the peak resident set over the baseline (VmHWM, reset at the baseline) and
// the resident set after a collection. The input and output are allocated before the baseline.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MixtureOfExperts, matrix } from "../src/index";
import { procStatus, resetPeak, settle } from "./memory";
import type { MoEShape } from "./moe-problem";

/** A mixture's resident memory, bytes over the child's baseline, and its weight bytes. */
export interface MoEMemory {
  /** Float32 bytes of the experts' weights and the router. */
  weightBytes: number;
  /** The peak resident set from the baseline to the end (building, running, collecting), over it. */
  peak: number;
  /** The resident set after the runs and a collection, over the baseline. */
  after: number;
}

/** Float32 bytes of a shape's weights: every expert's three maps and the router. */
export function moeWeightBytes(s: MoEShape): number {
  return 4 * (s.experts * 3 * s.dModel * s.dHidden + s.dModel * s.experts);
}

function status(): { hwm: number; rss: number } {
  const s = procStatus();
  if (s === null) throw new Error("moe-memory: needs /proc/self/status (Linux)");
  return s;
}

/** In the child: one shape, measured. */
async function child(s: MoEShape, tokens: number): Promise<MoEMemory> {
  // Compile the kernel's module and warm the layer's code on a tiny mixture first.
  new MixtureOfExperts({ dModel: 4, dHidden: 4, experts: 2, topK: 1 }).dispose();
  const x = matrix(tokens, s.dModel, new Float32Array(tokens * s.dModel).fill(0.25));
  const out = matrix(tokens, s.dModel);
  const token = new Float32Array(s.dModel).fill(0.5);
  const tokenOut = new Float32Array(s.dModel);
  await settle();
  if (!resetPeak()) throw new Error("moe-memory: cannot reset the peak (/proc/self/clear_refs)");
  const base = status().rss;
  const moe = new MixtureOfExperts({
    dModel: s.dModel,
    dHidden: s.dHidden,
    experts: s.experts,
    topK: s.topK,
    normalize: s.normalize,
    seed: 1,
  });
  moe.forward(x, out);
  moe.forwardToken(token, tokenOut);
  await settle();
  const { hwm, rss } = status();
  moe.dispose();
  return { weightBytes: moeWeightBytes(s), peak: hwm - base, after: rss - base };
}

/** Measures a shape in a child process of its own (Linux; throws elsewhere). */
export function measureMoEMemory(s: MoEShape, tokens: number): MoEMemory {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", self, "--child", JSON.stringify(s), String(tokens)],
    { encoding: "utf8", maxBuffer: 2 ** 20 },
  );
  if (r.status !== 0) throw new Error(`moe-memory child (${s.name}) failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as MoEMemory;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--child") {
  const s = JSON.parse(process.argv[3] as string) as MoEShape;
  child(s, Number(process.argv[4]))
    .then((m) => console.log(JSON.stringify(m)))
    .catch((e: unknown) => {
      console.error(e);
      process.exit(1);
    });
}
