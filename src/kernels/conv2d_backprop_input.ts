/**
 * `Conv2DBackpropInput` (the input gradient of Conv2D and the forward pass of Conv2DTranspose) as stride-1
 * convolutions on the backend's fast Conv2D: one sub-convolution per output phase (`stride²` of them, each with the
 * reversed kernel taps of that phase), interleaved back into place (depth-to-space).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type AxisWindow, type TransposedPhase, transposedPhases } from "./conv_geometry.ts";
import { type KernelScope, withKernelScope } from "./kernel_scope.ts";

/** Attributes TF.js passes to `Conv2DBackpropInput`. */
export interface Conv2DBackpropInputAttrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** Crops `x` along H and W to the windows' crop ranges (no-op when nothing is cropped). */
export function cropHW(
  scope: KernelScope,
  x: tf.TensorInfo,
  h: AxisWindow,
  w: AxisWindow,
): tf.TensorInfo {
  const [n, height, width, c] = x.shape;
  if (h.cropStart === 0 && h.cropSize === height && w.cropStart === 0 && w.cropSize === width) {
    return x;
  }
  return scope.run("Slice", { x }, {
    begin: [0, h.cropStart, w.cropStart, 0],
    size: [n, h.cropSize, w.cropSize, c],
  });
}

function phaseConv(
  scope: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  ph: TransposedPhase,
  pw: TransposedPhase,
  strides: [number, number],
  batch: number,
  channels: number,
): tf.TensorInfo {
  const [kh, kw, inC, outC] = filter.shape;
  if (ph.taps === 0 || pw.taps === 0 || ph.window.cropSize === 0 || pw.window.cropSize === 0) {
    return scope.run("Fill", {}, {
      shape: [batch, ph.outputs, pw.outputs, channels],
      value: 0,
      dtype: "float32",
    });
  }
  let taps = filter;
  if (strides[0] > 1 || strides[1] > 1) {
    taps = scope.run("StridedSlice", { x: filter }, {
      begin: [ph.tap0, pw.tap0, 0, 0],
      end: [kh, kw, inC, outC],
      strides: [strides[0], strides[1], 1, 1],
      beginMask: 0,
      endMask: 0,
      ellipsisMask: 0,
      newAxisMask: 0,
      shrinkAxisMask: 0,
    });
  }
  const reversed = scope.run("Reverse", { x: taps }, { dims: [0, 1] });
  const kernel = scope.run("Transpose", { x: reversed }, { perm: [0, 1, 3, 2] });
  const source = cropHW(scope, dy, ph.window, pw.window);
  return scope.run("Conv2D", { x: source, filter: kernel }, {
    strides: [1, 1],
    pad: [[0, 0], [ph.window.padBefore, ph.window.padAfter], [
      pw.window.padBefore,
      pw.window.padAfter,
    ], [0, 0]],
    dataFormat: "NHWC",
    dilations: [1, 1],
    dimRoundingMode: undefined,
  } as unknown as tf.NamedAttrMap);
}

/** Pads a phase result at the bottom/right to `[n, rows, cols, c]`. */
function padTo(scope: KernelScope, x: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  const [, h, w] = x.shape;
  if (h === rows && w === cols) return x;
  return scope.run("PadV2", { x }, {
    paddings: [[0, 0], [0, rows - h], [0, cols - w], [0, 0]],
    constantValue: 0,
  });
}

/** Computes `Conv2DBackpropInput` on `backend` (registered kernels of `backendName`). */
export function conv2dBackpropInput(
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: Conv2DBackpropInputAttrs,
  backend: tf.KernelBackend,
  backendName: string,
): tf.TensorInfo {
  if (attrs.dataFormat === "NCHW") throw new Error("Conv2DBackpropInput: only NHWC is supported");
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [batch, height, width, channels] = attrs.inputShape;
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const rows = transposedPhases(
    info.filterHeight,
    info.strideHeight,
    info.padInfo.top,
    height,
    info.outHeight,
  );
  const cols = transposedPhases(
    info.filterWidth,
    info.strideWidth,
    info.padInfo.left,
    width,
    info.outWidth,
  );
  return withKernelScope(backend, backendName, (scope) => {
    if (rows.length === 1 && cols.length === 1) {
      return phaseConv(scope, dy, filter, rows[0], cols[0], strides, batch, channels);
    }
    const qh = rows[0].outputs;
    const qw = cols[0].outputs;
    const bands = rows.map((ph) => {
      const parts = cols.map((pw) => {
        const part = padTo(
          scope,
          phaseConv(scope, dy, filter, ph, pw, strides, batch, channels),
          qh,
          qw,
        );
        return scope.run("Reshape", { x: part }, { shape: [batch, qh, qw, 1, channels] });
      });
      const band = scope.run("Concat", parts, { axis: 3 });
      return scope.run("Reshape", { x: band }, {
        shape: [batch, qh, 1, qw, cols.length, channels],
      });
    });
    const stacked = scope.run("Concat", bands, { axis: 2 });
    const full = scope.run("Reshape", { x: stacked }, {
      shape: [batch, qh * rows.length, qw * cols.length, channels],
    });
    if (full.shape[1] === height && full.shape[2] === width) return full;
    return scope.run("Slice", { x: full }, {
      begin: [0, 0, 0, 0],
      size: [batch, height, width, channels],
    });
  });
}
