// The SVG chart the README embeds: grouped bars of GFLOP/s per shape, one bar per contender, on a
// log scale (the contenders span three orders of magnitude), whiskers from the slowest to the
// fastest repetition. Plain SVG written by hand: no plotting dependency.
import type { Group } from "./contender";
import { describeVariant } from "./layer";
import { machineLine } from "./machine";
import type { Report } from "./report";

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
  const positive = [...values, ...roofs].filter((v) => v > 0 && Number.isFinite(v));
  const lo = positive.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0.1;
  // The top is the first 1, 2 or 5 times a power of ten above the largest value, with room for labels.
  const top = positive.length > 0 ? Math.max(...positive) * 1.6 : 100;
  const decade = 10 ** Math.floor(Math.log10(top));
  const hi = [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= top) as number;

  const width = 980;
  const legendCols = 4;
  const legendRows = Math.ceil(series.length / legendCols);
  const margin = { left: 78, right: 24, top: 74, bottom: 66 + legendRows * 22 };
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
    `<text x="${margin.left}" y="28" font-size="18" font-weight="600" fill="#212529">${esc(describeVariant(report.settings.variant))} forward pass: GFLOP/s (higher is better, log scale)</text>`,
    `<text x="${margin.left}" y="48" font-size="12" fill="#495057">${esc(`${report.date.slice(0, 10)}, ${machineLine(report.machine)}`)}</text>`,
    `<text x="${margin.left}" y="64" font-size="12" fill="#495057">${esc(`Median of ${report.settings.reps} interleaved repetitions; whiskers: slowest to fastest. Threads: 1 unless the name says.${shapes.some((s) => s.roof !== undefined) ? " Dashed red: the one-thread roof." : ""}`)}</text>`,
  );
  // Grid and y axis.
  for (let d = Math.round(Math.log10(lo)); d <= Math.log10(hi) + 1e-9; d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (v < lo * 0.999 || v > hi * 1.001) continue;
      const yy = y(v).toFixed(1);
      o.push(
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? "#ced4da" : "#f1f3f5"}" stroke-width="1"/>`,
      );
      o.push(
        `<text x="${margin.left - 8}" y="${yy}" font-size="11" fill="${m === 1 ? "#343a40" : "#868e96"}" text-anchor="end" dominant-baseline="middle">${Number(v.toPrecision(1))}</text>`,
      );
    }
  }
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
    // The one-thread roof of this shape: a dashed line across its group.
    if (s.roof !== undefined && s.roof.gflops > 0) {
      const ry = y(s.roof.gflops).toFixed(1);
      o.push(
        `<line class="roof" x1="${(gx - 4).toFixed(1)}" x2="${(gx + inner + 4).toFixed(1)}" y1="${ry}" y2="${ry}" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(`one-thread roof at ${s.name}: ${fmt(s.roof.gflops)} GFLOP/s (${s.roof.bound}-bound)`)}</title></line>`,
      );
    }
    const cx = margin.left + gi * groupW + groupW / 2;
    o.push(
      `<text x="${cx.toFixed(1)}" y="${margin.top + plotH + 20}" font-size="13" font-weight="600" fill="#212529" text-anchor="middle">${esc(s.name)}</text>`,
      `<text x="${cx.toFixed(1)}" y="${margin.top + plotH + 36}" font-size="11" fill="#495057" text-anchor="middle">${esc(`T ${s.tokens} · ${s.dModel} · ${s.dHidden}`)}</text>`,
    );
  });
  // Legend.
  const legendTop = margin.top + plotH + 56;
  const colW = plotW / legendCols;
  series.forEach((c, i) => {
    const lx = margin.left + (i % legendCols) * colW;
    const ly = legendTop + Math.floor(i / legendCols) * 22;
    o.push(
      `<rect x="${lx.toFixed(1)}" y="${ly}" width="14" height="14" rx="2" fill="${color.get(c.id)}"/>`,
      `<text x="${(lx + 20).toFixed(1)}" y="${ly + 11}" font-size="12" fill="#212529"${c.group === "tokenwise" ? ' font-weight="600"' : ""}>${esc(c.label)}</text>`,
    );
  });
  o.push("</svg>");
  return o.join("\n") + "\n";
}
