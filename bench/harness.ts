// The measuring loop. For each shape: build the problem, compute the float64 reference, set up
// every contender (weights loaded, untimed), check each one's first output against the reference,
// warm up, then time interleaved repetitions (A B C A B C ...) so drift hits every contender alike.
// Afterwards, optionally, measure each contender's peak resident memory in a process of its own.
import type { Contender, Group, Unavailable } from "./contender";
import { HostedRunner, measureMemory } from "./hosted";
import type { MemoryReading } from "./host";
import type { PeerStatus } from "./peers/index";
import { type Variant, flopsFormula, matricesOf } from "./layer";
import { makeProblem } from "./problem";
import { type CheckResult, checkOutput, chooseRows, computeReference } from "./reference";
import { RoofProbe, type ShapeRoof } from "./roof";
import { LocalRunner, type Runner } from "./runner";
import { type Shape, describeShape, flopsOf, weightBytesOf } from "./shapes";
import { quantile } from "./stats";

/** Quiet time before each timed repetition, ms (see the interleaved loop). */
const SETTLE_MS = 20;
/** Each of the roof's two probes runs this long a round (less with a shorter minRepMs). */
const ROOF_REP_MS = 100;

export interface HarnessSettings {
  /** Timed repetitions of each contender (fewer for one too slow for the budget, never under minReps). */
  reps: number;
  minReps: number;
  /** Warm-up time per contender before timing, ms (at least one call after the check call). */
  warmupMs: number;
  /** Each repetition runs enough back-to-back calls to last this long, ms. */
  minRepMs: number;
  /** Time budget of one contender's repetitions at one shape, ms. */
  budgetMs: number;
  seed: number;
  memory: boolean;
  peersDir: string;
  /** Rows are all checked while the float64 reference costs at most this many multiply-adds. */
  checkBudget: number;
  /** The layer benched and its activation. */
  variant: Variant;
  /** Measure each shape's one-thread roof in its rounds (bench/roof.ts); default true. */
  roof?: boolean;
}

export interface TimingResult {
  reps: number;
  callsPerRep: number;
  /** Milliseconds per call of each repetition, in the order they ran. */
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  q1Ms: number;
  q3Ms: number;
  /** GFLOP/s at the median time, and at the slowest and fastest repetitions. */
  gflops: number;
  gflopsSlowest: number;
  gflopsFastest: number;
  msPerToken: number;
  warmupCalls: number;
}

export interface MemoryResult extends MemoryReading {
  /** runPeakRss minus Node's baseline measured the same way: what the contender holds running. */
  extra: number | null;
  /** extra / the layer's float32 weight bytes. */
  extraOverWeights: number | null;
}

export interface Ratio {
  /** GFLOP/s over the best peer's at the same thread count in this run (null: no peer ran). */
  bestPeer: number | null;
  bestPeerId: string | null;
  /** The same over the best portable (JavaScript or WebAssembly) peer. */
  bestPortable: number | null;
  bestPortableId: string | null;
  /** GFLOP/s over the same contender's on one thread (null at one thread, or when absent). */
  overOneThread: number | null;
}

export type Status = "ok" | "wrong" | "failed" | "unavailable";

export interface ContenderResult {
  id: string;
  label: string;
  group: Group;
  threads: number;
  native: boolean;
  library: string | null;
  status: Status;
  reason?: string;
  setupMs?: number;
  firstCallMs?: number;
  check?: CheckResult;
  timing?: TimingResult;
  ratio?: Ratio;
  memory?: MemoryResult | { error: string };
}

export interface ShapeReport extends Shape {
  /** "ffn" or "gated", and the activation (repeated from the settings, for a reader of one shape). */
  layer: Variant["layer"];
  activation: Variant["activation"];
  /** How GFLOP/s are counted: "4·T·dModel·dHidden" (ffn) or "6·T·dModel·dHidden" (gated). */
  flopsFormula: string;
  gflopPerForward: number;
  weightBytes: number;
  reference: { rows: number[]; rowsChecked: number; totalRows: number; ms: number };
  baselineMemory?: MemoryReading | { error: string };
  results: ContenderResult[];
  /** The one-thread roof, measured in the same rounds as the contenders. */
  roof?: ShapeRoof;
}

export interface HarnessResult {
  shapes: ShapeReport[];
  peers: PeerStatus[];
}

