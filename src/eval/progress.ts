/** A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal. */

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) {
    return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, "0")}m`;
  }
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** Draws `label [####----] done/total ETA` over itself; silent when stderr is not a TTY. */
export class ProgressBar {
  private readonly start = performance.now();
  private readonly enabled = Deno.stderr.isTerminal();
  private last = 0;

  constructor(private readonly label: string) {}

  /** Updates the bar (at most every 200 ms, always on the last item); `note` is appended (e.g. a loss). */
  update(done: number, total: number, note = ""): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.last < 200 && done < total) return;
    this.last = now;
    const width = 24;
    const filled = Math.round((done / total) * width);
    const elapsed = (now - this.start) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const line = `${this.label} [${bar}] ${done}/${total} ETA ${formatDuration(eta)} ${note}`;
    Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}\x1b[K`));
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.enabled) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  }
}
