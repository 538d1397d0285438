// `npm run bench -- --layer moe`: tokenwise's MixtureOfExperts beside the dense gated layer of
// its active size (one gated layer of k · dHidden, the work one token does), at one token (a
// decode step) and at 128, on one thread and two. Self-contained: its own timing loop (warm-up,
// interleaved repetitions, medians), its own shapes, a bitwise check that two threads give one
// thread's output, and a report in bench/results/moe.md. Peers composing the same layer from
// their matmuls are not here yet.
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { GatedFeedForward, type Matrix, MixtureOfExperts, matrix } from "../src/index";
import { expertsLayout } from "../src/kernels/wasm/experts";
import { quantile } from "./stats";

interface MoEShape {
  name: string;
  dModel: number;
  dHidden: number;
  experts: number;
  topK: number;
}

const SHAPES: MoEShape[] = [
  { name: "OLMoE-like", dModel: 2048, dHidden: 1024, experts: 64, topK: 8 },
  // Mixtral 8x7B is dModel 4096, dHidden 14336: 5.4 GiB of float32 experts, past wasm32's
  // 4 GiB memory. A quarter of its width keeps its 8 experts, top 2, and dHidden / dModel.
  { name: "Mixtral-like, 1/4 width", dModel: 1024, dHidden: 3584, experts: 8, topK: 2 },
];
const QUICK: MoEShape[] = [{ name: "quick", dModel: 64, dHidden: 32, experts: 8, topK: 2 }];

export interface MoEBenchOptions {
  quick: boolean;
  threads: readonly number[];
  reps: number;
  minRepMs: number;
  seed: number;
  out: string;
  log: (line: string) => void;
}

interface Timed {
  label: string;
  call: () => unknown;
  ms: number[];
}

/** Median ms per call of each, timed in interleaved repetitions of at least minRepMs each. */
function timeAll(all: Timed[], reps: number, minRepMs: number): void {
  for (const t of all) t.call(); // warm-up (and the first call of a pool starts its workers)
  for (let r = 0; r < reps; r++) {
    for (const t of all) {
      let n = 0;
      const start = performance.now();
      let now = start;
      do {
        t.call();
        n++;
        now = performance.now();
      } while (now - start < minRepMs);
      t.ms.push((now - start) / n);
    }
  }
}

const median = (ms: number[]) =>
  quantile(
    [...ms].sort((a, b) => a - b),
    0.5,
  );

function tokens(T: number, d: number, seed: number): Matrix {
  let s = seed >>> 0 || 1;
  const data = new Float32Array(T * d);
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return matrix(T, d, data);
}

/** Runs the mixture bench; returns 1 if two threads ever differ from one. */
export async function runMoEBench(o: MoEBenchOptions): Promise<number> {
  const rows: string[] = [];
  let broken = 0;
  const load = loadavg().map((v) => v.toFixed(1));
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), load average ${load.join(", ")} at the start (a busy machine slows every row, and two threads most)`;
  for (const s of o.quick ? QUICK : SHAPES) {
    const { dModel: d, dHidden: h, experts: E, topK: k } = s;
    const weightBytes = 4 * (E * 3 * d * h + d * E);
    const memoryBytes = expertsLayout(
      Array.from({ length: E }, () => ({
        dModel: d,
        dHidden: h,
        expand: 2,
        hasBias: false,
        activation: "silu" as const,
        dtype: "f32" as const,
      })),
      false,
    ).bytes;
    o.log(`${s.name}: dModel ${d}, ${E} experts of dHidden ${h}, top ${k}: building`);
    const base = { dModel: d, dHidden: h, experts: E, topK: k, seed: o.seed };
    const moe = new Map<number, MixtureOfExperts>();
    for (const t of o.threads) moe.set(t, await MixtureOfExperts.create({ ...base, threads: t }));
    const dense = await GatedFeedForward.create({
      dModel: d,
      dHidden: k * h,
      seed: o.seed,
      threads: 1,
    });
    for (const T of [1, 128]) {
      const x = tokens(T, d, o.seed + T);
      const out = matrix(T, d);
      const want = (moe.get(o.threads[0]!) as MixtureOfExperts).forward(x).data.slice();
      for (const [t, l] of moe) {
        const got = l.forward(x).data;
        if (!got.every((v, i) => Object.is(v, want[i]))) {
          o.log(`  ${t} threads differ from ${o.threads[0]} at ${T} tokens`);
          broken++;
        }
      }
      const all: Timed[] = [
        ...[...moe].map(([t, l]) => ({
          label: `MixtureOfExperts, ${t} thread${t > 1 ? "s" : ""}`,
          call: () => l.forward(x, out),
          ms: [],
        })),
        {
          label: `dense gated, dHidden ${k} x ${h}, 1 thread`,
          call: () => dense.forward(x, out),
          ms: [],
        },
      ];
      timeAll(all, o.reps, o.minRepMs);
      const flops = 6 * T * d * h * k + 2 * T * d * E; // the chosen experts and the router
      const denseMs = median(all.at(-1)!.ms);
      for (const t of all) {
        const ms = median(t.ms);
        const gflops = flops / ms / 1e6;
        rows.push(
          `| ${s.name} | ${T} | ${t.label} | ${ms.toFixed(3)} | ${gflops.toFixed(1)} | ${(ms / denseMs).toFixed(2)}x |`,
        );
        o.log(`  T ${T}: ${t.label}: ${ms.toFixed(3)} ms, ${gflops.toFixed(1)} GFLOP/s`);
      }
    }
    rows.push(
      `| ${s.name} | | WebAssembly memory / weights | ${(memoryBytes / 2 ** 20).toFixed(1)} MiB / ${(weightBytes / 2 ** 20).toFixed(1)} MiB | | ${(memoryBytes / weightBytes).toFixed(3)}x |`,
    );
    for (const l of moe.values()) l.dispose();
    dense.dispose();
  }
  const text = [
    "# Mixture of experts",
    "",
    `\`npm run bench -- --layer moe${o.quick ? " --quick" : ""}\`, seed ${o.seed}, ${o.reps} repetitions of at least ${o.minRepMs} ms, medians. GFLOP/s count the chosen experts' 6·T·dModel·dHidden·k and the router's 2·T·dModel·E. The last column is the time against the dense gated layer of the active size.`,
    "",
    `Machine: ${machine}, Node ${process.version}.`,
    "",
    "| shape | tokens | contender | ms / call | GFLOP/s | vs dense |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
  const path = join(o.out, o.quick ? "moe-quick.md" : "moe.md");
  writeFileSync(path, text);
  o.log(`wrote ${path}`);
  process.stdout.write(`\n${text}\n`);
  return broken > 0 ? 1 : 0;
}
