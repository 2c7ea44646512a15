import type { ProgressBar } from "../cli/mod.ts";
import { FileWriteError, systemReason } from "../fsio/mod.ts";

/** Prints lines to stdout (above the progress bar) and appends them to the run's `log.txt`. */
export class RunLog {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  progress: ProgressBar | null = null;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Opens `path` for appending (creating it).
   * @throws {FileWriteError} naming the file when it cannot be opened.
   */
  static async open(path: string): Promise<RunLog> {
    try {
      return new RunLog(await Deno.open(path, { append: true, create: true }));
    } catch (e) {
      throw new FileWriteError(path, `cannot open the log (${systemReason(e)})`, { cause: e });
    }
  }

  /** Writes one line to stdout and to the log file (a log that cannot grow, on a full disk, is skipped). */
  line(text: string): void {
    this.progress?.clear();
    console.log(text);
    try {
      this.#file.writeSync(this.#encoder.encode(text + "\n"));
    } catch {
      // The line is on stdout; the error that filled the disk is reported where it happened.
    }
  }

  /** Closes the log file. */
  close(): void {
    this.#file.close();
  }
}

/**
 * Formats like C/Python `%.Nf`: exact binary ties round half to even (`53.125` → `53.12`), where
 * JavaScript's `toFixed` rounds them up.
 */
export function printfFixed(x: number, digits: number): string {
  // toFixed(100) is the exact decimal value of the double (for |x| ≥ 1e-21, which holds here).
  const exact = Math.abs(x).toFixed(100);
  const cut = exact.indexOf(".") + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return x.toFixed(digits);
  const kept = exact.slice(0, cut);
  const even = Number(kept.at(-1)) % 2 === 0;
  const rounded = even ? Number(kept) : Number(kept) + 10 ** -digits;
  return (x < 0 ? "-" : "") + rounded.toFixed(digits);
}

/** The reference notebook's log line: `%5d [D loss: %.3f, acc.: %.2f%%] [G loss: %.3f]`. */
export function formatLogLine(
  step: number,
  dLoss: number,
  dAccPercent: number,
  gLoss: number,
): string {
  return `${String(step).padStart(5)} [D loss: ${printfFixed(dLoss, 3)}, acc.: ${
    printfFixed(dAccPercent, 2)
  }%] [G loss: ${printfFixed(gLoss, 3)}]`;
}
