/**
 * Kernel workers seen from the main thread: start them, post a job, wait for it synchronously.
 * @module
 */
import { Worker } from "node:worker_threads";
import {
  CONTROL,
  ERROR_BYTES,
  type JobInput,
  type KernelJob,
  STATE,
  type WorkerInit,
} from "./protocol.ts";

/** How long a kernel call may take in a worker before the main thread gives up. */
const JOB_TIMEOUT_MS = 600_000;

/** A float32 array to send to a worker under `name`, with its shape. */
export interface JobTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** One started kernel worker with its shared control words and job buffer. */
export class KernelWorker {
  private buffer = new SharedArrayBuffer(0);
  private bufferSent = false;
  private readonly control: Int32Array;
  private readonly errors: Uint8Array;
  private outputOffset = 0;

  private constructor(private readonly worker: Worker, init: WorkerInit) {
    this.control = new Int32Array(init.control);
    this.errors = new Uint8Array(init.errors);
  }

  /** Starts a worker and resolves once its wasm backend is ready. */
  static async start(): Promise<KernelWorker> {
    const init: WorkerInit = {
      control: new SharedArrayBuffer(CONTROL.size * 4),
      errors: new SharedArrayBuffer(ERROR_BYTES),
    };
    const worker = new Worker(new URL("./kernel_worker.ts", import.meta.url), { workerData: init });
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    worker.unref();
    return new KernelWorker(worker, init);
  }

  /** Posts `kernel` on `inputs` (copied into shared memory); the result has `outputLength` floats. */
  post(kernel: string, inputs: JobTensor[], attrs: Record<string, unknown>, outputLength: number) {
    const inputBytes = inputs.reduce((n, t) => n + t.values.length * 4, 0);
    const needed = inputBytes + outputLength * 4;
    if (this.buffer.byteLength < needed) {
      this.buffer = new SharedArrayBuffer(Math.ceil(needed * 1.25 / 4) * 4);
      this.bufferSent = false;
    }
    const described: JobInput[] = [];
    let offset = 0;
    for (const t of inputs) {
      new Float32Array(this.buffer, offset, t.values.length).set(t.values);
      described.push({ name: t.name, shape: t.shape, offset, length: t.values.length });
      offset += t.values.length * 4;
    }
    this.outputOffset = offset;
    const job: KernelJob = {
      kernel,
      attrs,
      inputs: described,
      outputOffset: offset,
      outputCapacity: outputLength,
    };
    if (!this.bufferSent) {
      job.buffer = this.buffer;
      this.bufferSent = true;
    }
    Atomics.store(this.control, CONTROL.state, STATE.BUSY);
    this.worker.postMessage(job);
  }

  /** Waits for the posted job and returns a view of its output (valid until the next post). */
  wait(): Float32Array {
    const result = Atomics.wait(this.control, CONTROL.state, STATE.BUSY, JOB_TIMEOUT_MS);
    if (result === "timed-out") throw new Error("kernel worker did not answer in time");
    const state = Atomics.load(this.control, CONTROL.state);
    if (state === STATE.FAILED) {
      const length = Atomics.load(this.control, CONTROL.errorLength);
      throw new Error(
        `kernel worker failed: ${new TextDecoder().decode(this.errors.slice(0, length))}`,
      );
    }
    const length = Atomics.load(this.control, CONTROL.outputLength);
    return new Float32Array(this.buffer, this.outputOffset, length);
  }

  /** Stops the worker. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
