/**
 * Native kernels for the wasm backend: `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`, and
 * large `BatchMatMul`, `Sum` and `Mean` calls run as small ONNX graphs in onnxruntime-node (MLAS kernels, every
 * core), while everything else (BatchNorm, activations, dropout, losses, Adam) stays in TF.js's wasm backend. Where tfjs-node cannot be
 * installed, onnxruntime-node usually can (its npm package carries its binaries), and it is a dependency already.
 *
 * The algorithm is unchanged; results equal the reference `cpu` backend within float rounding (tested).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { ortKernelConfigs, SessionCache } from "./kernels.ts";
import { loadOrtBinding, type RuntimeOptions } from "./runtime.ts";

export type { RuntimeOptions };

const BACKEND = "wasm";
const KERNELS = [
  "Sum",
  "Mean",
  "BatchMatMul",
  "Conv2D",
  "FusedConv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
];

let running: { cache: SessionCache; bases: tf.KernelConfig[] } | null = null;

function replace(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/**
 * Routes the wasm backend's convolution kernels through onnxruntime-node. Call after `initBackend("wasm")`.
 * @returns null when the native kernels are now active, else why onnxruntime-node cannot be used (nothing changed).
 */
export function startOrtKernels(options: RuntimeOptions = {}): string | null {
  stopOrtKernels();
  const reason = loadOrtBinding();
  if (reason !== null) return reason;
  const bases = KERNELS.map((name) => {
    const config = tf.getKernel(name, BACKEND);
    if (config === undefined) throw new Error(`wasm backend has no ${name} kernel`);
    return config;
  });
  const cache = new SessionCache(options);
  const base = (name: string) => bases[KERNELS.indexOf(name)].kernelFunc;
  for (const config of ortKernelConfigs(cache, BACKEND, base)) replace(config);
  running = { cache, bases };
  return null;
}

/** True while the wasm backend's convolutions run in onnxruntime-node. */
export function ortKernelsActive(): boolean {
  return running !== null;
}

/** Restores the kernels registered before {@link startOrtKernels} and frees the native sessions. */
export function stopOrtKernels(): void {
  if (running === null) return;
  for (const base of running.bases) replace(base);
  running.cache.dispose();
  running = null;
}
