/**
 * Where the training math runs: the TF.js backend (`tensorflow` through tfjs-node where its binding loads, else
 * `wasm`; `webgpu` and `cpu` by name) and, on `wasm`, the kernel set its convolutions run in (`onnxruntime`:
 * onnxruntime-node's native kernels, or `wasm`: XNNPACK with the project's gradient kernels across kernel workers).
 * Both are registries of named choices that say why a choice is unavailable; `auto` takes the first that works.
 *
 * ```ts
 * const backend = await initBackend("auto"); // { name: "wasm", reason: "auto: tensorflow is not available: ..." }
 * if (backend.name === "wasm") console.log((await startKernels({ kernels: "auto" })).description);
 * ```
 * @module
 */
export {
  BACKEND_NAMES,
  type BackendChoice,
  BackendError,
  type BackendName,
  initBackend,
} from "./backends.ts";
export {
  KERNEL_NAMES,
  type KernelName,
  type KernelOptions,
  type StartedKernels,
  startKernels,
  stopKernels,
} from "./kernel_sets.ts";
export { batchNormTrainingFused, fuseBatchNormTraining } from "./batch_norm_training.ts";
export { defaultWorkerCount } from "./workers/parallel.ts";
export { describeTfjsNodeFailure } from "./tfjs_node.ts";
export {
  CompiledStep,
  type CompiledStepOptions,
  DEVICE_NAMES,
  type DeviceName,
  type UpdateResult,
} from "./engine/compiled_step.ts";
export { convertWeight, type NetSpec, readNetSpec, UnsupportedModelError } from "./engine/spec.ts";
export { maskName, SCALARS, stateName } from "./engine/updates.ts";
export { dropoutMultipliers } from "./engine/dropout.ts";
export { chooseEngine, ENGINE_NAMES, type EngineChoice, type EngineName } from "./engines.ts";
