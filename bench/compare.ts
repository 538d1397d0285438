// `npm run bench:compare -- a.json b.json`: two runs' reports side by side, the ratio of each
// contender's GFLOP/s at each shape (b over a), marked as noise where the two runs' repetitions
// overlap (the slowest repetition of the faster run is slower than the fastest of the other).
// Both runs' provenance is printed first: a ratio between two machines, two loads or two dirty
// trees says less than it seems.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { runIfMain } from "./cli";
import type { ContenderResult, ShapeReport } from "./harness";
import { machineLine } from "./machine";
import { type Report, gitText } from "./report";
import { dimsOf } from "./shapes";

/** One cell: b's median GFLOP/s over a's, and whether the two runs' spreads overlap. */
export interface CompareCell {
  ratio: number;
  /** The slowest-to-fastest ranges of the two runs overlap: the ratio is within the noise. */
  noise: boolean;
}

/** The ratio of b over a for one contender at one shape, or null where either was not timed. */
export function compareCell(a: ContenderResult, b: ContenderResult): CompareCell | null {
  const ta = a.timing;
  const tb = b.timing;
  if (ta === undefined || tb === undefined) return null;
  const noise = ta.gflopsSlowest <= tb.gflopsFastest && tb.gflopsSlowest <= ta.gflopsFastest;
  return { ratio: tb.gflops / ta.gflops, noise };
}

function cellText(c: CompareCell | null, why: string): string {
  if (c === null) return why;
  const r = `${c.ratio.toFixed(2)}x`;
  return c.noise ? `~${r}` : `**${r}**`;
}

function header(r: Report, tag: string, path: string): string {
  const p = r.provenance;
  const load = (l: [number, number, number]) => l.map((v) => v.toFixed(2)).join(", ");
  const browser =
    r.browser === undefined
      ? ""
      : `; in ${r.browser.product} ${r.browser.version} (V8 ${r.browser.v8})`;
  return `- **${tag}**: \`${path}\`, ${r.date}, ${gitText(p?.git ?? null)}, load ${p ? `${load(p.loadBefore)} → ${load(p.loadAfter)}` : "not recorded"}; ${machineLine(r.machine)}${browser}; \`${r.command}\``;
}

/** What differs between the two runs' conditions, each a line (empty when comparable). */
export function differences(a: Report, b: Report): string[] {
  const out: string[] = [];
  const same = (what: string, x: unknown, y: unknown) => {
    if (JSON.stringify(x) !== JSON.stringify(y))
      out.push(`different ${what}: ${JSON.stringify(x)} and ${JSON.stringify(y)}`);
  };
  same("CPUs", a.machine.cpu, b.machine.cpu);
  same("Node versions", a.machine.node, b.machine.node);
  same("V8 versions", a.machine.v8, b.machine.v8);
  // A browser run's contenders ran in the browser's V8, not in Node's.
  const where = (r: Report) =>
    r.browser === undefined ? "Node" : `${r.browser.product} ${r.browser.version}`;
  same("engines (Node, or the browser of npm run bench:web)", where(a), where(b));
  if (a.browser !== undefined && b.browser !== undefined)
    same("browser V8 versions", a.browser.v8, b.browser.v8);
  same("layers", a.settings.variant, b.settings.variant);
  same("repetition counts", a.settings.reps, b.settings.reps);
  if (a.provenance?.git?.dirty || b.provenance?.git?.dirty)
    out.push("a work tree had uncommitted changes: its commit alone does not say what ran");
  return out;
}

/** The comparison as markdown: provenance, differences, and a table of ratios per shape. */
export function compareReports(a: Report, b: Report, paths: [string, string]): string {
  const shapes = b.shapes.filter((s) => a.shapes.some((x) => x.name === s.name));
  const find = (s: ShapeReport[], shape: string, id: string) =>
    s.find((x) => x.name === shape)?.results.find((r) => r.id === id);
  const ids: { id: string; label: string }[] = [];
  for (const s of shapes)
    for (const r of s.results)
      if (!ids.some((x) => x.id === r.id) && find(a.shapes, s.name, r.id) !== undefined)
        ids.push({ id: r.id, label: r.label });
  const out = [
    `GFLOP/s of b over a (median over each run's repetitions). ~: within the noise (the two runs' slowest-to-fastest ranges overlap); **bold**: outside it.`,
    "",
    header(a, "a", paths[0]),
    header(b, "b", paths[1]),
  ];
  const diff = differences(a, b);
  if (diff.length > 0) out.push("", ...diff.map((d) => `- ⚠ ${d}`));
  out.push(
    "",
    `| contender | ${shapes.map((s) => `${s.name} <sub>${dimsOf(s)}</sub>`).join(" | ")} |`,
    `|---|${shapes.map(() => "---:").join("|")}|`,
  );
  for (const { id, label } of ids) {
    const cells = shapes.map((s) => {
      const ra = find(a.shapes, s.name, id);
      const rb = find(b.shapes, s.name, id);
      if (ra === undefined || rb === undefined) return "";
      const why =
        ra.status !== "ok" ? `a: ${ra.status}` : rb.status !== "ok" ? `b: ${rb.status}` : "";
      return cellText(compareCell(ra, rb), why);
    });
    out.push(`| ${label} | ${cells.join(" | ")} |`);
  }
  const roof = shapes.map((s) => {
    const ra = a.shapes.find((x) => x.name === s.name)?.roof;
    const rb = s.roof;
    if (ra === undefined || rb === undefined) return "";
    const noise = ra.peak.slowest <= rb.peak.fastest && rb.peak.slowest <= ra.peak.fastest;
    const r = `${(rb.gflops / ra.gflops).toFixed(2)}x`;
    return rb.bound === "compute" && ra.bound === "compute" && noise ? `~${r}` : r;
  });
  if (roof.some((c) => c !== "")) out.push(`| *roof, one thread* | ${roof.join(" | ")} |`);
  const missing = a.shapes.filter((s) => !b.shapes.some((x) => x.name === s.name));
  if (missing.length > 0) out.push("", `Only in a: ${missing.map((s) => s.name).join(", ")}.`);
  return out.join("\n") + "\n";
}

/** A bench report read from `path`; a TypeError if the file is not one. */
export function readReport(path: string): Report {
  const r = JSON.parse(readFileSync(path, "utf8")) as Report;
  if (
    !Array.isArray(r.shapes) ||
    typeof r.schema !== "string" ||
    !r.schema.startsWith("tokenwise-bench/")
  )
    throw new TypeError(`${path}: not a bench report (no tokenwise-bench schema)`);
  return r;
}

function main(argv: string[]): number {
  if (argv.length !== 2 || argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write("usage: npm run bench:compare -- a.json b.json\n");
    return argv.includes("--help") || argv.includes("-h") ? 0 : 2;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const paths = argv.map((p) => resolve(cwd, p)) as [string, string];
  process.stdout.write(
    compareReports(readReport(paths[0]), readReport(paths[1]), [
      argv[0] as string,
      argv[1] as string,
    ]),
  );
  return 0;
}

runIfMain(import.meta.url, "bench:compare", main);
