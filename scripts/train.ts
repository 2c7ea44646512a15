/**
 * `deno task train`: trains the reference MNIST DCGAN into a run folder (see `deno task train --help`).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { runCli } from "../src/cli/mod.ts";
import { BackendError } from "../src/compute/mod.ts";
import { CheckpointNotFoundError } from "../src/checkpoint/mod.ts";
import { IdxError } from "../src/data/mod.ts";
import { ClassifierFileError } from "../src/eval/mod.ts";
import { buildDiscriminator, buildGenerator, formatSummary } from "../src/model/mod.ts";
import {
  parseTrainArgs,
  planRun,
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
  const hooks = await trainingReportHooks({ evalEvery: args.evalEvery, evalCount: args.evalCount });
  const summary = await train(plan.config, hooks, plan.resumeFrom);
  return summary.stoppedBy === "steps" ? 0 : 130;
}

await runCli(main, {
  prefix: "train",
  inputErrors: [IdxError, CheckpointNotFoundError, BackendError, ClassifierFileError],
  failures: [TrainingDivergedError],
});
