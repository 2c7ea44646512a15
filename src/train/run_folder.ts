import * as tf from "@tensorflow/tfjs";
import { basename, join } from "node:path";
import {
  checkpointDirName,
  type CheckpointInfo,
  CHECKPOINTS_DIR,
  DISCRIMINATOR_DIR,
  GENERATOR_DIR,
  GENERATOR_EMA_DIR,
  loadLayersModel,
  ModelFileError,
  readModelArtifacts,
  RUN_FILES,
  saveLayersModel,
  STATE_JSON,
} from "../checkpoint/mod.ts";
import {
  FileWriteError,
  INPUT_LIMITS,
  makeFolder,
  readTextFileBounded,
  syncFolder,
  writeFileAtomic,
  writeNewFile,
  writeTextFileAtomic,
} from "../fsio/mod.ts";
import { encodePng, toGrid } from "../image/mod.ts";
import type { RngState } from "../random/mod.ts";
import { OPTIONAL_OPTIONS, SAMPLE_COLUMNS, SAMPLE_COUNT, type TrainConfig } from "./config.ts";
import {
  loadOptimizerState,
  type OptimizerStateFile,
  readOptimizerState,
  saveOptimizerState,
} from "./optimizer_state.ts";
import type { Trainer } from "./step.ts";
import type { GeneratorEma } from "./ema.ts";

/** Contents of a checkpoint's `state.json`. */
export interface CheckpointState {
  /** Steps completed when the checkpoint was written. */
  step: number;
  /** State of the training RNG (batches, latents, label noise, dropout seeds) after that step. */
  rng: RngState;
  /** Optimiser state files of the discriminator's and the generator's Adam. */
  optimizers: { discriminator: OptimizerStateFile; generator: OptimizerStateFile };
  /**
   * The EMA generator in `generator_ema/`, when the run keeps one: its decay and how many generator
   * updates it has averaged (the `t` of its bias correction).
   */
  ema?: { decay: number; updates: number };
}

/** Contents of `latents.json`: the fixed latents of every sample grid of the run. */
export interface LatentsFile {
  seed: number;
  count: number;
  latentDim: number;
  /** `count` rows of `latentDim` numbers. */
  latents: number[][];
}

/**
 * Writes a run's `config.json` atomically: every option, those left to their default as `null`
 * (`createdAt` is added when given).
 */
export function writeRunConfig(config: TrainConfig, createdAt?: string): void {
  const absent = Object.fromEntries(OPTIONAL_OPTIONS.map((key) => [key, null]));
  const json = { ...absent, ...config, ...(createdAt ? { createdAt } : {}) };
  writeTextFileAtomic(join(config.outDir, RUN_FILES.config), JSON.stringify(json, null, 2) + "\n");
}

/** Writes `latents.json` of a run folder atomically. */
export function writeLatents(config: TrainConfig, latents: Float32Array): void {
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
  writeTextFileAtomic(join(config.outDir, RUN_FILES.latents), JSON.stringify(file) + "\n");
}

/** Writes `config.json` and `latents.json` of a new run folder (creating it). */
export function initRunFolder(config: TrainConfig, latents: Float32Array): void {
  makeFolder(join(config.outDir, RUN_FILES.samples));
  writeRunConfig(config, new Date().toISOString());
  writeLatents(config, latents);
}

/**
 * Reads the fixed sample latents of a run folder as one row-major Float32Array.
 * @throws {ModelFileError} naming the file when it is missing, malformed or not {@link SAMPLE_COUNT}
 * rows of `latentDim` finite numbers.
 */
export async function readLatents(runDir: string, latentDim: number): Promise<Float32Array> {
  const path = join(runDir, RUN_FILES.latents);
  let file: LatentsFile;
  try {
    file = JSON.parse(await readTextFileBounded(path, INPUT_LIMITS.runFile, "a latents file"));
  } catch (e) {
    throw new ModelFileError(path, `cannot read the sample latents (${(e as Error).message})`);
  }
  const rows: unknown[] = Array.isArray(file?.latents) ? file.latents : [];
  const flat = rows.flatMap((row) => Array.isArray(row) && row.length === latentDim ? row : [NaN]);
  if (
    file.latentDim !== latentDim || file.count !== SAMPLE_COUNT || rows.length !== SAMPLE_COUNT ||
    !flat.every(Number.isFinite)
  ) {
    throw new ModelFileError(path, `is not ${SAMPLE_COUNT} × ${latentDim} finite sample latents`);
  }
  return Float32Array.from(flat);
}

