// The bench as a library: `benchmark(options)` runs the same harness as `npm run bench`, and takes
// your own kernels beside tokenwise's and the peers'. See docs/benchmarking.md.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasSweep, toSvg, toSweepSvg } from "./chart";
import type { Contender, Unavailable } from "./contender";
import { type CustomKernel, customContender } from "./custom";
import { loadCustomModule } from "./custom-module";
import { type HarnessSettings, runHarness } from "./harness";
import {
  type ActivationName,
  type LayerKind,
  type Variant,
  describeVariant,
  parseVariant,
} from "./layer";
import { type WeightDtype, isQuant } from "../src/dtype";
import { setRelaxedDot } from "../src/kernels/wasm/relaxed";
import type { BrowserInfo } from "./web/session";
import { parseDtypes } from "./dtype";
import { parseSparsity, withSparsity } from "./sparsity";
import { describeMachine, gitState, loadAverage } from "./machine";
import { naiveContender } from "./naive";
import { DEFAULT_PEERS_DIR, PEERS, defaultPeers, loadPeers, nodePeers } from "./peers/index";
import { type Report, reportWarnings, toCsv, toJson, toMarkdown, webgpuText } from "./report";
import { GATED_SHAPES, QUICK_SHAPES, SHAPES, type Shape, parseShape, withTokens } from "./shapes";
import { TOKENWISE, tokenwiseContenders } from "./tokenwise";

export type { CustomKernel, ForwardKernel, GatedForwardKernel, GemmKernel } from "./custom";
export type { ForwardFn } from "./contender";
export type { GatedProblemWeights, LayerWeights, ProblemWeights } from "./problem";
export type { ActivationName, LayerKind, Variant } from "./layer";
export type { Report } from "./report";
export type { ContenderResult, ShapeReport } from "./harness";
export { SHAPES, GATED_SHAPES, QUICK_SHAPES, type Shape } from "./shapes";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface BenchmarkOptions {
  /**
   * Shape names (S1..S5, D1, G1, G2, Q1..Q3), "TxDxH" or "TxDxHxN" strings, or Shape objects;
   * default S1..S5 and D1 for the FeedForward, G1, G2 for the gated layer (Q1..Q3 with quick).
   */
  shapes?: readonly (string | Shape)[];
  /**
   * A token sweep: each shape (default S1 alone) at each of these token counts, drawn as GFLOP/s
   * against tokens (the SVG's sweep chart).
   */
  tokens?: readonly number[];
  /** The layer: "ffn" (FeedForward, the default) or "gated" (GatedFeedForward, no biases). */
  layer?: LayerKind;
  /** Its activation: default "relu" for ffn, "silu" for gated (SwiGLU). */
  activation?: ActivationName;
  /** Tiny shapes, one repetition, no warm-up: checks that everything runs, measures nothing. */
  quick?: boolean;
  /** tokenwise kernels to run ("js", ...); default all; [] for none. */
  kernels?: readonly string[] | "all";
  /** Peers to run (tfjs-cpu, tfjs-wasm, ort-node, ort-web, jax, ml-matrix); default all; [] for none. */
  peers?: readonly string[] | "all";
  /** Run the naive JavaScript loop (the floor); default true. */
  naive?: boolean;
  /** Thread counts for contenders that take one; default [1]. */
  threads?: readonly number[];
  /**
   * tokenwise's rows once per weight type ("f32", "bf16", "f16"); default ["f32"]. With a
   * 16-bit type the weights are rounded to values both 16-bit types hold, for every contender
   * (bench/dtype.ts).
   */
  dtypes?: readonly string[];
  /**
   * Each shape once per share of hidden units switched off by b1 on the run's inputs (the relu
   * FeedForward only: bench/sparsity.ts), with a "dense" row per tokenwise f32 row (the layer
   * with `sparse: false`) to compare with; default: the drawn biases, no dense rows.
   */
  sparsity?: readonly (number | string)[];
  /**
   * Beside each q8_0 and q4_0 wasm row, a "std-dot" row: the layer built with relaxed SIMD turned
   * off (src/kernels/wasm/relaxed.ts's setRelaxedDot), to compare the two integer dot products
   * (the same bits); default false. Node runs only.
   */
  stdDot?: boolean;
  /**
   * The quantized types whose maps this process's layers run on relaxed SIMD where the engine
   * has it ("q8_0", "q4_0"; default src/kernels/wasm/relaxed.ts's RELAXED_DTYPES, Q4_0); rows
   * run in a process of their own (threads) keep the default. Node runs only.
   */
  relaxedDot?: readonly string[];
  /** Your kernels: objects, or { module } paths whose default export is a kernel or an array. */
  contenders?: readonly (CustomKernel | { module: string })[];
  reps?: number;
  warmupMs?: number;
  minRepMs?: number;
  budgetMs?: number;
  seed?: number;
  /** Measure each contender's peak resident memory in a child process; default true. */
  memory?: boolean;
  /**
   * Measure each shape's one-thread roof (the SIMD128 multiply-add peak and the rate at which a
   * core streams the shape's weights: bench/roof.ts) in the same rounds as the contenders;
   * default true.
   */
  roof?: boolean;
  /** The roof's main-memory buffer, bytes (default: 256 MiB or twice the last-level cache). */
  roofMemoryBytes?: number;
  /** The folder whose node_modules holds the peers; default bench/. */
  peersDir?: string;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
  /** Recorded in the report: the command line as typed. */
  command?: string;
  /**
   * Run the contenders in headless Chromium instead of Node (`npm run bench:web`): those that run
   * in a browser, each in a page of its own, checked and timed by the same harness; no memory
   * probes and no roof (both need Node: see docs/benchmarking.md, "In a browser").
   */
  browser?: boolean;
}

function tokenwiseVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`benchmark: ${name} must be a positive integer, got ${value}`);
  return value;
}

/** Runs the benchmark and returns the report (see report.ts for its shape). */
export async function benchmark(options: BenchmarkOptions = {}): Promise<Report> {
  const started = performance.now();
  const date = new Date().toISOString();
  const loadBefore = loadAverage();
  const git = gitState(ROOT);
  const log = options.log ?? (() => {});
  const quick = options.quick === true;
  const dtypes = parseDtypes(options.dtypes ?? ["f32"]);
  if (options.relaxedDot !== undefined) {
    const relaxed = parseDtypes(options.relaxedDot);
    const other = relaxed.find((d) => !isQuant(d));
    if (other !== undefined)
      throw new RangeError(`--relaxed-dot: "${other}" is not a quantized type (q8_0, q4_0)`);
    setRelaxedDot(relaxed.filter(isQuant));
  }
  const variant = {
    ...parseVariant(options.layer, options.activation),
    ...(dtypes.some((d) => d === "bf16" || d === "f16") ? { exact16: true } : {}),
  };
  const tokens =
    options.tokens === undefined
      ? undefined
      : [...new Set(options.tokens.map((t) => positiveInt(t, "tokens")))];
  const presets =
    tokens !== undefined
      ? [SHAPES[0] as Shape]
      : quick
        ? QUICK_SHAPES
        : variant.layer === "gated"
          ? GATED_SHAPES
          : SHAPES;
  const named = (options.shapes ?? presets).map((s) => (typeof s === "string" ? parseShape(s) : s));
  const swept =
    tokens === undefined ? named : named.flatMap((s) => tokens.map((t) => withTokens(s, t)));
  const sparsity = options.sparsity === undefined ? undefined : parseSparsity(options.sparsity);
  if (sparsity !== undefined && (variant.layer !== "ffn" || variant.activation !== "relu")) {
    throw new RangeError(
      `--sparsity: the relu FeedForward only (its b1 sets the zeros), not ${describeVariant(variant)}`,
    );
  }
  const shapes =
    sparsity === undefined ? swept : swept.flatMap((s) => sparsity.map((p) => withSparsity(s, p)));
  const threads = [...new Set((options.threads ?? [1]).map((t) => positiveInt(t, "threads")))];
  const settings: HarnessSettings = {
    reps: positiveInt(options.reps ?? (quick ? 1 : 7), "reps"),
    minReps: quick ? 1 : 3,
    warmupMs: options.warmupMs ?? (quick ? 0 : 500),
    minRepMs: options.minRepMs ?? (quick ? 0 : 250),
    budgetMs: options.budgetMs ?? 30_000,
    seed: options.seed ?? 1,
    memory: options.memory ?? true,
    peersDir: options.peersDir ?? DEFAULT_PEERS_DIR,
    checkBudget: 1.2e9,
    variant,
    roof: options.roof ?? true,
    ...(options.roofMemoryBytes === undefined
      ? quick
        ? { roofMemoryBytes: 16 * 2 ** 20 }
        : {}
      : { roofMemoryBytes: positiveInt(options.roofMemoryBytes, "roofMemoryBytes") }),
  };
  settings.minReps = Math.min(settings.minReps, settings.reps);

  log(`layer: ${describeVariant(variant)}`);
  if (options.browser === true) {
    settings.memory = false;
    settings.roof = false;
    const facts = { started, date, loadBefore, git, settings, threads, quick, tokens };
    return browserBenchmark(options, facts, { shapes, dtypes, variant });
  }
  const contenders: (Contender | Unavailable)[] = [
    ...(await tokenwiseContenders(
      options.kernels ?? "all",
      threads,
      variant,
      dtypes,
      sparsity !== undefined,
      options.stdDot === true,
    )),
  ];
  for (const c of options.contenders ?? []) {
    if ("module" in c && typeof c.module === "string" && !("name" in c)) {
      const { module, kernels } = await loadCustomModule(c.module);
      kernels.forEach((k, index) =>
        contenders.push(customContender(k, variant, { module, index })),
      );
    } else {
      contenders.push(customContender(c as CustomKernel, variant));
    }
  }
  const peerNames =
    options.peers === undefined || options.peers === "all" ? defaultPeers(dtypes) : options.peers;
  log(`loading peers: ${peerNames.length === 0 ? "none" : peerNames.join(", ")}`);
  const peers = await loadPeers(nodePeers(settings.peersDir), peerNames, threads, variant);
  for (const p of peers.status)
    log(
      `  ${p.name}: ${p.loaded ? `loaded (${Object.values(p.versions).join(", ")})` : `unavailable: ${p.reason}`}`,
    );
  contenders.push(...peers.contenders);
  if (options.naive ?? true) contenders.push(naiveContender(variant));

  const result = await runHarness(shapes, contenders, peers.status, settings, log);
  return makeReport(
    options,
    { started, date, loadBefore, git, settings, threads, quick, tokens },
    result,
  );
}

