// `npm run bench -- --layer moe`: tokenwise's MixtureOfExperts beside the dense gated layer of
// its active size (one gated layer of k · dHidden, the work one token does), at one token (a
// decode step) and at 128, on one thread and two, and beside peers that compose the same
// mixture from their own ops (bench/peers/moe.ts). Self-contained: its own timing loop (warm-up,
// interleaved repetitions, medians), its own shapes and problem (bench/moe-problem.ts: tokens
// drawn so that no near-tie in the routing lets a float32 router pick another expert), a check
// of every contender against the float64 mixture within its derived bound before it is timed,
// a bitwise check that two threads give one thread's output, and a report, moe.md.
//
// The peers are timed one at a time, each in repetitions interleaved with tokenwise's
// one-thread mixture (a peer holds its own copy of the weights: 1.6 GB at OLMoE's widths, so
// they are not all held at once); their column is the peer's time over tokenwise's in that
// segment.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { GatedFeedForward, type Matrix, MixtureOfExperts, matrix } from "../src/index";
import { expertsLayout } from "../src/kernels/wasm/experts";
import {
  type MoEProblem,
  type MoEShape,
  TIE_MARGIN,
  checkMoE,
  makeMoEProblem,
  moeReference,
  moeRows,
  moeWeights,
} from "./moe-problem";
import { gitState } from "./machine";
import { COMPOSED } from "./moe-composed";
import { measureMoEMemory, moeWeightBytes } from "./moe-memory";
import { DEFAULT_PEERS_DIR, nodePeers } from "./peers/index";
import { MOE_PEERS, type MoEPeer, loadMoEPeer } from "./peers/moe";
import { quantile } from "./stats";

const SHAPES: MoEShape[] = [
  { name: "OLMoE-like", dModel: 2048, dHidden: 1024, experts: 64, topK: 8, normalize: false },
  // Mixtral 8x7B is dModel 4096, dHidden 14336: 5.4 GiB of float32 experts, past wasm32's
  // 4 GiB memory. A quarter of its width keeps its 8 experts, top 2, and dHidden / dModel.
  {
    name: "Mixtral-like, 1/4 width",
    dModel: 1024,
    dHidden: 3584,
    experts: 8,
    topK: 2,
    normalize: true,
  },
];
const QUICK: MoEShape[] = [
  { name: "quick", dModel: 64, dHidden: 32, experts: 8, topK: 2, normalize: true },
];

