/**
 * Where the wasm backend's convolutions run: in onnxruntime-node's native kernels (all cores, the default when its
 * binding loads) or in the wasm backend itself, split by batch rows across kernel workers.
 * @module
 */
import { defaultWorkerCount, startParallelKernels, stopParallelKernels } from "../parallel/mod.ts";
import { startOrtKernels, stopOrtKernels } from "../ort_kernels/mod.ts";
import { BackendError } from "./mod.ts";

/** Kernel choices a user may ask for on the command line. */
export const KERNEL_NAMES = ["auto", "onnxruntime", "wasm"] as const;
/** A kernel choice accepted by {@link startWasmKernels}. */
export type KernelName = typeof KERNEL_NAMES[number];

/** Returns true when `name` is a kernel choice accepted by {@link startWasmKernels}. */
export function isKernelName(name: string): name is KernelName {
  return (KERNEL_NAMES as readonly string[]).includes(name);
}

/** Options of {@link startWasmKernels}. */
export interface WasmKernelOptions {
  /** `onnxruntime`, `wasm`, or `auto` (onnxruntime when its native binding loads). Default `auto`. */
  kernels?: KernelName;
  /** onnxruntime: intra-op threads (default: logical CPUs). */
  threads?: number;
  /** wasm: kernel workers besides the main thread (default: logical CPUs − 1). */
  workers?: number;
}

/** What {@link startWasmKernels} set up. */
export interface WasmKernels {
  kernels: "onnxruntime" | "wasm";
  /** onnxruntime: intra-op threads; wasm: kernel workers besides the main thread. */
  threads: number;
  /** One line for the log saying where the convolutions run and why. */
  description: string;
}

/**
 * Routes the active wasm backend's convolutions as asked. Call after `initBackend` chose `wasm`.
 * @throws {BackendError} when `onnxruntime` is asked for and its binding does not load.
 */
export async function startWasmKernels(options: WasmKernelOptions = {}): Promise<WasmKernels> {
  const asked = options.kernels ?? "auto";
  let fallback = "";
  if (asked !== "wasm") {
    const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
    const failure = startOrtKernels({ threads });
    if (failure === null) {
      return {
        kernels: "onnxruntime",
        threads,
        description: `Convolutions: onnxruntime-node native kernels, ${threads} thread(s)`,
      };
    }
    if (asked === "onnxruntime") {
      throw new BackendError(
        `--kernels onnxruntime: onnxruntime-node's native binding does not load (${failure}); use --kernels wasm`,
      );
    }
    fallback = ` (onnxruntime-node not usable: ${failure})`;
  }
  const workers = await startParallelKernels({ workers: options.workers ?? defaultWorkerCount() });
  return {
    kernels: "wasm",
    threads: workers,
    description:
      `Convolutions: wasm kernels, ${workers} kernel worker(s) besides the main thread${fallback}`,
  };
}

/** Restores the wasm backend's own single-threaded kernels and stops any workers or native sessions. */
export async function stopWasmKernels(): Promise<void> {
  stopOrtKernels();
  await stopParallelKernels();
}
