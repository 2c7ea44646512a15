/**
 * The training report: a self-contained `report.html` per run folder (configuration, backend, wall time and
 * throughput as log.txt counts them, a verdict on the run's health, loss/accuracy curves raw and smoothed,
 * the raw and EMA generators' evaluations over time with the ends of the scale and the targets, the table
 * of evaluated checkpoints with the best one and its export command, every saved sample grid once) and
 * `samples/progress.gif` (the raw generator's fixed-latent grids across training).
 * @module
 */
export { type ReportFiles, writeReport } from "./write_report.ts";
export { evaluateRun, type RunEvaluation, type RunEvaluationOptions } from "./evaluate_run.ts";
export {
  type LogSession,
  readRun,
  type RunData,
  RunFolderError,
  type SampleFile,
} from "./run_data.ts";
export { type ReportImages } from "./html.ts";
export { elapsedSeconds, type RunFigures, runFigures, wallSeconds } from "./figures.ts";
export { type HealthFinding, type HealthVerdict, judgeHealth } from "./health.ts";
export { type NumericTable, parseNumericCsv } from "./csv.ts";
export { downsample, type Point, smoothEma } from "./series.ts";
export {
  type ChartOptions,
  type ChartSeries,
  lineChart,
  logTicks,
  niceTicks,
  type ReferenceLine,
} from "./svg_chart.ts";
export { decodeGrey, progressGif } from "./progress_gif.ts";
export { CAPTION_CHARS, withCaption } from "./caption.ts";
export {
  formatEvalLine,
  trainingReportHooks,
  type TrainingReportOptions,
} from "./training_hooks.ts";
