import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  checkpointDirName,
  type CheckpointInfo,
  CHECKPOINTS_DIR,
  DISCRIMINATOR_DIR,
  GENERATOR_DIR,
  loadLayersModel,
  saveLayersModel,
  STATE_JSON,
} from "../checkpoint/mod.ts";
import { encodePng, toGrid } from "../image/mod.ts";
import type { RngState } from "../random/mod.ts";
import { SAMPLE_COLUMNS, type TrainConfig } from "./config.ts";
import {
  loadOptimizerState,
  type OptimizerStateFile,
  saveOptimizerState,
} from "./optimizer_state.ts";
import type { Trainer } from "./step.ts";

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.json",
  history: "history.csv",
  log: "log.txt",
  latents: "latents.json",
  samples: "samples",
} as const;

/** Contents of a checkpoint's `state.json`. */
export interface CheckpointState {
  /** Steps completed when the checkpoint was written. */
  step: number;
  /** State of the training RNG (batches, latents, label noise, dropout seeds) after that step. */
  rng: RngState;
  /** Optimiser state files of the discriminator's and the generator's Adam. */
  optimizers: { discriminator: OptimizerStateFile; generator: OptimizerStateFile };
}

/** Contents of `latents.json`: the fixed latents of every sample grid of the run. */
export interface LatentsFile {
  seed: number;
  count: number;
  latentDim: number;
  /** `count` rows of `latentDim` numbers. */
  latents: number[][];
}

/** Writes `config.json` and `latents.json` of a new run folder (creating it). */
export async function initRunFolder(config: TrainConfig, latents: Float32Array): Promise<void> {
  await Deno.mkdir(join(config.outDir, RUN_FILES.samples), { recursive: true });
  await Deno.writeTextFile(
    join(config.outDir, RUN_FILES.config),
    JSON.stringify({ ...config, createdAt: new Date().toISOString() }, null, 2) + "\n",
  );
  const rows = Array.from(
    { length: latents.length / config.latentDim },
    (_, i) => Array.from(latents.subarray(i * config.latentDim, (i + 1) * config.latentDim)),
  );
  const file: LatentsFile = {
    seed: config.sampleSeed,
    count: rows.length,
    latentDim: config.latentDim,
    latents: rows,
  };
  await Deno.writeTextFile(join(config.outDir, RUN_FILES.latents), JSON.stringify(file) + "\n");
}

/** Reads the fixed sample latents of a run folder as one row-major Float32Array. */
export async function readLatents(runDir: string): Promise<Float32Array> {
  const file: LatentsFile = JSON.parse(
    await Deno.readTextFile(join(runDir, RUN_FILES.latents)),
  );
  return Float32Array.from(file.latents.flat());
}

/**
 * Renders `0.5·G(z) + 0.5` of the fixed latents (generator in inference mode) as a 4 × 8 grid, 2×
 * magnified, into `samples/step-NNNNN.png`, and returns the file's path.
 */
export async function writeSampleGrid(
  runDir: string,
  step: number,
  generator: tf.LayersModel,
  latents: Float32Array,
): Promise<string> {
  const latentDim = generator.inputs[0].shape[1] as number;
  const count = latents.length / latentDim;
  const images = tf.tidy(() => {
    const out = generator.predict(tf.tensor2d(latents, [count, latentDim])) as tf.Tensor;
    return tf.add(tf.mul(out, 0.5), 0.5);
  });
  const [, height, width, channels] = images.shape;
  const data = (await images.data()) as Float32Array;
  images.dispose();
  const grid = toGrid(
    { data, count, height, width, channels: channels as 1 | 3 },
    { cols: SAMPLE_COLUMNS, scale: 2 },
  );
  await Deno.mkdir(join(runDir, RUN_FILES.samples), { recursive: true });
  const path = join(runDir, RUN_FILES.samples, `${checkpointDirName(step)}.png`);
  await Deno.writeFile(path, encodePng(grid));
  return path;
}

/**
 * Writes a checkpoint of the trainer after `step` steps: both models (TF.js Layers format), both
 * optimisers' state and the RNG state. It is built in `checkpoints/.tmp-step-NNNNN` and renamed into
 * place, so the newest complete checkpoint is always readable even if the process dies mid-write.
 * Returns the checkpoint folder.
 */
export async function writeCheckpoint(
  runDir: string,
  step: number,
  trainer: Trainer,
  rng: RngState,
): Promise<string> {
  const root = join(runDir, CHECKPOINTS_DIR);
  const name = checkpointDirName(step);
  const tmp = join(root, `.tmp-${name}`);
  const final = join(root, name);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(tmp, { recursive: true });
  await saveLayersModel(trainer.generator, join(tmp, GENERATOR_DIR));
  await saveLayersModel(trainer.discriminator, join(tmp, DISCRIMINATOR_DIR));
  const state: CheckpointState = {
    step,
    rng,
    optimizers: {
      discriminator: await saveOptimizerState(trainer.dOptimizer, tmp, "d_optimizer.bin"),
      generator: await saveOptimizerState(trainer.gOptimizer, tmp, "g_optimizer.bin"),
    },
  };
  await Deno.writeTextFile(join(tmp, STATE_JSON), JSON.stringify(state, null, 2) + "\n");
  // A checkpoint of the same step left by an earlier, abandoned branch of the run is replaced.
  await Deno.remove(final, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, final);
  return final;
}

/** The models and state of a checkpoint, loaded; restore the optimisers with {@link restoreOptimizers}. */
export interface LoadedCheckpoint {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  state: CheckpointState;
  dir: string;
}

/**
 * Loads a checkpoint's generator, discriminator and `state.json`.
 * @throws {Error} naming the file when one is missing or malformed.
 */
export async function loadCheckpoint(info: CheckpointInfo): Promise<LoadedCheckpoint> {
  const statePath = join(info.dir, STATE_JSON);
  let state: CheckpointState;
  try {
    state = JSON.parse(await Deno.readTextFile(statePath));
  } catch (e) {
    throw new Error(`${statePath}: cannot read the checkpoint state (${(e as Error).message})`);
  }
  if (!Number.isInteger(state.step) || !state.rng || !state.optimizers) {
    throw new Error(`${statePath}: not a training checkpoint state (step, rng, optimizers)`);
  }
  const generator = await loadLayersModel(info.generatorDir);
  const discriminator = await loadLayersModel(info.discriminatorDir);
  return { generator, discriminator, state, dir: info.dir };
}

/** Restores both optimisers of `trainer` from a loaded checkpoint. */
export async function restoreOptimizers(trainer: Trainer, ckpt: LoadedCheckpoint): Promise<void> {
  await loadOptimizerState(trainer.dOptimizer, ckpt.dir, ckpt.state.optimizers.discriminator);
  await loadOptimizerState(trainer.gOptimizer, ckpt.dir, ckpt.state.optimizers.generator);
}
