/**
 * `deno task train`: trains the reference MNIST DCGAN into a run folder (see `deno task train --help`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { runCli } from "../src/cli/mod.ts";
import { BackendError } from "../src/compute/mod.ts";
import { CheckpointNotFoundError, ModelFileError, RUN_FILES } from "../src/checkpoint/mod.ts";
import { IdxError } from "../src/data/mod.ts";
import { ClassifierFileError, EvalLogError } from "../src/eval/mod.ts";
import { FileWriteError, InputTooLargeError } from "../src/fsio/mod.ts";
import { buildDiscriminator, buildGenerator, formatSummary } from "../src/model/mod.ts";
import {
  parseTrainArgs,
  planRun,
  prepareRun,
  RunLock,
  RunLockedError,
  train,
  TRAIN_HELP,
  TrainingDivergedError,
} from "../src/train/mod.ts";
import { trainingReportHooks } from "../src/report/mod.ts";

async function main(): Promise<number> {
  const args = parseTrainArgs(Deno.args);
  if (args.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  if (args.summary) {
    await tf.setBackend("cpu");
    const latentDim = args.options.latentDim;
    console.log(formatSummary(buildGenerator({ latentDim })));
    console.log();
    console.log(formatSummary(buildDiscriminator()));
    return 0;
  }
  const plan = await planRun(args.options, args.resume);
  if (plan.nothingToDo) {
    RunLock.checkFree(plan.config.outDir);
    console.log(plan.nothingToDo);
    return 0;
  }
  const hooks = await trainingReportHooks({
    evalEvery: plan.config.evalEvery,
    evalCount: plan.config.evalCount,
  });
  const lock = RunLock.acquire(plan.config.outDir, (line) => console.log(line));
  try {
    await prepareRun(plan, { completedStepFiles: [RUN_FILES.eval] });
    if (plan.notice) console.log(plan.notice);
    const summary = await train(plan.config, hooks, plan.resumeFrom);
    return summary.stoppedBy === "steps" ? 0 : 130;
  } finally {
    lock.release();
  }
}

await runCli(main, {
  prefix: "train",
  inputErrors: [
    EvalLogError,
    IdxError,
    CheckpointNotFoundError,
    ModelFileError,
    BackendError,
    ClassifierFileError,
    FileWriteError,
    InputTooLargeError,
    RunLockedError,
    Deno.errors.PermissionDenied,
    Deno.errors.NotADirectory,
    Deno.errors.IsADirectory,
  ],
  failures: [TrainingDivergedError],
});
