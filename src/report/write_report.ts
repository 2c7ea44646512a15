/** Writes a run folder's `report.html` and `samples/progress.gif`. */
import { join } from "node:path";
import { renderReport } from "./html.ts";
import { progressGif } from "./progress_gif.ts";
import { readRun } from "./run_data.ts";

/** Where {@link writeReport} wrote its files. */
export interface ReportFiles {
  html: string;
  /** `samples/progress.gif`, or null when the run has no samples yet. */
  gif: string | null;
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${Deno.pid}.tmp`;
  if (typeof data === "string") await Deno.writeTextFile(tmp, data);
  else await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/**
 * Regenerates `runDir/report.html` (self-contained: inline CSS, SVG charts, base64 images) and
 * `runDir/samples/progress.gif` from what the run folder holds now. Safe to call while training runs:
 * files are replaced atomically.
 * @throws {RunFolderError} when `runDir` is not a training run folder.
 */
export async function writeReport(runDir: string): Promise<ReportFiles> {
  const data = await readRun(runDir);
  const gif = await progressGif(data.samples);
  const gifPath = gif ? join(runDir, "samples", "progress.gif") : null;
  if (gif && gifPath) await writeAtomic(gifPath, gif);
  const samples = await Promise.all(
    data.samples.map(async (s) => ({ step: s.step, png: await Deno.readFile(s.path) })),
  );
  const html = join(runDir, "report.html");
  await writeAtomic(html, renderReport(data, { gif, samples }));
  return { html, gif: gifPath };
}