/**
 * Renders `0.5·G(z) + 0.5` of the fixed latents (generator in inference mode) as a 4 × 8 grid, 2×
 * magnified, into `samples/step-NNNNN.png` (the EMA generator's: `step-NNNNN-ema.png`), and returns the
 * file's path.
 */
export async function writeSampleGrid(
  runDir: string,
  step: number,
  generator: tf.LayersModel,
  latents: Float32Array,
  weights: "raw" | "ema" = "raw",
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
  makeFolder(join(runDir, RUN_FILES.samples));
  const suffix = weights === "ema" ? "-ema" : "";
  const path = join(runDir, RUN_FILES.samples, `${checkpointDirName(step)}${suffix}.png`);
  writeFileAtomic(path, encodePng(grid));
  return path;
}

/**
 * Writes a checkpoint of the trainer after `step` steps: both models (TF.js Layers format), the EMA
 * generator when there is one, both optimisers' state and the RNG state. It is built in `checkpoints/.tmp-step-NNNNN` and renamed into
 * place, so the newest complete checkpoint is always readable even if the process dies mid-write; every
 * file is flushed to disk before the rename. When a write fails (disk full) the temporary folder is
 * removed. Returns the checkpoint folder.
 * @throws {FileWriteError} naming the file that could not be written.
 */
export async function writeCheckpoint(
  runDir: string,
  step: number,
  trainer: Trainer,
  rng: RngState,
  ema: { average: GeneratorEma; updates: number } | null,
): Promise<string> {
  const root = join(runDir, CHECKPOINTS_DIR);
  const name = checkpointDirName(step);
  const tmp = join(root, `.tmp-${name}`);
  const final = join(root, name);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    makeFolder(tmp);
    await saveLayersModel(trainer.generator, join(tmp, GENERATOR_DIR));
    await saveLayersModel(trainer.discriminator, join(tmp, DISCRIMINATOR_DIR));
    if (ema) await saveLayersModel(ema.average.model, join(tmp, GENERATOR_EMA_DIR));
    const state: CheckpointState = {
      step,
      rng,
      optimizers: {
        discriminator: await saveOptimizerState(trainer.dOptimizer, tmp, "d_optimizer.bin"),
        generator: await saveOptimizerState(trainer.gOptimizer, tmp, "g_optimizer.bin"),
      },
      ...(ema ? { ema: { decay: ema.average.decay, updates: ema.updates } } : {}),
    };
    writeNewFile(
      join(tmp, STATE_JSON),
      new TextEncoder().encode(JSON.stringify(state, null, 2) + "\n"),
    );
    syncFolder(tmp);
    // A checkpoint of the same step left by an earlier, abandoned branch of the run is replaced.
    await Deno.remove(final, { recursive: true }).catch(() => {});
    Deno.renameSync(tmp, final);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (e instanceof FileWriteError) throw e;
    throw new FileWriteError(final, `cannot write the checkpoint (${(e as Error).message})`, {
      cause: e,
    });
  }
  syncFolder(root);
  return final;
}

/** The models and state of a checkpoint, loaded; restore the optimisers with {@link restoreOptimizers}. */
export interface LoadedCheckpoint {
  generator: tf.LayersModel;
  /** The EMA generator, when `state.ema` says the checkpoint holds one. */
  emaGenerator: tf.LayersModel | null;
  discriminator: tf.LayersModel;
  state: CheckpointState;
  dir: string;
}

async function readState(info: CheckpointInfo): Promise<CheckpointState> {
  const statePath = join(info.dir, STATE_JSON);
  let state: CheckpointState;
  try {
    state = JSON.parse(
      await readTextFileBounded(statePath, INPUT_LIMITS.runFile, "a checkpoint state"),
    );
  } catch (e) {
    throw new ModelFileError(
      statePath,
      `cannot read the checkpoint state (${(e as Error).message})`,
    );
  }
  const o = state?.optimizers;
  if (
    !Number.isInteger(state?.step) || !state.rng || !o?.discriminator?.file || !o?.generator?.file
  ) {
    throw new ModelFileError(statePath, "not a training checkpoint state (step, rng, optimizers)");
  }
  if (state.step !== info.step) {
    throw new ModelFileError(
      statePath,
      `says step ${state.step}, but its folder ${basename(info.dir)} holds step ${info.step}`,
    );
  }
  const ema = state.ema;
  if (
    ema !== undefined &&
    !(ema?.decay > 0 && ema.decay < 1 && Number.isInteger(ema.updates) && ema.updates >= 0)
  ) {
    throw new ModelFileError(statePath, "ema is not {decay in (0, 1), updates ≥ 0}");
  }
  return state;
}

