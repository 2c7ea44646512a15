/**
 * A plain verdict on whether a run's training looks healthy, from `history.csv` and `eval.csv`, with the
 * reasons. The rules, with the thresholds of {@link HEALTH_RULES}:
 *
 * 1. Diverged: a loss in `history.csv` or the raw generator's IS/FID in `eval.csv` is not a number. (The
 *    training loop stops at the first non-finite loss without writing it; such a run's newest session has
 *    no closing line in `log.txt` and the terminal said "a loss is not finite".)
 * 2. The discriminator wins: its accuracy averages at least `dAccPinned` % over the recent steps; the
 *    generator then gets no useful gradient and has usually collapsed.
 * 3. The discriminator is at chance (accuracy within `dAccChance`) while the generator's loss blows up
 *    (its recent mean is at least `gLossBlowUp` × its median before).
 * 4. Mode collapse, per generator (raw, EMA) at its newest evaluation: the classifier is sure of the
 *    samples (mean confidence ≥ `confident`) but a digit's share is outside `collapseShares` (a digit
 *    missing or crowding out the others, which also keeps the IS low). Below `confident` the samples
 *    are not digits yet, and it is too early to judge them.
 * 5. The FID trend, per generator: rising at each of the last `fidRises` evaluations, or no lower at the
 *    newest evaluation than at the first, needs a look; otherwise it is improving.
 *
 * "Recent" is the last `recentFraction` of the history, at least `minRows` rows; a history shorter than
 * `minRows` is too short to judge the losses.
 * @module
 */
import type { NumericTable } from "./csv.ts";
import { type GeneratorEvals, generatorEvals, percent, worstDigit } from "./evals.ts";
import { fmt } from "./html_parts.ts";

/** The thresholds of the rules (see the module documentation). */
export const HEALTH_RULES = {
  recentFraction: 0.1,
  minRows: 50,
  dAccPinned: 98,
  dAccChance: [40, 60] as const,
  gLossBlowUp: 3,
  confident: 0.7,
  collapseShares: [0.02, 0.25] as const,
  fidRises: 3,
} as const;

/** One reason: `ok` and `bad` speak for or against the run, `warn` asks for a look, `early` cannot judge yet. */
export interface HealthFinding {
  level: "ok" | "warn" | "bad" | "early";
  text: string;
}

/** The verdict and every finding behind it. */
export interface HealthVerdict {
  /**
   * `unhealthy`: some finding is bad; `too early to tell`: the history is too short or no evaluated
   * generator makes digits yet; `needs a look`: some finding is a warning; `healthy`: all are ok.
   */
  verdict: "healthy" | "needs a look" | "unhealthy" | "too early to tell";
  findings: HealthFinding[];
}

