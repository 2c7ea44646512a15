/**
 * Native kernels for the wasm backend: `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`,
 * large `BatchMatMul`, `Sum`, `Mean` and `FusedBatchNorm` calls, and the fused training-mode batch normalisation
 * (`../batch_norm_training.ts`) run as small ONNX graphs in onnxruntime-node (MLAS kernels, every core), while
 * everything else (activations, dropout, losses, Adam) stays in TF.js's wasm backend. Where
 * tfjs-node cannot be installed, onnxruntime-node usually can (its npm package carries its binaries), and it is a
 * dependency already.
 *
 * The algorithm is unchanged; results equal the reference `cpu` backend within float rounding (tested).
 * @module
 */
import { replaceKernels } from "../tfjs_kernels.ts";
import { ortKernelConfigs, SessionCache } from "./kernels.ts";
import { loadOrtBinding, type RuntimeOptions } from "./runtime.ts";

let running: { cache: SessionCache; restore: () => void } | null = null;

/**
 * Routes the wasm backend's convolution kernels through onnxruntime-node. Call after `initBackend("wasm")`.
 * @returns null when the native kernels are now active, else why onnxruntime-node cannot be used (nothing changed).
 */
export function startOrtKernels(options: RuntimeOptions = {}): string | null {
  stopOrtKernels();
  const reason = loadOrtBinding();
  if (reason !== null) return reason;
  const cache = new SessionCache(options);
  const restore = replaceKernels("wasm", (base) => ortKernelConfigs(cache, base));
  running = { cache, restore };
  return null;
}

/** True while the wasm backend's convolutions run in onnxruntime-node. */
export function ortKernelsActive(): boolean {
  return running !== null;
}

/** Restores the kernels registered before {@link startOrtKernels} and frees the native sessions. */
export function stopOrtKernels(): void {
  if (running === null) return;
  running.restore();
  running.cache.dispose();
  running = null;
}
