/**
 * Dynamic batching: rows of concurrent requests are put together into one model run, and each request gets back
 * exactly its own rows.
 *
 * A run starts as soon as the waiting rows reach `maxBatch`, or when the oldest waiting request has waited
 * `maxDelayMs`, or at once when no other request is on its way (`othersArriving`: nothing would join), and only
 * while no other run is going on (the model uses all cores for one run; requests that come in meanwhile wait and
 * go together into the next). Requests are taken in arrival order while they fit into
 * `maxBatch` rows. A request is never split: one larger than `maxBatch` runs alone, as one run (its size is bounded
 * by the server's `--max-request-rows`), so its rows are computed exactly as a local generator would.
 * `maxBatch` 1 turns batching off: every request runs alone, at once.
 * @module
 */
import { setImmediate } from "node:timers";

/** Runs the model: `rows` latent vectors in, `rows` outputs out (row-major). */
export type RunBatch = (latents: Float32Array, rows: number) => Promise<Float32Array>;

/** What the batcher reports, for metrics. */
export interface BatchObserver {
  /** A run started with `rows` rows from `requests` requests. */
  onBatch?(rows: number, requests: number): void;
  /** The number of requests waiting for a run changed. */
  onQueueDepth?(requests: number): void;
}

/** How the batcher puts requests together. */
export interface BatcherOptions {
  /** The most rows one run takes from several requests. */
  maxBatch: number;
  /** The longest a request waits for others before its run starts, in milliseconds. */
  maxDelayMs: number;
  /** Values per input row (the latent size). */
  inputSize: number;
  /** Values per output row (one image). */
  outputSize: number;
  /** Whether other requests are on their way (e.g. bodies being read); when not, a run starts without waiting. */
  othersArriving?: () => boolean;
}

interface Job {
  latents: Float32Array;
  rows: number;
  arrived: number;
  resolve(values: Float32Array): void;
  reject(error: unknown): void;
}

/** Coalesces concurrent {@link DynamicBatcher.run} calls into fewer runs of `runBatch`. */
export class DynamicBatcher {
  readonly #runBatch: RunBatch;
  readonly #options: BatcherOptions;
  readonly #observer: BatchObserver;
  readonly #queue: Job[] = [];
  #queuedRows = 0;
  #running = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(runBatch: RunBatch, options: BatcherOptions, observer: BatchObserver = {}) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
    if (!(options.maxDelayMs >= 0)) {
      throw new RangeError(`maxDelayMs must be ≥ 0, got ${options.maxDelayMs}`);
    }
    this.#runBatch = runBatch;
    this.#options = options;
    this.#observer = observer;
  }

  /** Requests waiting for a run (not counting those in the run going on). */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Runs `rows` latent vectors (`rows × inputSize` values), together with other requests where they fit. */
  run(latents: Float32Array, rows: number): Promise<Float32Array> {
    if (latents.length !== rows * this.#options.inputSize) {
      return Promise.reject(
        new RangeError(
          `${latents.length} values are not ${rows} rows of ${this.#options.inputSize}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ latents, rows, arrived: performance.now(), resolve, reject });
      this.#queuedRows += rows;
      this.#observer.onQueueDepth?.(this.#queue.length);
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#running || this.#queue.length === 0) return;
    const { maxBatch, maxDelayMs } = this.#options;
    const waited = performance.now() - this.#queue[0].arrived;
    const wait = maxBatch > 1 && this.#queuedRows < maxBatch && waited < maxDelayMs &&
      (this.#options.othersArriving?.() ?? true);
    if (wait) {
      this.#timer ??= setTimeout(() => {
        this.#timer = null;
        this.#pump();
      }, maxDelayMs - waited);
      return;
    }
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const jobs = [this.#queue.shift()!];
    let rows = jobs[0].rows;
    while (this.#queue.length > 0 && rows + this.#queue[0].rows <= maxBatch) {
      const job = this.#queue.shift()!;
      jobs.push(job);
      rows += job.rows;
    }
    this.#queuedRows -= rows;
    this.#observer.onQueueDepth?.(this.#queue.length);
    this.#running = true;
    this.#execute(jobs, rows).finally(() => {
      // onnxruntime-node's run holds the event loop: before the next run, let it send the answers just made and
      // read the requests that arrived meanwhile (they join the next batch).
      setImmediate(() => {
        this.#running = false;
        this.#pump();
      });
    });
  }

  async #execute(jobs: Job[], rows: number): Promise<void> {
    const { inputSize, outputSize } = this.#options;
    this.#observer.onBatch?.(rows, jobs.length);
    let latents = jobs[0].latents;
    if (jobs.length > 1) {
      latents = new Float32Array(rows * inputSize);
      let offset = 0;
      for (const job of jobs) {
        latents.set(job.latents, offset);
        offset += job.latents.length;
      }
    }
    let outputs: Float32Array;
    try {
      outputs = await this.#runBatch(latents, rows);
      if (outputs.length !== rows * outputSize) {
        throw new RangeError(`the model gave ${outputs.length} values for ${rows} rows`);
      }
    } catch (e) {
      for (const job of jobs) job.reject(e);
      return;
    }
    let row = 0;
    for (const job of jobs) {
      job.resolve(outputs.slice(row * outputSize, (row + job.rows) * outputSize));
      row += job.rows;
    }
  }
}
