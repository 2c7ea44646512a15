/**
 * An output never lands on one of the command's inputs: `sample --model X --out X` or an export into
 * its own checkpoint folder is refused before anything is computed.
 * @module
 */
import { basename, dirname, join, sep } from "node:path";
import { FileWriteError, followLinks } from "./atomic.ts";

/** The real path of `path` (symlinks resolved), or null when it does not exist. */
function realPathOrNull(path: string): string | null {
  try {
    return Deno.realPathSync(path);
  } catch {
    return null;
  }
}

/** Where a write to `output` lands, as a real path (its folder's symlinks resolved too). */
function landingPath(output: string): string {
  const target = followLinks(output);
  const folder = realPathOrNull(dirname(target)) ?? dirname(target);
  return join(folder, basename(target));
}

/**
 * Refuses `output` when a write to it would land on one of `inputs` (by their option name, e.g.
 * `{ "--model": "g.onnx" }`) or inside an input that is a folder. Inputs that do not exist on disk (a
 * URL, a shipped default not yet resolved) are skipped.
 * @throws {FileWriteError} one line naming the output and the input it would overwrite.
 */
export function refuseOutputOverInput(output: string, inputs: Record<string, string>): void {
  const lands = landingPath(output);
  for (const [option, input] of Object.entries(inputs)) {
    const real = realPathOrNull(input);
    if (real === null) continue;
    if (lands === real || lands.startsWith(real.endsWith(sep) ? real : real + sep)) {
      const where = lands === real ? "is" : "is inside";
      throw new FileWriteError(
        output,
        `${where} the input ${input} (${option}); refusing to overwrite an input: choose another output`,
      );
    }
  }
}
