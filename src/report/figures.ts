/** Summary figures of a run computed from its history (steps, wall time, throughput, final losses). */
import type { NumericTable } from "./csv.ts";
import { smoothEma, weightForSpan } from "./series.ts";

/** Headline numbers of a run. */
export interface RunFigures {
  /** Steps completed: the last 0-based `step` of `history.csv` plus 1 (0 when empty). */
  steps: number;
  /** Wall seconds of training so far (NaN when `history.csv` has no `seconds`). */
  seconds: number;
  /** Steps per second over the whole run. */
  stepsPerSecond: number;
  /** Steps per second over the last 10% of the steps (at least the last 20 rows). */
  recentStepsPerSecond: number;
  /** Smoothed last values of d_loss, d_acc (%), g_loss (NaN when absent). */
  dLoss: number;
  dAcc: number;
  gLoss: number;
}

/**
 * Wall seconds after each history row. `seconds` is read as elapsed time when it never decreases (the
 * training log's convention); otherwise as the duration of each step, and summed.
 */
export function elapsedSeconds(history: NumericTable): number[] {
  const s = history.columns.get("seconds") ?? [];
  const cumulative = s.every((v, i) => i === 0 || !(v < s[i - 1]));
  if (cumulative) return s;
  let sum = 0;
  return s.map((v) => sum += Number.isFinite(v) ? v : 0);
}

function lastSmoothed(history: NumericTable, name: string): number {
  const v = history.columns.get(name) ?? [];
  if (v.length === 0) return NaN;
  return smoothEma(
    v,
    weightForSpan(v.length, Math.min(50, Math.max(1, v.length / 10))),
  )[v.length - 1];
}

/**
 * Computes the headline figures of a run from its history. `step` is the 0-based index of each step (as the
 * reference notebook and `history.csv` number them), so the steps completed are the last index + 1.
 */
export function runFigures(history: NumericTable): RunFigures {
  const steps = history.columns.get("step") ?? [];
  const elapsed = elapsedSeconds(history);
  const n = steps.length;
  const lastStep = n ? steps[n - 1] + 1 : 0;
  const seconds = elapsed.length ? elapsed[elapsed.length - 1] : NaN;
  const firstStep = n ? steps[0] : 0;
  const back = Math.min(n - 1, Math.max(20, Math.round(n / 10)));
  const recent = n > 1
    ? (steps[n - 1] - steps[n - 1 - back]) / (elapsed[n - 1] - elapsed[n - 1 - back])
    : NaN;
  return {
    steps: lastStep,
    seconds,
    stepsPerSecond: (lastStep - firstStep) / seconds,
    recentStepsPerSecond: recent,
    dLoss: lastSmoothed(history, "d_loss"),
    dAcc: lastSmoothed(history, "d_acc"),
    gLoss: lastSmoothed(history, "g_loss"),
  };
}
