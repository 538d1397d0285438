// The report: its JSON shape, the terminal table, the markdown the README quotes, and the CSV.
import type { ContenderResult, HarnessSettings, ShapeReport } from "./harness";
import { type GitState, type Machine, machineLine } from "./machine";
import type { PeerStatus } from "./peers/index";
import { describeVariant, flopsFormula } from "./layer";
import type { Rate, ShapeRoof, StreamRate } from "./roof";
import { describeShape, dimsOf } from "./shapes";
import type { BrowserInfo } from "./web/session";

/** Where and from what a run came: enough to rerun it, and to judge its noise. */
export interface Provenance {
  /** The commit measured, and whether the work tree had changes (null without git). */
  git: GitState | null;
  /** os.loadavg() (1, 5, 15 minutes) when the run started and when it ended. */
  loadBefore: [number, number, number];
  loadAfter: [number, number, number];
  /** The command line as typed, the process's arguments and Node flags, and where it ran. */
  command: string;
  argv: string[];
  execArgv: string[];
  cwd: string;
}

export interface Report {
  schema: "tokenwise-bench/2";
  /** When the run started, ISO 8601. */
  date: string;
  /** The command line, for rerunning it. */
  command: string;
  durationMs: number;
  machine: Machine;
  provenance: Provenance;
  settings: HarnessSettings & { threads: number[]; quick: boolean; tokens?: number[] };
  tokenwise: { version: string };
  peers: PeerStatus[];
  shapes: ShapeReport[];
  /** A browser run's browser (`npm run bench:web`): Chromium's and its V8's versions, its features. */
  browser?: BrowserInfo;
  /** What a reader must know before citing the numbers: shares over 100%, a busy machine. */
  warnings: string[];
}

const MiB = 2 ** 20;

function num(v: number, digits: number): string {
  if (!Number.isFinite(v)) return "-";
  return v >= 100
    ? v.toFixed(Math.max(0, digits - 2))
    : v >= 10
      ? v.toFixed(Math.max(0, digits - 1))
      : v.toFixed(digits);
}

function ratio(v: number | null | undefined): string {
  return v === null || v === undefined ? "-" : `${v.toFixed(2)}x`;
}

function checkRatio(v: number): string {
  return v >= 0.01 || v === 0 ? v.toFixed(2) : v.toExponential(0);
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(bytes < 10 * MiB ? 1 : 0)} MiB`;
}

function memoryCell(r: ContenderResult): string {
  const m = r.memory;
  if (m === undefined) return "-";
  if ("error" in m) return "n/a";
  return m.extra === null ? `${(m.peakRss / MiB).toFixed(0)} pk` : `${(m.extra / MiB).toFixed(1)}`;
}

function pad(cells: string[], widths: number[], right: boolean[]): string {
  return cells
    .map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
    .join("  ");
}

/** What bounds the roof, in words: "compute", "cache" (the weights fit in one) or "memory". */
export function roofKind(roof: ShapeRoof): string {
  return roof.bound === "compute"
    ? "compute"
    : roof.bound === "cache"
      ? "weights from cache"
      : "weights from memory";
}

/**
 * A contender's share of its shape's one-thread roof: its GFLOP/s over the roof's, for one-thread
 * contenders that are not native (a native peer's wider vectors are not bound by a SIMD128 peak).
 */
export function roofShare(shape: ShapeReport, r: ContenderResult): number | null {
  const roof = roofOf(shape, r);
  if (roof === undefined || r.timing === undefined || r.threads !== 1 || r.native) return null;
  return r.timing.gflops / roof.gflops;
}

/**
 * The roof a contender is held to: its weight type's (a bf16 row streams half the bytes of a
 * float32 one), or the shape's float32 roof.
 */
export function roofOf(shape: ShapeReport, r: ContenderResult): ShapeRoof | undefined {
  if (r.weightType === undefined || r.weightType === "f32") return shape.roof;
  return shape.typeRoofs?.find((t) => t.weightType === r.weightType)?.roof;
}

function streamText(s: StreamRate): string {
  return `${num(s.rate.median, 2)} GB/s (${mib(s.bytes)}, ${s.streams} stream${s.streams > 1 ? "s" : ""})`;
}

/** One line on a shape's one-thread roof, or undefined without one. */
export function roofLine(shape: ShapeReport): string | undefined {
  const r = shape.roof;
  if (r === undefined) return undefined;
  const weights =
    r.weights === null
      ? `the weights (${mib(shape.weightBytes)}) are read at main memory's rate`
      : `the weights' ${mib(shape.weightBytes)} read at ${streamText(r.weights)}, ${r.weightsFrom === "cache" ? "from a cache" : "as from memory"}`;
  const types = (shape.typeRoofs ?? []).map(
    (t) =>
      `; ${t.weightType} weights (${mib(t.weightBytes)}): ${num(t.roof.gflops, 2)} GFLOP/s, ${roofKind(t.roof)}${t.roof.peakKind === "integer" ? ` (integer dot peak ${num(t.roof.peak.median, 2)} GFLOP/s${t.roof.integerPeak === "relaxed" ? ", relaxed SIMD's i8 dot" : ""})` : ""}${t.roof.weights === null ? "" : ` (read at ${streamText(t.roof.weights)})`}`,
  );
  return `one-thread roof ${num(r.gflops, 2)} GFLOP/s, ${roofKind(r)} (SIMD128 multiply and add peak ${num(r.peak.median, 2)} GFLOP/s; ${weights}: ${num(r.memoryGflops, 2)} GFLOP/s if read once; main memory ${streamText(r.memory)})${types.join("")}`;
}

