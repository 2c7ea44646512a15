/** Self-contained SVG line charts (no scripts, no external resources) for the HTML report. */
import type { Point } from "./series.ts";

/** One line of a chart. */
export interface ChartSeries {
  label: string;
  color: string;
  points: Point[];
  /** Stroke width in pixels (default 2). */
  width?: number;
  /** Stroke opacity (default 1). */
  opacity?: number;
  /** Draw a dot at each point (for sparse series such as evaluations; always for a single point). */
  dots?: boolean;
  /** Leave the series out of the legend. */
  hideInLegend?: boolean;
}

/** A dashed horizontal line with a label, e.g. a target or the real-data level. */
export interface ReferenceLine {
  y: number;
  label: string;
  color: string;
}

/** Options of {@link lineChart}. */
export interface ChartOptions {
  title: string;
  series: ChartSeries[];
  xLabel?: string;
  /** Fixed y range; default: the data's range, padded. */
  yMin?: number;
  yMax?: number;
  /** A logarithmic y axis (values must be positive; smaller ones are drawn at the bottom). */
  logY?: boolean;
  references?: ReferenceLine[];
  width?: number;
  height?: number;
}

const escapeXml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    // toPrecision drops float noise (3 × 0.2 = 0.6000000000000001); + 0 turns -0 into 0.
    ticks.push(Number((Math.round(t / step) * step).toPrecision(12)) + 0);
  }
  return ticks;
}

/**
 * Ticks of a logarithmic axis covering [lo, hi] (both > 0): 1, 2 and 5 × 10^k when the range spans at
 * most 3 decades, else powers of 10 only.
 */
export function logTicks(lo: number, hi: number): number[] {
  const mantissas = Math.log10(hi / lo) <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mantissas) {
      const t = Number((m * 10 ** k).toPrecision(12));
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a >= 10000) return `${Math.round(v / 1000)}k`;
  if (a >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return Number(v.toPrecision(3)).toString();
}

function pathOf(points: Point[], sx: (x: number) => number, sy: (y: number) => number): string {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(
    "",
  );
}

/** Renders a line chart as an `<svg>` element string. Empty series still give a framed chart saying so. */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 260;
  const m = { left: 52, right: 16, top: 34, bottom: 38 };
  const all = options.series.flatMap((s) => s.points);
  const refs = options.references ?? [];
  const xs = all.map((p) => p[0]);
  // The y axis works in `ty` units: the values themselves, or their logarithm.
  const ty = options.logY ? (v: number) => Math.log10(Math.max(v, 1e-12)) : (v: number) => v;
  const ys = [...all.map((p) => p[1]), ...refs.map((r) => r.y)].map(ty);
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  if (x1 === x0) {
    // One x value (a single evaluation): centre it in a range wide enough for distinct round ticks.
    const half = Math.max(1, Math.abs(x0) / 2);
    [x0, x1] = [x0 - half, x1 + half];
  }
  const fixed = (v: number | undefined) => v === undefined ? undefined : ty(v);
  let y0 = fixed(options.yMin) ?? (ys.length ? Math.min(...ys) : 0);
  let y1 = fixed(options.yMax) ?? (ys.length ? Math.max(...ys) : 1);
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  if (options.yMin === undefined) y0 -= (y1 - y0) * 0.05;
  if (options.yMax === undefined) y1 += (y1 - y0) * 0.05;
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + (1 - (Math.min(Math.max(ty(y), y0), y1) - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" ` +
      `class="chart" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${m.left}" y="20" class="chart-title">${escapeXml(options.title)}</text>`,
  );
  const yTicks = options.logY ? logTicks(10 ** y0, 10 ** y1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" class="grid"/>`,
      `<text x="${m.left - 6}" y="${y}" class="tick" text-anchor="end" dy="0.32em">` +
        `${formatTick(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" class="axis"/>`,
      `<text x="${x}" y="${m.top + ph + 16}" class="tick" text-anchor="middle">${
        formatTick(t)
      }</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" class="frame"/>`,
  );
  if (options.xLabel) {
    parts.push(
      `<text x="${m.left + pw / 2}" y="${height - 4}" class="tick" text-anchor="middle">` +
        `${escapeXml(options.xLabel)}</text>`,
    );
  }
  for (const r of refs) {
    const y = sy(r.y).toFixed(1);
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="${r.color}" ` +
        `class="ref"/>`,
      `<text x="${width - m.right - 4}" y="${y}" dy="-4" class="tick" text-anchor="end" ` +
        `fill="${r.color}">${escapeXml(r.label)}</text>`,
    );
  }
  for (const s of options.series) {
    if (s.points.length === 0) continue;
    parts.push(
      `<path d="${pathOf(s.points, sx, sy)}" fill="none" stroke="${s.color}" ` +
        `stroke-width="${s.width ?? 2}" stroke-opacity="${s.opacity ?? 1}" ` +
        `stroke-linejoin="round" stroke-linecap="round"/>`,
    );
    if (s.dots || s.points.length === 1) {
      for (const [x, y] of s.points) {
        parts.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`,
        );
      }
    }
  }
  if (all.length === 0) {
    parts.push(
      `<text x="${m.left + pw / 2}" y="${m.top + ph / 2}" class="tick" text-anchor="middle">` +
        `no data yet</text>`,
    );
  }
  let lx = width - m.right;
  const legend = options.series.filter((s) => !s.hideInLegend).reverse();
  for (const s of legend) {
    const w = s.label.length * 6.5 + 22;
    lx -= w;
    parts.push(
      `<line x1="${lx}" x2="${lx + 14}" y1="16" y2="16" stroke="${s.color}" stroke-width="3"/>`,
      `<text x="${lx + 18}" y="20" class="tick">${escapeXml(s.label)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
