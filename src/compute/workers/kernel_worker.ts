/**
 * A kernel worker: its own TF.js wasm backend (with the project's kernels) that runs single kernel calls posted by
 * the main thread on shared memory and signals completion through `Atomics`, so the main thread can wait
 * synchronously inside a kernel.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "../backends.ts";
import type { HeapBackend } from "../tfjs_kernels.ts";
import { CONTROL, ERROR_BYTES, type KernelJob, STATE, type WorkerInit } from "./protocol.ts";

const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const errors = new Uint8Array(init.errors);
let buffer: SharedArrayBuffer | undefined;

function finish(state: number): void {
  Atomics.store(control, CONTROL.state, state);
  Atomics.notify(control, CONTROL.state);
}

function run(job: KernelJob): void {
  if (job.buffer !== undefined) buffer = job.buffer;
  if (buffer === undefined) throw new Error("kernel worker: no shared buffer");
  const shared = buffer;
  const inputs: Record<string, tf.Tensor> = {};
  for (const input of job.inputs) {
    inputs[input.name] = tf.tensor(
      new Float32Array(shared, input.offset, input.length),
      input.shape,
    );
  }
  const out = tf.engine().runKernel(job.kernel, inputs, job.attrs as tf.NamedAttrMap) as tf.Tensor;
  const values = (tf.backend() as HeapBackend).typedArrayFromHeap(out);
  if (values.length > job.outputCapacity) {
    throw new Error(`kernel worker: ${job.kernel} output (${values.length}) exceeds its slot`);
  }
  new Float32Array(shared, job.outputOffset, values.length).set(values);
  Atomics.store(control, CONTROL.outputLength, values.length);
  tf.dispose([out, ...Object.values(inputs)]);
}

await initBackend("wasm");
parentPort!.on("message", (job: KernelJob) => {
  try {
    run(job);
    finish(STATE.DONE);
  } catch (e) {
    const text = new TextEncoder().encode(String((e as Error).stack ?? e)).slice(0, ERROR_BYTES);
    errors.set(text);
    Atomics.store(control, CONTROL.errorLength, text.length);
    finish(STATE.FAILED);
  }
});
parentPort!.postMessage("ready");
