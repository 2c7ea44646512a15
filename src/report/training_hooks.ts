/**
 * Hooks for `train(config, hooks)`: periodic evaluation (`--eval-every N`) into `eval.csv` and
 * `history.csv` columns (raw and EMA generator), and `report.html` kept up to date as training runs.
 */
import { join } from "node:path";
import { RUN_FILES } from "../checkpoint/mod.ts";
import { appendEvalRow, DEFAULT_CLASSIFIER, Evaluator, type QualityFigures } from "../eval/mod.ts";
import type { TrainHooks } from "../train/mod.ts";
import { writeReport } from "./write_report.ts";

/** Options of {@link trainingReportHooks}. */
export interface TrainingReportOptions {
  /** Evaluate the generator every this many completed steps; 0 turns evaluation off (default 0). */
  evalEvery?: number;
  /** Samples per evaluation (default 2000; `deno task eval` uses 10,000). */
  evalCount?: number;
  /** Seed of the evaluation latents (default 0). */
  evalSeed?: number;
  /** The classifier file (default `models/classifier.onnx`). */
  classifier?: string;
  /** Where the closing line goes (default `console.log`; evaluation lines go to the run's log). */
  print?: (line: string) => void;
}

/** `history.csv` columns filled at evaluation steps (empty otherwise). */
export const EVAL_HISTORY_COLUMNS = [
  "inception_score",
  "mnist_fid",
  "ema_inception_score",
  "ema_mnist_fid",
] as const;

/** One line describing an evaluation of the `weights` generator, for the terminal and `log.txt`. */
export function formatEvalLine(step: number, f: QualityFigures, weights = "raw"): string {
  const shares = f.histogram.map((s) => (s * 100).toFixed(0)).join("/");
  return `eval step ${step} ${weights}: IS ${f.inceptionScore.toFixed(2)}, MNIST-FID ${
    f.fid.toFixed(2)
  }, confidence ${f.confidence.toFixed(3)}, digits % ${shares} (${f.count} samples)`;
}

/**
 * Builds the hooks. With `evalEvery > 0` the classifier and the MNIST test statistics are loaded now, so a
 * missing classifier fails before training starts.
 * @throws {ClassifierFileError} when evaluation is asked for and the classifier cannot be loaded.
 */
export async function trainingReportHooks(
  options: TrainingReportOptions = {},
): Promise<TrainHooks> {
  const every = options.evalEvery ?? 0;
  const count = options.evalCount ?? 2000;
  const seed = options.evalSeed ?? 0;
  const print = options.print ?? ((line: string) => console.log(line));
  const evaluator = every > 0
    ? await Evaluator.create(options.classifier ?? DEFAULT_CLASSIFIER)
    : null;
  const report = async (runDir: string) => {
    try {
      await writeReport(runDir);
    } catch (e) {
      // A report that cannot be written must not stop training; say so and go on.
      console.error(`report: not updated (${(e as Error).message})`);
    }
  };
  return {
    historyColumns: evaluator ? [...EVAL_HISTORY_COLUMNS] : [],
    async onStep({ completed, trainer, emaGenerator, runDir, log }) {
      if (!evaluator || completed % every !== 0) return;
      const raw = await evaluator.evaluateGenerator(trainer.generator, count, seed);
      const ema = emaGenerator
        ? await evaluator.evaluateGenerator(emaGenerator, count, seed)
        : undefined;
      await appendEvalRow(runDir, completed, { raw, ema });
      log(formatEvalLine(completed, raw));
      if (ema) log(formatEvalLine(completed, ema, "ema"));
      return {
        inception_score: raw.inceptionScore.toFixed(4),
        mnist_fid: raw.fid.toFixed(4),
        ...(ema
          ? {
            ema_inception_score: ema.inceptionScore.toFixed(4),
            ema_mnist_fid: ema.fid.toFixed(4),
          }
          : {}),
      };
    },
    async onSample({ runDir }) {
      await report(runDir);
    },
    async onCheckpoint({ runDir }) {
      await report(runDir);
    },
    async onEnd(summary) {
      await report(summary.runDir);
      await evaluator?.close();
      print(
        `Report: ${join(summary.runDir, RUN_FILES.report)} (progress GIF: ` +
          `${join(summary.runDir, RUN_FILES.samples, RUN_FILES.progressGif)})`,
      );
    },
  };
}
