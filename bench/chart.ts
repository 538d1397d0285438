// The SVG charts: grouped bars of GFLOP/s per shape, one bar per contender, on a log scale (the
// contenders span three orders of magnitude), whiskers from the slowest to the fastest
// repetition, the one-thread roof as a dashed line labelled with its value and kind; and, for a
// token sweep, GFLOP/s against tokens, one line per contender. Contenders that were not timed are
// listed under the legend with the reason. Plain SVG written by hand: no plotting dependency.
import type { Group } from "./contender";
import type { ShapeReport } from "./harness";
import { describeVariant } from "./layer";
import { machineLine } from "./machine";
import type { Report } from "./report";
import { dimsOf } from "./shapes";

// One hue per library; a second or third thread count of the same contender is a lighter shade.
const FAMILY_COLORS: Record<string, string> = {
  "tokenwise-js": "#e8590c",
  "tokenwise-gated-js": "#e8590c",
  "tokenwise-wasm": "#c2255c",
  "tfjs-cpu": "#74c0fc",
  "tfjs-wasm": "#1971c2",
  "ort-node": "#2b8a3e",
  "ort-web": "#12b886",
  jax: "#6741d9",
  "ml-matrix": "#a0522d",
  naive: "#adb5bd",
};

const FALLBACK: Record<Group, string[]> = {
  tokenwise: ["#d6336c", "#f08c00", "#a61e4d"],
  custom: ["#f59f00", "#74b816", "#e64980", "#fab005"],
  peer: ["#0b7285", "#5c940d", "#862e9c", "#495057"],
  floor: ["#868e96"],
};

