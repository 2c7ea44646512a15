/** Reads what a training run folder holds, for the report. */
import { basename, join } from "node:path";
import { listCheckpoints, RUN_FILES } from "../checkpoint/mod.ts";
import { type NumericTable, parseNumericCsv } from "./csv.ts";

/** One saved sample grid of the fixed latents. */
export interface SampleFile {
  step: number;
  path: string;
}

/** The contents of a run folder that the report shows. */
export interface RunData {
  dir: string;
  name: string;
  /** `config.json`, or null when missing or unreadable. */
  config: Record<string, unknown> | null;
  /** `history.csv` (step, d_loss, d_acc, g_loss, seconds, …). */
  history: NumericTable;
  /** `eval.csv`, empty when the run was not evaluated. */
  evals: NumericTable;
  /** `samples/step-NNNNN.png`, by step. */
  samples: SampleFile[];
  /** Steps of the complete checkpoints. */
  checkpointSteps: number[];
  /** The last lines of `log.txt`. */
  logTail: string[];
  /** The TF.js backend named by the newest `Backend: NAME` line of `log.txt`, or null. */
  backend: string | null;
}

/** Raised when the folder given is not a run folder; the message names it and says what is expected. */
export class RunFolderError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "RunFolderError";
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

async function sampleFiles(dir: string): Promise<SampleFile[]> {
  const found: SampleFile[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = /^step-(\d+)\.png$/.exec(entry.name);
      if (m && entry.isFile) found.push({ step: Number(m[1]), path: join(dir, entry.name) });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found.sort((a, b) => a.step - b.step);
}

/**
 * Reads a run folder written by `deno task train`. Missing parts (a run that has just started) read as empty.
 * @throws {RunFolderError} when the folder does not exist or holds neither `config.json` nor `history.csv`.
 */
export async function readRun(dir: string): Promise<RunData> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new RunFolderError(dir, "is not a folder");
  } catch (e) {
    if (e instanceof RunFolderError) throw e;
    throw new RunFolderError(dir, "no such folder (expected a run folder such as runs/NAME)");
  }
  const configText = await readText(join(dir, RUN_FILES.config));
  const historyText = await readText(join(dir, RUN_FILES.history));
  if (configText === null && historyText === null) {
    throw new RunFolderError(
      dir,
      "holds neither config.json nor history.csv (not a training run folder)",
    );
  }
  let config: Record<string, unknown> | null = null;
  try {
    config = configText === null ? null : JSON.parse(configText);
  } catch {
    config = null;
  }
  const log = await readText(join(dir, RUN_FILES.log));
  return {
    dir,
    name: basename(dir),
    config,
    history: parseNumericCsv(historyText ?? ""),
    evals: parseNumericCsv((await readText(join(dir, RUN_FILES.eval))) ?? ""),
    samples: await sampleFiles(join(dir, RUN_FILES.samples)),
    checkpointSteps: (await listCheckpoints(dir)).map((c) => c.step),
    logTail: log === null ? [] : log.trimEnd().split("\n").slice(-15),
    backend: [...(log ?? "").matchAll(/^\s*backend:\s*(\w+)/gim)].pop()?.[1] ?? null,
  };
}