/**
 * Checks every piece of a checkpoint without loading it: `state.json`, both optimiser files against
 * their manifests, and both models' `model.json` and weights against theirs.
 * @throws {ModelFileError} naming the first broken file and what is wrong with it.
 */
export async function checkCheckpoint(info: CheckpointInfo): Promise<void> {
  const state = await readState(info);
  await readOptimizerState(info.dir, state.optimizers.discriminator);
  await readOptimizerState(info.dir, state.optimizers.generator);
  checkRole(info.generatorDir, await readModelArtifacts(info.generatorDir), "generator");
  if (state.ema) {
    checkRole(info.emaGeneratorDir, await readModelArtifacts(info.emaGeneratorDir), "generator");
  }
  checkRole(
    info.discriminatorDir,
    await readModelArtifacts(info.discriminatorDir),
    "discriminator",
  );
}

/** The prefix of each network's weight names (`g_dense/kernel`, `d_conv0/kernel`). */
const WEIGHT_PREFIX = { generator: "g_", discriminator: "d_" } as const;

/**
 * Refuses a model folder that holds the other network (a generator folder swapped for the
 * discriminator's), told by its weight names, or whose weights are not all finite numbers (a run
 * that diverged before this checkpoint: resuming from it could only diverge again).
 */
function checkRole(
  dir: string,
  artifacts: tf.io.ModelArtifacts,
  role: keyof typeof WEIGHT_PREFIX,
): void {
  const other = role === "generator" ? "discriminator" : "generator";
  const specs = artifacts.weightSpecs ?? [];
  const foreign = specs.find((s) => s.name.startsWith(WEIGHT_PREFIX[other]));
  if (foreign) {
    throw new ModelFileError(
      join(dir, "model.json"),
      `holds a ${other} (weight ${foreign.name}), not a ${role}: the folders were swapped`,
    );
  }
  const bad = firstNonFinite(specs, artifacts.weightData as ArrayBuffer);
  if (bad) {
    throw new ModelFileError(
      join(dir, "weights.bin"),
      `weight ${bad.name} holds ${bad.value} (not a finite number); ` +
        `the run diverged before this checkpoint`,
    );
  }
}

/** Bytes per value of the weight dtypes a Layers model stores. */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, bool: 1, uint8: 1 };

/** The first float32 weight that is NaN or ±Infinity, with its value, or null when all are finite. */
function firstNonFinite(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): { name: string; value: number } | null {
  let offset = 0;
  for (const spec of specs) {
    const bytes = spec.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[spec.dtype] ?? 4);
    if (spec.dtype === "float32") {
      const value = new Float32Array(data.slice(offset, offset + bytes)).find((x) =>
        !Number.isFinite(x)
      );
      if (value !== undefined) return { name: spec.name, value };
    }
    offset += bytes;
  }
  return null;
}

/**
 * Loads a checkpoint's generator, discriminator and `state.json`.
 * @throws {ModelFileError} naming the file when one is missing or malformed.
 */
export async function loadCheckpoint(info: CheckpointInfo): Promise<LoadedCheckpoint> {
  const state = await readState(info);
  const generator = await loadModel(info.generatorDir);
  const emaGenerator = state.ema ? await loadModel(info.emaGeneratorDir) : null;
  const discriminator = await loadModel(info.discriminatorDir);
  return { generator, emaGenerator, discriminator, state, dir: info.dir };
}

async function loadModel(dir: string): Promise<tf.LayersModel> {
  try {
    return await loadLayersModel(dir);
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(join(dir, "model.json"), `cannot load (${(e as Error).message})`);
  }
}

/** Restores both optimisers of `trainer` from a loaded checkpoint. */
export async function restoreOptimizers(trainer: Trainer, ckpt: LoadedCheckpoint): Promise<void> {
  await loadOptimizerState(trainer.dOptimizer, ckpt.dir, ckpt.state.optimizers.discriminator);
  await loadOptimizerState(trainer.gOptimizer, ckpt.dir, ckpt.state.optimizers.generator);
}
