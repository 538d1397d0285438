// The measuring loop. For each shape: build the problem, compute the float64 reference, and
// build the exact problem (exact.ts). For every contender: set it up on the exact problem and
// require the exact output, bit for bit; then set it up on the problem (weights loaded, untimed,
// once per layer of the shape, the layers chained), check its first output against the
// float64 reference within the forward-error bound; warm up, then time interleaved repetitions
// (A B C A B C ...) so drift hits every contender alike. Afterwards, optionally, measure each
// contender's peak resident memory in a process of its own.
import { type WeightDtype, isQuant } from "../src/dtype";
import { checkQuantized, quantPeerReference, quantizedPeer, quantizedRow } from "./quant";
import {
  type Contender,
  type Group,
  type Unavailable,
  type WebgpuCheck,
  runEach,
  setupInTurn,
  setupLayers,
} from "./contender";
import {
  type ExactCheck,
  type ExactProblem,
  checkExact,
  makeExactProblem,
  outputTrouble,
} from "./exact";
import { HostedRunner, exactOutputs, measureMemory } from "./hosted";
import type { MemoryReading } from "./host";
import type { PeerStatus } from "./peers/index";
import { type Variant, flopsFormula, matricesOf } from "./layer";
import { type Problem, makeProblem } from "./problem";
import {
  type CheckResult,
  type Reference,
  checkOutput,
  chooseRows,
  computeReference,
} from "./reference";
import { computeWebgpuReference, exactHoldsOnWebgpu } from "./reference-webgpu";
import { RoofProbe, type ShapeRoof } from "./roof";
import { LocalRunner, type RepTiming, type Runner } from "./runner";
import { type Shape, describeShape, flopsOf, layersOf, weightBytesOf } from "./shapes";
import { quantile } from "./stats";

/** Quiet time before each timed repetition, ms (see the interleaved loop). */
const SETTLE_MS = 20;
/** Each of the roof's probes runs this long a round (less with a shorter minRepMs). */
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
  /** The roof's main-memory buffer, bytes (default: roof.ts's defaultMemoryBytes()). */
  roofMemoryBytes?: number;
}

export interface TimingResult {
  reps: number;
  callsPerRep: number;
  /** Milliseconds per call of each repetition, in the order they ran. */
  samplesMs: number[];
  /** Every timed call's own milliseconds, per repetition (rounded to 0.1 µs). */
  callsMs: number[][];
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
  /** extra / the layer's weight bytes in the contender's weight type (float32 unless it has one). */
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
  /** On a WebGPU device: the bound it was held to (Contender.webgpu). */
  webgpu?: WebgpuCheck;
  /** Its weights' type, when not float32 (Contender.weightType). */
  weightType?: WeightDtype;
  status: Status;
  reason?: string;
  setupMs?: number;
  /** The first forward after setup (the layer's create), ms: it also gives the checked output. */
  firstCallMs?: number;
  /** firstCallMs over the median time of a call. */
  firstCallOverMedian?: number;
  /** The exact check (exact.ts): every correct kernel returns these outputs bit for bit. */
  exact?: ExactCheck;
  /** The forward-error bound check against the float64 reference. */
  check?: CheckResult;
  timing?: TimingResult;
  ratio?: Ratio;
  memory?: MemoryResult | { error: string };
}

/** The one-thread roof for weights held in another type than float32. */
export interface TypeRoof {
  weightType: WeightDtype;
  /** The shape's weight bytes in that type (the biases float32). */
  weightBytes: number;
  roof: ShapeRoof;
}

