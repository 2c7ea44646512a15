/** Reads what a training run folder holds, for the report. */
import { basename, join } from "node:path";
import { listCheckpoints, RUN_FILES } from "../checkpoint/mod.ts";
import { type BestEvaluation, bestEvaluation } from "../eval/mod.ts";
import { INPUT_LIMITS, InputTooLargeError, readTextFileBounded } from "../fsio/mod.ts";
import { type NumericTable, parseNumericCsv } from "./csv.ts";

/** The sample grids of the fixed latents saved after one step. */
export interface SampleFile {
  step: number;
  /** `samples/step-NNNNN.png`, the raw generator's grid. */
  path: string;
  /** `samples/step-NNNNN-ema.png`, the EMA generator's grid, when the run keeps one. */
  emaPath: string | null;
}

/** One training session as its closing line in `log.txt` sums it up. */
export interface LogSession {
  /** Steps completed when it started and when it ended. */
  from: number;
  to: number;
  /** Wall seconds of its training loop (every step, evaluation, sample grid and checkpoint). */
  seconds: number;
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
  /** The sample grids, by step. */
  samples: SampleFile[];
  /** The sessions closed in `log.txt` (`Done: …` or `Stopped by SIGNAL: …`), oldest first. */
  sessions: LogSession[];
  /** The evaluated generator with the lowest MNIST-FID (what `deno task export --best` exports). */
  best: BestEvaluation | null;
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
    return await readTextFileBounded(path, INPUT_LIMITS.runFile, "a run file");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new RunFolderError(path, e.problem);
    return null;
  }
}

async function sampleFiles(dir: string): Promise<SampleFile[]> {
  const raw = new Map<number, string>();
  const ema = new Map<number, string>();
  try {
    for await (const entry of Deno.readDir(dir)) {
      const m = /^step-(\d+)(-ema)?\.png$/.exec(entry.name);
      if (m && entry.isFile) (m[2] ? ema : raw).set(Number(m[1]), join(dir, entry.name));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return [...raw].map(([step, path]) => ({ step, path, emaPath: ema.get(step) ?? null }))
    .sort((a, b) => a.step - b.step);
}

/**
 * The closing line of each session in `log.txt`, as the training loop writes it:
 * `Done: steps 0→6 (6) in 5.7 s, …` or `Stopped by SIGTERM: steps 6→9 (3) in 2.0 s, …`.
 */
function logSessions(log: string): LogSession[] {
  const closing = /^(?:Done|Stopped by \w+): steps (\d+)→(\d+) \(\d+\) in ([\d.]+) s\b/gm;
  return [...log.matchAll(closing)].map((m) => ({
    from: Number(m[1]),
    to: Number(m[2]),
    seconds: Number(m[3]),
  }));
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
    sessions: logSessions(log ?? ""),
    best: await bestEvaluation(dir),
    checkpointSteps: (await listCheckpoints(dir)).map((c) => c.step),
    logTail: log === null ? [] : log.trimEnd().split("\n").slice(-15),
    backend: [...(log ?? "").matchAll(/^\s*backend:\s*(\w+)/gim)].pop()?.[1] ?? null,
  };
}
