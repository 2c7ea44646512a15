/**
 * `Conv2DBackpropInput` (the input gradient of Conv2D and the forward pass of Conv2DTranspose) as stride-1
 * convolutions on the backend's fast Conv2D: one sub-convolution per output phase (`stride²` of them, each with the
 * reversed kernel taps of that phase), interleaved back into place (depth-to-space).
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { type AxisWindow, type TransposedPhase, transposedPhases } from "../conv_geometry.ts";
import { type ConvAttrs, convInfo, type HeapBackend } from "../tfjs_kernels.ts";
import { type KernelScope, withKernelScope } from "./kernel_scope.ts";

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

/**
 * The kernel of one phase, `[taps_h, taps_w, outC, inC]`: taps `tap0 + stride·j` in reverse order, in/out channels
 * swapped. A plain typed-array copy (at most the filter's size, no arithmetic): the backend's Reverse and
 * StridedSlice kernels are an order of magnitude slower for this re-layout.
 */
function phaseKernel(
  scope: KernelScope,
  backend: HeapBackend,
  filter: tf.TensorInfo,
  ph: TransposedPhase,
  pw: TransposedPhase,
  strides: [number, number],
): tf.TensorInfo {
  const [, kw, inC, outC] = filter.shape;
  const kernel = scope.adopt(backend.makeOutput([ph.taps, pw.taps, outC, inC], "float32"));
  const target = backend.typedArrayFromHeap(kernel);
  const source = backend.typedArrayFromHeap(filter);
  for (let jh = 0; jh < ph.taps; jh++) {
    const h = ph.tap0 + strides[0] * (ph.taps - 1 - jh);
    for (let jw = 0; jw < pw.taps; jw++) {
      const w = pw.tap0 + strides[1] * (pw.taps - 1 - jw);
      const from = (h * kw + w) * inC * outC;
      const to = (jh * pw.taps + jw) * outC * inC;
      for (let ci = 0; ci < inC; ci++) {
        const row = from + ci * outC;
        for (let co = 0; co < outC; co++) target[to + co * inC + ci] = source[row + co];
      }
    }
  }
  return kernel;
}

function phaseConv(
  scope: KernelScope,
  backend: HeapBackend,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  ph: TransposedPhase,
  pw: TransposedPhase,
  strides: [number, number],
  batch: number,
  channels: number,
): tf.TensorInfo {
  if (ph.taps === 0 || pw.taps === 0 || ph.window.cropSize === 0 || pw.window.cropSize === 0) {
    return scope.run("Fill", {}, {
      shape: [batch, ph.outputs, pw.outputs, channels],
      value: 0,
      dtype: "float32",
    });
  }
  const kernel = phaseKernel(scope, backend, filter, ph, pw, strides);
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
  attrs: ConvAttrs,
  backend: tf.KernelBackend,
  backendName: string,
): tf.TensorInfo {
  if (attrs.dataFormat === "NCHW") throw new Error("Conv2DBackpropInput: only NHWC is supported");
  const info = convInfo(attrs.inputShape!, filter.shape, attrs, 1);
  const [batch, height, width, channels] = attrs.inputShape!;
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
  const heap = backend as HeapBackend;
  return withKernelScope(backend, backendName, (scope) => {
    if (rows.length === 1 && cols.length === 1) {
      return phaseConv(scope, heap, dy, filter, rows[0], cols[0], strides, batch, channels);
    }
    const qh = rows[0].outputs;
    const qw = cols[0].outputs;
    const bands = rows.map((ph) => {
      const parts = cols.map((pw) => {
        const part = padTo(
          scope,
          phaseConv(scope, heap, dy, filter, ph, pw, strides, batch, channels),
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
