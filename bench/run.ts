// `npm run bench`: the command line of the bench. See docs/benchmarking.md, or --help.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { gitState } from "./machine";
import { outputPlan } from "./output";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ActivationName, LayerKind } from "./layer";

const HELP = `npm run bench -- [options]

  --quick               tiny shapes (Q1..Q3), one repetition: checks the harness, measures nothing
  --layer ffn|gated     the FeedForward (default), or the gated layer of LLaMA (SwiGLU, no biases)
                        (--layer moe: the mixture of experts beside the dense gated layer of its
                        active size and peers composing it (tfjs-wasm, ort-node, ort-web),
                        OLMoE-like and Mixtral-like shapes, bench/moe.ts; takes --quick,
                        --threads, --reps, --min-rep-ms, --seed, --peers, --peers-dir, --out)
  --activation gelu     relu, gelu, geluTanh, silu (default relu; silu for --layer gated)
  --shapes S1,S3        shapes by name: S1..S5 and D1 (the default), G1, G2 (default for gated),
                        Q1..Q3
  --shape 16x256x1024   a shape of your own, TxDxH (tokens, dModel, dHidden), or TxDxHxN for N
                        layers in turn; repeatable
  --tokens 1,2,4,8      a token sweep: each shape (default S1) at each token count, and a chart
                        of GFLOP/s against tokens
  --kernels js          tokenwise kernels: wasm, js, and webgpu when named (default all but
                        webgpu; "none" for none)
  --peers a,b           peers: tfjs-cpu, tfjs-wasm, ort-node, ort-web, jax, ml-matrix, and
                        with --dtype f16 ort-web-f16, ort-web-f16-graph (float16 ONNX models)
                        (default all; "none" for none); when named, on WebGPU: tfjs-webgpu,
                        ort-webgpu (with --kernels webgpu, browser run only: Chromium then
                        starts with WebGPU on SwiftShader, a software adapter)
  --no-naive            leave out the naive JavaScript loop (the floor; slow at S5)
  --threads 1,2         thread counts for contenders that take one (default 1)
  --dtype f32,bf16,f16  tokenwise rows per weight type (default f32; also q8_0, q4_0); with bf16
                        or f16 every contender's weights are rounded to values exact in both
                        (bench/dtype.ts); q8_0 and q4_0 rows are checked bit for bit against
                        the js kernel's quantized layer (bench/quant.ts)
  --std-dot             beside each q8_0 and q4_0 wasm row, a "std-dot" row: the same layer built
                        with relaxed SIMD turned off (SIMD128's i16 dot, as on an engine without
                        relaxed SIMD), to compare with; the same bits (Node runs only)
  --relaxed-dot q8_0    the quantized types this process's layers run on relaxed SIMD where the
                        engine has it (default q4_0; q8_0,q4_0 for both; rows on threads, in
                        processes of their own, keep the default)
  --sparsity 0,0.5,0.9  each shape with that share of hidden units off (b1 set on the run's
                        inputs; relu FeedForward only), and a "dense" row per tokenwise f32 row
                        (sparse: false) to compare with (bench/sparsity.ts)
  --reps 7              timed repetitions per contender (default 7; --quick: 1)
  --warmup-ms 500       warm-up per contender and shape (default 500)
  --min-rep-ms 250      a repetition repeats the call until it lasts this long (default 250)
  --budget-s 30         time budget per contender and shape; a slower one gets fewer reps (min 3)
  --seed 1              seed of the weights and inputs
  --custom ./k.ts       a module whose default export is a kernel (or an array): see
                        docs/benchmarking.md; repeatable
  --no-memory           skip the per-contender memory probes
  --no-roof             skip measuring the one-thread roof (SIMD128 peak, memory streams)
  --roof-mib 1024       the roof's main-memory buffer, MiB (default: 256 or twice the
                        last-level cache, at most 2048)
  --update              write into bench/results/ (the committed results the README quotes)
                        instead of a run folder of its own
  --name latest         the report files' name: NAME.json, .md, .svg, .csv (default "report";
                        "latest" with --update)
  --out DIR             where the report goes (default bench/results/runs/<time>-<commit>/)
  --peers-dir DIR       the folder whose node_modules holds the peers (default bench/)
  --no-install          do not run "npm ci --prefix bench" when bench/node_modules is missing
  --browser             run in headless Chromium (/usr/bin/chromium) the contenders that run in a
                        browser, each in a page of its own: what npm run bench:web does
`;

const BENCH = fileURLToPath(new URL(".", import.meta.url));
// npm runs scripts from the package root; paths on the command line are the user's, relative to
// where npm was started.
const CWD = process.env.INIT_CWD ?? process.cwd();

function list(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  return text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function ints(text: string | undefined, name: string): number[] | undefined {
  return list(text)?.map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`--${name}: "${s}" is not a positive integer`);
    return n;
  });
}

function number(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new RangeError(`--${name}: "${text}" is not a non-negative number`);
  return n;
}

