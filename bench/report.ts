// The report: its JSON shape, the terminal table and the markdown the README embeds.
import type { ContenderResult, HarnessSettings, ShapeReport } from "./harness";
import { type Machine, machineLine } from "./machine";
import type { PeerStatus } from "./peers/index";
import { describeVariant, flopsFormula } from "./layer";
import type { Rate } from "./roof";
import { describeShape } from "./shapes";

export interface Report {
  schema: "tokenwise-bench/1";
  /** When the run started, ISO 8601. */
  date: string;
  /** The command line, for rerunning it. */
  command: string;
  durationMs: number;
  machine: Machine;
  settings: HarnessSettings & { threads: number[]; quick: boolean };
  tokenwise: { version: string };
  peers: PeerStatus[];
  shapes: ShapeReport[];
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

/** One line on a shape's one-thread roof, or undefined without one. */
export function roofLine(shape: ShapeReport): string | undefined {
  const r = shape.roof;
  if (r === undefined) return undefined;
  return `one-thread roof ${num(r.gflops, 2)} GFLOP/s, ${r.bound}-bound (SIMD128 multiply-add peak ${num(r.peak.median, 2)} GFLOP/s; the weights stream at ${num(r.stream.median, 2)} GB/s, ${num(r.memoryGflops, 2)} GFLOP/s if read once)`;
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
    "x best peer",
    "x portable",
    "MiB",
    "check",
  ];
  const right = [false, true, true, true, true, true, true, true, true, false];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of shape.results) {
    const t = r.timing;
    if (r.status !== "ok" || t === undefined) {
      rows.push([r.label, String(r.threads), "-", "-", "-", "-", "-", "-", "-", r.status]);
      notes.push(`  ${r.label}: ${r.status}: ${r.reason ?? ""}`);
      continue;
    }
    rows.push([
      r.label,
      String(r.threads),
      num(t.gflops, 2),
      `${num(t.gflopsSlowest, 1)}-${num(t.gflopsFastest, 1)}`,
      num(t.medianMs, 3),
      num(t.msPerToken, 3),
      ratio(r.ratio?.bestPeer),
      ratio(r.ratio?.bestPortable),
      memoryCell(r),
      `ok ${checkRatio(r.check?.worstRatio ?? 0)}`,
    ]);
  }
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const lines = [
    `${describeShape(shape)}, ${describeVariant(shape)}: ${shape.gflopPerForward.toFixed(3)} GFLOP per forward, ${checked} checked`,
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
  parts.push(
    [
      `GFLOP/s = ${flopsFormula(report.settings.variant.layer)} / median time of a call; slowest-fastest over the repetitions;`,
      "x best peer: over the fastest peer at the same thread count (x portable: leaving out native peers);",
      "MiB: peak resident memory while running, over Node's baseline, each contender in its own process;",
      "check: worst |error| / forward-error bound against the float64 reference (<= 1 passes).",
    ].join("\n"),
  );
  return parts.join("\n\n");
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

/** The report as markdown: GFLOP/s, ms per token, ratios and memory, one column per shape. */
export function toMarkdown(report: Report): string {
  const shapes = report.shapes;
  const contenders = contenderRows(report);
  const header = (first: string) => [
    `| ${first} | ${shapes.map((s) => `${s.name} <sub>${s.tokens}×${s.dModel}×${s.dHidden}</sub>`).join(" | ")} |`,
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
  out.push(
    `The ${describeVariant(variant)} layer, measured ${report.date.slice(0, 10)} on ${machineLine(report.machine)}.`,
  );
  out.push(
    "",
    `Median of ${report.settings.reps} interleaved repetitions after warm-up (subscript: slowest–fastest repetition); threads per contender in the name or 1. Command: \`${report.command}\`.`,
    "",
    `**GFLOP/s** (${flopsFormula(variant.layer)} per forward; higher is better)`,
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
      `| *roof, one thread* | ${shapes.map((s) => (s.roof === undefined ? "" : `${num(s.roof.gflops, 2)} <sub>${s.roof.bound}</sub>`)).join(" | ")} |`,
    );
  }
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
  const ownOne = own.filter((c) => c.threads === 1);
  if (shapes.some((s) => s.roof !== undefined) && ownOne.length > 0) {
    const rate = (r: Rate | undefined) =>
      r === undefined
        ? ""
        : `${num(r.median, 2)} <sub>${num(r.slowest, 1)}–${num(r.fastest, 1)}</sub>`;
    out.push(
      "",
      "**Share of the one-thread roof**: min(SIMD128 multiply-add peak, flops per forward / time to read the weights once), each measured on one thread in the shape's own rounds (a repetition of each per round, beside the contenders'); medians, the spread in subscript",
      "",
      ...header(""),
      `| SIMD128 peak, GFLOP/s | ${shapes.map((s) => rate(s.roof?.peak)).join(" | ")} |`,
      `| weights streamed, GB/s | ${shapes.map((s) => rate(s.roof?.stream)).join(" | ")} |`,
    );
    for (const c of ownOne) {
      out.push(
        `| ${c.label} | ${shapes
          .map((s) =>
            cell(s, c.id, (r) =>
              r.timing === undefined || s.roof === undefined
                ? ""
                : `${((100 * r.timing.gflops) / s.roof.gflops).toFixed(0)}%`,
            ),
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
      "**Memory**: MiB of peak resident memory while running, over Node's own baseline, each contender alone in a child process (in brackets: that over the layer's float32 weight bytes)",
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
  out.push(
    "",
    `Every contender's output was checked against a float64 reference within a forward-error bound before it was timed${
      partial.length > 0
        ? ` (${partial.map((s) => `${s.name}: ${s.reference.rowsChecked} of ${s.reference.totalRows} token rows`).join("; ")}, to keep the reference affordable)`
        : ""
    }.`,
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
