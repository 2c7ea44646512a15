/**
 * Times the project's real training step ({@link createTrainer} from `src/train/`) on one TF.js backend: warm-up
 * steps, then the median of timed steps, each a full reference step (predict, two D updates, one G update).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import process from "node:process";
import { join } from "node:path";
import {
  type BackendName,
  type DeviceName,
  initBackend,
  type KernelName,
  startKernels,
  stopKernels,
} from "../compute/mod.ts";
import { buildDiscriminator, buildGenerator } from "../model/mod.ts";
import { Rng } from "../random/mod.ts";
import {
  createCompiledTrainer,
  createTrainer,
  type StepBatch,
  type Trainer,
} from "../train/mod.ts";
import { profileRows, readProfileFile } from "./engine_profile.ts";
import { type ProfileRow, StepProfiler } from "./step_profile.ts";

/** What to time. */
export interface StepBenchOptions {
  /** The compiled step on this onnxruntime device, or (absent) the TF.js step on `backend`. */
  device?: DeviceName;
  backend: Exclude<BackendName, "auto">;
  /** wasm: where convolutions run (see `startKernels`; `auto` is what training uses). */
  kernels: KernelName;
  /** wasm kernels: kernel workers besides the main thread; 0 = single-threaded. */
  workers: number;
  /** onnxruntime kernels: intra-op threads (default: logical CPUs). */
  threads?: number;
  batch: number;
  warmup: number;
  steps: number;
  /** Stop timing once this many seconds have passed, even below `steps` (slow software backends). */
  maxSeconds: number;
  /** Charge every timed step's time to kernels, layers and optimisers ({@link StepProfiler}). */
  profile?: boolean;
  /** Called after each step (warm-up included) with the step's milliseconds. */
  onStep?: (index: number, ms: number) => void;
}

