/**
 * The run folder's `eval.csv`: one line per evaluation during training (`--eval-every N`), read by the report.
 * Columns: `step,count,inception_score,fid,confidence,digit_0,…,digit_9` (digit shares in [0, 1]).
 */
import { join } from "node:path";
import type { QualityFigures } from "./evaluate.ts";

/** File name of the evaluation log in a run folder. */
export const EVAL_CSV = "eval.csv";

/** The header line of `eval.csv`. */
export const EVAL_CSV_HEADER = [
  "step",
  "count",
  "inception_score",
  "fid",
  "confidence",
  ...Array.from({ length: 10 }, (_, k) => `digit_${k}`),
].join(",");

/** One `eval.csv` line (no newline) for the figures measured after `step`. */
export function evalCsvLine(step: number, f: QualityFigures): string {
  return [
    step,
    f.count,
    f.inceptionScore.toFixed(4),
    f.fid.toFixed(4),
    f.confidence.toFixed(4),
    ...f.histogram.map((share) => share.toFixed(4)),
  ].join(",");
}

/**
 * Appends the figures of `step` to `runDir/eval.csv`, writing the header first when the file is new. Lines of
 * later steps than `step` (left by a run that is being resumed) are dropped first, so the file stays ordered.
 */
export async function appendEvalRow(
  runDir: string,
  step: number,
  f: QualityFigures,
): Promise<void> {
  const path = join(runDir, EVAL_CSV);
  let lines: string[] = [];
  try {
    lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const kept = lines.slice(1).filter((l) => Number(l.split(",")[0]) < step);
  const text = [EVAL_CSV_HEADER, ...kept, evalCsvLine(step, f)].join("\n") + "\n";
  await Deno.writeTextFile(path, text);
}