function lighten(hex: string, amount: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const mix = (c: number) => Math.round(c + (255 - c) * amount);
  const rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map(mix);
  return `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

function colors(series: readonly { id: string; group: Group }[]): Map<string, string> {
  const family = (id: string) => id.replace(/@\d+t$/, "");
  const used: Record<Group, number> = { tokenwise: 0, custom: 0, peer: 0, floor: 0 };
  const base = new Map<string, string>();
  const shade = new Map<string, number>();
  const out = new Map<string, string>();
  for (const s of series) {
    const f = family(s.id);
    if (!base.has(f)) {
      const list = FALLBACK[s.group];
      base.set(f, FAMILY_COLORS[f] ?? (list[used[s.group]++ % list.length] as string));
    }
    const k = shade.get(f) ?? 0;
    shade.set(f, k + 1);
    out.set(s.id, lighten(base.get(f) as string, Math.min(0.6, 0.35 * k)));
  }
  return out;
}

function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function fmt(v: number): string {
  return v >= 100
    ? v.toFixed(0)
    : v >= 10
      ? v.toFixed(1)
      : v >= 1
        ? v.toFixed(2)
        : v.toPrecision(2);
}

/** Words of `text` in lines of at most `max` characters. */
function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(line);
  return lines;
}

/**
 * The title and the subtitle lines (date, machine, commit; then `note`), from y = 28; returns
 * the y below them.
 */
function heading(o: string[], report: Report, title: string, note: string, left: number): number {
  o.push(
    `<text x="${left}" y="28" font-size="18" font-weight="600" fill="#212529">${esc(title)}</text>`,
  );
  const git = report.provenance?.git;
  const commit =
    git === null || git === undefined
      ? ""
      : `, commit ${git.commit.slice(0, 12)}${git.dirty ? " (dirty)" : ""}`;
  const lines = [
    ...wrap(`${report.date.slice(0, 10)}, ${machineLine(report.machine)}${commit}`, 140),
    ...wrap(note, 140),
  ];
  lines.forEach((l, i) =>
    o.push(`<text x="${left}" y="${48 + 16 * i}" font-size="12" fill="#495057">${esc(l)}</text>`),
  );
  return 48 + 16 * (lines.length - 1) + 10;
}

/** Roughly how wide a text is, px, at a font size (for legends and labels). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.58;
}

/** Short form of a roof's kind for a chart label. */
function roofWord(bound: "compute" | "cache" | "memory"): string {
  return bound;
}

/** A white outline under a label, so it stays legible over bars and lines. */
const HALO = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"';

/** Legend layout: as many columns as the longest label allows, at most 4. */
function legendColumns(labels: readonly string[], width: number): number {
  const widest = Math.max(0, ...labels.map((l) => textWidth(l, 12))) + 34;
  return Math.max(1, Math.min(4, Math.floor(width / widest)));
}

/**
 * The contenders that were not timed at some shape, one line each: label, shapes, status and
 * reason (cut to fit a line).
 */
function untimedLines(report: Report): string[] {
  const by = new Map<
    string,
    { label: string; status: string; shapes: string[]; reasons: string[] }
  >();
  for (const s of report.shapes) {
    for (const r of s.results) {
      if (r.status === "ok") continue;
      const key = `${r.id}\u0000${r.status}`;
      const e = by.get(key) ?? { label: r.label, status: r.status, shapes: [], reasons: [] };
      e.shapes.push(s.name);
      e.reasons.push((r.reason ?? "").replace(/\s+/g, " "));
      by.set(key, e);
    }
  }
  return [...by.values()].map((e) => {
    const all = e.shapes.length === report.shapes.length ? "every shape" : e.shapes.join(", ");
    const same = e.reasons.every((r) => r === e.reasons[0]);
    const reason = same ? e.reasons[0] : `at ${e.shapes[0]}: ${e.reasons[0]}`;
    const line = `${e.label} (${all}): ${e.status}: ${reason}`;
    return line.length > 150 ? `${line.slice(0, 147)}...` : line;
  });
}

/** The log-scale y range [lo, hi] for some positive values: whole decades, with room on top. */
function logRange(values: readonly number[]): { lo: number; hi: number } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = positive.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0.1;
  const top = positive.length > 0 ? Math.max(...positive) * 1.6 : 100;
  const decade = 10 ** Math.floor(Math.log10(top));
  const hi = [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= top) as number;
  return { lo, hi };
}

/** Grid lines and labels of a log y axis. */
function yGrid(
  o: string[],
  lo: number,
  hi: number,
  y: (v: number) => number,
  x1: number,
  x2: number,
): void {
  for (let d = Math.round(Math.log10(lo)); d <= Math.log10(hi) + 1e-9; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      const yy = y(v).toFixed(1);
      o.push(
        `<line x1="${x1}" x2="${x2}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? "#ced4da" : "#f1f3f5"}" stroke-width="1"/>`,
      );
      o.push(
        `<text x="${x1 - 8}" y="${yy}" font-size="11" fill="${m === 1 ? "#343a40" : "#868e96"}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(1))}</text>`,
      );
    }
  }
}

/** Legend and the list of contenders not timed, from y = top; returns the y below them. */
function legendAndUntimed(
  o: string[],
  series: readonly { id: string; label: string; group: Group }[],
  color: Map<string, string>,
  untimed: readonly string[],
  left: number,
  width: number,
  top: number,
): number {
  const cols = legendColumns(
    series.map((c) => c.label),
    width,
  );
  const colW = width / cols;
  series.forEach((c, i) => {
    const lx = left + (i % cols) * colW;
    const ly = top + Math.floor(i / cols) * 22;
    o.push(
      `<rect x="${lx.toFixed(1)}" y="${ly}" width="14" height="14" rx="2" fill="${color.get(c.id)}"/>`,
      `<text x="${(lx + 20).toFixed(1)}" y="${ly + 11}" font-size="12" fill="#212529"${c.group === "tokenwise" ? ' font-weight="600"' : ""}>${esc(c.label)}</text>`,
    );
  });
  let y = top + Math.ceil(series.length / cols) * 22;
  if (untimed.length > 0) {
    y += 8;
    o.push(
      `<text x="${left}" y="${y + 11}" font-size="12" font-weight="600" fill="#212529">Not timed (no bar):</text>`,
    );
    y += 18;
    for (const line of untimed) {
      o.push(
        `<text class="untimed" x="${left}" y="${y + 11}" font-size="11" fill="#495057">${esc(line)}</text>`,
      );
      y += 16;
    }
  }
  return y;
}