export interface ShapeReport extends Shape {
  /** "ffn" or "gated", and the activation (repeated from the settings, for a reader of one shape). */
  layer: Variant["layer"];
  activation: Variant["activation"];
  /** How GFLOP/s are counted: "4·T·dModel·dHidden" (ffn) or "6·T·dModel·dHidden" (gated). */
  flopsFormula: string;
  gflopPerForward: number;
  weightBytes: number;
  /** Layers in turn (D1); 1 for one layer. */
  layers: number;
  reference: { rows: number[]; rowsChecked: number; totalRows: number; ms: number };
  /**
   * The exact problem: its checked rows and largest sum of term magnitudes (below 2^24), or why
   * there is none at this shape (too large for float32 to stay exact).
   */
  exactProblem:
    | { rows: number[]; rowsChecked: number; totalRows: number; largestSum: number; ms: number }
    | { error: string };
  baselineMemory?: MemoryReading | { error: string };
  results: ContenderResult[];
  /** The one-thread roof, measured in the same rounds as the contenders. */
  roof?: ShapeRoof;
  /**
   * The roof for the run's other weight types (16-bit or quantized rows and peers): the same
   * peak and main memory, the weights' bytes in that type, read from a buffer of that size.
   */
  typeRoofs?: TypeRoof[];
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

/**
 * The bound check of a shape of several layers: the chain's output must be a finite
 * Float32Array of the right length, and each layer's instance alone on the input must pass that
 * layer's reference. The worst ratio is the worst layer's; the reason names the layer.
 */
function checkLayers(
  chained: unknown,
  outputs: readonly unknown[],
  problem: Problem,
  refs: readonly Reference[],
): CheckResult {
  const first = refs[0] as Reference;
  const base = {
    ok: false,
    rowsChecked: first.rows.length,
    totalRows: problem.shape.tokens,
    maxAbsError: NaN,
    worstRatio: NaN,
  };
  const trouble = outputTrouble(chained, problem.shape.tokens, problem.shape.dModel);
  if (trouble !== null) return { ...base, reason: `the layers in turn: ${trouble}` };
  let maxAbsError = 0;
  let worstRatio = 0;
  let reason: string | undefined;
  refs.forEach((ref, l) => {
    const c = checkOutput(outputs[l], problem, ref);
    maxAbsError = Math.max(maxAbsError, c.maxAbsError);
    worstRatio = Math.max(worstRatio, c.worstRatio);
    if (!c.ok && reason === undefined)
      reason = `layer ${l + 1}: ${c.reason ?? "outside the bound"}`;
  });
  return reason === undefined
    ? { ...base, ok: true, maxAbsError, worstRatio }
    : { ...base, maxAbsError, worstRatio, reason };
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
  const refRows = chooseRows(
    shape.tokens,
    shape.dModel,
    shape.dHidden,
    s.checkBudget,
    4,
    matricesOf(variant.layer) * layersOf(shape),
  );
  // One reference per layer, each on the problem's input: a shape of several layers is checked
  // layer by layer (reference.ts says why).
  const refs = problem.layers.map((_, l) => computeReference(problem, refRows, l));
  const refMs = refs.reduce((a, r) => a + r.ms, 0);
  // A contender on a WebGPU device gets the bound of its kind, computed when first needed.
  const webgpuRefs = new Map<WebgpuCheck, Reference[]>();
  const refsOf = (c: Contender): readonly Reference[] => {
    if (c.webgpu === undefined) return refs;
    let r = webgpuRefs.get(c.webgpu);
    if (r === undefined) {
      const kind = c.webgpu;
      r = problem.layers.map((_, l) => computeWebgpuReference(problem, refRows, kind, l));
      webgpuRefs.set(kind, r);
    }
    return r;
  };
  const rowsText = (rows: number[]) =>
    `${rows.length === shape.tokens ? "all" : `${rows.length} of`} ${shape.tokens} rows`;
  log(
    `${tag} float64 reference: ${rowsText(refRows)}${refs.length > 1 ? ` of each of ${refs.length} layers` : ""}, ${fmtMs(refMs)}`,
  );
  // Released before timing: at G1 it is 541 MB.
  let exact: ExactProblem | null = null;
  let exactProblem: ShapeReport["exactProblem"];
  try {
    const start = performance.now();
    exact = makeExactProblem(shape, s.seed, variant, s.checkBudget);
    const rows = exact.layers[0]?.rows ?? [];
    exactProblem = {
      rows,
      rowsChecked: rows.length,
      totalRows: shape.tokens,
      largestSum: exact.largestSum,
      ms: performance.now() - start,
    };
    log(
      `${tag} exact problem: ${rowsText(rows)}${layersOf(shape) > 1 ? ` of each of ${layersOf(shape)} layers` : ""}, sums up to ${exact.largestSum} units (< 2^24), ${fmtMs(exactProblem.ms)}`,
    );
  } catch (e) {
    exactProblem = { error: message(e) };
    log(`${tag} no exact check: ${message(e)}`);
  }

  const results: ContenderResult[] = [];
  const live: Live[] = [];
  // The contenders that passed the exact check (or have none), in order, to be set up.
  const checked: {
    c: Contender;
    result: ContenderResult;
    quantized: ReturnType<typeof quantizedRow>;
    qpeer: ReturnType<typeof quantizedPeer>;
  }[] = [];
  for (const c of contenders) {
    const base = {
      id: c.id,
      label: c.label,
      group: c.group,
      threads: c.threads,
      native: !isUnavailable(c) && c.native === true,
      library: isUnavailable(c) ? null : (c.library ?? null),
      ...(isUnavailable(c) || c.webgpu === undefined ? {} : { webgpu: c.webgpu }),
      ...(isUnavailable(c) || (c.weightType ?? "f32") === "f32"
        ? {}
        : { weightType: c.weightType }),
    };
    if (isUnavailable(c)) {
      results.push({ ...base, status: "unavailable", reason: c.reason });
      continue;
    }
    const result: ContenderResult = { ...base, status: "failed" };
    results.push(result);
    const quantized = quantizedRow(c);
    // A peer on quantized blocks has numerics of its own: no exact problem; a bound of its own.
    const qpeer = quantizedPeer(c);
    const exactHolds = c.webgpu === undefined || exactHoldsOnWebgpu(c.webgpu, variant.activation);
    if (exact !== null && !exactHolds)
      log(
        `${tag} ${c.label}: no exact check (on a GPU ${variant.activation} need not return the exact problem's output: bench/reference-webgpu.ts); the bound check alone`,
      );
    if (exact !== null && quantized === null && qpeer === null && exactHolds) {
      // The exact check first, on instances of its own: they are gone before the timed ones
      // are made, so a large layer is never held twice.
      try {
        const outputs =
          c.remote !== undefined
            ? await c.remote.exact(shape, s.seed, variant, s.checkBudget)
            : c.isolate && c.host !== undefined
              ? await exactOutputs(c.host, shape, s.seed, s.peersDir, variant, s.checkBudget)
              : await runEach(
                  await setupLayers(
                    c,
                    shape,
                    exact.layers.map((l) => l.weights),
                  ),
                  exact.layers.map((l) => l.x),
                );
        result.exact = checkExact(outputs, exact);
      } catch (e) {
        result.reason = `exact check failed to run: ${message(e)}`;
        log(`${tag} ${c.label}: ${result.reason}`);
        continue;
      }
      if (!result.exact.ok) {
        result.status = "wrong";
        result.reason = result.exact.reason ?? "not the exact output";
        log(`${tag} ${c.label}: WRONG, not timed: ${result.reason}`);
        continue;
      }
    }
    checked.push({ c, result, quantized, qpeer });
  }

  // The timed instances. Contenders in this process are made layer by layer in turn
  // (setupInTurn says why); a remote or hosted one starts in its own process.
  const local = checked.filter(
    ({ c }) => c.remote === undefined && !(c.isolate && c.host !== undefined),
  );
  const made = await setupInTurn(
    local.map(({ c }) => c),
    shape,
    problem.layers,
  );
  const runners = new Map<Contender, Runner>();
  for (const [i, { c, result }] of local.entries()) {
    const m = made[i] as (typeof made)[number];
    if ("error" in m) {
      result.reason = `setup failed: ${message(m.error)}`;
      log(`${tag} ${c.label}: ${result.reason}`);
    } else {
      runners.set(c, new LocalRunner(m.instances, problem.x));
      result.setupMs = m.ms;
    }
  }
  for (const { c, result } of checked) {
    if (local.some((l) => l.c === c)) continue;
    try {
      const start = performance.now();
      runners.set(
        c,
        c.remote !== undefined
          ? await c.remote.start(shape, s.seed, variant)
          : await HostedRunner.start(
              c.host as NonNullable<typeof c.host>,
              shape,
              s.seed,
              s.peersDir,
              variant,
            ),
      );
      result.setupMs = performance.now() - start;
    } catch (e) {
      result.reason = `setup failed: ${message(e)}`;
      log(`${tag} ${c.label}: ${result.reason}`);
    }
  }

  for (const { c, result, quantized, qpeer } of checked) {
    const runner = runners.get(c);
    if (runner === undefined) continue;
    try {
      const { output, ms } = await runner.first();
      result.firstCallMs = ms;
      const own =
        qpeer === null
          ? refsOf(c)
          : problem.layers.map((_, l) => quantPeerReference(problem, refRows, qpeer, l));
      result.check =
        quantized !== null
          ? await checkQuantized(
              own.length === 1 ? [output] : await runner.each(),
              problem,
              quantized,
            )
          : own.length === 1
            ? checkOutput(output, problem, own[0] as Reference)
            : checkLayers(output, await runner.each(), problem, own);
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
    const exactText =
      result.exact === undefined ? "" : `exact on ${result.exact.compared} outputs, `;
    log(
      `${tag} ${c.label}: correct (${result.check.against !== undefined ? `= ${result.check.against}, bit for bit` : `${exactText}worst error ${fmtRatio(result.check.worstRatio)} of the bound`}), setup ${fmtMs(result.setupMs ?? 0)}, first call ${fmtMs(result.firstCallMs ?? 0)}`,
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
        l.perCallMs = (await l.runner.time(1)).msPerCall;
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
  exact = null;
  const otherTypes = [
    ...new Set(
      contenders.flatMap((c) =>
        isUnavailable(c) || (c.weightType ?? "f32") === "f32" ? [] : [c.weightType as WeightDtype],
      ),
    ),
  ];
  const probe =
    s.roof === false
      ? undefined
      : await RoofProbe.create(
          weightBytesOf(shape, variant.layer),
          s.roofMemoryBytes,
          otherTypes.map((t) => weightBytesOf(shape, variant.layer, t)),
        );
  const samples = new Map<Live, RepTiming[]>(live.map((l) => [l, []]));
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
    const reps = samples.get(l) ?? [];
    if (l.result.status !== "ok" || reps.length === 0) continue;
    const ms = reps.map((t) => t.msPerCall);
    const sorted = [...ms].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    if (l.result.firstCallMs !== undefined)
      l.result.firstCallOverMedian = l.result.firstCallMs / median;
    l.result.timing = {
      reps: ms.length,
      callsPerRep: l.calls,
      samplesMs: ms,
      callsMs: reps.map((t) => t.callsMs.map((v) => Math.round(v * 1e4) / 1e4)),
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

  // Ratios to the best peer at the same thread count, and on the same kind of device: a WebGPU
  // row against the WebGPU peers, any other against the others.
  for (const r of results) {
    if (r.timing === undefined) continue;
    const peers = results.filter(
      (p) =>
        p.group === "peer" &&
        p.timing !== undefined &&
        p.threads === r.threads &&
        (p.webgpu === undefined) === (r.webgpu === undefined),
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
    layers: layersOf(shape),
    exactProblem,
    ...(probe === undefined
      ? {}
      : {
          roof: probe.result(flops / 1e9),
          ...(otherTypes.length === 0
            ? {}
            : {
                typeRoofs: otherTypes.map((weightType) => {
                  const weightBytes = weightBytesOf(shape, variant.layer, weightType);
                  // Quantized rows multiply integers: the integer dot product's peak bounds them.
                  const kind = isQuant(weightType) ? "integer" : "float";
                  return {
                    weightType,
                    weightBytes,
                    roof: probe.result(flops / 1e9, weightBytes, kind),
                  };
                }),
              }),
        }),
    reference: {
      rows: refRows,
      rowsChecked: refRows.length,
      totalRows: shape.tokens,
      ms: refMs,
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
          extraOverWeights:
            extra === null
              ? null
              : extra / weightBytesOf(shape, variant.layer, r.weightType ?? "f32"),
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