interface RunFacts {
  started: number;
  date: string;
  loadBefore: [number, number, number];
  git: ReturnType<typeof gitState>;
  settings: HarnessSettings;
  threads: number[];
  quick: boolean;
  tokens: number[] | undefined;
}

function makeReport(
  options: BenchmarkOptions,
  facts: RunFacts,
  result: { shapes: Report["shapes"]; peers: Report["peers"] },
  browser?: BrowserInfo,
): Report {
  const { started, date, loadBefore, git, settings, threads, quick, tokens } = facts;
  const log = options.log ?? (() => {});
  const command = options.command ?? "benchmark()";
  const report: Report = {
    schema: "tokenwise-bench/2",
    date,
    command,
    durationMs: performance.now() - started,
    machine: describeMachine(),
    provenance: {
      git,
      loadBefore,
      loadAfter: loadAverage(),
      command,
      argv: process.argv.slice(2),
      execArgv: process.execArgv,
      cwd: process.env.INIT_CWD ?? process.cwd(),
    },
    settings: { ...settings, threads, quick, ...(tokens === undefined ? {} : { tokens }) },
    tokenwise: { version: tokenwiseVersion() },
    peers: result.peers,
    shapes: result.shapes,
    ...(browser === undefined ? {} : { browser }),
    warnings: [],
  };
  report.warnings = reportWarnings(report);
  for (const w of report.warnings) log(`warning: ${w}`);
  return report;
}