/** The checks a contender passed, for tables: "exact, 0.01" (exact check, worst bound ratio). */
function checkCell(r: ContenderResult): string {
  if (r.check?.against !== undefined) return `= ${r.check.against}`;
  const bound = checkRatio(r.check?.worstRatio ?? 0);
  return r.exact === undefined ? `bound ${bound}` : `exact, bound ${bound}`;
}

/** The results of one shape as a plain-text table. */
export function formatShapeTable(shape: ShapeReport): string {
  const ref = shape.reference;
  const checked =
    ref.rowsChecked === ref.totalRows
      ? `all ${ref.totalRows} rows`
      : `${ref.rowsChecked} of ${ref.totalRows} rows`;
  const head = [
    "contender",
    "thr",
    "GFLOP/s",
    "slowest-fastest",
    "median ms",
    "ms/token",
    "1st/median",
    "x best peer",
    "x portable",
    "roof",
    "MiB",
    "checks",
  ];
  const right = [false, true, true, true, true, true, true, true, true, true, true, false];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of shape.results) {
    const t = r.timing;
    if (r.status !== "ok" || t === undefined) {
      rows.push([r.label, String(r.threads), ...Array(9).fill("-"), r.status]);
      notes.push(`  ${r.label}: ${r.status}: ${r.reason ?? ""}`);
      continue;
    }
    const share = roofShare(shape, r);
    rows.push([
      r.label,
      String(r.threads),
      num(t.gflops, 2),
      `${num(t.gflopsSlowest, 1)}-${num(t.gflopsFastest, 1)}`,
      num(t.medianMs, 3),
      num(t.msPerToken, 3),
      r.firstCallOverMedian === undefined ? "-" : `${num(r.firstCallOverMedian, 1)}x`,
      ratio(r.ratio?.bestPeer),
      ratio(r.ratio?.bestPortable),
      share === null ? "-" : `${(100 * share).toFixed(0)}%${share > 1 ? " !" : ""}`,
      memoryCell(r),
      checkCell(r),
    ]);
  }
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const exactText =
    "error" in shape.exactProblem
      ? `no exact check (${shape.exactProblem.error})`
      : "the exact problem checked";
  const lines = [
    `${describeShape(shape)}, ${describeVariant(shape)}: ${shape.gflopPerForward.toFixed(3)} GFLOP per forward, ${mib(shape.weightBytes)} of weights; ${checked} against the bound, ${exactText}`,
    pad(head, widths, right),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map((r) => pad(r, widths, right)),
  ];
  const line = roofLine(shape);
  if (line !== undefined) lines.push(line);
  return [...lines, ...notes].join("\n");
}

