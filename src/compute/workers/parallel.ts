/**
 * Both cores for the wasm backend: the heavy convolution kernels (forward, input and filter gradients) split along
 * the batch between the main thread and kernel workers, each running the same XNNPACK kernels on its rows. The
 * training algorithm is unchanged (BatchNorm, dropout and losses still see the whole batch on the main thread).
 * It is the `wasm` kernel set, used where onnxruntime-node's binding does not load. Each split call ends in a
 * barrier, so a worker descheduled by other processes stalls the main thread; on the 2-core machine it still paid:
 * `deno task bench:train --backends wasm-workers,wasm-single,wasm --steps 5` measured 1806 ms per step with one
 * worker against 2381 ms single-threaded (and 948 ms for the onnxruntime kernels), 2026-12-01.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { replaceKernels } from "../tfjs_kernels.ts";
import { SPLIT_SPECS, splitKernelFunc } from "./split_kernels.ts";
import { KernelWorker } from "./worker_pool.ts";

export { convMacs, splitRows } from "./split_kernels.ts";

/** Options of {@link startParallelKernels}. */
export interface ParallelOptions {
  /** Kernel workers besides the main thread (default: logical CPUs − 1, at most 7). */
  workers?: number;
  /** Smallest convolution, in multiply-adds, worth splitting (default 4·10⁶). */
  minMacs?: number;
}

const BACKEND = "wasm";
let running: { workers: KernelWorker[]; restore: () => void } | null = null;

/** The default number of kernel workers on this machine: logical CPUs − 1, at most 7. */
export function defaultWorkerCount(): number {
  return Math.max(0, Math.min(7, (navigator.hardwareConcurrency ?? 1) - 1));
}

/** Number of kernel workers now running (0 when the parallel kernels are off). */
export function parallelWorkers(): number {
  return running?.workers.length ?? 0;
}

/**
 * Starts kernel workers and routes the wasm backend's convolution kernels through them. Call after
 * `initBackend("wasm")`. With 0 workers it does nothing. Workers do not keep the process alive.
 * @returns the number of workers running.
 */
export async function startParallelKernels(options: ParallelOptions = {}): Promise<number> {
  await stopParallelKernels();
  const count = options.workers ?? defaultWorkerCount();
  if (count < 1) return 0;
  if (tf.getBackend() !== BACKEND) throw new Error("parallel kernels need the wasm backend active");
  const workers = await Promise.all(Array.from({ length: count }, () => KernelWorker.start()));
  const restore = replaceKernels(BACKEND, (base) =>
    SPLIT_SPECS.map((spec) => ({
      kernelName: spec.kernel,
      kernelFunc: splitKernelFunc(spec, base(spec.kernel), workers, options.minMacs ?? 4e6),
    })));
  running = { workers, restore };
  return count;
}

/** Restores the single-threaded kernels and stops the workers. */
export async function stopParallelKernels(): Promise<void> {
  if (running === null) return;
  const { workers, restore } = running;
  running = null;
  restore();
  await Promise.all(workers.map((w) => w.terminate()));
}
