/** Renders the self-contained `report.html` of a run: inline CSS, SVG charts and base64 images only. */
import { formatDuration } from "../cli/mod.ts";
import { EVAL_TARGETS } from "../eval/mod.ts";
import { encodeBase64 } from "./base64.ts";
import { elapsedSeconds, runFigures } from "./figures.ts";
import type { RunData } from "./run_data.ts";
import { downsample, type Point, smoothEma, weightForSpan } from "./series.ts";
import { type ChartSeries, lineChart } from "./svg_chart.ts";

/** Images the report embeds, already read from the run folder. */
export interface ReportImages {
  /** `samples/progress.gif`, when the run has samples. */
  gif: Uint8Array | null;
  /** The sample grid PNG bytes of each saved step, oldest first. */
  samples: { step: number; png: Uint8Array }[];
}

const COLORS = { d: "#d9480f", g: "#1971c2", acc: "#2b8a3e", is: "#7048e8", fid: "#c2255c" };
const MAX_POINTS = 600;

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "–";
}

function rawAndSmoothed(
  steps: number[],
  values: number[],
  label: string,
  color: string,
): ChartSeries[] {
  const points: Point[] = steps.map((s, i) => [s, values[i]]);
  const smoothed = smoothEma(values, weightForSpan(values.length));
  return [
    {
      label: `${label} (raw)`,
      color,
      points: downsample(points, MAX_POINTS),
      width: 1,
      opacity: 0.28,
      hideInLegend: true,
    },
    { label, color, points: downsample(steps.map((s, i) => [s, smoothed[i]]), MAX_POINTS) },
  ];
}

function card(label: string, value: string, note = ""): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div>` +
    `<div class="value">${escapeHtml(value)}</div>` +
    (note ? `<div class="note">${escapeHtml(note)}</div>` : "") + `</div>`;
}

function flatten(obj: unknown, prefix = ""): [string, string][] {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return [[prefix, JSON.stringify(obj)]];
  }
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) =>
    flatten(v, prefix ? `${prefix}.${k}` : k)
  );
}

function histogramSvg(shares: number[]): string {
  const w = 340;
  const h = 150;
  const bw = 26;
  const top = 20;
  const base = h - 22;
  const max = Math.max(0.2, ...shares);
  const y = (v: number) => base - (v / max) * (base - top);
  const bars = shares.map((s, k) => {
    const x = 20 + k * 31;
    const ok = s >= 0.07 && s <= 0.13;
    return `<rect x="${x}" y="${y(s).toFixed(1)}" width="${bw}" height="${
      (base - y(s)).toFixed(1)
    }" ` +
      `fill="${ok ? "#74b816" : "#f59f00"}"/>` +
      `<text x="${x + bw / 2}" y="${h - 6}" class="tick" text-anchor="middle">${k}</text>` +
      `<text x="${x + bw / 2}" y="${(y(s) - 4).toFixed(1)}" class="tick" text-anchor="middle">` +
      `${(s * 100).toFixed(0)}</text>`;
  });
  const band = `<rect x="16" y="${y(0.13).toFixed(1)}" width="${w - 22}" ` +
    `height="${(y(0.07) - y(0.13)).toFixed(1)}" fill="#e6fcf5"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" class="chart hist" ` +
    `role="img" aria-label="class histogram">${band}${bars.join("")}` +
    `<line x1="16" x2="${w - 6}" y1="${base}" y2="${base}" class="axis"/></svg>`;
}

function evalCards(data: RunData): string {
  const steps = data.evals.columns.get("step") ?? [];
  if (steps.length === 0) return "";
  const last = steps.length - 1;
  const value = (name: string) => data.evals.columns.get(name)?.[last] ?? NaN;
  return card("IS", fmt(value("inception_score"), 2), `Inception Score, step ${steps[last]}`) +
    card("MNIST-FID", fmt(value("fid"), 2), `step ${steps[last]}`);
}