/** Height the legend and the untimed list take (see legendAndUntimed). */
function legendHeight(labels: readonly string[], untimed: number, width: number): number {
  const cols = legendColumns(labels, width);
  return Math.ceil(labels.length / cols) * 22 + (untimed > 0 ? 26 + untimed * 16 : 0);
}

export function toSvg(report: Report): string {
  const shapes = report.shapes;
  const series: { id: string; label: string; group: Group }[] = [];
  for (const s of shapes) {
    for (const r of s.results) {
      if (r.timing !== undefined && !series.some((x) => x.id === r.id))
        series.push({ id: r.id, label: r.label, group: r.group });
    }
  }
  const color = colors(series);

  const values = shapes.flatMap((s) =>
    s.results.flatMap((r) =>
      r.timing === undefined
        ? []
        : [r.timing.gflopsSlowest, r.timing.gflopsFastest, r.timing.gflops],
    ),
  );
  const roofs = shapes.flatMap((s) => (s.roof === undefined ? [] : [s.roof.gflops]));
  // The top is the first 1, 2 or 5 times a power of ten above the largest value, with room for labels.
  const { lo, hi } = logRange([...values, ...roofs]);

  const width = 980;
  const untimed = untimedLines(report);
  const head: string[] = [];
  const below = heading(
    head,
    report,
    `${describeVariant(report.settings.variant)} forward pass: GFLOP/s (higher is better, log scale)`,
    `Median of ${report.settings.reps} interleaved repetitions; whiskers: slowest to fastest. Threads: 1 unless the name says.${shapes.some((s) => s.roof !== undefined) ? " Dashed red: the one-thread roof, its value and what bounds it (compute; the weights read from a cache, or from memory)." : ""}`,
    78,
  );
  const margin = { left: 78, right: 24, top: below + 10, bottom: 0 };
  const plotW0 = width - margin.left - margin.right;
  margin.bottom =
    66 +
    legendHeight(
      series.map((c) => c.label),
      untimed.length,
      plotW0,
    );
  const plotH = 380;
  const height = margin.top + plotH + margin.bottom;
  const plotW = width - margin.left - margin.right;
  const groupW = plotW / Math.max(1, shapes.length);
  const inner = groupW * 0.84;
  const barW = inner / Math.max(1, series.length);
  const y = (v: number) =>
    margin.top + plotH * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));

  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" role="img" aria-labelledby="title">`,
    `<title id="title">${esc(describeVariant(report.settings.variant))} forward pass, GFLOP/s per shape and contender</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...head,
  );
  // Grid and y axis.
  yGrid(o, lo, hi, y, margin.left, width - margin.right);
  o.push(
    `<text transform="translate(20 ${margin.top + plotH / 2}) rotate(-90)" font-size="13" fill="#343a40" text-anchor="middle">GFLOP/s</text>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#495057"/>`,
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#495057"/>`,
  );
  // Bars.
  shapes.forEach((s, gi) => {
    const gx = margin.left + gi * groupW + (groupW - inner) / 2;
    series.forEach((c, si) => {
      const r = s.results.find((x) => x.id === c.id);
      const t = r?.timing;
      if (t === undefined) return;
      const x = gx + si * barW;
      const top = y(t.gflops);
      const fill = color.get(c.id) as string;
      o.push(
        `<rect x="${(x + 1).toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, barW - 2).toFixed(1)}" height="${(margin.top + plotH - top).toFixed(1)}" fill="${fill}"><title>${esc(`${c.label} at ${s.name}: ${fmt(t.gflops)} GFLOP/s (${fmt(t.gflopsSlowest)} to ${fmt(t.gflopsFastest)})`)}</title></rect>`,
      );
      const cx = (x + barW / 2).toFixed(1);
      o.push(
        `<line x1="${cx}" x2="${cx}" y1="${y(t.gflopsFastest).toFixed(1)}" y2="${y(t.gflopsSlowest).toFixed(1)}" stroke="#212529" stroke-width="1"/>`,
      );
      const ly = Math.min(top, y(t.gflopsFastest)) - 4;
      o.push(
        `<text transform="translate(${(x + barW / 2 + 3).toFixed(1)} ${ly.toFixed(1)}) rotate(-90)" font-size="${barW >= 12 ? 10 : 8}" fill="#343a40">${fmt(t.gflops)}</text>`,
      );
    });
    // The one-thread roof of this shape: a dashed line across its group, with its value and kind.
    if (s.roof !== undefined && s.roof.gflops > 0) {
      const ry = y(s.roof.gflops);
      const word = roofWord(s.roof.bound);
      o.push(
        `<line class="roof" x1="${(gx - 4).toFixed(1)}" x2="${(gx + inner + 4).toFixed(1)}" y1="${ry.toFixed(1)}" y2="${ry.toFixed(1)}" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(`one-thread roof at ${s.name}: ${fmt(s.roof.gflops)} GFLOP/s (${word})`)}</title></line>`,
        `<text class="roof-label" x="${(gx + inner / 2).toFixed(1)}" y="${(ry - 4).toFixed(1)}" font-size="10" font-weight="600" fill="#c92a2a" text-anchor="middle" ${HALO}>${esc(`roof ${fmt(s.roof.gflops)}, ${word}`)}</text>`,
      );
    }
    const cx = margin.left + gi * groupW + groupW / 2;
    o.push(
      `<text x="${cx.toFixed(1)}" y="${margin.top + plotH + 20}" font-size="13" font-weight="600" fill="#212529" text-anchor="middle">${esc(s.name)}</text>`,
      `<text x="${cx.toFixed(1)}" y="${margin.top + plotH + 36}" font-size="11" fill="#495057" text-anchor="middle">${esc(`T ${dimsOf(s).replace(/×/g, " · ")}`)}</text>`,
    );
  });
  legendAndUntimed(o, series, color, untimed, margin.left, plotW, margin.top + plotH + 56);
  o.push("</svg>");
  return o.join("\n") + "\n";
}

