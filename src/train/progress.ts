const encoder = new TextEncoder();

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * A one-line progress bar (steps done, steps/s, ETA) redrawn in place on stdout when it is a terminal;
 * it does nothing otherwise. Call {@link ProgressBar.clear} before printing other lines.
 */
export class ProgressBar {
  readonly #enabled: boolean;
  readonly #first: number;
  readonly #total: number;
  readonly #started = performance.now();
  #shown = false;

  /** A bar for steps `first` (already done) to `total`. */
  constructor(first: number, total: number, enabled = Deno.stdout.isTerminal()) {
    this.#first = first;
    this.#total = total;
    this.#enabled = enabled;
  }

  /** Redraws the bar for `done` steps completed. */
  update(done: number): void {
    if (!this.#enabled) return;
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = (done - this.#first) / seconds;
    const eta = (this.#total - done) / rate;
    const width = 30;
    const filled = Math.round((width * done) / this.#total);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const line = `${bar} ${done}/${this.#total} ${rate.toFixed(2)} steps/s ETA ${
      formatDuration(eta)
    }`;
    Deno.stdout.writeSync(encoder.encode(`\r\x1b[K${line}`));
    this.#shown = true;
  }

  /** Erases the bar (it comes back on the next update). */
  clear(): void {
    if (this.#shown) Deno.stdout.writeSync(encoder.encode("\r\x1b[K"));
    this.#shown = false;
  }
}
