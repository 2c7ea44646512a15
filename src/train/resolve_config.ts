import { dirname, join, resolve } from "node:path";
import { type CheckpointInfo, resolveCheckpoint } from "../checkpoint/mod.ts";
import { UsageError } from "../cli/mod.ts";
import { DEFAULT_CONFIG, RESUMABLE_OPTIONS, type TrainConfig } from "./config.ts";
import { RUN_FILES } from "./run_folder.ts";

/** A run to start or continue: its full configuration and, when resuming, the checkpoint to load. */
export interface RunPlan {
  config: TrainConfig;
  resumeFrom?: CheckpointInfo;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
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
 * the options that may change on resume.
 * @throws {UsageError} when `--out` already holds a run, the resumed run has no `config.json`, or an
 * option other than those in {@link RESUMABLE_OPTIONS} differs from the resumed run's.
 * @throws {import("../checkpoint/mod.ts").CheckpointNotFoundError} when `resume` holds no checkpoint.
 */
export async function planRun(options: Partial<TrainConfig>, resume?: string): Promise<RunPlan> {
  if (resume === undefined) {
    const config: TrainConfig = {
      ...DEFAULT_CONFIG,
      seed: randomSeed(),
      outDir: join("runs", timestampName()),
      ...options,
    };
    if (await exists(join(config.outDir, RUN_FILES.config))) {
      throw new UsageError(
        `--out ${config.outDir} already holds a run (config.json): continue it with --resume ${config.outDir} or choose another --out`,
      );
    }
    return { config };
  }
  const resumeFrom = await resolveCheckpoint(resume);
  const runDir = await exists(join(resume, RUN_FILES.config))
    ? resolve(resume)
    : dirname(dirname(resumeFrom.dir));
  const configPath = join(runDir, RUN_FILES.config);
  let saved: TrainConfig;
  try {
    saved = JSON.parse(await Deno.readTextFile(configPath));
  } catch (e) {
    throw new UsageError(
      `--resume ${resume}: cannot read the run's ${configPath} (${
        (e as Error).message.split("\n")[0]
      })`,
    );
  }
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
  return { config, resumeFrom };
}