export function formatTable(report: Report): string {
  const parts = report.shapes.map(formatShapeTable);
  if (report.browser !== undefined) parts.unshift(browserLine(report.browser));
  parts.push(
    [
      `GFLOP/s = ${flopsFormula(report.settings.variant.layer)} (times the layers) / median time of a call; slowest-fastest over the repetitions;`,
      "1st/median: the first call after setup over the median call;",
      "x best peer: over the fastest peer at the same thread count (x portable: leaving out native peers), a WebGPU row's over the WebGPU peers, another's over the others;",
      ...(report.settings.roof === false
        ? []
        : ["roof: share of the one-thread roof (! over 100%: the roof was no ceiling there);"]),
      ...(report.settings.memory
        ? [
            "MiB: peak resident memory while running, over Node's baseline, each contender in its own process;",
          ]
        : []),
      "checks: exact = the exact problem's output bit for bit; bound = worst |error| / forward-error bound against the float64 reference (<= 1 passes); = js q8_0: a quantized row's output is the js kernel's quantized layer's, bit for bit.",
    ].join("\n"),
  );
  if (report.warnings.length > 0)
    parts.push(["Warnings:", ...report.warnings.map((w) => `  ${w}`)].join("\n"));
  return parts.join("\n\n");
}

/**
 * What a reader must know before citing the run: contenders over 100% of the one-thread roof
 * (then the roof was not a ceiling), a machine already busy when the run started.
 */
export function reportWarnings(report: Report): string[] {
  const out: string[] = [];
  for (const s of report.shapes) {
    for (const r of s.results) {
      const share = roofShare(s, r);
      const roof = roofOf(s, r);
      if (share !== null && share > 1 && roof !== undefined) {
        out.push(
          `${s.name}: ${r.label} ran at ${(100 * share).toFixed(0)}% of the one-thread roof${r.weightType === undefined ? "" : ` for ${r.weightType} weights`} (${num(roof.gflops, 2)} GFLOP/s, ${roofKind(roof)}): the roof is not a ceiling there; compare with care`,
        );
      }
    }
  }
  const cores = report.machine.availableParallelism;
  const [before] = report.provenance.loadBefore;
  const [after] = report.provenance.loadAfter;
  if (before > 0.5 * cores || after > cores + 0.5) {
    out.push(
      `the machine was busy: load average ${before.toFixed(2)} when the run started and ${after.toFixed(2)} when it ended, on ${cores} cores; expect slower, more spread repetitions`,
    );
  }
  const gpu = report.browser?.webgpu;
  if (gpu !== undefined && "software" in gpu && gpu.software) {
    out.push(
      `the rows marked (software GPU) ran on WebGPU's ${webgpuText(gpu)}: their times and ratios are a sanity check of the WebGPU path only, not a GPU's speed`,
    );
  }
  if (report.provenance.git?.dirty)
    out.push("the work tree had uncommitted changes: the commit alone does not reproduce the run");
  return out;
}

function contenderRows(report: Report): { id: string; label: string; threads: number }[] {
  const seen = new Map<string, { id: string; label: string; threads: number }>();
  for (const s of report.shapes)
    for (const r of s.results)
      if (!seen.has(r.id)) seen.set(r.id, { id: r.id, label: r.label, threads: r.threads });
  return [...seen.values()];
}

function find(shape: ShapeReport, id: string): ContenderResult | undefined {
  return shape.results.find((r) => r.id === id);
}

function loadText(l: [number, number, number]): string {
  return l.map((v) => v.toFixed(2)).join(", ");
}

/** "commit 1234abcd5678 (clean)" or "(dirty: 3 changed files)" or "no git". */
export function gitText(git: GitState | null): string {
  if (git === null) return "no git repository";
  const state = git.dirty
    ? `dirty: ${git.changes.length}${git.changes.length >= 20 ? "+" : ""} changed files`
    : "clean";
  return `commit ${git.commit.slice(0, 12)} (${state})`;
}

/** The WebGPU adapter of a browser run, or why it had none: "google swiftshader (...), software". */
export function webgpuText(a: NonNullable<BrowserInfo["webgpu"]>): string {
  if ("error" in a) return `no adapter: ${a.error}`;
  const name = [a.vendor, a.architecture, a.device].filter((t) => t !== "").join(" ") || "unnamed";
  const kind = a.software
    ? "a software adapter (it computes on the CPU)"
    : "a hardware adapter, as far as it says";
  return `${name}${a.description === "" ? "" : ` (${a.description})`}, ${kind}`;
}

