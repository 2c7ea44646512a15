/**
 * Where the wasm backend's heavy kernels run, as a registry of named kernel sets: `onnxruntime` (onnxruntime-node's
 * native MLAS kernels on every core) or `wasm` (the backend's XNNPACK kernels with the project's gradient kernels,
 * split by batch rows across kernel workers). Each says whether it can run here and why not; `auto` takes the first
 * available one in priority order.
 * @module
 */
import { BackendError } from "./backends.ts";
import { startOrtKernels, stopOrtKernels } from "./ort/start.ts";
import { loadOrtBinding } from "./ort/runtime.ts";
import {
  defaultWorkerCount,
  startParallelKernels,
  stopParallelKernels,
} from "./workers/parallel.ts";

/** Kernel choices a user may ask for on the command line. */
export const KERNEL_NAMES = ["auto", "onnxruntime", "wasm"] as const;
/** A kernel choice accepted by {@link startKernels}. */
export type KernelName = typeof KERNEL_NAMES[number];

/** Options of {@link startKernels}. */
export interface KernelOptions {
  /** `onnxruntime`, `wasm`, or `auto` (the first available in priority order). Default `auto`. */
  kernels?: KernelName;
  /** onnxruntime: intra-op threads (default: logical CPUs). */
  threads?: number;
  /** wasm: kernel workers besides the main thread (default: logical CPUs − 1). */
  workers?: number;
}

/** What {@link startKernels} set up. */
export interface StartedKernels {
  kernels: Exclude<KernelName, "auto">;
  /** onnxruntime: intra-op threads; wasm: kernel workers besides the main thread. */
  threads: number;
  /** One line for the log saying where the convolutions run and why. */
  description: string;
}

/** One kernel set. */
interface KernelSet {
  name: Exclude<KernelName, "auto">;
  /** Place in `auto`'s order, lower first. */
  autoPriority: number;
  /** Null when the set can run here, else why not. */
  available(): string | null;
  /** Routes the wasm backend's kernels to this set; returns the thread count and a description. */
  start(options: KernelOptions): Promise<{ threads: number; description: string }>;
}

const KERNEL_SETS: readonly KernelSet[] = [
  {
    name: "onnxruntime",
    autoPriority: 1,
    available: loadOrtBinding,
    start(options) {
      const threads = options.threads ?? navigator.hardwareConcurrency ?? 1;
      const failure = startOrtKernels({ threads });
      if (failure !== null) throw new BackendError(`onnxruntime kernels: ${failure}`);
      return Promise.resolve({
        threads,
        description: `onnxruntime-node native kernels, ${threads} thread(s)`,
      });
    },
  },
  {
    name: "wasm",
    autoPriority: 2,
    available: () => null,
    async start(options) {
      const workers = await startParallelKernels({
        workers: options.workers ?? defaultWorkerCount(),
      });
      return {
        threads: workers,
        description: `wasm kernels, ${workers} kernel worker(s) besides the main thread`,
      };
    },
  },
];

/**
 * Routes the active wasm backend's convolutions as asked. Call after `initBackend` chose `wasm`.
 * @throws {BackendError} when a kernel set asked for by name cannot run here.
 */
export async function startKernels(options: KernelOptions = {}): Promise<StartedKernels> {
  await stopKernels();
  const asked = options.kernels ?? "auto";
  const candidates = asked === "auto"
    ? [...KERNEL_SETS].sort((a, b) => a.autoPriority - b.autoPriority)
    : KERNEL_SETS.filter((set) => set.name === asked);
  const skipped: string[] = [];
  for (const set of candidates) {
    const why = set.available();
    if (why !== null) {
      if (asked !== "auto") {
        throw new BackendError(
          `--kernels ${set.name}: not usable here (${why}); use --kernels wasm`,
        );
      }
      skipped.push(`${set.name} not usable: ${why}`);
      continue;
    }
    const { threads, description } = await set.start(options);
    const because = skipped.length === 0 ? "" : ` (${skipped.join("; ")})`;
    return { kernels: set.name, threads, description: `Convolutions: ${description}${because}` };
  }
  throw new BackendError(`no kernel set works here: ${skipped.join("; ")}`);
}

/** Restores the wasm backend's own single-threaded kernels and stops any workers or native sessions. */
export async function stopKernels(): Promise<void> {
  stopOrtKernels();
  await stopParallelKernels();
}
