/**
 * Puts a run folder in order before training writes to it (under the run lock): leftover temporary
 * checkpoints are removed, broken checkpoints and everything newer than the checkpoint a resume starts
 * from are moved to `RUN/abandoned-<step>-<time>/` (nothing is deleted), and missing sample latents are
 * rewritten from the configuration.
 */
import { join } from "node:path";
import { CHECKPOINTS_DIR } from "../checkpoint/mod.ts";
import { makeFolder, removeStaleTemporaries, writeTextFileAtomic } from "../fsio/mod.ts";
import { latentsForSeed } from "../random/mod.ts";
import { SAMPLE_COUNT } from "./config.ts";
import { historyText, readHistoryRows } from "./history.ts";
import type { RunPlan } from "./resolve_config.ts";
import { RUN_FILES } from "../checkpoint/mod.ts";
import { readLatents, writeLatents } from "./run_folder.ts";

const TMP_CHECKPOINT = /^\.tmp-step-\d+$/;
const SAMPLE_PNG = /^step-(\d+)\.png$/;

function timeTag(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** Removes `checkpoints/.tmp-step-*` left by a process that died while writing a checkpoint. */
async function removeTemporaryCheckpoints(runDir: string, print: (l: string) => void) {
  const root = join(runDir, CHECKPOINTS_DIR);
  for (const name of (await names(root)).filter((n) => TMP_CHECKPOINT.test(n))) {
    await Deno.remove(join(root, name), { recursive: true });
    print(`Removed ${join(root, name)}, a checkpoint whose writing was cut short`);
  }
}

/** Moves the rows of a step-keyed CSV with `step >= minStep` into the same file under `toDir`. */
async function moveRows(file: string, toDir: string, minStep: number): Promise<number> {
  const all = await readHistoryRows(file);
  const moved = all.rows.filter((r) => r.step >= minStep);
  if (moved.length === 0) return 0;
  const name = file.slice(file.lastIndexOf("/") + 1);
  makeFolder(toDir);
  writeTextFileAtomic(join(toDir, name), historyText({ ...all, rows: moved }, all.columns));
  const kept = { ...all, rows: all.rows.filter((r) => r.step < minStep) };
  writeTextFileAtomic(file, historyText(kept, all.columns));
  return moved.length;
}

/** What {@link prepareRun} needs besides the plan. */
export interface PrepareOptions {
  /** Where notices go (default `console.log`). */
  print?: (line: string) => void;
  /** Run-folder CSV files whose first column counts completed steps (e.g. `eval.csv`). */
  completedStepFiles?: string[];
}

/**
 * Prepares `plan`'s run folder for training: see the module notes. Call it holding the run lock.
 * @throws {import("../fsio/mod.ts").FileWriteError} when the folder cannot be written.
 */
export async function prepareRun(plan: RunPlan, options: PrepareOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => console.log(line));
  const runDir = plan.config.outDir;
  await removeTemporaryCheckpoints(runDir, print);
  for (const dir of [runDir, join(runDir, RUN_FILES.samples)]) {
    for (const path of removeStaleTemporaries(dir)) print(`Removed ${path}, a write cut short`);
  }
  const from = plan.resumeFrom?.step ?? 0;
  const abandoned = join(runDir, `abandoned-${from}-${timeTag()}`);
  const moveAside = async (dir: string) => {
    makeFolder(join(abandoned, CHECKPOINTS_DIR));
    await Deno.rename(dir, join(abandoned, CHECKPOINTS_DIR, dir.slice(dir.lastIndexOf("/") + 1)));
  };
  const later = [...plan.newer, ...plan.broken.map((b) => b.info)];
  // Rows are copied aside before the checkpoints move: a kill in between loses no row.
  const rows = later.length ? await moveRows(join(runDir, RUN_FILES.history), abandoned, from) : 0;
  for (const name of later.length ? options.completedStepFiles ?? [] : []) {
    await moveRows(join(runDir, name), abandoned, from + 1);
  }
  for (const broken of plan.broken) {
    await moveAside(broken.info.dir);
    print(`${broken.problem}; checkpoint set aside in ${abandoned}`);
  }
  if (later.length > 0) {
    for (const info of plan.newer) await moveAside(info.dir);
    const samples = join(runDir, RUN_FILES.samples);
    for (const name of await names(samples)) {
      const m = SAMPLE_PNG.exec(name);
      if (!m || Number(m[1]) <= from) continue;
      makeFolder(join(abandoned, RUN_FILES.samples));
      await Deno.rename(join(samples, name), join(abandoned, RUN_FILES.samples, name));
    }
    print(
      `Resuming from step ${from}: moved the ${later.length} newer checkpoint(s) (up to step ` +
        `${Math.max(...later.map((c) => c.step))}) and ${rows} history row(s) to ${abandoned}`,
    );
  }
  if (plan.resumeFrom) {
    try {
      await readLatents(runDir, plan.config.latentDim);
    } catch (e) {
      print(`${(e as Error).message}; rewriting it from the run's sample seed`);
      const { sampleSeed, latentDim } = plan.config;
      writeLatents(plan.config, latentsForSeed(sampleSeed, SAMPLE_COUNT, latentDim));
    }
  }
}