/** A browser run's line: which browser, which V8, relaxed SIMD, isolation; what it leaves out. */
export function browserLine(b: BrowserInfo): string {
  const gpu = b.webgpu === undefined ? "" : ` WebGPU adapter: ${webgpuText(b.webgpu)}.`;
  return `In headless ${b.product} ${b.version} (V8 ${b.v8}; WebAssembly relaxed SIMD ${b.relaxedSimd ? "on" : "off"}; ${b.crossOriginIsolated ? "cross-origin isolated, so SharedArrayBuffer and threads" : "not cross-origin isolated: no SharedArrayBuffer, one thread"}), each contender in a page of its own, driven from Node; a browser run has no memory probes and no roof.${gpu}`;
}

/** The report as markdown: GFLOP/s, ms per token, ratios and memory, one column per shape. */
/**
 * `--sparsity`: for each shape run at several shares of hidden units off, each tokenwise row's
 * speed against the same row at the lowest share, and against its dense row (`sparse: false`)
 * at the same share: ratios of median GFLOP/s within this run. Empty without `--sparsity`.
 */
export function sparsityTable(shapes: readonly ShapeReport[]): string[] {
  const swept = shapes.filter((s) => s.sparsity !== undefined);
  if (swept.length === 0) return [];
  const base = (s: ShapeReport) => s.name.slice(0, s.name.lastIndexOf("@s"));
  const gflops = (s: ShapeReport, id: string) => {
    const r = find(s, id);
    return r?.status === "ok" ? r.timing?.gflops : undefined;
  };
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? "" : `${num(a / b, 2)}x`;
  const out = [
    "",
    "**Sparsity** (each tokenwise row's GFLOP/s over the same row at the shape's lowest share of hidden units off, then over its dense row, `sparse: false`, at the same share; ratios within this run)",
    "",
    "| shape | contender | share off | x lowest share | x dense |",
    "|---|---|---:|---:|---:|",
  ];
  for (const name of [...new Set(swept.map(base))]) {
    const group = swept
      .filter((s) => base(s) === name)
      .sort((a, b) => (a.sparsity as number) - (b.sparsity as number));
    const first = group[0] as ShapeReport;
    for (const r of first.results) {
      if (r.group !== "tokenwise" || /(^| )dense@/.test(r.label)) continue;
      const denseId = r.id.replace(/@/, "-dense@");
      for (const s of group) {
        const g = gflops(s, r.id);
        out.push(
          `| ${name} | ${r.label} | ${num((s.sparsity as number) * 100, 0)}% | ${ratio(g, gflops(first, r.id))} | ${ratio(g, gflops(s, denseId))} |`,
        );
      }
    }
  }
  return out;
}

