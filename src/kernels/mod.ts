/**
 * The project's own TF.js kernels for the wasm backend (gradients it lacks or runs slowly).
 * @module
 */

/** Registers the project's kernels on the `wasm` backend. Safe to call more than once. */
export function registerWasmKernels(): void {
  // Filled in by the kernels work (Conv2DBackpropFilter, fast Conv2DBackpropInput).
}