function evalSection(data: RunData): string {
  const e = data.evals;
  const steps = e.columns.get("step") ?? [];
  if (steps.length === 0) {
    return `<section><h2>Evaluation</h2><p class="muted">No evaluation yet. Train with ` +
      `<code>--eval-every N</code> to measure Inception Score and MNIST-FID during training, or run ` +
      `<code>deno task eval --checkpoint ${escapeHtml(data.dir)}</code>.</p></section>`;
  }
  const col = (name: string) => e.columns.get(name) ?? [];
  const pts = (name: string): Point[] => steps.map((s, i) => [s, col(name)[i]]);
  const last = steps.length - 1;
  const shares = Array.from({ length: 10 }, (_, k) => col(`digit_${k}`)[last]);
  const isChart = lineChart({
    title: "Inception Score (classifier, higher is better)",
    series: [{ label: "IS", color: COLORS.is, points: pts("inception_score"), dots: true }],
    references: [{
      y: EVAL_TARGETS.inceptionScore,
      label: `target ${EVAL_TARGETS.inceptionScore.toFixed(1)}`,
      color: "#868e96",
    }],
    yMin: 1,
    yMax: 10,
    xLabel: "step",
    width: 560,
  });
  const fidChart = lineChart({
    title: "MNIST-FID (lower is better)",
    series: [{ label: "FID", color: COLORS.fid, points: pts("fid"), dots: true }],
    yMin: 0,
    xLabel: "step",
    width: 560,
  });
  return `<section><h2>Evaluation over training</h2>
<p class="muted">${
    col("count")[last]
  } samples per evaluation, judged by <code>models/classifier.onnx</code>.
Latest (step ${steps[last]}): IS <b>${fmt(col("inception_score")[last], 2)}</b>, MNIST-FID
<b>${fmt(col("fid")[last], 2)}</b>, confidence <b>${fmt(col("confidence")[last], 3)}</b>.</p>
<div class="row">${isChart}${fidChart}</div>
<h3>Digits among the samples at step ${steps[last]} (%; green band 7–13 %)</h3>${
    histogramSvg(shares)
  }
</section>`;
}

/** Renders the whole report page. */
export function renderReport(
  data: RunData,
  images: ReportImages,
  generatedAt = new Date(),
): string {
  const h = data.history;
  // history.csv numbers steps from 0; charts use steps completed, as sample and checkpoint names do.
  const steps = (h.columns.get("step") ?? []).map((s) => s + 1);
  const figures = runFigures(h);
  const col = (name: string) => h.columns.get(name) ?? [];
  const lossChart = lineChart({
    title: "Losses (binary cross-entropy), smoothed; raw values faint",
    series: [
      ...rawAndSmoothed(steps, col("d_loss"), "D loss", COLORS.d),
      ...rawAndSmoothed(steps, col("g_loss"), "G loss", COLORS.g),
    ],
    yMin: 0,
    xLabel: "step",
  });
  const accChart = lineChart({
    title: "Discriminator accuracy (%), smoothed; raw values faint",
    series: rawAndSmoothed(steps, col("d_acc"), "D acc", COLORS.acc),
    yMin: 0,
    yMax: 100,
    references: [{ y: 50, label: "chance", color: "#868e96" }],
    xLabel: "step",
    width: 560,
  });
  const elapsed = elapsedSeconds(h);
  const rate: Point[] = [];
  for (let i = 1; i < steps.length; i++) {
    const dt = elapsed[i] - elapsed[i - 1];
    if (dt > 0) rate.push([steps[i], (steps[i] - steps[i - 1]) / dt]);
  }
  const rateSmoothed = smoothEma(rate.map((p) => p[1]), weightForSpan(rate.length));
  const speedChart = lineChart({
    title: "Throughput (steps/s), smoothed",
    series: [{
      label: "steps/s",
      color: "#495057",
      points: downsample(rate.map((p, i) => [p[0], rateSmoothed[i]]), MAX_POINTS),
    }],
    yMin: 0,
    xLabel: "step",
    width: 560,
  });
  const latest = images.samples[images.samples.length - 1];
  const hero = [
    images.gif
      ? `<figure><img class="pixel big" src="data:image/gif;base64,${encodeBase64(images.gif)}" ` +
        `alt="fixed-latent samples across training"><figcaption>Fixed latents across training ` +
        `(samples/progress.gif, ${images.samples.length} frames)</figcaption></figure>`
      : "",
    latest
      ? `<figure><img class="pixel big" src="data:image/png;base64,${encodeBase64(latest.png)}" ` +
        `alt="samples at step ${latest.step}"><figcaption>Latest samples, step ${latest.step}` +
        `</figcaption></figure>`
      : `<p class="muted">No samples saved yet.</p>`,
  ].join("");
  const gallery = images.samples.map((s) =>
    `<figure><img class="pixel" src="data:image/png;base64,${encodeBase64(s.png)}" ` +
    `alt="samples at step ${s.step}" loading="lazy"><figcaption>step ${s.step}</figcaption></figure>`
  ).join("\n");
  const planned = Number(data.config?.steps);
  const stepNote = Number.isFinite(planned) && planned > 0
    ? `of ${planned} (${Math.min(100, (figures.steps / planned) * 100).toFixed(0)} %)`
    : "";
  const config = data.config
    ? `<table>${
      flatten(data.config).map(([k, v]) =>
        `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`
      ).join("")
    }</table>`
    : `<p class="muted">config.json is missing.</p>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>DCGAN run ${escapeHtml(data.name)}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>DCGAN training report <span>${escapeHtml(data.name)}</span></h1>
<p>${escapeHtml(data.dir)} · generated ${
    escapeHtml(generatedAt.toISOString().replace("T", " ").slice(0, 19))
  } UTC
· backend <b>${escapeHtml(data.backend ?? String(data.config?.backend ?? "–"))}</b></p></header>
<main>
<section class="cards">
${card("steps", String(figures.steps), stepNote)}
${card("wall time", formatDuration(figures.seconds))}
${
    card(
      "steps / s",
      fmt(figures.stepsPerSecond, 2),
      `recent ${fmt(figures.recentStepsPerSecond, 2)}`,
    )
  }
${card("D loss", fmt(figures.dLoss), "smoothed, last")}
${card("D accuracy", `${fmt(figures.dAcc, 1)} %`, "smoothed, last")}
${card("G loss", fmt(figures.gLoss), "smoothed, last")}
${evalCards(data)}
${
    card(
      "checkpoints",
      String(data.checkpointSteps.length),
      data.checkpointSteps.length
        ? `last at step ${data.checkpointSteps[data.checkpointSteps.length - 1]}`
        : "",
    )
  }
</section>
<section><h2>Samples</h2><div class="row hero">${hero}</div></section>
<section><h2>Training curves</h2>${lossChart}<div class="row">${accChart}${speedChart}</div></section>
${evalSection(data)}
<section><h2>Sample grid at every saved step</h2>
<div class="gallery">${gallery || `<p class="muted">No samples saved yet.</p>`}</div></section>
<section><h2>Configuration</h2>${config}</section>
${
    data.logTail.length
      ? `<section><h2>End of log.txt</h2><pre>${
        escapeHtml(data.logTail.join("\n"))
      }</pre></section>`
      : ""
  }
</main>
<footer>Written by <code>deno task report ${
    escapeHtml(data.dir)
  }</code> (dcgan-deno). Self-contained: opens from disk.</footer>
</body></html>
`;
}

