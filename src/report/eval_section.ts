/**
 * The report's evaluation parts: the IS and MNIST-FID cards and charts of the raw and the EMA generator,
 * the digit histograms, and the table of evaluated checkpoints with the best one and its export command.
 */
import { describeTargets, EVAL_TARGETS, fidScaleEnds } from "../eval/mod.ts";
import { card, escapeHtml, fmt } from "./html_parts.ts";
import { type GeneratorEvals, generatorEvals, percent, worstDigit } from "./evals.ts";
import type { RunData } from "./run_data.ts";
import { type ChartSeries, lineChart, type ReferenceLine } from "./svg_chart.ts";

const COLORS = {
  raw: { is: "#7048e8", fid: "#c2255c" },
  ema: { is: "#1098ad", fid: "#e8590c" },
  ends: "#2b8a3e",
  target: "#868e96",
};

const inBand = (share: number) =>
  share >= EVAL_TARGETS.digitShare[0] && share <= EVAL_TARGETS.digitShare[1];

/** A word for the shell: as it is when plain, else in single quotes. */
function shellWord(s: string): string {
  return /^[\w./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that exports the run's best evaluated generator. */
export function bestExportCommand(runDir: string): string {
  return `deno task export --checkpoint ${shellWord(runDir)} --best`;
}

/** The IS and MNIST-FID cards of each generator's newest evaluation, and the best one's. */
export function evalCards(data: RunData): string {
  const cards = generatorEvals(data.evals).map((g) => {
    const last = g.steps.length - 1;
    const note = `step ${g.steps[last]}`;
    return card(`IS ${g.label}`, fmt(g.inceptionScore[last], 2), note) +
      card(`FID ${g.label}`, fmt(g.fid[last], 2), note);
  });
  const best = data.best;
  const bestCard = best
    ? card("best", `step ${best.step}`, `${best.weights}, FID ${fmt(best.fid, 2)}`)
    : "";
  return cards.join("") + bestCard;
}

function histogramSvg(shares: number[], label: string): string {
  const [lo, hi] = EVAL_TARGETS.digitShare;
  const w = 340;
  const h = 150;
  const bw = 26;
  const top = 20;
  const base = h - 22;
  const max = Math.max(0.2, ...shares);
  const y = (v: number) => base - (v / max) * (base - top);
  const bars = shares.map((s, k) => {
    const x = 20 + k * 31;
    return `<rect x="${x}" y="${y(s).toFixed(1)}" width="${bw}" height="${
      (base - y(s)).toFixed(1)
    }" ` +
      `fill="${inBand(s) ? "#74b816" : "#f59f00"}"/>` +
      `<text x="${x + bw / 2}" y="${h - 6}" class="tick" text-anchor="middle">${k}</text>` +
      `<text x="${x + bw / 2}" y="${(y(s) - 4).toFixed(1)}" class="tick" text-anchor="middle">` +
      `${(s * 100).toFixed(0)}</text>`;
  });
  const band = `<rect x="16" y="${y(hi).toFixed(1)}" width="${w - 22}" ` +
    `height="${(y(lo) - y(hi)).toFixed(1)}" fill="#e6fcf5"/>`;
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" ` +
    `class="chart hist" role="img" aria-label="class histogram, ${escapeHtml(label)}">` +
    `${band}${bars.join("")}` +
    `<line x1="16" x2="${w - 6}" y1="${base}" y2="${base}" class="axis"/></svg>` +
    `<figcaption>${escapeHtml(label)}</figcaption></figure>`;
}

function series(
  generators: GeneratorEvals[],
  figure: "inceptionScore" | "fid",
): ChartSeries[] {
  return generators.map((g) => ({
    label: g.label,
    color: COLORS[g.weights][figure === "fid" ? "fid" : "is"],
    points: g.steps.map((s, i) => [s, g[figure][i]] as [number, number]),
    dots: true,
  }));
}

/** The FID references: the two ends of the scale at `count` samples and the target between them. */
function fidReferences(count: number): { lines: ReferenceLine[]; text: string } {
  const ends = fidScaleEnds(count);
  const target = EVAL_TARGETS.fidTimesTrainVsTest * ends.trainVsTest;
  const f = (v: number) => v >= 100 ? v.toFixed(0) : v.toFixed(2);
  const [a, b] = ends.measuredAt;
  const source = {
    measured: `as measured at ${count} samples`,
    interpolated: `interpolated (in 1/count) between the figures measured at ${a} and ${b} samples`,
    nearest: `the figures measured at ${a} samples, the nearest count measured`,
  }[ends.source];
  return {
    lines: [
      { y: ends.untrained, label: `untrained generator ${f(ends.untrained)}`, color: COLORS.ends },
      {
        y: target,
        label: `target ≤ ${f(target)} (${EVAL_TARGETS.fidTimesTrainVsTest} × train vs test)`,
        color: COLORS.target,
      },
      {
        y: ends.trainVsTest,
        label: `MNIST train vs test ${f(ends.trainVsTest)}`,
        color: COLORS.ends,
      },
    ],
    text:
      `The FID chart's dashed lines are the two ends of the scale for ${count} samples, MNIST ` +
      `training digits against the test set (${f(ends.trainVsTest)}) and the untrained generator ` +
      `(${f(ends.untrained)}), and the target between them, at most ` +
      `${EVAL_TARGETS.fidTimesTrainVsTest} × the first (${f(target)}); ${source}. Fewer samples ` +
      `read higher, so compare FIDs at equal sample counts.`,
  };
}

function checkpointTable(data: RunData, generators: GeneratorEvals[]): string {
  const steps = data.evals.columns.get("step") ?? [];
  const best = data.best;
  const head = generators.map((g) =>
    `<th>IS ${g.label}</th><th>FID ${g.label}</th><th>worst digit ${g.label}</th>`
  ).join("");
  const rows = steps.map((step) => {
    const isBest = best?.step === step;
    const cells = generators.map((g) => {
      const i = g.steps.indexOf(step);
      if (i < 0) return "<td>–</td><td>–</td><td>–</td>";
      const worst = worstDigit(g.shares[i]);
      const fid = fmt(g.fid[i], 2);
      return `<td>${fmt(g.inceptionScore[i], 2)}</td>` +
        `<td>${isBest && best?.weights === g.weights ? `<b>${fid}</b>` : fid}</td>` +
        `<td class="${inBand(worst.share) ? "" : "off"}">${worst.digit}: ${
          percent(worst.share)
        }</td>`;
    }).join("");
    const saved = data.checkpointSteps.includes(step) ? "yes" : "missing";
    return `<tr${isBest ? ` class="best"` : ""}><td>${isBest ? "★ best" : ""}</td>` +
      `<td>${step}</td>${cells}<td>${saved}</td></tr>`;
  }).join("\n");
  return `<table class="evals"><tr><th></th><th>step</th>${head}<th>checkpoint</th></tr>\n` +
    `${rows}</table>`;
}

function bestParagraph(data: RunData, generators: GeneratorEvals[]): string {
  const best = data.best;
  if (!best) return "";
  const label = generators.find((g) => g.weights === best.weights)?.label ?? best.weights;
  const over = generators.length > 1
    ? `, the lowest across ${generators.map((g) => g.label).join(" and ")}`
    : "";
  const missing = data.checkpointSteps.includes(best.step)
    ? ""
    : ` Its checkpoint (step ${best.step}) is missing from checkpoints/, so the command refuses it.`;
  return `<p>Best by MNIST-FID${over} (what <code>--best</code> exports): ` +
    `<b>step ${best.step}, ${label} weights</b>, FID ${fmt(best.fid, 2)}, IS ` +
    `${fmt(best.inceptionScore, 2)} (${best.count} samples).${missing} Export it with:</p>` +
    `<pre>${escapeHtml(bestExportCommand(data.dir))}</pre>`;
}

/** The evaluation section: charts of both generators, histograms, the checkpoint table and the best. */
export function evalSection(data: RunData): string {
  const generators = generatorEvals(data.evals);
  if (generators.length === 0) {
    return `<section><h2>Evaluation</h2><p class="muted">No evaluation yet. Train with ` +
      `<code>--eval-every N</code> to measure Inception Score and MNIST-FID during training, or run ` +
      `<code>deno task eval --run ${escapeHtml(shellWord(data.dir))}</code>.</p></section>`;
  }
  const counts = data.evals.columns.get("count") ?? [];
  const count = counts[counts.length - 1];
  const references = fidReferences(count);
  const isChart = lineChart({
    title: "Inception Score (classifier, higher is better)",
    series: series(generators, "inceptionScore"),
    references: [{
      y: EVAL_TARGETS.inceptionScore,
      label: `target ≥ ${EVAL_TARGETS.inceptionScore.toFixed(1)}`,
      color: COLORS.target,
    }],
    yMin: 1,
    yMax: 10,
    xLabel: "step",
    width: 560,
  });
  const fidChart = lineChart({
    title: "MNIST-FID (lower is better, log scale)",
    series: series(generators, "fid"),
    references: references.lines,
    logY: true,
    xLabel: "step",
    width: 560,
  });
  const [lo, hi] = EVAL_TARGETS.digitShare.map((s) => Math.round(s * 100));
  const histograms = generators.map((g) => {
    const last = g.steps.length - 1;
    return histogramSvg(g.shares[last], `${g.label} generator, step ${g.steps[last]}`);
  }).join("");
  return `<section><h2>Evaluation over training</h2>
<p class="muted">${count} samples per evaluation (newest), judged by <code>models/classifier.onnx</code>;
${generators.map((g) => g.label).join(" and ")} generator${generators.length > 1 ? "s" : ""}.
Targets for a shipped generator: ${escapeHtml(describeTargets())}.</p>
<div class="row">${isChart}${fidChart}</div>
<p class="muted">${escapeHtml(references.text)}</p>
<h3>Digits among the samples of the newest evaluation (%; green band ${lo}–${hi} %)</h3>
<div class="row">${histograms}</div>
<h3>Evaluated checkpoints</h3>
${checkpointTable(data, generators)}
${bestParagraph(data, generators)}
</section>`;
}
