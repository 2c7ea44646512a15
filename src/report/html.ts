/** Renders the self-contained `report.html` of a run: inline CSS, SVG charts and base64 images only. */
import { formatDuration } from "../cli/mod.ts";
import { encodeBase64 } from "./base64.ts";
import { evalCards, evalSection } from "./eval_section.ts";
import { elapsedSeconds, type RunFigures, runFigures } from "./figures.ts";
import { HEALTH_RULES, judgeHealth } from "./health.ts";
import { card, escapeHtml, fmt } from "./html_parts.ts";
import type { RunData } from "./run_data.ts";
import { downsample, type Point, smoothEma, weightForSpan } from "./series.ts";
import { type ChartSeries, lineChart } from "./svg_chart.ts";

/** Images the report embeds, already read from the run folder. */
export interface ReportImages {
  /** `samples/progress.gif` (the raw generator's grids), when the run has samples. */
  gif: Uint8Array | null;
  /** The raw generator's sample grid PNG bytes of each saved step, oldest first. */
  samples: { step: number; png: Uint8Array }[];
  /** The EMA generator's grid of the newest saved step, when the run keeps an EMA. */
  newestEma: Uint8Array | null;
}

const COLORS = { d: "#d9480f", g: "#1971c2", acc: "#2b8a3e" };
const MAX_POINTS = 600;

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

function flatten(obj: unknown, prefix = ""): [string, string][] {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return [[prefix, JSON.stringify(obj)]];
  }
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) =>
    flatten(v, prefix ? `${prefix}.${k}` : k)
  );
}

const pngImg = (png: Uint8Array, alt: string, cls: string, lazy = false) =>
  `<img class="${cls}" src="data:image/png;base64,${encodeBase64(png)}" alt="${escapeHtml(alt)}"` +
  `${lazy ? ` loading="lazy"` : ""}>`;

/**
 * The sample grids, each shown once: the newest step's raw and EMA grids side by side, the progress GIF
 * of the raw grids when there are two or more (one frame would repeat the newest grid), and the earlier
 * raw grids.
 */
function samplesSections(images: ReportImages): string {
  const newest = images.samples[images.samples.length - 1];
  if (!newest) {
    return `<section><h2>Samples</h2><p class="muted">No samples saved yet.</p></section>`;
  }
  const figure = (img: string, caption: string) =>
    `<figure>${img}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
  const hero = [
    figure(
      pngImg(newest.png, `raw generator samples at step ${newest.step}`, "pixel big"),
      `raw generator, step ${newest.step}`,
    ),
    images.newestEma
      ? figure(
        pngImg(images.newestEma, `EMA generator samples at step ${newest.step}`, "pixel big"),
        `EMA generator, step ${newest.step}`,
      )
      : "",
    images.gif && images.samples.length > 1
      ? figure(
        `<img class="pixel big" src="data:image/gif;base64,${encodeBase64(images.gif)}" ` +
          `alt="fixed-latent samples across training">`,
        `raw generator across training (samples/progress.gif, ${images.samples.length} frames)`,
      )
      : "",
  ].join("");
  const earlier = images.samples.slice(0, -1).map((s) =>
    figure(pngImg(s.png, `samples at step ${s.step}`, "pixel", true), `step ${s.step}`)
  ).join("\n");
  return `<section><h2>Samples of the fixed latents</h2><div class="row hero">${hero}</div></section>` +
    (earlier
      ? `\n<section><h2>Earlier sample grids (raw generator)</h2>` +
        `<div class="gallery">${earlier}</div></section>`
      : "");
}

/** The wall-time card: the figure of log.txt's closing lines (see `wallSeconds`). */
function wallTimeCard(figures: RunFigures): string {
  const n = figures.closedSessions;
  const sessions = `${n} session${n === 1 ? "" : "s"}`;
  const note = n === 0
    ? "history.csv (no closing line in log.txt yet)"
    : figures.unclosedSteps > 0
    ? `${fmt(figures.seconds, 1)} s: log.txt's ${sessions} + history.csv's ` +
      `${figures.unclosedSteps} steps since`
    : `${fmt(figures.seconds, 1)} s, as log.txt (${sessions})`;
  return card("wall time", formatDuration(figures.seconds), note);
}

const LEVEL_MARK = { ok: "✓", warn: "!", bad: "✗", early: "…" } as const;

/** The verdict, its reasons, and the rules in one paragraph. */
function verdictSection(data: RunData): string {
  const { verdict, findings } = judgeHealth(data.history, data.evals);
  const r = HEALTH_RULES;
  const items = findings.map((f) =>
    `<li class="${f.level}"><span class="mark">${LEVEL_MARK[f.level]}</span>` +
    `${escapeHtml(f.text)}</li>`
  ).join("");
  const rules = [
    "a loss that is not a number is a divergence",
    `discriminator accuracy ≥ ${r.dAccPinned} % means it wins`,
    `within ${r.dAccChance[0]}–${r.dAccChance[1]} % while the generator's loss reaches ` +
    `${r.gLossBlowUp} × its earlier median means the generator's loss blows up`,
    `confidence ≥ ${r.confident} with a digit outside ${r.collapseShares[0] * 100}–` +
    `${r.collapseShares[1] * 100} % is mode collapse`,
    `an FID up at each of the last ${r.fidRises} evaluations is rising`,
  ];
  return `<section class="verdict ${verdict.replace(/ /g, "-")}"><h2>Verdict: ${verdict}</h2>
<ul>${items}</ul>
<p class="muted">Rules: ${escapeHtml(rules.join("; "))}. Losses are judged over the last ` +
    `${r.recentFraction * 100} % of the steps, at least ${r.minRows}.</p></section>`;
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
  const figures = runFigures(h, data.sessions);
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
${wallTimeCard(figures)}
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
${verdictSection(data)}
${samplesSections(images)}
<section><h2>Training curves</h2>${lossChart}<div class="row">${accChart}${speedChart}</div></section>
${evalSection(data)}
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
.verdict ul{list-style:none;padding:0;margin:0 0 8px}
.verdict li{padding:2px 0}
.verdict .mark{display:inline-block;width:1.4em;font-weight:700}
.verdict li.ok .mark{color:#2b8a3e}
.verdict li.warn .mark{color:#e67700}
.verdict li.bad .mark{color:#c92a2a}
.verdict li.early .mark{color:var(--muted)}
section.verdict.healthy{border-left:6px solid #2b8a3e}
section.verdict.needs-a-look{border-left:6px solid #e67700}
section.verdict.unhealthy{border-left:6px solid #c92a2a}
section.verdict.too-early-to-tell{border-left:6px solid var(--muted)}
table.evals td,table.evals th{text-align:right}
table.evals tr.best td{background:#fff9db}
table.evals td.off{color:#e67700}
footer{text-align:center;color:var(--muted);font-size:12px;padding:0 0 30px}
`;
