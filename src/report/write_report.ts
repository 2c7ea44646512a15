/** Writes a run folder's `report.html` and `samples/progress.gif`. */
import { join } from "node:path";
import { RUN_FILES } from "../checkpoint/mod.ts";
import {
  INPUT_LIMITS,
  InputTooLargeError,
  readFileBounded,
  writeFileAtomic,
  writeTextFileAtomic,
} from "../fsio/mod.ts";
import { renderReport } from "./html.ts";
import { progressGif } from "./progress_gif.ts";
import { readRun, RunFolderError } from "./run_data.ts";

/** Where {@link writeReport} wrote its files. */
export interface ReportFiles {
  html: string;
  /** `samples/progress.gif`, or null when the run has no samples yet. */
  gif: string | null;
}

/**
 * Regenerates `runDir/report.html` (self-contained: inline CSS, SVG charts, base64 images) and
 * `runDir/samples/progress.gif` from what the run folder holds now. Safe to call while training runs:
 * files are replaced atomically.
 * @throws {RunFolderError} when `runDir` is not a training run folder or a sample grid is not a PNG.
 * @throws {import("../fsio/mod.ts").FileWriteError} when a file cannot be written.
 */
export async function writeReport(runDir: string): Promise<ReportFiles> {
  const data = await readRun(runDir);
  const gif = await progressGif(data.samples);
  const gifPath = gif ? join(runDir, RUN_FILES.samples, RUN_FILES.progressGif) : null;
  if (gif && gifPath) writeFileAtomic(gifPath, gif);
  const samples = await Promise.all(
    data.samples.map(async (s) => ({ step: s.step, png: await readSampleGrid(s.path) })),
  );
  const emaPath = data.samples[data.samples.length - 1]?.emaPath;
  const newestEma = emaPath ? await readSampleGrid(emaPath) : null;
  const html = join(runDir, RUN_FILES.report);
  writeTextFileAtomic(html, renderReport(data, { gif, samples, newestEma }));
  return { html, gif: gifPath };
}

/** A sample grid's PNG bytes, read with the run-file bound. */
async function readSampleGrid(path: string): Promise<Uint8Array> {
  try {
    return await readFileBounded(path, INPUT_LIMITS.runFile, "a sample grid");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new RunFolderError(path, e.problem);
    throw e;
  }
}
