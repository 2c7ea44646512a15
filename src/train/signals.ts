/** Signals that stop training gracefully. */
const STOP_SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

/**
 * Listens for Ctrl-C (SIGINT) and SIGTERM while installed: the first one is recorded so the loop can
 * finish its step, write a checkpoint and stop; a second one exits at once (code 130).
 */
export class StopRequest {
  /** The signal received, or null while training should go on. */
  signal: Deno.Signal | null = null;
  readonly #handlers = new Map<Deno.Signal, () => void>();

  /** Starts listening; `onFirst` is told when the first signal arrives. */
  install(onFirst: (signal: Deno.Signal) => void): void {
    for (const signal of STOP_SIGNALS) {
      const handler = () => {
        if (this.signal !== null) Deno.exit(130);
        this.signal = signal;
        onFirst(signal);
      };
      this.#handlers.set(signal, handler);
      Deno.addSignalListener(signal, handler);
    }
  }

  /** Stops listening (the default signal behaviour returns). */
  uninstall(): void {
    for (const [signal, handler] of this.#handlers) Deno.removeSignalListener(signal, handler);
    this.#handlers.clear();
  }
}