/** An argument as a shell would need it written. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      quick: { type: "boolean" },
      layer: { type: "string" },
      activation: { type: "string" },
      shapes: { type: "string" },
      shape: { type: "string", multiple: true },
      tokens: { type: "string" },
      kernels: { type: "string" },
      peers: { type: "string" },
      "no-naive": { type: "boolean" },
      threads: { type: "string" },
      dtype: { type: "string" },
      sparsity: { type: "string" },
      "std-dot": { type: "boolean" },
      "relaxed-dot": { type: "string" },
      reps: { type: "string" },
      "warmup-ms": { type: "string" },
      "min-rep-ms": { type: "string" },
      "budget-s": { type: "string" },
      seed: { type: "string" },
      custom: { type: "string", multiple: true },
      "no-memory": { type: "boolean" },
      "no-roof": { type: "boolean" },
      "roof-mib": { type: "string" },
      update: { type: "boolean" },
      name: { type: "string" },
      out: { type: "string" },
      "peers-dir": { type: "string" },
      "no-install": { type: "boolean" },
      browser: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.layer === "moe" && values.browser) {
    throw new RangeError("--layer moe runs in Node only: it has no browser run");
  }
  if (values.layer === "moe") {
    const { runMoEBench } = await import("./moe");
    return runMoEBench({
      quick: values.quick === true,
      threads: ints(values.threads, "threads") ?? [1, 2],
      peers:
        values.peers === undefined
          ? undefined
          : values.peers === "none"
            ? []
            : values.peers.split(",").map((v) => v.trim()),
      peersDir: values["peers-dir"] === undefined ? undefined : resolve(CWD, values["peers-dir"]),
      reps: ints(values.reps, "reps")?.[0] ?? (values.quick ? 1 : 5),
      minRepMs: number(values["min-rep-ms"], "min-rep-ms") ?? (values.quick ? 1 : 250),
      seed: number(values.seed, "seed") ?? 1,
      out: values.out === undefined ? join(BENCH, "results") : resolve(CWD, values.out),
      log: (line: string) => process.stderr.write(`${line}\n`),
    });
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const browser = values.browser === true;
  const { dir: outDir, name } = outputPlan(
    {
      browser,
      update: values.update === true,
      ...(values.out === undefined ? {} : { out: resolve(CWD, values.out) }),
      ...(values.name === undefined ? {} : { name: values.name }),
    },
    new Date(),
    gitState(BENCH),
  );
  const peersDir = values["peers-dir"] === undefined ? BENCH : resolve(CWD, values["peers-dir"]);
  const peers = list(values.peers);
  const wantsPeers = peers === undefined || (peers.length > 0 && !peers.includes("none"));
  if (
    wantsPeers &&
    values["peers-dir"] === undefined &&
    !values["no-install"] &&
    !existsSync(join(BENCH, "node_modules"))
  ) {
    log("bench/node_modules is missing: installing the peers with npm ci --prefix bench");
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const r = spawnSync(npm, ["ci", "--prefix", BENCH], {
      stdio: ["ignore", 2, 2],
      env: {
        ...process.env,
        ONNXRUNTIME_NODE_INSTALL_CUDA: "skip",
        ONNXRUNTIME_NODE_INSTALL: "skip",
      },
    });
    if (r.status !== 0)
      log("npm ci --prefix bench failed: the peers will be reported as unavailable");
  }

  const { benchmark, writeReport } = await import("./api");
  const { formatTable } = await import("./report");
  const shapes = [...(list(values.shapes) ?? []), ...(values.shape ?? [])];
  const kernels = list(values.kernels);
  const report = await benchmark({
    quick: values.quick === true,
    ...(values.layer === undefined ? {} : { layer: values.layer as LayerKind }),
    ...(values.activation === undefined ? {} : { activation: values.activation as ActivationName }),
    ...(shapes.length > 0 ? { shapes } : {}),
    ...(values.tokens === undefined ? {} : { tokens: ints(values.tokens, "tokens") }),
    ...(kernels === undefined ? {} : { kernels: kernels.includes("none") ? [] : kernels }),
    ...(peers === undefined ? {} : { peers: peers.includes("none") ? [] : peers }),
    naive: !values["no-naive"],
    ...(values.threads === undefined ? {} : { threads: ints(values.threads, "threads") }),
    ...(values.dtype === undefined ? {} : { dtypes: list(values.dtype) }),
    ...(values.sparsity === undefined ? {} : { sparsity: list(values.sparsity) }),
    ...(values["std-dot"] === true ? { stdDot: true } : {}),
    ...(values["relaxed-dot"] === undefined ? {} : { relaxedDot: list(values["relaxed-dot"]) }),
    ...(values.reps === undefined ? {} : { reps: ints(values.reps, "reps")?.[0] }),
    ...(values["warmup-ms"] === undefined
      ? {}
      : { warmupMs: number(values["warmup-ms"], "warmup-ms") }),
    ...(values["min-rep-ms"] === undefined
      ? {}
      : { minRepMs: number(values["min-rep-ms"], "min-rep-ms") }),
    ...(values["budget-s"] === undefined
      ? {}
      : { budgetMs: (number(values["budget-s"], "budget-s") as number) * 1000 }),
    ...(values.seed === undefined ? {} : { seed: number(values.seed, "seed") }),
    contenders: (values.custom ?? []).map((module) => ({ module: resolve(CWD, module) })),
    memory: !values["no-memory"],
    roof: !values["no-roof"],
    ...(values["roof-mib"] === undefined
      ? {}
      : {
          roofMemoryBytes: Math.round((number(values["roof-mib"], "roof-mib") as number) * 2 ** 20),
        }),
    peersDir,
    log,
    browser,
    command: [
      browser ? "npm run bench:web --" : "npm run bench --",
      ...process.argv
        .slice(2)
        .filter((a) => !(browser && a === "--browser"))
        .map(quote),
    ].join(" "),
  });
  process.stdout.write(`\n${formatTable(report)}\n\n`);
  const paths = writeReport(report, outDir, name);
  log(
    `wrote ${Object.values(paths).join(", ")} (${(report.durationMs / 1000).toFixed(0)} s)${values.update ? "" : "; --update writes bench/results/ instead"}`,
  );
  const broken = report.shapes.flatMap((s) =>
    s.results.filter(
      (r) => r.group === "tokenwise" && (r.status === "wrong" || r.status === "failed"),
    ),
  );
  for (const r of broken) log(`tokenwise contender ${r.label} is ${r.status}: ${r.reason ?? ""}`);
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
