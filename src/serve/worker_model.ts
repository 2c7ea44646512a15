/**
 * The served generator, run in a Web Worker (`model_worker.ts`). onnxruntime-node's `run` is asynchronous in name
 * only: it holds the calling thread for the whole run (measured: a 256-row run of the shipped generator held the
 * event loop 0.9 s, a 1,024-row request 1.4 s at a stretch), so on the main thread health, metrics and every
 * other request would wait behind it. In the worker, the main thread stays free to answer them; each call takes an
 * `AbortSignal`, and an aborted call is answered at once and its work stopped at the worker's next model run.
 * @module
 */
import {
  InputError,
  ModelError,
  type ModelInfo,
  type ProviderChoice,
  ProviderError,
  type SampleOptions,
} from "../infer/mod.ts";

/** What the main thread asks of the worker. */
export type ModelRequest =
  | { type: "open"; model: string; provider: string; maxBatch: number }
  | { type: "outputs"; id: number; latents: Float32Array }
  | { type: "png"; id: number; n: number; options: Pick<SampleOptions, "seed" | "digit"> }
  | { type: "cancel"; id: number }
  | { type: "dispose" };

/** What the worker answers: `result` is the raw outputs of `outputs`, or the PNG bytes of `png`. */
export type ModelReply =
  | { type: "opened"; info: ModelInfo; provider: ProviderChoice }
  | { type: "done"; id: number; result: Float32Array | Uint8Array }
  | { type: "failed"; id: number | null; error: { name: string; message: string } }
  | { type: "disposed" };

/** The error classes that keep their meaning across the worker boundary (an `InputError` is the client's). */
const ERRORS: Record<string, new (message: string) => Error> = {
  InputError,
  ModelError,
  ProviderError,
};

function rebuild(error: { name: string; message: string }): Error {
  const Class = ERRORS[error.name];
  if (Class) return new Class(error.message);
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

/** Raised for every call still waiting when the worker is stopped. */
export class ModelStoppedError extends Error {
  constructor() {
    super("the server is stopping; send the request to another instance");
    this.name = "ModelStoppedError";
  }
}

interface Pending {
  resolve(result: Float32Array | Uint8Array): void;
  reject(error: unknown): void;
}

/** A generator opened in a worker. Create it with {@link WorkerModel.open}. */
export class WorkerModel {
  /** What the model takes and gives. */
  readonly info: ModelInfo;
  /** The provider it runs on, and why. */
  readonly provider: ProviderChoice;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  /** Wakes {@link dispose} when no call is waiting. */
  #idle: Array<() => void> = [];
  #disposed: Promise<void> | null = null;
  #stopped = false;

  private constructor(worker: Worker, info: ModelInfo, provider: ProviderChoice) {
    this.#worker = worker;
    this.info = info;
    this.provider = provider;
    worker.onmessage = (event: MessageEvent<ModelReply>) => this.#receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(new Error(`the model worker failed: ${event.message}`));
    };
  }

  /**
   * Starts a worker and opens `model` on `provider` in it, to run at most `maxBatch` rows at a time.
   * @throws {ModelError} / {@link ProviderError} as `createGenerator` does.
   */
  static open(model: string, provider: string, maxBatch: number): Promise<WorkerModel> {
    const worker = new Worker(new URL("./model_worker.ts", import.meta.url).href, {
      type: "module",
    });
    return new Promise((resolve, reject) => {
      worker.onerror = (event) => {
        event.preventDefault();
        worker.terminate();
        reject(new Error(`the model worker did not start: ${event.message}`));
      };
      worker.onmessage = (event: MessageEvent<ModelReply>) => {
        const reply = event.data;
        if (reply.type === "opened") {
          resolve(new WorkerModel(worker, reply.info, reply.provider));
        } else if (reply.type === "failed") {
          worker.terminate();
          reject(rebuild(reply.error));
        }
      };
      worker.postMessage({ type: "open", model, provider, maxBatch } satisfies ModelRequest);
    });
  }

  /** The model's raw outputs for `latents` (see `Generator.outputs`). */
  outputs(latents: Float32Array, signal: AbortSignal): Promise<Float32Array> {
    return this.#call(
      (id) => ({ type: "outputs", id, latents }),
      [latents.buffer as ArrayBuffer],
      signal,
    ) as Promise<Float32Array>;
  }

  /** The PNG grid of `generator.sample(n, options)` (a digit search when `options.digit` is set). */
  samplePng(
    n: number,
    options: Pick<SampleOptions, "seed" | "digit">,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    return this.#call((id) => ({ type: "png", id, n, options }), [], signal) as Promise<
      Uint8Array
    >;
  }

  /** Lets the calls under way finish, then frees the model and ends the worker. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      while (this.#pending.size > 0) await new Promise<void>((wake) => this.#idle.push(wake));
      await new Promise<void>((done) => {
        this.#worker.onmessage = (event: MessageEvent<ModelReply>) => {
          if (event.data.type === "disposed") done();
        };
        this.#worker.postMessage({ type: "dispose" } satisfies ModelRequest);
      });
      this.#worker.terminate();
    })();
    return this.#disposed;
  }

  /** Ends the worker at once: every call still waiting, and every later one, fails with {@link ModelStoppedError}. */
  terminate(): void {
    this.#stopped = true;
    this.#worker.terminate();
    this.#failAll(new ModelStoppedError());
  }

  #call(
    request: (id: number) => ModelRequest,
    transfer: ArrayBuffer[],
    signal: AbortSignal,
  ): Promise<Float32Array | Uint8Array> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#stopped) return Promise.reject(new ModelStoppedError());
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#settle(id);
        this.#worker.postMessage({ type: "cancel", id } satisfies ModelRequest);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (r) => (signal.removeEventListener("abort", onAbort), resolve(r)),
        reject: (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
      });
      this.#worker.postMessage(request(id), transfer);
    });
  }

  #receive(reply: ModelReply): void {
    if (reply.type !== "done" && reply.type !== "failed") return;
    if (reply.id === null) return;
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#settle(reply.id);
    if (reply.type === "done") pending.resolve(reply.result);
    else pending.reject(rebuild(reply.error));
  }

  #failAll(error: Error): void {
    for (const [id, p] of [...this.#pending]) {
      this.#settle(id);
      p.reject(error);
    }
  }

  #settle(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) { for (const wake of this.#idle.splice(0)) wake(); }
  }
}
