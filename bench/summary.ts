// `npm run bench:summary -- [--against <id>] [--against-shape <shape>] run1 run2 ...`: several
// runs of the same command summarized as a citable figure should be, the median over the runs
// of each contender's GFLOP/s with its range, and of its ratio to a baseline within each run:
// another contender at the same shape (`--against`, by id, for example tokenwise-wasm@1t), or
// the same contender at another shape of the run (`--against-shape`, for example D1@s0 for a
// sparsity sweep). A ratio is always formed inside one run, never across runs, and the table
// says how many runs each figure has. Runs are report.json files or their folders.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { runIfMain } from "./cli";
import { differences, readReport } from "./compare";
import type { Report } from "./report";
import { gitText } from "./report";
import { quantile } from "./stats";

/** A median over runs with its range and the number of runs it comes from. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** One contender at one shape over the runs. */
export interface SummaryRow {
  shape: string;
  id: string;
  label: string;
  gflops: Spread;
  /** Its ratio to the baseline within each run, over the runs that timed both; null if none. */
  ratio: Spread | null;
  /** Runs in which it was not timed (failed, wrong, unavailable) or absent. */
  missing: number;
}

/** What to divide by, within each run. */
export interface Baseline {
  /** Another contender's id at the same shape. */
  against?: string;
  /** The same contender at this shape. */
  againstShape?: string;
}

function spread(values: readonly number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    runs: sorted.length,
  };
}

/**
 * The rows of the summary: every shape and contender of the first run, in its order, over all
 * runs. Throws a RangeError naming the baseline when no run has it.
 */
export function summarize(reports: readonly Report[], base: Baseline = {}): SummaryRow[] {
  if (reports.length === 0) throw new RangeError("no runs given");
  const gflopsOf = (r: Report, shape: string, id: string): number | null => {
    const c = r.shapes.find((s) => s.name === shape)?.results.find((x) => x.id === id);
    return c?.status === "ok" && c.timing !== undefined ? c.timing.gflops : null;
  };
  const first = reports[0] as Report;
  if (
    base.against !== undefined &&
    !reports.some((r) => r.shapes.some((s) => s.results.some((c) => c.id === base.against)))
  )
    throw new RangeError(`--against ${base.against}: no run has that contender`);
  if (
    base.againstShape !== undefined &&
    !reports.some((r) => r.shapes.some((s) => s.name === base.againstShape))
  )
    throw new RangeError(`--against-shape ${base.againstShape}: no run has it`);
  const rows: SummaryRow[] = [];
  for (const s of first.shapes) {
    for (const c of s.results) {
      const own: number[] = [];
      const ratios: number[] = [];
      let missing = 0;
      for (const r of reports) {
        const g = gflopsOf(r, s.name, c.id);
        if (g === null) {
          missing++;
          continue;
        }
        own.push(g);
        const b =
          base.against !== undefined
            ? gflopsOf(r, s.name, base.against)
            : base.againstShape !== undefined
              ? gflopsOf(r, base.againstShape, c.id)
              : null;
        if (b !== null) ratios.push(g / b);
      }
      const gflops = spread(own);
      if (gflops === null) continue;
      rows.push({
        shape: s.name,
        id: c.id,
        label: c.label,
        gflops,
        ratio: spread(ratios),
        missing,
      });
    }
  }
  return rows;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function spreadText(s: Spread, suffix = ""): string {
  return `${fmt(s.median)}${suffix} (${fmt(s.min)}–${fmt(s.max)}${suffix})`;
}

/** The summary as markdown: each run's provenance, what differs between runs, the table. */
export function summaryMarkdown(
  reports: readonly Report[],
  paths: readonly string[],
  base: Baseline = {},
): string {
  const rows = summarize(reports, base);
  const load = (l: [number, number, number]) => l.map((v) => v.toFixed(2)).join(", ");
  const out = [
    `${reports.length} runs. GFLOP/s: the median over the runs of each run's median, with the range over the runs (min–max).`,
  ];
  if (base.against !== undefined || base.againstShape !== undefined)
    out.push(
      `Ratio: within each run, the contender's GFLOP/s over ${base.against !== undefined ? `\`${base.against}\`'s at the same shape` : `its own at ${base.againstShape}`}; then the median over the runs, with the range.`,
    );
  out.push("");
  reports.forEach((r, i) => {
    const p = r.provenance;
    out.push(
      `- \`${paths[i]}\`: ${r.date}, ${gitText(p?.git ?? null)}, load ${p ? `${load(p.loadBefore)} → ${load(p.loadAfter)}` : "not recorded"}`,
    );
  });
  const first = reports[0] as Report;
  const warn = new Set<string>();
  for (const r of reports.slice(1)) for (const d of differences(first, r)) warn.add(d);
  for (const r of reports) if (r.command !== first.command) warn.add("different commands");
  if (warn.size > 0) out.push("", ...[...warn].map((w) => `- ⚠ ${w}`));
  const hasRatio = base.against !== undefined || base.againstShape !== undefined;
  out.push(
    "",
    `| shape | contender | runs | GFLOP/s |${hasRatio ? " ratio |" : ""}`,
    `|---|---|---:|---:|${hasRatio ? "---:|" : ""}`,
  );
  for (const row of rows) {
    const runs =
      row.missing === 0 ? `${row.gflops.runs}` : `${row.gflops.runs} (${row.missing} not timed)`;
    const ratio = !hasRatio ? "" : ` ${row.ratio === null ? "-" : spreadText(row.ratio, "x")} |`;
    out.push(`| ${row.shape} | ${row.label} | ${runs} | ${spreadText(row.gflops)} |${ratio}`);
  }
  return out.join("\n") + "\n";
}

function main(argv: string[]): number {
  const base: Baseline = {};
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--help" || a === "-h") {
      process.stdout.write(
        "usage: npm run bench:summary -- [--against <contender id>] [--against-shape <shape>] run1 run2 ...\n",
      );
      return 0;
    }
    if (a === "--against" || a === "--against-shape") {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${a} needs a value`);
      if (a === "--against") base.against = v;
      else base.againstShape = v;
    } else files.push(a);
  }
  if (base.against !== undefined && base.againstShape !== undefined)
    throw new RangeError("give --against or --against-shape, not both");
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const paths = files.map((f) => {
    const p = resolve(cwd, f);
    return existsSync(p) && statSync(p).isDirectory() ? join(p, "report.json") : p;
  });
  process.stdout.write(summaryMarkdown(paths.map(readReport), files, base));
  return 0;
}

runIfMain(import.meta.url, "bench:summary", main);