/** The mean of the finite values (a row being written while the file is read has empty cells). */
function mean(values: number[]): number {
  const v = values.filter(Number.isFinite);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function median(values: number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function divergence(history: NumericTable, evals: NumericTable): HealthFinding | null {
  const col = (t: NumericTable, name: string) => t.columns.get(name) ?? [];
  // A row whose `seconds` cell is written was written whole (the losses come before it).
  const written = col(history, "seconds").map(Number.isFinite);
  const steps = col(history, "step");
  const bad = steps.findIndex((_, i) =>
    written[i] && !["d_loss", "g_loss"].every((c) => Number.isFinite(col(history, c)[i]))
  );
  if (bad >= 0) {
    return { level: "bad", text: `diverged: a loss is not a number at step ${steps[bad] + 1}` };
  }
  const evalRow = col(evals, "count").findIndex((n, i) =>
    Number.isFinite(n) &&
    !["inception_score", "fid"].every((c) => Number.isFinite(col(evals, c)[i]))
  );
  if (evalRow >= 0) {
    return {
      level: "bad",
      text: `diverged: the generator's IS or FID is not a number at step ${
        col(evals, "step")[evalRow]
      }`,
    };
  }
  return null;
}

function lossFindings(history: NumericTable): HealthFinding[] {
  const dAcc = history.columns.get("d_acc") ?? [];
  const gLoss = history.columns.get("g_loss") ?? [];
  const n = dAcc.length;
  const r = HEALTH_RULES;
  if (n < r.minRows) {
    return [{
      level: "early",
      text: `only ${n} steps: too few to judge the losses (< ${r.minRows})`,
    }];
  }
  const recent = Math.max(r.minRows, Math.round(n * r.recentFraction));
  const acc = mean(dAcc.slice(n - recent));
  const g = mean(gLoss.slice(n - recent));
  const where = `over the last ${recent} steps`;
  if (acc >= r.dAccPinned) {
    return [{
      level: "bad",
      text: `the discriminator wins: its accuracy averages ${fmt(acc, 1)} % ${where} ` +
        `(≥ ${r.dAccPinned} %), so the generator gets no useful gradient and has likely collapsed`,
    }];
  }
  const before = gLoss.slice(0, n - recent);
  const [lo, hi] = r.dAccChance;
  if (acc >= lo && acc <= hi && before.length >= recent && g >= r.gLossBlowUp * median(before)) {
    return [{
      level: "bad",
      text: `the discriminator is at chance (accuracy ${fmt(acc, 1)} % ${where}) while the ` +
        `generator's loss blows up (mean ${fmt(g, 2)}, ≥ ${r.gLossBlowUp} × its earlier median ` +
        `${fmt(median(before), 2)})`,
    }];
  }
  return [{
    level: "ok",
    text: `losses look sound: discriminator accuracy ${fmt(acc, 1)} %, generator loss ` +
      `${fmt(g, 2)} ${where} (neither pinned near 100 % nor at chance with the generator's loss ` +
      `blowing up)`,
  }];
}

function sampleFindings(g: GeneratorEvals): HealthFinding[] {
  const r = HEALTH_RULES;
  const last = g.steps.length - 1;
  const at = `${g.label} generator, step ${g.steps[last]}`;
  const confidence = g.confidence[last];
  const findings: HealthFinding[] = [];
  if (!(confidence >= r.confident)) {
    findings.push({
      level: "early",
      text: `${at}: not digits yet (classifier confidence ${fmt(confidence, 2)} < ${r.confident})`,
    });
  } else {
    const shares = g.shares[last];
    const worst = worstDigit(shares);
    const [lo, hi] = r.collapseShares;
    const range = `${percent(Math.min(...shares))}–${percent(Math.max(...shares))}`;
    findings.push(
      worst.share < lo || worst.share > hi
        ? {
          level: "bad",
          text: `${at}: mode collapse: digit ${worst.digit} is ${percent(worst.share)} of the ` +
            `samples (outside ${lo * 100}–${hi * 100} %) although the classifier is sure of them ` +
            `(confidence ${fmt(confidence, 2)}, IS ${fmt(g.inceptionScore[last], 2)})`,
        }
        : {
          level: "ok",
          text: `${at}: every digit made (${range}, confidence ${fmt(confidence, 2)})`,
        },
    );
  }
  if (g.fid.length >= 2) findings.push(fidTrend(g));
  return findings;
}

function fidTrend(g: GeneratorEvals): HealthFinding {
  const fid = g.fid;
  const n = fid.length;
  const rises = HEALTH_RULES.fidRises;
  const f = (v: number) => fmt(v, v >= 100 ? 0 : 1);
  const tail = fid.slice(-rises - 1);
  if (tail.length === rises + 1 && tail.every((v, i) => i === 0 || v > tail[i - 1])) {
    return {
      level: "warn",
      text: `${g.label} FID rising at each of the last ${rises} evaluations: ` +
        tail.map(f).join(" → "),
    };
  }
  if (fid[n - 1] < fid[0]) {
    return {
      level: "ok",
      text: `${g.label} FID improving: ${f(fid[0])} at step ${g.steps[0]} → ${f(fid[n - 1])} at ` +
        `step ${g.steps[n - 1]} (${n} evaluations)`,
    };
  }
  return {
    level: "warn",
    text: `${g.label} FID not improving: ${f(fid[0])} at step ${g.steps[0]}, ${f(fid[n - 1])} at ` +
      `step ${g.steps[n - 1]}`,
  };
}

/** Judges a run by the rules of this module. */
export function judgeHealth(history: NumericTable, evals: NumericTable): HealthVerdict {
  const diverged = divergence(history, evals);
  const generators = generatorEvals(evals);
  const unjudged: HealthFinding = {
    level: "early",
    text: "no evaluation yet, so the samples are not judged (train with --eval-every N, or run " +
      "deno task eval --run on the run folder)",
  };
  const findings = [
    ...(diverged ? [diverged] : []),
    ...lossFindings(history),
    ...(generators.length ? generators.flatMap(sampleFindings) : [unjudged]),
  ];
  const has = (level: HealthFinding["level"]) => findings.some((f) => f.level === level);
  const noDigits = generators.length > 0 &&
    generators.every((g) => !(g.confidence[g.confidence.length - 1] >= HEALTH_RULES.confident));
  const shortHistory = (history.columns.get("d_acc") ?? []).length < HEALTH_RULES.minRows;
  const verdict = has("bad")
    ? "unhealthy"
    : noDigits || shortHistory
    ? "too early to tell"
    : has("warn")
    ? "needs a look"
    : "healthy";
  return { verdict, findings };
}