export interface MoEBenchOptions {
  quick: boolean;
  threads: readonly number[];
  /** Peer names (MOE_PEERS, or the composed fixtures); default all of MOE_PEERS (the composed ones in --quick). */
  peers?: readonly string[] | undefined;
  peersDir?: string | undefined;
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
async function timeAll(all: Timed[], reps: number, minRepMs: number): Promise<void> {
  const once = async (t: Timed) => {
    const r = t.call();
    if (r instanceof Promise) await r;
  };
  for (const t of all) await once(t); // warm-up (and the first call of a pool starts its workers)
  for (let r = 0; r < reps; r++) {
    for (const t of all) {
      let n = 0;
      const start = performance.now();
      let now = start;
      do {
        await once(t);
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

const m = (rows: number, cols: number, data: Float32Array): Matrix => matrix(rows, cols, data);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Runs the mixture bench; returns 1 if tokenwise fails its check or two threads ever differ. */
export async function runMoEBench(o: MoEBenchOptions): Promise<number> {
  const rows: string[] = [];
  const notes: string[] = [];
  let broken = 0;
  const load = loadavg().map((v) => v.toFixed(1));
  const git = gitState(process.cwd());
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), load average ${load.join(", ")} at the start (a busy machine slows every row, and two threads most)`;
  const peerNames = o.peers ?? (o.quick ? [...COMPOSED] : [...MOE_PEERS]);
  const ctx = nodePeers(o.peersDir ?? DEFAULT_PEERS_DIR);
  const token = o.quick ? [1, 5] : [1, 128];
  const t1 = o.threads[0] as number;
  for (const s of o.quick ? QUICK : SHAPES) {
    const { dModel: d, dHidden: h, experts: E, topK: k, normalize } = s;
    const weightBytes = moeWeightBytes(s);
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
    const w = moeWeights(s, o.seed);
    const problems = new Map<number, MoEProblem>();
    for (const T of token) problems.set(T, makeMoEProblem(s, T, o.seed, w));
    const refs = new Map([...problems].map(([T, p]) => [T, moeReference(p, moeRows(T))]));
    const minGap = Math.min(...[...refs.values()].map((r) => r.minGap));
    notes.push(
      `${s.name}: ${normalize ? "weights renormalised over the chosen k (Mixtral)" : "weights as scored (OLMoE)"}; every token's k-th and (k+1)-th logits are ${minGap.toFixed(1)} times (at least ${TIE_MARGIN}) what float32 logits and softmax could close, so every correct contender picks the same experts.`,
    );
    const weights = {
      router: m(d, E, w.router),
      experts: w.experts.map((x) => ({
        wGate: m(d, h, x.wGate),
        wUp: m(d, h, x.wUp),
        wDown: m(h, d, x.wDown),
      })),
    };
    const moe = new Map<number, MixtureOfExperts>();
    for (const t of o.threads) {
      moe.set(t, await MixtureOfExperts.create({ weights, topK: k, normalize, threads: t }));
    }
    const dense = await GatedFeedForward.create({
      dModel: d,
      dHidden: k * h,
      seed: o.seed,
      threads: 1,
    });
    const flops = (T: number) => 6 * T * d * h * k + 2 * T * d * E; // the chosen experts, the router
    const gf = (T: number, ms: number) => (flops(T) / ms / 1e6).toFixed(1);
    const outs = new Map<number, Matrix>(token.map((T) => [T, matrix(T, d)]));
    for (const T of token) {
      const p = problems.get(T) as MoEProblem;
      const ref = refs.get(T) as ReturnType<typeof moeReference>;
      const x = matrix(T, d, p.x);
      const out = outs.get(T) as Matrix;
      const want = (moe.get(t1) as MixtureOfExperts).forward(x).data.slice();
      const c = checkMoE(want, p, ref);
      if (!c.ok) {
        o.log(`  tokenwise fails the check at ${T} tokens: ${c.reason}`);
        broken++;
      }
      for (const [t, l] of moe) {
        const got = l.forward(x).data;
        if (!got.every((v, i) => Object.is(v, want[i]))) {
          o.log(`  ${t} threads differ from ${t1} at ${T} tokens`);
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
      await timeAll(all, o.reps, o.minRepMs);
      const denseMs = median(all.at(-1)!.ms);
      for (const t of all) {
        const ms = median(t.ms);
        const check = t.label.startsWith("dense") ? "" : `${c.worstRatio.toExponential(1)}`;
        rows.push(
          `| ${s.name} | ${T} | ${t.label} | ${check} | ${ms.toFixed(3)} | ${gf(T, ms)} | ${(ms / denseMs).toFixed(2)}x | |`,
        );
        o.log(`  T ${T}: ${t.label}: ${ms.toFixed(3)} ms, ${gf(T, ms)} GFLOP/s`);
      }
    }
    for (const [t, l] of moe) if (t !== t1) l.dispose();
    dense.dispose();
    const ours = moe.get(t1) as MixtureOfExperts;
    for (const name of peerNames) {
      let peer: MoEPeer;
      let inst: Awaited<ReturnType<MoEPeer["setup"]>>;
      try {
        peer = await loadMoEPeer(ctx, name);
        o.log(`  ${peer.id}: setting up`);
        inst = await peer.setup({ shape: s, ...w });
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        o.log(`  ${name}: unavailable: ${why}`);
        rows.push(`| ${s.name} | | ${name}: unavailable: ${why.split("\n")[0]} | | | | | |`);
        continue;
      }
      try {
        for (const T of token) {
          const p = problems.get(T) as MoEProblem;
          const x = matrix(T, d, p.x);
          const out = outs.get(T) as Matrix;
          const c = checkMoE(
            (await inst.forward(p.x, T)).slice(),
            p,
            refs.get(T) as ReturnType<typeof moeReference>,
          );
          if (!c.ok) {
            o.log(`  T ${T}: ${peer.id}: fails the check, not timed: ${c.reason}`);
            rows.push(`| ${s.name} | ${T} | ${peer.id} | fails: ${c.reason} | | | | |`);
            continue;
          }
          const all: Timed[] = [
            { label: peer.id, call: () => inst.forward(p.x, T), ms: [] },
            { label: "MixtureOfExperts", call: () => ours.forward(x, out), ms: [] },
          ];
          await timeAll(all, o.reps, o.minRepMs);
          const [pm, om] = [median(all[0]!.ms), median(all[1]!.ms)];
          rows.push(
            `| ${s.name} | ${T} | ${peer.id} (${peer.library}) | ${c.worstRatio.toExponential(1)} | ${pm.toFixed(3)} | ${gf(T, pm)} | | ${(pm / om).toFixed(2)}x |`,
          );
          o.log(
            `  T ${T}: ${peer.id}: ${pm.toFixed(3)} ms, ${gf(T, pm)} GFLOP/s, ${(pm / om).toFixed(2)}x tokenwise's ${om.toFixed(3)} ms`,
          );
        }
      } finally {
        await inst.dispose();
      }
    }
    ours.dispose();
    rows.push(
      `| ${s.name} | | WebAssembly memory / weights | | ${mib(memoryBytes)} MiB / ${mib(weightBytes)} MiB | | ${(memoryBytes / weightBytes).toFixed(3)}x | |`,
    );
    try {
      const r = measureMoEMemory(s, token.at(-1) as number);
      for (const [what, bytes] of [
        ["peak", r.peak],
        ["after", r.after],
      ] as const) {
        rows.push(
          `| ${s.name} | | resident memory (${what}, measured) / weights | | ${mib(bytes)} MiB / ${mib(weightBytes)} MiB | | ${(bytes / weightBytes).toFixed(3)}x | |`,
        );
      }
      o.log(`  resident memory: peak ${mib(r.peak)} MiB, after ${mib(r.after)} MiB`);
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
      rows.push(`| ${s.name} | | resident memory: not measured: ${why} | | | | | |`);
    }
  }
  const text = [
    "# Mixture of experts",
    "",
    `\`npm run bench -- --layer moe${o.quick ? " --quick" : ""}\`, seed ${o.seed}, ${o.reps} repetitions of at least ${o.minRepMs} ms, medians. GFLOP/s count the chosen experts' 6·T·dModel·dHidden·k and the router's 2·T·dModel·E. "Resident memory" is a seeded mixture's, measured in a child process of its own (bench/moe-memory.ts: the peak while it is built and run on ${token.at(-1)} tokens and on one, and the resident set after, each over the child's baseline); "WebAssembly memory" is the kernel's memory as laid out. "check" is the largest |y − y_ref| / bound over the checked rows (at most 1 passes; bench/moe-problem.ts derives the bound). "vs dense" is the time against the dense gated layer of the active size; "vs tokenwise" a peer's time against tokenwise's one-thread mixture, timed interleaved with it.`,
    "",
    `Machine: ${machine}, Node ${process.version}. ${git === null ? "Not in a git work tree." : `Commit ${git.commit}${git.dirty ? ", with uncommitted changes (the commit alone does not reproduce the run)" : ""}.`}`,
    "",
    ...notes.map((n) => `- ${n}`),
    "",
    "| shape | tokens | contender | check | ms / call | GFLOP/s | vs dense | vs tokenwise |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
  const path = join(o.out, o.quick ? "moe-quick.md" : "moe.md");
  mkdirSync(o.out, { recursive: true });
  writeFileSync(path, text);
  o.log(`wrote ${path}`);
  process.stdout.write(`\n${text}\n`);
  return broken > 0 ? 1 : 0;
}
