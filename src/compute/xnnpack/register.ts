/**
 * The project's own TF.js kernels for the wasm backend: `Conv2DBackpropFilter` (missing in tfjs-backend-wasm) and a
 * fast `Conv2DBackpropInput` (the stock one is a naive loop), both built from the backend's XNNPACK Conv2D; and a
 * BatchNorm gradient without full-size tiling.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { convAttrs, replaceKernels } from "../tfjs_kernels.ts";
import { conv2dBackpropFilter } from "./conv2d_backprop_filter.ts";
import { conv2dBackpropInput } from "./conv2d_backprop_input.ts";
import { registerBatchNormGradient } from "./batch_norm_grad.ts";

const BACKEND = "wasm";

/**
 * Registers the project's kernels on the `wasm` backend, and the leaner BatchNorm gradient (shared by all backends,
 * same values). Safe to call more than once.
 */
export function registerWasmKernels(): void {
  registerBatchNormGradient();
  replaceKernels(BACKEND, () => [
    {
      kernelName: "Conv2DBackpropInput",
      kernelFunc: ({ inputs, attrs, backend }) =>
        conv2dBackpropInput(
          inputs.dy as tf.TensorInfo,
          inputs.filter as tf.TensorInfo,
          convAttrs(attrs),
          backend as tf.KernelBackend,
          BACKEND,
        ),
    },
    {
      kernelName: "Conv2DBackpropFilter",
      kernelFunc: ({ inputs, attrs, backend }) =>
        conv2dBackpropFilter(
          inputs.x as tf.TensorInfo,
          inputs.dy as tf.TensorInfo,
          convAttrs(attrs),
          backend as tf.KernelBackend,
          BACKEND,
        ),
    },
  ]);
}
