/** Summary figures of a run computed from its history (steps, wall time, throughput, final losses). */
import type { NumericTable } from "./csv.ts";
import type { LogSession } from "./run_data.ts";
import { smoothEma, weightForSpan } from "./series.ts";

/** Headline numbers of a run. */
export interface RunFigures {
  /** Steps completed: the last 0-based `step` of `history.csv` plus 1 (0 when empty). */
  steps: number;
  /** Wall seconds of training so far, as {@link wallSeconds} counts them. */
  seconds: number;
  /** Steps per second over the whole run (steps trained over {@link RunFigures.seconds}). */
  stepsPerSecond: number;
  /** The sessions whose closing line in `log.txt` counts in {@link RunFigures.seconds}. */
  closedSessions: number;
  /** Steps in `history.csv` after the last of those sessions: a session running now, or cut short. */
  unclosedSteps: number;
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

/** The sessions of `sessions` whose steps `history` still holds as they ran (no later session redid any). */
function countedSessions(history: NumericTable, sessions: LogSession[]): LogSession[] {
  const steps = history.columns.get("step") ?? [];
  const holds = (completed: number) => completed === 0 || steps.includes(completed - 1);
  return sessions.filter((s, i) =>
    holds(s.from) && holds(s.to) && !sessions.slice(i + 1).some((later) => later.from < s.to)
  );
}

/**
 * Wall seconds of training, as `log.txt` counts them: the sum of each session's closing line
 * (`Done: … in S s`: every step, evaluation, sample grid and checkpoint of its training loop, start-up
 * excluded), plus the `seconds` of `history.csv` for steps no closing line covers (a session running now,
 * or one that crashed). `history.csv` alone falls short: each row's `seconds` is taken before that step's
 * evaluation, sample grids and checkpoint, so the work after the last step of each session (the final
 * evaluation and checkpoint) is missing from it. A closed run's figure is its closing line's, or the sum of
 * its sessions' when it was resumed.
 */
export function wallSeconds(history: NumericTable, sessions: LogSession[]): number {
  const elapsed = elapsedSeconds(history);
  const steps = history.columns.get("step") ?? [];
  const at = (completed: number) => completed === 0 ? 0 : elapsed[steps.indexOf(completed - 1)];
  const counted = countedSessions(history, sessions);
  const last = elapsed.length ? elapsed[elapsed.length - 1] : NaN;
  if (counted.length === 0) return last;
  const covered = counted.reduce((t, s) => t + at(s.to) - at(s.from), 0);
  // Computed first so that a run of one closed session gets exactly its closing line's figure.
  const uncovered = last - covered;
  return uncovered + counted.reduce((t, s) => t + s.seconds, 0);
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
 * Computes the headline figures of a run from its history and the closing lines of its sessions in
 * `log.txt`. `step` is the 0-based index of each step (as the reference notebook and `history.csv` number
 * them), so the steps completed are the last index + 1.
 */
export function runFigures(history: NumericTable, sessions: LogSession[] = []): RunFigures {
  const steps = history.columns.get("step") ?? [];
  const elapsed = elapsedSeconds(history);
  const n = steps.length;
  const lastStep = n ? steps[n - 1] + 1 : 0;
  const seconds = wallSeconds(history, sessions);
  const counted = countedSessions(history, sessions);
  const firstStep = n ? steps[0] : 0;
  const back = Math.min(n - 1, Math.max(20, Math.round(n / 10)));
  const recent = n > 1
    ? (steps[n - 1] - steps[n - 1 - back]) / (elapsed[n - 1] - elapsed[n - 1 - back])
    : NaN;
  return {
    steps: lastStep,
    seconds,
    stepsPerSecond: (lastStep - firstStep) / seconds,
    closedSessions: counted.length,
    unclosedSteps: lastStep - (counted.length ? counted[counted.length - 1].to : 0),
    recentStepsPerSecond: recent,
    dLoss: lastSmoothed(history, "d_loss"),
    dAcc: lastSmoothed(history, "d_acc"),
    gLoss: lastSmoothed(history, "g_loss"),
  };
}
