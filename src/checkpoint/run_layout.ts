import { basename, join, resolve } from "node:path";
import { INPUT_LIMITS, readTextFileBounded } from "../fsio/mod.ts";

/** Name of the folder under a run folder that holds the checkpoints. */
export const CHECKPOINTS_DIR = "checkpoints";

/** The files of a run folder besides its checkpoints: what training, evaluation and the report write. */
export const RUN_FILES = {
  config: "config.json",
  history: "history.csv",
  log: "log.txt",
  latents: "latents.json",
  samples: "samples",
  /** Evaluations over training: one row per evaluated step. */
  eval: "eval.csv",
  report: "report.html",
  /** Under `samples`: the fixed-latent grids across training as one animation. */
  progressGif: "progress.gif",
} as const;
/** Name of the JSON file in a checkpoint folder with the step, RNG state and optimiser state files. */
export const STATE_JSON = "state.json";
/** Sub-folder of a checkpoint holding the generator (TF.js Layers format). */
export const GENERATOR_DIR = "generator";
/** Sub-folder of a checkpoint holding the EMA of the generator's weights, when the run keeps one. */
export const GENERATOR_EMA_DIR = "generator_ema";
/** Sub-folder of a checkpoint holding the discriminator (TF.js Layers format). */
export const DISCRIMINATOR_DIR = "discriminator";

const STEP_DIR = /^step-(\d+)$/;

/** Where one checkpoint lives and which step it holds. */
export interface CheckpointInfo {
  /** The checkpoint folder (`…/checkpoints/step-NNNNN`). */
  dir: string;
  /** The training step the checkpoint was written after. */
  step: number;
  /** Folder of the generator (`model.json` + `weights.bin`). */
  generatorDir: string;
  /** Folder of the EMA generator; it exists only in runs that keep one (`--ema`). */
  emaGeneratorDir: string;
  /** Folder of the discriminator (`model.json` + `weights.bin`). */
  discriminatorDir: string;
}

/** A run or checkpoint folder that is missing or holds no checkpoint; the message names the folder. */
export class CheckpointNotFoundError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "CheckpointNotFoundError";
  }
}

/** The folder name of the checkpoint written after `step`: `step-NNNNN` (5-digit zero-padded). */
export function checkpointDirName(step: number): string {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`bad step ${step}`);
  return `step-${String(step).padStart(5, "0")}`;
}

function infoFor(dir: string, step: number): CheckpointInfo {
  return {
    dir,
    step,
    generatorDir: join(dir, GENERATOR_DIR),
    emaGeneratorDir: join(dir, GENERATOR_EMA_DIR),
    discriminatorDir: join(dir, DISCRIMINATOR_DIR),
  };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Lists the complete checkpoints of a run folder, sorted by step (oldest first). Temporary folders of a
 * checkpoint being written (`.tmp-step-…`) are skipped. A run without a `checkpoints/` folder has none.
 * @throws {CheckpointNotFoundError} when `checkpoints` is there but is no readable folder (a file, a
 * symlink loop).
 */
export async function listCheckpoints(runDir: string): Promise<CheckpointInfo[]> {
  const root = join(runDir, CHECKPOINTS_DIR);
  const found: CheckpointInfo[] = [];
  try {
    if (!(await Deno.stat(root)).isDirectory) {
      throw new CheckpointNotFoundError(root, "is not a folder; move it away to train this run");
    }
    for await (const entry of Deno.readDir(root)) {
      const m = STEP_DIR.exec(entry.name);
      if (m && entry.isDirectory) found.push(infoFor(join(root, entry.name), Number(m[1])));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof CheckpointNotFoundError) throw e;
    const reason = (e as Error).message.split(" (os error")[0];
    throw new CheckpointNotFoundError(root, `cannot be read as a folder (${reason})`);
  }
  return found.sort((a, b) => a.step - b.step);
}

/** Which generator of a checkpoint: the trained weights, or their exponential moving average. */
export type GeneratorWeights = "raw" | "ema";

/** The two generator variants a checkpoint may hold. */
export const GENERATOR_WEIGHTS: readonly GeneratorWeights[] = ["raw", "ema"];

/** Whether the checkpoint holds an EMA generator. */
export async function hasEmaGenerator(info: CheckpointInfo): Promise<boolean> {
  return await isDirectory(info.emaGeneratorDir);
}

/**
 * The generator folder of `weights` in a checkpoint; absent `weights` picks `ema` when the checkpoint
 * holds one, else `raw`.
 * @throws {CheckpointNotFoundError} when `ema` is asked for and the checkpoint holds none.
 */
export async function generatorDirOf(
  info: CheckpointInfo,
  weights?: GeneratorWeights,
): Promise<{ dir: string; weights: GeneratorWeights }> {
  const hasEma = await hasEmaGenerator(info);
  const chosen = weights ?? (hasEma ? "ema" : "raw");
  if (chosen === "ema" && !hasEma) {
    throw new CheckpointNotFoundError(
      info.dir,
      `holds no EMA generator (${GENERATOR_EMA_DIR}/): the run was trained with --ema 0 or before EMA existed; use --weights raw`,
    );
  }
  return { dir: chosen === "ema" ? info.emaGeneratorDir : info.generatorDir, weights: chosen };
}

/** The newest checkpoint of a run folder, or null when it has none. */
export async function latestCheckpoint(runDir: string): Promise<CheckpointInfo | null> {
  const all = await listCheckpoints(runDir);
  return all.length ? all[all.length - 1] : null;
}

/**
 * Resolves a path given by a user to one checkpoint: a run folder (→ its newest checkpoint) or a checkpoint
 * folder itself (`…/checkpoints/step-NNNNN`, or any folder holding `generator/` and `discriminator/`).
 * @throws {CheckpointNotFoundError} when the folder is missing or holds no checkpoint.
 */
export async function resolveCheckpoint(path: string): Promise<CheckpointInfo> {
  const dir = resolve(path);
  if (!await isDirectory(dir)) {
    throw new CheckpointNotFoundError(path, "no such folder (expected a run or checkpoint folder)");
  }
  if (
    await isDirectory(join(dir, GENERATOR_DIR)) && await isDirectory(join(dir, DISCRIMINATOR_DIR))
  ) {
    return infoFor(dir, await stepOf(dir));
  }
  const latest = await latestCheckpoint(dir);
  if (!latest) {
    throw new CheckpointNotFoundError(
      path,
      `holds no checkpoint (no ${CHECKPOINTS_DIR}/step-NNNNN/ folder with generator/ and discriminator/)`,
    );
  }
  return latest;
}

/**
 * The step of a checkpoint folder: its name (`step-NNNNN`) when it has one, which its `state.json` must
 * then agree with (checked when it is loaded); else what `state.json` says, else 0.
 */
async function stepOf(dir: string): Promise<number> {
  const m = STEP_DIR.exec(basename(dir));
  if (m) return Number(m[1]);
  try {
    const path = join(dir, STATE_JSON);
    const state = JSON.parse(await readTextFileBounded(path, INPUT_LIMITS.runFile, "a state.json"));
    if (Number.isSafeInteger(state.step) && state.step >= 0) return state.step;
  } catch {
    // No readable state: step 0 below.
  }
  return 0;
}
