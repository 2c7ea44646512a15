import type { ProgressBar } from "./progress.ts";

/** Prints lines to stdout (above the progress bar) and appends them to the run's `log.txt`. */
export class RunLog {
  readonly #file: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  progress: ProgressBar | null = null;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Opens `path` for appending (creating it). */
  static async open(path: string): Promise<RunLog> {
    return new RunLog(await Deno.open(path, { append: true, create: true }));
  }

  /** Writes one line to stdout and to the log file. */
  line(text: string): void {
    this.progress?.clear();
    console.log(text);
    this.#file.writeSync(this.#encoder.encode(text + "\n"));
  }

  /** Closes the log file. */
  close(): void {
    this.#file.close();
  }
}

/** The reference notebook's log line: `%5d [D loss: %.3f, acc.: %.2f%%] [G loss: %.3f]`. */
export function formatLogLine(step: number, dLoss: number, dAccPercent: number, gLoss: number) {
  return `${String(step).padStart(5)} [D loss: ${dLoss.toFixed(3)}, acc.: ${
    dAccPercent.toFixed(2)
  }%] [G loss: ${gLoss.toFixed(3)}]`;
}
