/**
 * The project's own TF.js kernels for the wasm backend: `Conv2DBackpropFilter` (missing in tfjs-backend-wasm) and a
 * fast `Conv2DBackpropInput` (the stock one is a naive loop), both built from the backend's XNNPACK Conv2D; and a
 * BatchNorm gradient without full-size tiling.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dBackpropFilter, type Conv2DBackpropFilterAttrs } from "./conv2d_backprop_filter.ts";
import {
  conv2dBackpropInput,
  type Conv2DBackpropInputAttrs,
  type HeapBackend,
} from "./conv2d_backprop_input.ts";
import { batchNormGrads, registerBatchNormGradient } from "./batch_norm_grad.ts";

export { conv2dBackpropFilter, conv2dBackpropInput };
export { batchNormGrads, registerBatchNormGradient };
export type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, HeapBackend };

const BACKEND = "wasm";

function register(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

/**
 * Registers the project's kernels on the `wasm` backend, and the leaner BatchNorm gradient (shared by all backends,
 * same values). Safe to call more than once.
 */
export function registerWasmKernels(): void {
  registerBatchNormGradient();
  register({
    kernelName: "Conv2DBackpropInput",
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs, backend }) =>
      conv2dBackpropInput(
        inputs.dy as tf.TensorInfo,
        inputs.filter as tf.TensorInfo,
        attrs as unknown as Conv2DBackpropInputAttrs,
        backend as tf.KernelBackend,
        BACKEND,
      ),
  });
  register({
    kernelName: "Conv2DBackpropFilter",
    backendName: BACKEND,
    kernelFunc: ({ inputs, attrs, backend }) =>
      conv2dBackpropFilter(
        inputs.x as tf.TensorInfo,
        inputs.dy as tf.TensorInfo,
        attrs as unknown as Conv2DBackpropFilterAttrs,
        backend as tf.KernelBackend,
        BACKEND,
      ),
  });
}
