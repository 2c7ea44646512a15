/**
 * The reference DCGAN training pipeline: one training step with explicit variable lists
 * ({@link createTrainer}), the seeded batch draw, and the resumable, checkpointing training loop
 * ({@link train}) with hooks for later stages.
 * @module
 */
export {
  createTrainer,
  type OptimizerOptions,
  type StepBatch,
  type StepLosses,
  type Trainer,
} from "./step.ts";
export {
  type CompiledTrainer,
  type CompiledTrainerOptions,
  createCompiledTrainer,
} from "./compiled_trainer.ts";
export { type BatchOptions, drawStepBatch } from "./batch.ts";
export { BATCH_NORM_PASSES, emaRate, GeneratorEma } from "./ema.ts";
export { DEFAULT_CONFIG, learningRateAt, type TrainConfig } from "./config.ts";
export { parseTrainArgs, TRAIN_HELP, type TrainArgs } from "./cli_args.ts";
export { type BrokenCheckpoint, planRun, type RunPlan } from "./resolve_config.ts";
export { type PrepareOptions, prepareRun } from "./prepare_run.ts";
export { LOCK_FILE, RunLock, RunLockedError } from "./run_lock.ts";
export {
  type StepEvent,
  train,
  type TrainHooks,
  TrainingDivergedError,
  type TrainSummary,
} from "./loop.ts";
export { type HistoryRecord, readHistory } from "./history.ts";
export { type CheckpointState, type LatentsFile, readLatents } from "./run_folder.ts";
export { formatLogLine } from "./run_log.ts";