/** One backend's figures. */
export interface StepBenchResult {
  backend: string;
  /** The engine that ran the step (`tfjs (wasm)`, `onnxruntime (cpu)`). */
  engine: string;
  /** wasm: where convolutions ran; null on other backends. */
  kernels: "onnxruntime" | "wasm" | null;
  /** wasm: onnxruntime intra-op threads, or kernel workers besides the main thread; 0 elsewhere. */
  workers: number;
  batch: number;
  /** Median milliseconds per training step over the timed steps. */
  msPerStep: number;
  minMs: number;
  maxMs: number;
  /** Timed steps (after warm-up). */
  steps: number;
  warmup: number;
  /** Process CPU seconds per step (all threads), to compare with wall time. */
  cpuSecondsPerStep: number;
  /** Hours for the reference's 10,000 steps at this speed. */
  hoursFor10kSteps: number;
  /** Why the backend was chosen, as `initBackend` says. */
  reason: string;
  /** With `profile`: where the mean step's time went, rows summing to {@link StepBenchResult.meanMs}. */
  profile?: ProfileRow[];
  /** Mean milliseconds per timed step (the profile's total). */
  meanMs: number;
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function syntheticBatch(rng: Rng, n: number, latentDim: number, dropoutLayers: number): StepBatch {
  return {
    real: rng.normals(n * 28 * 28, 0.5).map(Math.tanh),
    noise: rng.normals(n * latentDim),
    realLabels: rng.normals(n, 0.05).map((e) => 1 + e),
    fakeLabels: rng.normals(n, 0.05),
    dropoutSeeds: Uint32Array.from({ length: 3 * dropoutLayers }, () => rng.nextUint32()),
  };
}

/** Initialises `options.backend` in this process and times training steps on it. */
export async function benchTrainStep(options: StepBenchOptions): Promise<StepBenchResult> {
  const choice = await initBackend(options.backend);
  // The compiled step needs TF.js only to build the models: no kernel sessions beside its own.
  const kernels = choice.name === "wasm" && !options.device
    ? await startKernels({
      kernels: options.kernels,
      workers: options.workers,
      threads: options.threads,
    })
    : null;
  const profileDir = options.profile && options.device
    ? Deno.makeTempDirSync({ prefix: "dcgan-engine-profile-" })
    : null;
  const generator = buildGenerator({ seed: 1 });
  const discriminator = buildDiscriminator({ seed: 2 });
  const optimizer = { learningRate: 2e-4, beta1: 0.5 };
  const trainer: Trainer = options.device
    ? await createCompiledTrainer(generator, discriminator, {
      ...optimizer,
      device: options.device,
      batchSize: options.batch,
      threads: options.threads,
      ema: null,
      ...(profileDir ? { profilePrefix: join(profileDir, "step") } : {}),
    })
    : createTrainer(generator, discriminator, optimizer);
  const profiler = options.profile && !options.device
    ? new StepProfiler(
      [trainer.generator, trainer.discriminator],
      { "Adam D": trainer.dOptimizer, "Adam G": trainer.gOptimizer },
      kernels?.kernels === "onnxruntime",
    )
    : null;
  const rng = new Rng(7);
  const times: number[] = [];
  let cpu = 0;
  const started = performance.now();
  for (let i = 0; i < options.warmup + options.steps; i++) {
    if (i === options.warmup) profiler?.start();
    const t0 = performance.now();
    const batch = syntheticBatch(rng, options.batch, trainer.latentDim, trainer.dropoutLayers);
    profiler?.charge(
      "data",
      "drawing the batch (latents, label noise, images)",
      performance.now() - t0,
    );
    const cpu0 = process.cpuUsage();
    await trainer.step(batch);
    profiler?.stepDone();
    const ms = performance.now() - t0;
    options.onStep?.(i, ms);
    if (i >= options.warmup) {
      times.push(ms);
      const used = process.cpuUsage(cpu0);
      cpu += (used.user + used.system) / 1e6;
    }
    const elapsed = (performance.now() - started) / 1000;
    if (i >= options.warmup && elapsed > options.maxSeconds) break;
  }
  profiler?.dispose();
  trainer.dispose();
  await stopKernels();
  const profile = profiler?.rows(meanMsOf(times)) ??
    (profileDir ? engineProfile(profileDir, options.warmup, meanMsOf(times)) : undefined);
  const msPerStep = median(times);
  const meanMs = meanMsOf(times);
  return {
    backend: tf.getBackend(),
    engine: trainer.engine,
    kernels: kernels?.kernels ?? null,
    workers: options.device
      ? options.threads ?? navigator.hardwareConcurrency
      : kernels?.threads ?? 0,
    batch: options.batch,
    msPerStep,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    steps: times.length,
    warmup: options.warmup,
    cpuSecondsPerStep: cpu / times.length,
    hoursFor10kSteps: msPerStep * 10_000 / 3.6e6,
    reason: choice.reason,
    meanMs,
    ...(profile ? { profile } : {}),
  };
}

function meanMsOf(times: number[]): number {
  return times.reduce((a, b) => a + b, 0) / times.length;
}

/**
 * The compiled step's profile: onnxruntime's per-node times of each update graph (after warm-up), charged to
 * layers and directions, and the rest of the mean step (feeding, dropout masks, calls) as one row.
 */
function engineProfile(dir: string, warmup: number, meanMs: number): ProfileRow[] {
  const rows: ProfileRow[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    // Files are named `<prefix>-<graph>_<time>.json`.
    const graph = entry.name.split("_")[0].split("-").pop()!;
    rows.push(...profileRows(readProfileFile(join(dir, entry.name)), graph, warmup));
  }
  Deno.removeSync(dir, { recursive: true });
  const nodes = rows.reduce((a, r) => a + r.msPerStep, 0);
  rows.push({
    group: "outside",
    what: "feeds, dropout masks, calls",
    msPerStep: meanMs - nodes,
    calls: 0,
  });
  return rows;
}
