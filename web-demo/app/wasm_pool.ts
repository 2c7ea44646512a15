/// <reference lib="dom" />
import {
  type GeneratedImages,
  type InferenceError,
  InputError,
  ModelError,
  type ModelInfo,
  ProviderError,
  readModelInfo,
} from "../../src/infer/browser.ts";

/** A request to a pool worker (`wasm_worker.ts`). */
export type PoolRequest =
  | { type: "open"; id: number; bytes: Uint8Array; wasmPaths: string; classifier: string }
  | { type: "generate"; id: number; latents: Float32Array }
  | { type: "findDigits"; id: number; count: number; seed: number; digit: number };

/** A pool worker's answer to the request with the same `id`. */
export type PoolReply =
  | { type: "done"; id: number }
  | { type: "images"; id: number; images: GeneratedImages }
  | { type: "latents"; id: number; latents: Float32Array }
  | { type: "error"; id: number; name: string; message: string };

/** A request before the pool numbers it. */
type Unnumbered<T> = T extends unknown ? Omit<T, "id"> : never;

const ERRORS: Record<string, new (message: string) => InferenceError> = {
  ModelError,
  ProviderError,
  InputError,
};

/** One worker and the requests it has not answered yet. */
class PoolWorker {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, (reply: PoolReply) => void>();
  #next = 0;

  constructor(url: URL) {
    this.#worker = new Worker(url, { type: "module", name: "dcgan-wasm" });
    this.#worker.addEventListener("message", (event: MessageEvent<PoolReply>) => {
      this.#waiting.get(event.data.id)?.(event.data);
      this.#waiting.delete(event.data.id);
    });
  }

  /** Sends a request (its transferables moved, not copied) and resolves with the answer. */
  ask(request: Unnumbered<PoolRequest>, transfer: Transferable[] = []): Promise<PoolReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (reply) => {
        if (reply.type !== "error") resolve(reply);
        else reject(new (ERRORS[reply.name] ?? Error)(reply.message));
      });
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** How a pool's workers open the model. */
interface OpenOptions {
  /** The worker script (`wasm_worker.js`). */
  workerUrl: URL;
  wasmPaths: string;
  /** URL of the digit classifier. */
  classifier: string;
  /** Why WebAssembly runs (the page's `provider.reason`). */
  reason: string;
}

/** Starts a worker and opens the model in it; a worker that cannot is stopped and its error thrown. */
async function startWorker(bytes: Uint8Array, options: OpenOptions): Promise<PoolWorker> {
  const worker = new PoolWorker(options.workerUrl);
  const copy = bytes.slice();
  const { wasmPaths, classifier } = options;
  try {
    await worker.ask({ type: "open", bytes: copy, wasmPaths, classifier }, [copy.buffer]);
    return worker;
  } catch (error) {
    worker.terminate();
    throw error;
  }
}

/**
 * The generator on WebAssembly in `size` workers of one thread each: every batch is split by rows between them,
 * so all of them compute at once without waiting on each other (ONNX Runtime's own threads split every operator
 * and wait for the slowest, which costs more than it gains on a machine whose cores are busy with other work).
 * It offers the parts of the inference module's `Generator` the page uses.
 */
export class WasmPool {
  readonly provider: { name: "wasm"; reason: string };
  /** Workers the pool starts (the first at once, the others after the first batch). */
  readonly size: number;
  /** The workers that have opened the model. */
  readonly #workers: PoolWorker[];
  #disposed = false;

  /** Starts one more worker; null once the others have been started. */
  #start: (() => Promise<PoolWorker>) | null;

  private constructor(
    readonly info: ModelInfo,
    first: PoolWorker,
    size: number,
    reason: string,
    start: () => Promise<PoolWorker>,
  ) {
    this.#workers = [first];
    this.size = size;
    this.provider = { name: "wasm", reason };
    this.#start = start;
  }

  /**
   * Opens the model (the bytes of an `.onnx` file) in a worker started from `options.workerUrl`, and resolves
   * then. The `size − 1` other workers start after the first batch is done (so that the first grid does not share
   * the CPU with compiling their runtimes) and take their share of the batches once they have opened the model.
   * @throws {ModelError} when the bytes are not a generator; {@link ProviderError} when a worker cannot run it.
   */
  static async open(bytes: Uint8Array, size: number, options: OpenOptions): Promise<WasmPool> {
    const info = readModelInfo(bytes);
    const first = await startWorker(bytes, options);
    return new WasmPool(info, first, size, options.reason, () => startWorker(bytes, options));
  }

  /** Starts the other workers (once); each takes its share of the batches when it has opened the model. */
  #grow(): void {
    const start = this.#start;
    if (start === null) return;
    this.#start = null;
    for (let i = 1; i < this.size; i++) {
      start().then(
        (worker) => this.#disposed ? worker.terminate() : this.#workers.push(worker),
        // One that cannot open the model is left out; the others carry on.
        () => {},
      );
    }
  }

  get latentDim(): number {
    return this.info.latentDim;
  }

  /** The images of `latents` (rows of `latentDim` values), each worker computing a share of the rows. */
  async generate(latents: Float32Array): Promise<GeneratedImages> {
    const dim = this.info.latentDim;
    const rows = latents.length / dim;
    const workers = [...this.#workers];
    const share = Math.ceil(rows / workers.length);
    const parts = await Promise.all(workers.map(async (worker, i) => {
      const part = latents.slice(i * share * dim, Math.min(rows, (i + 1) * share) * dim);
      if (part.length === 0) return null;
      const reply = await worker.ask({ type: "generate", latents: part }, [part.buffer]);
      return reply.type === "images" ? reply.images : null;
    }));
    const done = parts.filter((p): p is GeneratedImages => p !== null);
    this.#grow();
    const data = new Float32Array(done.reduce((n, p) => n + p.data.length, 0));
    let offset = 0;
    for (const part of done) {
      data.set(part.data, offset);
      offset += part.data.length;
    }
    return { ...done[0], data, count: rows };
  }

  /** The first `count` latents of `seed` the digit classifier reads as `digit` (searched by the first worker). */
  async findDigits(
    count: number,
    options: { seed: number; digit: number },
  ): Promise<{ latents: Float32Array }> {
    const reply = await this.#workers[0].ask({ type: "findDigits", count, ...options });
    if (reply.type !== "latents") throw new Error(`unexpected answer ${reply.type}`);
    return { latents: reply.latents };
  }

  /** Stops the workers. */
  dispose(): Promise<void> {
    this.#disposed = true;
    this.#workers.forEach((worker) => worker.terminate());
    return Promise.resolve();
  }
}