/**
 * The browser run: the same harness and report, the contenders in headless Chromium
 * (web/session.ts), each in a page of its own.
 */
async function browserBenchmark(
  options: BenchmarkOptions,
  facts: RunFacts,
  run: { shapes: Shape[]; dtypes: WeightDtype[]; variant: Variant },
): Promise<Report> {
  const log = options.log ?? (() => {});
  const { settings, threads } = facts;
  const { variant } = run;
  const modules: string[] = [];
  const unsendable: Unavailable[] = [];
  for (const c of options.contenders ?? []) {
    if ("module" in c && typeof c.module === "string" && !("name" in c)) modules.push(c.module);
    else {
      const k = customContender(c as CustomKernel, variant);
      unsendable.push({
        id: k.id,
        label: k.label,
        group: "custom",
        threads: k.threads,
        reason:
          "a kernel given as an object cannot be sent to a browser page: give it as { module }",
      });
    }
  }
  const peerNames =
    options.peers === undefined || options.peers === "all"
      ? defaultPeers(run.dtypes).filter((n) => PEERS.find((p) => p.name === n)?.native !== true)
      : options.peers;
  const kernels = options.kernels ?? "all";
  // WebGPU contenders are run only when named; Chromium then starts with WebGPU on.
  const webgpu =
    (kernels !== "all" && TOKENWISE.some((e) => e.webgpu === true && kernels.includes(e.kernel))) ||
    PEERS.some((p) => p.webgpu === true && peerNames.includes(p.name));
  const { openBrowserRun } = await import("./web/session");
  log(`bundling the page and starting Chromium${webgpu ? " with WebGPU on" : ""}`);
  const browser = await openBrowserRun({ peersDir: settings.peersDir, custom: modules, webgpu });
  try {
    const b = browser.info;
    log(
      `${b.product} ${b.version} (V8 ${b.v8}): relaxed SIMD ${b.relaxedSimd ? "on" : "off"}, cross-origin isolated: ${b.crossOriginIsolated ? "yes" : "no"}, ${b.hardwareConcurrency} cores`,
    );
    if (b.webgpu !== undefined) log(`WebGPU: ${webgpuText(b.webgpu)}`);
    log(`loading peers in the page: ${peerNames.length === 0 ? "none" : peerNames.join(", ")}`);
    const listed = await browser.list({
      variant,
      kernels,
      threads,
      dtypes: run.dtypes,
      peers: peerNames,
      naive: options.naive ?? true,
      custom: modules,
    });
    for (const p of listed.peers)
      log(
        `  ${p.name}: ${p.loaded ? `loaded (${Object.values(p.versions).join(", ")})` : `unavailable: ${p.reason}`}`,
      );
    const contenders = [...listed.contenders, ...unsendable];
    const result = await runHarness(run.shapes, contenders, listed.peers, settings, log);
    return makeReport(options, facts, result, b);
  } finally {
    await browser.close();
  }
}

/** The files writeReport writes. */
export interface ReportPaths {
  json: string;
  md: string;
  svg: string;
  csv: string;
  /** The token sweep's chart, when the run swept tokens. */
  sweepSvg?: string;
}

/**
 * Writes `<name>.json` (everything), `.md` (the tables), `.svg` (the chart) and `.csv` (one row per
 * contender and shape) into `dir`, and `<name>.sweep.svg` for a token sweep; returns their paths.
 */
export function writeReport(report: Report, dir: string, name = "report"): ReportPaths {
  mkdirSync(dir, { recursive: true });
  const paths: ReportPaths = {
    json: join(dir, `${name}.json`),
    md: join(dir, `${name}.md`),
    svg: join(dir, `${name}.svg`),
    csv: join(dir, `${name}.csv`),
  };
  writeFileSync(paths.json, toJson(report));
  writeFileSync(paths.md, toMarkdown(report));
  writeFileSync(paths.svg, toSvg(report));
  writeFileSync(paths.csv, toCsv(report));
  if (hasSweep(report)) {
    paths.sweepSvg = join(dir, `${name}.sweep.svg`);
    writeFileSync(paths.sweepSvg, toSweepSvg(report));
  }
  return paths;
}