/** The token sweeps of a report: shapes grouped by the shape they sweep, in token order. */
function sweeps(report: Report): { base: string; shapes: ShapeReport[] }[] {
  const groups = new Map<string, ShapeReport[]>();
  for (const s of report.shapes) {
    if (s.base === undefined) continue;
    groups.set(s.base, [...(groups.get(s.base) ?? []), s]);
  }
  return [...groups.entries()]
    .filter(([, list]) => list.length >= 2)
    .map(([base, list]) => ({ base, shapes: [...list].sort((a, b) => a.tokens - b.tokens) }));
}

/** Whether the report has a token sweep to draw (toSweepSvg). */
export function hasSweep(report: Report): boolean {
  return sweeps(report).length > 0;
}

/**
 * GFLOP/s against tokens for each swept shape: one line per contender (log-log), the
 * one-thread roof as a dashed red line, points marked where a contender was timed.
 */
export function toSweepSvg(report: Report): string {
  const groups = sweeps(report);
  const series: { id: string; label: string; group: Group }[] = [];
  for (const g of groups)
    for (const s of g.shapes)
      for (const r of s.results)
        if (r.timing !== undefined && !series.some((x) => x.id === r.id))
          series.push({ id: r.id, label: r.label, group: r.group });
  const color = colors(series);
  const width = 980;
  const head: string[] = [];
  const below = heading(
    head,
    report,
    `${describeVariant(report.settings.variant)}: GFLOP/s against tokens (log-log)`,
    `Median of ${report.settings.reps} interleaved repetitions per point. Threads: 1 unless the name says. Dashed red: the one-thread roof (compute; the weights read from a cache, or from memory).`,
    78,
  );
  const margin = { left: 78, right: 24, top: below };
  const plotW = width - margin.left - margin.right;
  const plotH = 320;
  const panelH = plotH + 70;
  const untimed = untimedLines(report);
  const height =
    margin.top +
    groups.length * panelH +
    legendHeight(
      series.map((c) => c.label),
      untimed.length,
      plotW,
    ) +
    24;
  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" role="img" aria-labelledby="title">`,
    `<title id="title">${esc(describeVariant(report.settings.variant))}: GFLOP/s against tokens per contender</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...head,
  );
  groups.forEach((g, gi) => {
    const top = margin.top + gi * panelH;
    const values = g.shapes.flatMap((s) => [
      ...s.results.flatMap((r) => (r.timing === undefined ? [] : [r.timing.gflops])),
      ...(s.roof === undefined ? [] : [s.roof.gflops]),
    ]);
    const { lo, hi } = logRange(values);
    const t0 = Math.log2(g.shapes[0]?.tokens ?? 1);
    const t1 = Math.log2(g.shapes[g.shapes.length - 1]?.tokens ?? 2);
    const x = (t: number) =>
      margin.left + 20 + ((Math.log2(t) - t0) / Math.max(t1 - t0, 1e-9)) * (plotW - 40);
    const y = (v: number) =>
      top + 10 + plotH * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
    yGrid(o, lo, hi, y, margin.left, width - margin.right);
    const first = g.shapes[0] as ShapeReport;
    o.push(
      `<text x="${margin.left + 8}" y="${top + 24}" font-size="13" font-weight="600" fill="#212529">${esc(`${g.base}: dModel ${first.dModel}, dHidden ${first.dHidden}${first.layers > 1 ? `, ${first.layers} layers` : ""}`)}</text>`,
      `<line x1="${margin.left}" x2="${margin.left}" y1="${top + 10}" y2="${top + 10 + plotH}" stroke="#495057"/>`,
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${top + 10 + plotH}" y2="${top + 10 + plotH}" stroke="#495057"/>`,
      `<text transform="translate(20 ${top + 10 + plotH / 2}) rotate(-90)" font-size="13" fill="#343a40" text-anchor="middle">GFLOP/s</text>`,
    );
    for (const s of g.shapes) {
      o.push(
        `<text x="${x(s.tokens).toFixed(1)}" y="${top + plotH + 28}" font-size="11" fill="#343a40" text-anchor="middle">${s.tokens}</text>`,
      );
    }
    o.push(
      `<text x="${(margin.left + plotW / 2).toFixed(1)}" y="${top + plotH + 48}" font-size="12" fill="#343a40" text-anchor="middle">tokens (T)</text>`,
    );
    const roof = g.shapes.filter((s) => s.roof !== undefined && s.roof.gflops > 0);
    if (roof.length > 0) {
      const pts = roof.map((s) => `${x(s.tokens).toFixed(1)},${y(s.roof?.gflops ?? 1).toFixed(1)}`);
      o.push(
        `<polyline class="roof" points="${pts.join(" ")}" fill="none" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="5 3"><title>one-thread roof</title></polyline>`,
      );
      const last = roof[roof.length - 1] as ShapeReport;
      o.push(
        `<text class="roof-label" x="${(x(last.tokens) - 4).toFixed(1)}" y="${(y(last.roof?.gflops ?? 1) - 6).toFixed(1)}" font-size="10" font-weight="600" fill="#c92a2a" text-anchor="end" ${HALO}>${esc(`roof ${fmt(last.roof?.gflops ?? 0)}, ${roofWord(last.roof?.bound ?? "compute")}`)}</text>`,
      );
    }
    for (const c of series) {
      const pts = g.shapes.flatMap((s) => {
        const t = s.results.find((r) => r.id === c.id)?.timing;
        return t === undefined ? [] : [{ t: s.tokens, v: t.gflops }];
      });
      if (pts.length === 0) continue;
      const fill = color.get(c.id) as string;
      o.push(
        `<polyline class="series" points="${pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}" fill="none" stroke="${fill}" stroke-width="2"><title>${esc(c.label)}</title></polyline>`,
      );
      for (const p of pts)
        o.push(
          `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3" fill="${fill}"><title>${esc(`${c.label} at ${p.t} tokens: ${fmt(p.v)} GFLOP/s`)}</title></circle>`,
        );
    }
  });
  legendAndUntimed(
    o,
    series,
    color,
    untimed,
    margin.left,
    plotW,
    margin.top + groups.length * panelH + 8,
  );
  o.push("</svg>");
  return o.join("\n") + "\n";
}
