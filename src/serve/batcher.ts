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
 *
 * The queue is bounded (`maxQueueRows`: a request that would pass it is refused with {@link QueueFullError}), and
 * a request whose `AbortSignal` fires leaves it at once; when every request of the run going on has been aborted,
 * the run's own signal fires so that the model can stop too.
 * @module
 */
import { setImmediate } from "node:timers";

/**
 * Runs the model: `rows` latent vectors in, `rows` outputs out (row-major). `signal` fires when no request of the
 * run is waiting for it any more.
 */
export type RunBatch = (
  latents: Float32Array,
  rows: number,
  signal: AbortSignal,
) => Promise<Float32Array>;

/** A request refused because the queue holds `maxQueueRows` rows already. */
export class QueueFullError extends Error {
  constructor(maxQueueRows: number) {
    super(`the server's queue is full (${maxQueueRows} rows waiting); retry shortly`);
    this.name = "QueueFullError";
  }
}

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
  /** The most rows waiting for a run (default: no bound). */
  maxQueueRows?: number;
}

interface Job {
  latents: Float32Array;
  rows: number;
  arrived: number;
  /** True once the request was answered (with values, an error or its abort). */
  settled: boolean;
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
  /** The requests of the run going on, and the signal it was given. */
  #batch: { jobs: Job[]; controller: AbortController } | null = null;
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

  /**
   * Runs `rows` latent vectors (`rows × inputSize` values), together with other requests where they fit. When
   * `signal` fires, the request leaves the queue (or its run) and the promise rejects with the signal's reason.
   * @throws {QueueFullError} when the queue cannot take `rows` more rows.
   */
  run(latents: Float32Array, rows: number, signal?: AbortSignal): Promise<Float32Array> {
    if (latents.length !== rows * this.#options.inputSize) {
      return Promise.reject(
        new RangeError(
          `${latents.length} values are not ${rows} rows of ${this.#options.inputSize}`,
        ),
      );
    }
    const { maxQueueRows = Infinity } = this.#options;
    if (this.#queue.length > 0 && this.#queuedRows + rows > maxQueueRows) {
      return Promise.reject(new QueueFullError(maxQueueRows));
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const job: Job = {
        latents,
        rows,
        arrived: performance.now(),
        settled: false,
        resolve: (values) => {
          signal?.removeEventListener("abort", onAbort);
          job.settled = true;
          resolve(values);
        },
        reject: (error) => {
          signal?.removeEventListener("abort", onAbort);
          job.settled = true;
          reject(error);
        },
      };
      const onAbort = () => {
        const waiting = this.#queue.indexOf(job);
        if (waiting >= 0) {
          this.#queue.splice(waiting, 1);
          this.#queuedRows -= rows;
          this.#observer.onQueueDepth?.(this.#queue.length);
        }
        job.reject(signal!.reason);
        this.#abortIfUnwanted();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(job);
      this.#queuedRows += rows;
      this.#observer.onQueueDepth?.(this.#queue.length);
      this.#pump();
    });
  }

  /** Fires the running batch's signal once none of its requests is waiting for it. */
  #abortIfUnwanted(): void {
    const batch = this.#batch;
    if (batch && batch.jobs.every((job) => job.settled)) batch.controller.abort();
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
    this.#batch = { jobs, controller: new AbortController() };
    this.#execute(jobs, rows, this.#batch.controller.signal).finally(() => {
      this.#batch = null;
      // Before the next run, let the loop send the answers just made and read the requests that arrived
      // meanwhile (they join the next batch).
      setImmediate(() => {
        this.#running = false;
        this.#pump();
      });
    });
  }

  async #execute(jobs: Job[], rows: number, signal: AbortSignal): Promise<void> {
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
      outputs = await this.#runBatch(latents, rows, signal);
      if (outputs.length !== rows * outputSize) {
        throw new RangeError(`the model gave ${outputs.length} values for ${rows} rows`);
      }
    } catch (e) {
      for (const job of jobs) if (!job.settled) job.reject(e);
      return;
    }
    let row = 0;
    for (const job of jobs) {
      if (!job.settled) job.resolve(outputs.slice(row * outputSize, (row + job.rows) * outputSize));
      row += job.rows;
    }
  }
}
