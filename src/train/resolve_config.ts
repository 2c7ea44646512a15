import { dirname, join, resolve } from "node:path";
import {
  type CheckpointInfo,
  listCheckpoints,
  ModelFileError,
  resolveCheckpoint,
} from "../checkpoint/mod.ts";
import { UsageError } from "../cli/mod.ts";
import { INPUT_LIMITS, isTemporaryName, readTextFileBounded } from "../fsio/mod.ts";
import { LOCK_FILE } from "./run_lock.ts";
import { DEFAULT_CONFIG, PRESETS, RESUMABLE_OPTIONS, type TrainConfig } from "./config.ts";
import { RUN_FILES } from "../checkpoint/mod.ts";
import { checkCheckpoint } from "./run_folder.ts";

/** A checkpoint that failed {@link checkCheckpoint}, with the one-line problem. */
export interface BrokenCheckpoint {
  info: CheckpointInfo;
  problem: string;
}

/**
 * A run to start or continue, worked out without writing anything: its full configuration, the
 * checkpoint to load (none: start at step 0), and what `prepareRun` must move aside first.
 */
export interface RunPlan {
  config: TrainConfig;
  resumeFrom?: CheckpointInfo;
  /** Checkpoints newer than `resumeFrom` that failed their check (newest first). */
  broken: BrokenCheckpoint[];
  /** Good checkpoints newer than `resumeFrom` (a resume from an older checkpoint), oldest first. */
  newer: CheckpointInfo[];
  /** Set when the run is already at `config.steps`: the line to print; nothing may be written. */
  nothingToDo?: string;
  /** A notice to print before training (a run started again from step 0). */
  notice?: string;
}

async function kind(path: string): Promise<"file" | "folder" | null> {
  try {
    return (await Deno.stat(path)).isDirectory ? "folder" : "file";
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return await kind(path) !== null;
}

/**
 * Whether a new run may be written into `dir`: it is missing, empty, or holds only what a run start
 * that was killed before its `config.json` leaves (the lock, temporary files, an empty `samples/`).
 */
async function mayHoldNewRun(dir: string): Promise<boolean> {
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name === LOCK_FILE || isTemporaryName(entry.name)) continue;
      if (entry.name === RUN_FILES.samples && entry.isDirectory) {
        for await (const _ of Deno.readDir(join(dir, entry.name))) return false;
        continue;
      }
      return false;
    }
  } catch (e) {
    // Missing, or below a file: making the folder later says why it cannot be made.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return true;
    const reason = (e as Error).message.split(" (os error")[0];
    throw new UsageError(`--out ${dir}: cannot read the folder (${reason})`);
  }
  return true;
}

async function problemOf(info: CheckpointInfo): Promise<string | null> {
  try {
    await checkCheckpoint(info);
    return null;
  } catch (e) {
    if (e instanceof ModelFileError) return e.message;
    throw e;
  }
}

function timestampName(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/**
 * Completes the command-line options of a new run with the reference defaults (a random seed and
 * `runs/<UTC timestamp>` when not given), or, with `resume`, loads the run's `config.json` and applies
 * the options that may change on resume. A resume of a run folder takes its newest checkpoint that
 * passes {@link checkCheckpoint}; a run folder without one starts again from step 0. Writes nothing.
 * @throws {UsageError} when `--out` already holds a run with checkpoints, is a file, or is a folder
 * with files that is not a run (the user's own folder, `/`), the resumed run
 * has no readable `config.json`, or an option other than those in {@link RESUMABLE_OPTIONS} differs.
 * @throws {ModelFileError} when the checkpoint folder given to `resume` is broken.
 * @throws {import("../checkpoint/mod.ts").CheckpointNotFoundError} when `resume` holds no run.
 */
export async function planRun(options: Partial<TrainConfig>, resume?: string): Promise<RunPlan> {
  if (resume === undefined) {
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      ...PRESETS[options.preset ?? DEFAULT_CONFIG.preset],
      seed: randomSeed(),
      outDir: join("runs", timestampName()),
      ...options,
    };
    if (await kind(config.outDir) === "file") {
      throw new UsageError(`--out ${config.outDir} is a file; give a folder for the run`);
    }
    const hasRun = await exists(join(config.outDir, RUN_FILES.config));
    if (!hasRun && !(await mayHoldNewRun(config.outDir))) {
      throw new UsageError(
        `--out ${config.outDir} is a folder with files that is not a run (no ${RUN_FILES.config}); ` +
          `refusing to write a run into it: choose a new or empty folder`,
      );
    }
    if (hasRun && (await listCheckpoints(config.outDir)).length > 0) {
      throw new UsageError(
        `--out ${config.outDir} already holds a run (config.json): continue it with --resume ${config.outDir} or choose another --out`,
      );
    }
    const notice = hasRun
      ? `${config.outDir} holds a run that never reached a checkpoint; starting it again`
      : undefined;
    return { config, broken: [], newer: [], notice };
  }
  const isRun = await exists(join(resume, RUN_FILES.config));
  const broken: BrokenCheckpoint[] = [];
  let resumeFrom: CheckpointInfo | undefined;
  let all: CheckpointInfo[] = [];
  let runDir: string;
  if (isRun) {
    runDir = resolve(resume);
    all = await listCheckpoints(runDir);
    for (const info of [...all].reverse()) {
      const problem = await problemOf(info);
      if (problem === null) {
        resumeFrom = info;
        break;
      }
      broken.push({ info, problem });
    }
  } else {
    resumeFrom = await resolveCheckpoint(resume);
    runDir = dirname(dirname(resumeFrom.dir));
    const problem = await problemOf(resumeFrom);
    if (problem !== null) throw new ModelFileError(resumeFrom.dir, problem);
    all = await listCheckpoints(runDir);
  }
  const configPath = join(runDir, RUN_FILES.config);
  let saved: TrainConfig;
  try {
    saved = JSON.parse(
      await readTextFileBounded(configPath, INPUT_LIMITS.runFile, "a config.json"),
    );
  } catch (e) {
    throw new UsageError(
      `--resume ${resume}: cannot read the run's ${configPath} (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
  // Options left to their default are stored as null; they are absent from a TrainConfig.
  saved = Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== null)) as TrainConfig;
  const resumable: readonly string[] = RESUMABLE_OPTIONS;
  for (const [key, value] of Object.entries(options) as [keyof TrainConfig, unknown][]) {
    if (resumable.includes(key)) continue;
    if (JSON.stringify(value) !== JSON.stringify(saved[key])) {
      throw new UsageError(
        `--resume: ${key} ${JSON.stringify(value)} differs from the run's ${
          JSON.stringify(saved[key])
        }; a resumed run keeps its training settings (start a new run with --out to change them)`,
      );
    }
  }
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...saved, ...options, outDir: runDir };
  const from = resumeFrom?.step ?? 0;
  const brokenDirs = new Set(broken.map((b) => b.info.dir));
  const newer = all.filter((c) => c.step > from && !brokenDirs.has(c.dir));
  const plan: RunPlan = { config, resumeFrom, broken, newer };
  if (resumeFrom && from >= config.steps) {
    plan.nothingToDo = `Nothing to do: ${resumeFrom.dir} is at step ${from}; pass a larger ` +
      `--steps to continue (nothing was changed).`;
  }
  if (!resumeFrom) {
    plan.notice = `${runDir} holds no ${broken.length ? "good " : ""}checkpoint; ` +
      `starting it again from step 0`;
  }
  return plan;
}
