/**
 * The run folder's `eval.csv`: one line per evaluation (steps completed), written during training
 * (`--eval-every N`) or afterwards for every checkpoint (`deno task eval --run DIR`), read by the report.
 * Columns: `step,count,inception_score,fid,confidence,digit_0,…,digit_9` of the raw generator (digit shares
 * in [0, 1]), then the same figures of the EMA generator prefixed `ema_` (empty when the run keeps none).
 */
import { join } from "node:path";
import { RUN_FILES } from "../checkpoint/mod.ts";
import { csvLine, csvText, parseCsv } from "../csv/mod.ts";
import { INPUT_LIMITS, readTextFileBounded, writeTextFileAtomic } from "../fsio/mod.ts";
import type { QualityFigures } from "./evaluate.ts";

const FIGURE_COLUMNS = [
  "inception_score",
  "fid",
  "confidence",
  ...Array.from({ length: 10 }, (_, k) => `digit_${k}`),
];

/** Prefix of the EMA generator's columns in `eval.csv`. */
export const EMA_COLUMN_PREFIX = "ema_";

/** The columns of `eval.csv`. */
const EVAL_COLUMNS = [
  "step",
  "count",
  ...FIGURE_COLUMNS,
  ...FIGURE_COLUMNS.map((c) => EMA_COLUMN_PREFIX + c),
];

/** The header line of `eval.csv`. */
export const EVAL_CSV_HEADER: string = csvLine(EVAL_COLUMNS);

/** The figures of one evaluated step: the raw generator's, and the EMA generator's when there is one. */
export interface StepFigures {
  raw: QualityFigures;
  ema?: QualityFigures;
}

function figureCells(f: QualityFigures): string[] {
  return [
    f.inceptionScore.toFixed(4),
    f.fid.toFixed(4),
    f.confidence.toFixed(4),
    ...f.histogram.map((share) => share.toFixed(4)),
  ];
}

/** The cells of one `eval.csv` row for the figures measured after `step`. */
function evalRow(step: number, f: StepFigures): string[] {
  return [
    String(step),
    String(f.raw.count),
    ...figureCells(f.raw),
    ...(f.ema ? figureCells(f.ema) : FIGURE_COLUMNS.map(() => "")),
  ];
}

const stepOf = (row: string[]) => Number(row[0]);

/** An `eval.csv` row that is not figures (a hand edit, another tool's file); names the file and line. */
export class EvalLogError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "EvalLogError";
  }
}

/** What is wrong with one row (step, count, then figures that are numbers or, for EMA, empty), or null. */
function rowProblem(row: string[]): string | null {
  if (!/^[0-9]+$/.test(row[0]) || !/^[1-9][0-9]*$/.test(row[1] ?? "")) {
    return "its step and sample count are not whole numbers";
  }
  const raw = row.slice(2, 2 + FIGURE_COLUMNS.length);
  const ema = row.slice(2 + FIGURE_COLUMNS.length);
  const isNumber = (cell: string) => cell.trim() !== "" && Number.isFinite(Number(cell));
  if (raw.length !== FIGURE_COLUMNS.length || !raw.every(isNumber)) {
    return "its figures are not numbers";
  }
  if (!(ema.every(isNumber) || ema.every((cell) => cell === ""))) {
    return "its EMA figures are neither numbers nor empty";
  }
  return null;
}

async function readRows(runDir: string): Promise<string[][]> {
  const path = join(runDir, RUN_FILES.eval);
  let text: string;
  try {
    text = await readTextFileBounded(path, INPUT_LIMITS.runFile, "an eval.csv");
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return [];
    throw e;
  }
  // A line without its newline was cut short (only files written before atomic writes can hold one).
  const { header, rows } = parseCsv(text, { completeLinesOnly: true });
  // Files written before the EMA columns existed get empty EMA cells.
  const pad = EVAL_COLUMNS.length - header.length;
  const padded = rows.filter((r) => r.some((cell) => cell !== ""))
    .map((r) => [...r, ...Array(Math.max(0, pad)).fill("")]);
  for (const [i, row] of padded.entries()) {
    const problem = rowProblem(row);
    if (problem) {
      throw new EvalLogError(
        path,
        `row ${i + 1} (${row.join(",")}) is not an evaluation: ${problem}`,
      );
    }
  }
  return padded;
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
  f: StepFigures,
): Promise<void> {
  const kept = (await readRows(runDir)).filter((l) => stepOf(l) < step);
  writeRows(runDir, [...kept, evalRow(step, f)]);
}

/** Adds or replaces the line of `step`, keeping every other line (evaluating checkpoints afterwards). */
export async function mergeEvalRow(runDir: string, step: number, f: StepFigures): Promise<void> {
  const kept = (await readRows(runDir)).filter((l) => stepOf(l) !== step);
  writeRows(runDir, [...kept, evalRow(step, f)]);
}

/** The evaluated generator with the lowest MNIST-FID in a run's `eval.csv`. */
export interface BestEvaluation {
  step: number;
  weights: "raw" | "ema";
  fid: number;
  inceptionScore: number;
  /** Samples per evaluation. */
  count: number;
}

/**
 * The step and variant (raw or EMA) with the lowest MNIST-FID in `runDir/eval.csv`; ties go to the earlier
 * step, then to raw. Null when the file is missing or holds no figure.
 */
export async function bestEvaluation(runDir: string): Promise<BestEvaluation | null> {
  let best: BestEvaluation | null = null;
  const at = (name: string) => EVAL_COLUMNS.indexOf(name);
  for (const row of await readRows(runDir)) {
    for (const weights of ["raw", "ema"] as const) {
      const prefix = weights === "ema" ? EMA_COLUMN_PREFIX : "";
      const fid = Number(row[at(prefix + "fid")] || NaN);
      if (!Number.isFinite(fid) || (best && fid >= best.fid)) continue;
      best = {
        step: stepOf(row),
        weights,
        fid,
        inceptionScore: Number(row[at(prefix + "inception_score")]),
        count: Number(row[at("count")]),
      };
    }
  }
  return best;
}