export function toMarkdown(report: Report): string {
  const shapes = report.shapes;
  const contenders = contenderRows(report);
  const header = (first: string) => [
    `| ${first} | ${shapes.map((s) => `${s.name} <sub>${dimsOf(s)}</sub>`).join(" | ")} |`,
    `|---|${shapes.map(() => "---:").join("|")}|`,
  ];
  const cell = (s: ShapeReport, id: string, f: (r: ContenderResult) => string) => {
    const r = find(s, id);
    if (r === undefined) return "";
    if (r.status !== "ok") return r.status;
    return f(r);
  };
  const out: string[] = [];
  const variant = report.settings.variant;
  const p = report.provenance;
  out.push(
    `The ${describeVariant(variant)} layer, measured ${report.date.slice(0, 10)} on ${machineLine(report.machine)}.`,
    "",
    `Code: tokenwise ${report.tokenwise.version}, ${gitText(p.git)}. Load average (1, 5, 15 min) ${loadText(p.loadBefore)} before the run and ${loadText(p.loadAfter)} after it, on ${report.machine.availableParallelism} cores. Command: \`${report.command}\`.`,
    "",
    ...(report.browser === undefined ? [] : [browserLine(report.browser), ""]),
    `Median of ${report.settings.reps} interleaved repetitions after warm-up (subscript: slowest–fastest repetition); threads per contender in the name or 1.`,
  );
  if (report.warnings.length > 0) {
    out.push("", "**Warnings**", "");
    for (const w of report.warnings) out.push(`- ⚠ ${w}`);
  }
  out.push(
    "",
    `**GFLOP/s** (${flopsFormula(variant.layer)} per forward, times the layers in turn; higher is better)`,
    "",
    ...header("contender"),
  );
  for (const c of contenders) {
    out.push(
      `| ${c.label} | ${shapes
        .map((s) =>
          cell(s, c.id, (r) => {
            const t = r.timing;
            return t === undefined
              ? ""
              : `${num(t.gflops, 2)} <sub>${num(t.gflopsSlowest, 1)}–${num(t.gflopsFastest, 1)}</sub>`;
          }),
        )
        .join(" | ")} |`,
    );
  }
  if (shapes.some((s) => s.roof !== undefined)) {
    out.push(
      `| *roof, one thread* | ${shapes.map((s) => (s.roof === undefined ? "" : `${num(s.roof.gflops, 2)} <sub>${roofKind(s.roof)}</sub>`)).join(" | ")} |`,
    );
    const types = [...new Set(shapes.flatMap((s) => (s.typeRoofs ?? []).map((t) => t.weightType)))];
    for (const type of types) {
      out.push(
        `| *roof, ${type} weights* | ${shapes
          .map((s) => {
            const roof = s.typeRoofs?.find((t) => t.weightType === type)?.roof;
            return roof === undefined ? "" : `${num(roof.gflops, 2)} <sub>${roofKind(roof)}</sub>`;
          })
          .join(" | ")} |`,
      );
    }
  }
  out.push(...sparsityTable(shapes));
  out.push(
    "",
    "**Milliseconds per token** (median time of a forward / T)",
    "",
    ...header("contender"),
  );
  for (const c of contenders) {
    out.push(
      `| ${c.label} | ${shapes.map((s) => cell(s, c.id, (r) => (r.timing === undefined ? "" : num(r.timing.msPerToken, 3)))).join(" | ")} |`,
    );
  }
  out.push(
    "",
    "**First call**: the first forward after setup (`await create(...)` for tokenwise), in multiples of the median call",
    "",
    ...header("contender"),
  );
  for (const c of contenders) {
    out.push(
      `| ${c.label} | ${shapes.map((s) => cell(s, c.id, (r) => (r.firstCallOverMedian === undefined ? "" : `${num(r.firstCallOverMedian, 1)}x`))).join(" | ")} |`,
    );
  }
  const own = contenders.filter((c) =>
    shapes.some((s) => ["tokenwise", "custom"].includes(find(s, c.id)?.group ?? "")),
  );
  if (own.length > 0) {
    out.push(
      "",
      "**Ratio to the best peer at the same thread count** (best portable peer in brackets: native peers left out)",
      "",
      ...header("contender"),
    );
    for (const c of own) {
      out.push(
        `| ${c.label} | ${shapes
          .map((s) =>
            cell(s, c.id, (r) => `${ratio(r.ratio?.bestPeer)} (${ratio(r.ratio?.bestPortable)})`),
          )
          .join(" | ")} |`,
      );
    }
  }
  const shared = contenders.filter((c) =>
    shapes.some((s) => {
      const r = find(s, c.id);
      return r !== undefined && roofShare(s, r) !== null;
    }),
  );
  if (shapes.some((s) => s.roof !== undefined) && shared.length > 0) {
    const rate = (r: Rate | undefined) =>
      r === undefined
        ? ""
        : `${num(r.median, 2)} <sub>${num(r.slowest, 1)}–${num(r.fastest, 1)}</sub>`;
    const stream = (r: StreamRate | null | undefined) =>
      r === null || r === undefined
        ? "="
        : `${rate(r.rate)} <sub>×${r.streams}, ${mib(r.bytes)}</sub>`;
    out.push(
      "",
      "**Share of the one-thread roof**: min(SIMD128 multiply and add peak, flops per forward / time to read the weights once, in the contender's weight type: a bf16 row's weights are half a float32 row's bytes), each measured on one thread in the shape's own rounds, beside the contenders. The weights are read at the rate of a buffer of their size, read again and again (a cache's rate where they fit in one); main memory is a buffer far beyond the last-level cache. Rates in GB/s with the fastest of 1, 2 or 4 read streams (×n) and the buffer's size; medians, the spread in subscript. Every one-thread contender that is not native; ⚠ marks a share over 100%, where the roof was no ceiling.",
      "",
      ...header(""),
      `| SIMD128 peak, GFLOP/s | ${shapes.map((s) => rate(s.roof?.peak)).join(" | ")} |`,
      `| weights read, GB/s | ${shapes.map((s) => (s.roof === undefined ? "" : `${stream(s.roof.weights)} <sub>${s.roof.weightsFrom === "cache" ? "cache" : "memory"}</sub>`)).join(" | ")} |`,
      `| main memory, GB/s | ${shapes.map((s) => stream(s.roof?.memory)).join(" | ")} |`,
    );
    for (const c of shared) {
      out.push(
        `| ${c.label} | ${shapes
          .map((s) =>
            cell(s, c.id, (r) => {
              const share = roofShare(s, r);
              if (share === null) return "";
              return share > 1
                ? `**${(100 * share).toFixed(0)}% ⚠**`
                : `${(100 * share).toFixed(0)}%`;
            }),
          )
          .join(" | ")} |`,
      );
    }
  }
  const scaled = contenders.filter((c) => c.threads > 1);
  if (scaled.length > 0) {
    out.push(
      "",
      "**Thread scaling**: GFLOP/s over the same contender's on one thread",
      "",
      ...header("contender"),
    );
    for (const c of scaled) {
      out.push(
        `| ${c.label} | ${shapes.map((s) => cell(s, c.id, (r) => ratio(r.ratio?.overOneThread))).join(" | ")} |`,
      );
    }
  }
  if (shapes.some((s) => s.results.some((r) => r.memory !== undefined))) {
    out.push(
      "",
      "**Memory**: MiB of peak resident memory while running, over Node's own baseline, each contender alone in a child process (in brackets: that over the layer's weight bytes in the contender's weight type, float32 unless it names one)",
      "",
      ...header("contender"),
    );
    out.push(
      `| *weights* | ${shapes.map((s) => `${(s.weightBytes / MiB).toFixed(1)}`).join(" | ")} |`,
    );
    for (const c of contenders) {
      out.push(
        `| ${c.label} | ${shapes
          .map((s) =>
            cell(s, c.id, (r) => {
              const m = r.memory;
              if (m === undefined || "error" in m || m.extra === null) return "n/a";
              return `${(m.extra / MiB).toFixed(1)} (${(m.extraOverWeights ?? 0).toFixed(2)}x)`;
            }),
          )
          .join(" | ")} |`,
      );
    }
  }
  const partial = shapes.filter((s) => s.reference.rowsChecked < s.reference.totalRows);
  const noExact = shapes.filter((s) => "error" in s.exactProblem);
  const gpuRows = shapes.some((s) => s.results.some((r) => r.webgpu !== undefined));
  // WebGPU rows checked without the exact problem where the shape had one.
  const boundOnly = [
    ...new Set(
      shapes
        .filter((s) => !("error" in s.exactProblem))
        .flatMap((s) => s.results)
        .filter((r) => r.webgpu !== undefined && r.status === "ok" && r.exact === undefined)
        .map((r) => r.label),
    ),
  ];
  out.push(
    "",
    `Every contender was checked twice before it was timed: on the exact problem (small integers times powers of two, where float32 arithmetic is exact in any summation order), its output had to be the exact one, bit for bit${noExact.length > 0 ? ` (not at ${noExact.map((s) => s.name).join(", ")}: too large to stay exact)` : ""}; on the timed problem, within a forward-error bound of a float64 reference${
      partial.length > 0
        ? ` (${partial.map((s) => `${s.name}: ${s.reference.rowsChecked} of ${s.reference.totalRows} token rows`).join("; ")}, to keep the references affordable)`
        : ""
    }.${gpuRows ? " A WebGPU row's bound is that of WebGPU's arithmetic, which may flush subnormals and whose exp and division are not correctly rounded (tokenwise's webgpu kernel: the bound docs/kernels.md states; bench/reference-webgpu.ts)." : ""}${boundOnly.length > 0 ? ` The exact problem was not asked of ${boundOnly.join(", ")}: on a GPU the ${describeVariant(variant)} layer need not give its exact output, so the bound alone checked ${boundOnly.length > 1 ? "them" : "it"}.` : ""}`,
  );
  const troubles = new Map<string, string>();
  for (const s of shapes)
    for (const r of s.results)
      if (r.status !== "ok") troubles.set(`${r.label}: ${r.status}`, r.reason ?? "");
  if (troubles.size > 0) {
    out.push("", "Not timed:", "");
    for (const [k, v] of troubles) out.push(`- ${k}: ${v.replace(/\n/g, " ")}`);
  }
  const versions = report.peers
    .filter((p) => p.loaded)
    .map((p) =>
      Object.entries(p.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(", "),
    );
  if (versions.length > 0)
    out.push("", `Peers: ${[...new Set(versions.join(", ").split(", "))].join(", ")}.`);
  return out.join("\n") + "\n";
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = [
  "shape",
  "tokens",
  "dModel",
  "dHidden",
  "layers",
  "layer",
  "activation",
  "contender",
  "label",
  "group",
  "threads",
  "native",
  "weight_type",
  "status",
  "reason",
  "gflops",
  "gflops_slowest",
  "gflops_fastest",
  "median_ms",
  "min_ms",
  "max_ms",
  "q1_ms",
  "q3_ms",
  "ms_per_token",
  "reps",
  "calls_per_rep",
  "setup_ms",
  "first_call_ms",
  "first_call_over_median",
  "ratio_best_peer",
  "ratio_best_portable",
  "over_one_thread",
  "roof_gflops",
  "roof_bound",
  "roof_share",
  "exact_outputs",
  "bound_worst_ratio",
  "memory_extra_mib",
] as const;

/** One row per contender and shape, the figures of the markdown tables and more. */
export function toCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const s of report.shapes) {
    for (const r of s.results) {
      const t = r.timing;
      const m = r.memory;
      const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
        shape: s.name,
        tokens: s.tokens,
        dModel: s.dModel,
        dHidden: s.dHidden,
        layers: s.layers,
        layer: s.layer,
        activation: s.activation,
        contender: r.id,
        label: r.label,
        group: r.group,
        threads: r.threads,
        native: r.native,
        weight_type: r.weightType ?? "f32",
        status: r.status,
        reason: r.reason,
        gflops: t?.gflops,
        gflops_slowest: t?.gflopsSlowest,
        gflops_fastest: t?.gflopsFastest,
        median_ms: t?.medianMs,
        min_ms: t?.minMs,
        max_ms: t?.maxMs,
        q1_ms: t?.q1Ms,
        q3_ms: t?.q3Ms,
        ms_per_token: t?.msPerToken,
        reps: t?.reps,
        calls_per_rep: t?.callsPerRep,
        setup_ms: r.setupMs,
        first_call_ms: r.firstCallMs,
        first_call_over_median: r.firstCallOverMedian,
        ratio_best_peer: r.ratio?.bestPeer,
        ratio_best_portable: r.ratio?.bestPortable,
        over_one_thread: r.ratio?.overOneThread,
        roof_gflops: roofOf(s, r)?.gflops,
        roof_bound: roofOf(s, r)?.bound,
        roof_share: roofShare(s, r),
        exact_outputs: r.exact?.ok ? r.exact.compared : undefined,
        bound_worst_ratio: r.check?.worstRatio,
        memory_extra_mib:
          m !== undefined && !("error" in m) && m.extra !== null ? m.extra / MiB : undefined,
      };
      lines.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
    }
  }
  return lines.join("\n") + "\n";
}

/** The report as JSON: indented, but each array of numbers on one line (the per-call times). */
export function toJson(report: Report): string {
  return (
    JSON.stringify(report, null, 2).replace(
      /\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g,
      (_, body: string) => `[${body.replace(/\s+/g, "")}]`,
    ) + "\n"
  );
}
