/**
 * The run folder's `eval.csv`: one line per evaluation (steps completed), written during training
 * (`--eval-every N`) or afterwards for every checkpoint (`deno task eval --run DIR`), read by the report.
 * Columns: `step,count,inception_score,fid,confidence,digit_0,…,digit_9` (digit shares in [0, 1]).
 */
import { join } from "node:path";
import { RUN_FILES } from "../checkpoint/mod.ts";
import { csvLine, csvText, parseCsv } from "../csv/mod.ts";
import { writeTextFileAtomic } from "../fsio/mod.ts";
import type { QualityFigures } from "./evaluate.ts";

/** The columns of `eval.csv`. */
const EVAL_COLUMNS = [
  "step",
  "count",
  "inception_score",
  "fid",
  "confidence",
  ...Array.from({ length: 10 }, (_, k) => `digit_${k}`),
];

/** The header line of `eval.csv`. */
export const EVAL_CSV_HEADER: string = csvLine(EVAL_COLUMNS);

/** The cells of one `eval.csv` row for the figures measured after `step`. */
function evalRow(step: number, f: QualityFigures): string[] {
  return [
    String(step),
    String(f.count),
    f.inceptionScore.toFixed(4),
    f.fid.toFixed(4),
    f.confidence.toFixed(4),
    ...f.histogram.map((share) => share.toFixed(4)),
  ];
}

const stepOf = (row: string[]) => Number(row[0]);

async function readRows(runDir: string): Promise<string[][]> {
  try {
    const text = await Deno.readTextFile(join(runDir, RUN_FILES.eval));
    // A line without its newline was cut short (only files written before atomic writes can hold one).
    return parseCsv(text, { completeLinesOnly: true }).rows.filter((r) => /^\d+$/.test(r[0]));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

function writeRows(runDir: string, rows: string[][]): void {
  const sorted = [...rows].sort((a, b) => stepOf(a) - stepOf(b));
  writeTextFileAtomic(join(runDir, RUN_FILES.eval), csvText(EVAL_COLUMNS, sorted));
}

/** The steps that `runDir/eval.csv` already holds (empty when there is no file). */
export async function evaluatedSteps(runDir: string): Promise<Set<number>> {
  return new Set((await readRows(runDir)).map(stepOf));
}

/**
 * Appends the figures of `step` during training, writing the header first when the file is new. Lines of
 * later steps than `step` (left by a run that is being resumed) are dropped first, so the file stays ordered.
 */
export async function appendEvalRow(
  runDir: string,
  step: number,
  f: QualityFigures,
): Promise<void> {
  const kept = (await readRows(runDir)).filter((l) => stepOf(l) < step);
  writeRows(runDir, [...kept, evalRow(step, f)]);
}

/** Adds or replaces the line of `step`, keeping every other line (evaluating checkpoints afterwards). */
export async function mergeEvalRow(runDir: string, step: number, f: QualityFigures): Promise<void> {
  const kept = (await readRows(runDir)).filter((l) => stepOf(l) !== step);
  writeRows(runDir, [...kept, evalRow(step, f)]);
}