function isUnavailable(c: Contender | Unavailable): c is Unavailable {
  return "reason" in c;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const ORDER: Record<Group, number> = { tokenwise: 0, custom: 1, peer: 2, floor: 3 };

interface Live {
  contender: Contender;
  result: ContenderResult;
  runner: Runner;
  perCallMs: number;
  calls: number;
  reps: number;
  warmupCalls: number;
}

function fmtRatio(v: number): string {
  return v >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(1);
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}

async function runShape(
  shape: Shape,
  contenders: readonly (Contender | Unavailable)[],
  s: HarnessSettings,
  log: (line: string) => void,
): Promise<ShapeReport> {
  const { variant } = s;
  const flops = flopsOf(shape, variant.layer);
  const tag = `[${shape.name}]`;
  log(`${describeShape(shape)}: ${(flops / 1e9).toFixed(3)} GFLOP per forward`);
  const problem = makeProblem(shape, s.seed, variant);
  const ref = computeReference(
    problem,
    chooseRows(
      shape.tokens,
      shape.dModel,
      shape.dHidden,
      s.checkBudget,
      4,
      matricesOf(variant.layer),
    ),
  );
  log(
    `${tag} float64 reference: ${ref.rows.length === shape.tokens ? "all" : `${ref.rows.length} of`} ${shape.tokens} rows, ${fmtMs(ref.ms)}`,
  );

  const results: ContenderResult[] = [];
  const live: Live[] = [];
  for (const c of contenders) {
    const base = {
      id: c.id,
      label: c.label,
      group: c.group,
      threads: c.threads,
      native: !isUnavailable(c) && c.native === true,
      library: isUnavailable(c) ? null : (c.library ?? null),
    };
    if (isUnavailable(c)) {
      results.push({ ...base, status: "unavailable", reason: c.reason });
      continue;
    }
    const result: ContenderResult = { ...base, status: "failed" };
    results.push(result);
    let runner: Runner;
    try {
      const start = performance.now();
      if (c.isolate && c.host !== undefined) {
        runner = await HostedRunner.start(c.host, shape, s.seed, s.peersDir, variant);
      } else {
        runner = new LocalRunner(await c.setup(shape, problem.weights), problem.x);
      }
      result.setupMs = performance.now() - start;
    } catch (e) {
      result.reason = `setup failed: ${message(e)}`;
      log(`${tag} ${c.label}: ${result.reason}`);
      continue;
    }
    try {
      const { output, ms } = await runner.first();
      result.firstCallMs = ms;
      result.check = checkOutput(output, problem, ref);
    } catch (e) {
      result.reason = `forward failed: ${message(e)}`;
      log(`${tag} ${c.label}: ${result.reason}`);
      await runner.dispose().catch(() => {});
      continue;
    }
    if (!result.check.ok) {
      result.status = "wrong";
      result.reason = result.check.reason ?? "output outside the error bound";
      log(`${tag} ${c.label}: WRONG, not timed: ${result.reason}`);
      await runner.dispose().catch(() => {});
      continue;
    }
    result.status = "ok";
    log(
      `${tag} ${c.label}: correct (worst error ${fmtRatio(result.check.worstRatio)} of the bound), setup ${fmtMs(result.setupMs ?? 0)}, first call ${fmtMs(result.firstCallMs ?? 0)}`,
    );
    live.push({
      contender: c,
      result,
      runner,
      perCallMs: result.firstCallMs ?? 0,
      calls: 1,
      reps: s.reps,
      warmupCalls: 0,
    });
  }

  // Warm-up: each contender runs until warmupMs have passed (at least one call beyond the
  // check), which also tells how many calls one repetition needs to last minRepMs.
  for (const l of live) {
    try {
      let spent = 0;
      let n = 0;
      do {
        l.perCallMs = await l.runner.time(1);
        spent += l.perCallMs;
        n++;
      } while (spent < s.warmupMs && n < 1000);
      l.warmupCalls = n;
      l.calls = Math.max(1, Math.min(10_000, Math.ceil(s.minRepMs / Math.max(l.perCallMs, 1e-3))));
      const repMs = l.calls * l.perCallMs;
      l.reps = Math.min(
        s.reps,
        Math.max(s.minReps, Math.floor(s.budgetMs / Math.max(repMs, 1e-3))),
      );
      if (l.reps < s.reps)
        log(
          `${tag} ${l.contender.label}: ${fmtMs(repMs)} a call, so ${l.reps} repetitions, not ${s.reps}`,
        );
    } catch (e) {
      l.result.status = "failed";
      l.result.reason = `forward failed in warm-up: ${message(e)}`;
      log(`${tag} ${l.contender.label}: ${l.result.reason}`);
    }
  }

  // Interleaved repetitions. A contender with fewer reps takes part in rounds spread evenly.
  // The roof takes a repetition in every round too, so it is measured under the same load.
  const probe =
    s.roof === false ? undefined : await RoofProbe.create(weightBytesOf(shape, variant.layer));
  const samples = new Map<Live, number[]>(live.map((l) => [l, []]));
  for (let r = 0; r < s.reps; r++) {
    const start = performance.now();
    if (probe !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      probe.repetition(Math.min(s.minRepMs, ROOF_REP_MS));
    }
    for (const l of live) {
      if (l.result.status !== "ok") continue;
      if (Math.floor(((r + 1) * l.reps) / s.reps) === Math.floor((r * l.reps) / s.reps)) continue;
      try {
        // Untimed quiet first: the thread pools of the contender just timed (onnxruntime's,
        // ours) poll for a while after their last call, and would take cores from this one.
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        samples.get(l)?.push(await l.runner.time(l.calls));
      } catch (e) {
        l.result.status = "failed";
        l.result.reason = `forward failed while timed: ${message(e)}`;
        log(`${tag} ${l.contender.label}: ${l.result.reason}`);
      }
    }
    if (s.reps > 1)
      log(`${tag} repetition ${r + 1}/${s.reps} done in ${fmtMs(performance.now() - start)}`);
  }
  for (const l of live) {
    await l.runner.dispose().catch(() => {});
    const ms = samples.get(l) ?? [];
    if (l.result.status !== "ok" || ms.length === 0) continue;
    const sorted = [...ms].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    l.result.timing = {
      reps: ms.length,
      callsPerRep: l.calls,
      samplesMs: ms,
      medianMs: median,
      minMs: sorted[0] as number,
      maxMs: sorted[sorted.length - 1] as number,
      q1Ms: quantile(sorted, 0.25),
      q3Ms: quantile(sorted, 0.75),
      gflops: flops / median / 1e6,
      gflopsSlowest: flops / (sorted[sorted.length - 1] as number) / 1e6,
      gflopsFastest: flops / (sorted[0] as number) / 1e6,
      msPerToken: median / shape.tokens,
      warmupCalls: l.warmupCalls,
    };
  }

  // Ratios to the best peer at the same thread count.
  for (const r of results) {
    if (r.timing === undefined) continue;
    const peers = results.filter(
      (p) => p.group === "peer" && p.timing !== undefined && p.threads === r.threads,
    );
    const best = (list: ContenderResult[]) =>
      list.reduce<ContenderResult | null>(
        (a, b) => (a === null || (b.timing?.gflops ?? 0) > (a.timing?.gflops ?? 0) ? b : a),
        null,
      );
    const bp = best(peers);
    const bq = best(peers.filter((p) => !p.native));
    r.ratio = {
      bestPeer: bp === null ? null : r.timing.gflops / (bp.timing as TimingResult).gflops,
      bestPeerId: bp?.id ?? null,
      bestPortable: bq === null ? null : r.timing.gflops / (bq.timing as TimingResult).gflops,
      bestPortableId: bq?.id ?? null,
      overOneThread: null,
    };
    if (r.threads > 1) {
      const family = r.id.replace(/@\d+t$/, "");
      const one = results.find(
        (o) => o.threads === 1 && o.timing !== undefined && o.id.replace(/@\d+t$/, "") === family,
      );
      if (one?.timing !== undefined) r.ratio.overOneThread = r.timing.gflops / one.timing.gflops;
    }
  }

  const report: ShapeReport = {
    ...shape,
    layer: variant.layer,
    activation: variant.activation,
    flopsFormula: flopsFormula(variant.layer),
    gflopPerForward: flops / 1e9,
    weightBytes: weightBytesOf(shape, variant.layer),
    ...(probe === undefined ? {} : { roof: probe.result(flops / 1e9) }),
    reference: {
      rows: ref.rows,
      rowsChecked: ref.rows.length,
      totalRows: shape.tokens,
      ms: ref.ms,
    },
    results: results.sort((a, b) => ORDER[a.group] - ORDER[b.group]),
  };

  if (s.memory) {
    log(`${tag} memory: each contender alone in a child process`);
    let baseline: MemoryReading | null = null;
    try {
      baseline = await measureMemory({ kind: "none" }, shape, s.seed, s.peersDir, variant, 0);
      report.baselineMemory = baseline;
    } catch (e) {
      report.baselineMemory = { error: message(e) };
    }
    for (const r of report.results) {
      if (r.status !== "ok") continue;
      const c = contenders.find((k) => k.id === r.id) as Contender;
      if (c.host === undefined) {
        r.memory = {
          error:
            "an in-process function cannot be rebuilt in a child process; pass a module to measure it",
        };
        continue;
      }
      try {
        const calls = (r.timing?.medianMs ?? 0) < 2000 ? 2 : 1;
        const m = await measureMemory(c.host, shape, s.seed, s.peersDir, variant, calls);
        const extra =
          m.runPeakRss !== null && baseline?.runPeakRss != null
            ? m.runPeakRss - baseline.runPeakRss
            : null;
        r.memory = {
          ...m,
          extra,
          extraOverWeights: extra === null ? null : extra / report.weightBytes,
        };
        log(
          `${tag} ${r.label}: peak ${(m.peakRss / 2 ** 20).toFixed(0)} MiB${extra === null ? "" : `, ${(extra / 2 ** 20).toFixed(1)} MiB over Node's baseline while running`}`,
        );
      } catch (e) {
        r.memory = { error: message(e) };
        log(`${tag} ${r.label}: memory probe failed: ${message(e)}`);
      }
    }
  }
  return report;
}

export async function runHarness(
  shapes: readonly Shape[],
  contenders: readonly (Contender | Unavailable)[],
  peers: PeerStatus[],
  settings: HarnessSettings,
  log: (line: string) => void,
): Promise<HarnessResult> {
  const ids = new Set<string>();
  for (const c of contenders) {
    if (ids.has(c.id))
      throw new RangeError(`two contenders are named "${c.id}"; names must be unique`);
    ids.add(c.id);
  }
  const reports: ShapeReport[] = [];
  for (const shape of shapes) reports.push(await runShape(shape, contenders, settings, log));
  return { shapes: reports, peers };
}