const STYLE = `
:root{--fg:#212529;--muted:#868e96;--bg:#f8f9fa;--card:#fff;--line:#dee2e6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1b1f24;color:#f1f3f5;padding:22px 32px}
header h1{margin:0;font-size:24px;font-weight:600}
header h1 span{color:#74c0fc;font-weight:500;margin-left:8px}
header p{margin:4px 0 0;color:#adb5bd;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:20px 32px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0}
section.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(112px,1fr));gap:10px;background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.card .label{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.card .value{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.card .note{font-size:12px;color:var(--muted)}
h2{margin:0 0 12px;font-size:18px}
h3{font-size:14px;margin:14px 0 4px;font-weight:600}
.row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.row .chart{flex:1 1 460px;max-width:560px}
.chart{width:100%;max-width:900px;height:auto;display:block;margin:6px 0 14px}
.chart.hist{max-width:380px}
.chart-title{font-size:13px;font-weight:600;fill:#343a40}
.tick{font-size:11px;fill:#495057;font-variant-numeric:tabular-nums}
.grid{stroke:#f1f3f5}
.axis{stroke:#adb5bd}
.frame{fill:none;stroke:#ced4da}
.ref{stroke-dasharray:5 4;stroke-width:1.2}
img.pixel{image-rendering:pixelated;border-radius:4px;background:#000;display:block}
.hero figure{margin:0}
.hero img.big{width:100%;max-width:520px;min-width:280px}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.gallery figure{margin:0}
.gallery img{width:100%}
figcaption{font-size:12px;color:var(--muted);margin-top:3px}
table{border-collapse:collapse;font-size:13px}
th,td{text-align:left;padding:3px 16px 3px 0;border-bottom:1px solid #f1f3f5;vertical-align:top}
th{font-weight:500;color:#495057;font-family:ui-monospace,monospace}
td{font-family:ui-monospace,monospace}
pre{background:#1b1f24;color:#e9ecef;padding:12px;border-radius:8px;overflow:auto;font-size:12px}
.muted{color:var(--muted)}
footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 30px}
`;
