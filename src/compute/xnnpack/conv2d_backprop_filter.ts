/**
 * `Conv2DBackpropFilter` (the kernel gradient of Conv2D) as one stride-1 convolution on the backend's fast Conv2D:
 * the input seen as `[inC, H, W, batch]` convolved with `dy` seen as a `[outH, outW, batch, outC]` filter dilated by
 * the stride gives `[inC, kH, kW, outC]`, one matrix product over all patches without materialising them.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { filterGradWindow } from "../conv_geometry.ts";
import { type ConvAttrs, convInfo } from "../tfjs_kernels.ts";
import { cropHW } from "./conv2d_backprop_input.ts";
import { withKernelScope } from "./kernel_scope.ts";

/** Computes `Conv2DBackpropFilter` on `backend` (registered kernels of `backendName`). */
export function conv2dBackpropFilter(
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  attrs: ConvAttrs,
  backend: tf.KernelBackend,
  backendName: string,
): tf.TensorInfo {
  if (attrs.dataFormat === "NCHW") throw new Error("Conv2DBackpropFilter: only NHWC is supported");
  const info = convInfo(x.shape, attrs.filterShape!, attrs, 1);
  const [kh, kw, inC, outC] = attrs.filterShape!;
  const rows = filterGradWindow(
    kh,
    info.strideHeight,
    info.padInfo.top,
    x.shape[1],
    info.outHeight,
  );
  const cols = filterGradWindow(kw, info.strideWidth, info.padInfo.left, x.shape[2], info.outWidth);
  return withKernelScope(backend, backendName, (scope) => {
    if (rows.cropSize === 0 || cols.cropSize === 0) {
      return scope.run("Fill", {}, { shape: [kh, kw, inC, outC], value: 0, dtype: "float32" });
    }
    const cropped = cropHW(scope, x, rows, cols);
    const source = scope.run("Transpose", { x: cropped }, { perm: [3, 1, 2, 0] });
    const kernel = scope.run("Transpose", { x: dy }, { perm: [1, 2, 0, 3] });
    const grad = scope.run("Conv2D", { x: source, filter: kernel }, {
      strides: [1, 1],
      pad: [[0, 0], [rows.padBefore, rows.padAfter], [cols.padBefore, cols.padAfter], [0, 0]],
      dataFormat: "NHWC",
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap);
    return scope.run("Transpose", { x: grad }, { perm: [1, 2, 0, 3] });
  });
}
