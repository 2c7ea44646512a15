import { formatDuration } from "./format_duration.ts";

/** How a {@link ProgressBar} is drawn. */
export interface ProgressOptions {
  /** Shown before the bar (e.g. `sample`); none by default. */
  label?: string;
  /** Items in all; {@link ProgressBar.update} may change it. Default 1. */
  total?: number;
  /** Items already done when the bar starts (a resumed run): the rate counts only the new ones. */
  first?: number;
  /** Name of the items in the rate (`steps` → `2.50 steps/s`). Default `it`. */
  unit?: string;
  /** Where the bar goes: `stderr` (default) or `stdout` (when the caller's lines go there too). */
  stream?: "stdout" | "stderr";
  /** Draw it at all; default: whether `stream` is a terminal. */
  enabled?: boolean;
  /** Writes raw text (default: synchronously to `stream`). */
  write?: (text: string) => void;
  /** Milliseconds clock (default `performance.now`). */
  now?: () => number;
  /** Redraw at most this often, except for the last item and after a clear (default 200). */
  minIntervalMs?: number;
}

const WIDTH = 30;
const encoder = new TextEncoder();

/**
 * A one-line progress bar redrawn in place: `label ████░░░░ done/total 2.50 steps/s ETA 1:05 note`.
 * It draws nothing unless enabled (by default: only when its stream is a terminal). Call
 * {@link ProgressBar.clear} before printing other lines to the same terminal, or
 * {@link ProgressBar.done} to keep the last bar and end its line.
 */
export class ProgressBar {
  readonly #label: string;
  readonly #first: number;
  readonly #unit: string;
  readonly #enabled: boolean;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #minIntervalMs: number;
  readonly #started: number;
  #total: number;
  #lastDraw = -Infinity;
  #shown = false;

  /** A bar that starts counting time now. */
  constructor(options: ProgressOptions = {}) {
    const stream = options.stream === "stdout" ? Deno.stdout : Deno.stderr;
    this.#label = options.label ?? "";
    this.#total = options.total ?? 1;
    this.#first = options.first ?? 0;
    this.#unit = options.unit ?? "it";
    this.#enabled = options.enabled ?? stream.isTerminal();
    this.#write = options.write ?? ((text) => stream.writeSync(encoder.encode(text)));
    this.#now = options.now ?? (() => performance.now());
    this.#minIntervalMs = options.minIntervalMs ?? 200;
    this.#started = this.#now();
  }

  /** The bar's text for `done` items (without the terminal control codes). */
  render(done: number, note = ""): string {
    const seconds = (this.#now() - this.#started) / 1000;
    const rate = (done - this.#first) / seconds;
    const eta = (this.#total - done) / rate;
    const filled = Math.max(0, Math.min(WIDTH, Math.round((WIDTH * done) / this.#total)));
    const bar = "█".repeat(filled) + "░".repeat(WIDTH - filled);
    const rateText = Number.isFinite(rate) ? rate.toFixed(2) : "-";
    const parts = [
      this.#label,
      bar,
      `${done}/${this.#total}`,
      `${rateText} ${this.#unit}/s`,
      `ETA ${formatDuration(eta)}`,
      note,
    ];
    return parts.filter((p) => p !== "").join(" ");
  }

  /**
   * Redraws the bar for `done` items completed (`total` replaces the total, `note` is appended, e.g. a
   * loss). Skipped when the last draw is younger than `minIntervalMs`, unless this is the last item.
   */
  update(done: number, options: { total?: number; note?: string } = {}): void {
    if (options.total !== undefined) this.#total = options.total;
    if (!this.#enabled) return;
    const now = this.#now();
    if (this.#shown && done < this.#total && now - this.#lastDraw < this.#minIntervalMs) return;
    this.#lastDraw = now;
    this.#write(`\r\x1b[K${this.render(done, options.note)}`);
    this.#shown = true;
  }

  /** Erases the bar (it comes back on the next update). */
  clear(): void {
    if (this.#shown) this.#write("\r\x1b[K");
    this.#shown = false;
  }

  /** Keeps the bar as it is and ends its line (a later update starts a new one). */
  done(): void {
    if (this.#shown) this.#write("\n");
    this.#shown = false;
  }
}
