/**
 * ONNX graphs, one per convolution kernel call shape, that compute TF.js's NHWC convolution kernels: the layout
 * changes happen inside the graph, so one `run` takes TF.js's tensors as they are and returns TF.js's layout.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { DataType, encodeModel } from "../onnx/mod.ts";
import { GraphBuilder } from "../onnx/graph_builder.ts";
import { transposedPhases } from "../kernels/conv_geometry.ts";

type Shape4 = [number, number, number, number];

/** A graph's input names and shapes, its output shape, and its serialized model. */
export interface KernelGraph {
  inputs: Array<{ name: string; shape: number[] }>;
  outputShape: number[];
  model: Uint8Array;
}

/** ONNX opset of the kernel graphs (Slice with steps, Pad with an input, Gemm without broadcasting quirks). */
const OPSET = 17;

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
/** TF.js filter `[kh, kw, in, out]` → ONNX Conv weight `[out, in, kh, kw]`. */
const HWIO_TO_OIHW = [3, 2, 0, 1];

function finish(
  g: GraphBuilder,
  output: string,
  inputs: KernelGraph["inputs"],
  outputShape: number[],
): KernelGraph {
  g.rename(output, "y");
  const valueInfo = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const model = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "dcgan-deno ort_kernels",
    producerVersion: "1",
    metadataProps: [],
    graph: {
      name: "kernel",
      node: g.nodes,
      initializer: g.initializers,
      input: inputs.map((i) => valueInfo(i.name, i.shape)),
      output: [valueInfo("y", outputShape)],
    },
  });
  return { inputs, outputShape, model };
}

function transpose(g: GraphBuilder, x: string, perm: number[], base: string): string {
  return g.addNode("Transpose", [x], base, { perm: { ints: perm } });
}

/** Fused activations a {@link conv2dGraph} can apply, with LeakyReLU's slope. */
export type FusedActivation = "linear" | "relu" | "relu6" | "elu" | "sigmoid" | "leakyrelu";

/** Activations {@link conv2dGraph} supports (PReLU falls back to the wasm kernel). */
export const FUSED_ACTIVATIONS: readonly string[] = [
  "linear",
  "relu",
  "relu6",
  "elu",
  "sigmoid",
  "leakyrelu",
];

function activate(g: GraphBuilder, x: string, activation: FusedActivation, alpha: number): string {
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return g.addNode("Relu", [x], "relu");
    case "relu6":
      return g.addNode("Clip", [
        x,
        g.addFloat("lo", [], new Float32Array([0])),
        g.addFloat("hi", [], new Float32Array([6])),
      ], "relu6");
    case "elu":
      return g.addNode("Elu", [x], "elu", { alpha: { float: 1 } });
    case "sigmoid":
      return g.addNode("Sigmoid", [x], "sigmoid");
    case "leakyrelu":
      return g.addNode("LeakyRelu", [x], "leakyrelu", { alpha: { float: alpha } });
  }
}

/**
 * `Conv2D` / `FusedConv2D` (NHWC, any stride, dilation and padding TF.js resolves): `x`, `filter` and, when
 * `bias` is true, a `[outC]` bias; the activation is applied after the bias.
 */
export function conv2dGraph(
  info: tf.backend_util.Conv2DInfo,
  bias = false,
  activation: FusedActivation = "linear",
  leakyreluAlpha = 0.2,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const p = info.padInfo;
  const x = transpose(g, "x", NHWC_TO_NCHW, "x_nchw");
  const w = transpose(g, "filter", HWIO_TO_OIHW, "w_oihw");
  const conv = g.addNode("Conv", bias ? [x, w, "bias"] : [x, w], "conv", {
    kernel_shape: { ints: [info.filterHeight, info.filterWidth] },
    strides: { ints: [info.strideHeight, info.strideWidth] },
    dilations: { ints: [info.dilationHeight, info.dilationWidth] },
    pads: { ints: [p.top, p.left, p.bottom, p.right] },
  });
  const y = transpose(g, activate(g, conv, activation, leakyreluAlpha), NCHW_TO_NHWC, "y_nhwc");
  const inputs = [
    { name: "x", shape: info.inShape },
    {
      name: "filter",
      shape: [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels],
    },
  ];
  if (bias) inputs.push({ name: "bias", shape: [info.outChannels] });
  return finish(g, y, inputs, info.outShape);
}

/** Slice end for taps read backwards down to `first` (exclusive end below index 0 must be "before the start"). */
function reverseEnd(first: number, size: number): number {
  return first - 1 >= 0 ? first - 1 : -(size + 1);
}

/**
 * `Conv2DBackpropInput` (the input gradient of Conv2D and Conv2DTranspose's forward pass): one stride-1 convolution
 * per output phase (`strideH·strideW` of them) with that phase's reversed taps, interleaved by a single transpose
 * that also restores NHWC. Returns null when a phase would be empty (the caller keeps the wasm kernel).
 */
export function conv2dBackpropInputGraph(info: tf.backend_util.Conv2DInfo): KernelGraph | null {
  const [batch, height, width, inC] = info.inShape as Shape4;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const rows = transposedPhases(kh, sh, info.padInfo.top, height, info.outHeight);
  const cols = transposedPhases(kw, sw, info.padInfo.left, width, info.outWidth);
  const degenerate = (ph: (typeof rows)[number]) =>
    ph.taps === 0 || ph.outputs === 0 || ph.window.cropSize === 0;
  if (rows.some(degenerate) || cols.some(degenerate)) return null;
  const g = new GraphBuilder("float32");
  const dy = transpose(g, "dy", NHWC_TO_NCHW, "dy_nchw");
  const qh = rows[0].outputs;
  const qw = cols[0].outputs;
  const parts: string[] = [];
  for (const ph of rows) {
    for (const pw of cols) {
      // Taps tap0 + s·j in reverse order, as a [inC, outC, taps_h, taps_w] weight (in/out swapped).
      const taps = g.addNode("Slice", [
        "filter",
        g.addInt64("starts", [2], [ph.tap0 + sh * (ph.taps - 1), pw.tap0 + sw * (pw.taps - 1)]),
        g.addInt64("ends", [2], [reverseEnd(ph.tap0, kh), reverseEnd(pw.tap0, kw)]),
        g.addInt64("axes", [2], [0, 1]),
        g.addInt64("steps", [2], [-sh, -sw]),
      ], "taps");
      const weight = transpose(g, taps, [2, 3, 0, 1], "phase_w");
      const window = g.addNode("Slice", [
        dy,
        g.addInt64("starts", [2], [ph.window.cropStart, pw.window.cropStart]),
        g.addInt64("ends", [2], [
          ph.window.cropStart + ph.window.cropSize,
          pw.window.cropStart + pw.window.cropSize,
        ]),
        g.addInt64("axes", [2], [2, 3]),
      ], "window");
      let part = g.addNode("Conv", [window, weight], "phase", {
        kernel_shape: { ints: [ph.taps, pw.taps] },
        pads: {
          ints: [ph.window.padBefore, pw.window.padBefore, ph.window.padAfter, pw.window.padAfter],
        },
      });
      if (ph.outputs < qh || pw.outputs < qw) {
        part = g.addNode("Pad", [
          part,
          g.addInt64("pads", [8], [0, 0, 0, 0, 0, 0, qh - ph.outputs, qw - pw.outputs]),
        ], "phase_pad");
      }
      parts.push(g.addNode("Unsqueeze", [part, g.addInt64("axis", [1], [0])], "phase_1"));
    }
  }
  let y = parts.length === 1
    ? g.addNode("Squeeze", [parts[0], g.addInt64("axis", [1], [0])], "one")
    : g.addNode(
      "Reshape",
      [
        g.addNode("Concat", parts, "phases", { axis: { int: 0 } }),
        g.addInt64("shape", [6], [sh, sw, batch, inC, qh, qw]),
      ],
      "phases_6d",
    );
  if (parts.length === 1) {
    y = transpose(g, y, NCHW_TO_NHWC, "y_nhwc");
  } else {
    // [sh, sw, n, c, qh, qw] → [n, qh, sh, qw, sw, c]: row q·sh + phase, column q·sw + phase, channels last.
    y = transpose(g, y, [2, 4, 0, 5, 1, 3], "interleaved");
    y = g.addNode("Reshape", [y, g.addInt64("shape", [4], [batch, qh * sh, qw * sw, inC])], "full");
    if (qh * sh !== height || qw * sw !== width) {
      y = g.addNode("Slice", [
        y,
        g.addInt64("starts", [2], [0, 0]),
        g.addInt64("ends", [2], [height, width]),
        g.addInt64("axes", [2], [1, 2]),
      ], "cropped");
    }
  }
  return finish(g, y, [
    { name: "dy", shape: info.outShape },
    { name: "filter", shape: [kh, kw, inC, info.outChannels] },
  ], info.inShape);
}

/**
 * `Conv2DBackpropFilter` (the kernel gradient of Conv2D): for every tap, the strided window of the padded input
 * read as a `[n·outH·outW, inC]` matrix, times `dy` as `[n·outH·outW, outC]` (one GEMM per tap, no patch matrix).
 */
export function conv2dBackpropFilterGraph(info: tf.backend_util.Conv2DInfo): KernelGraph {
  const [batch, height, width, inC] = info.inShape as Shape4;
  const {
    strideHeight: sh,
    strideWidth: sw,
    filterHeight: kh,
    filterWidth: kw,
    outHeight: oh,
    outWidth: ow,
  } = info;
  const outC = info.outChannels;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // The last row/column any tap reads, in unpadded coordinates; pad below/right only as far as that.
  const bottom = Math.max(0, kh - 1 + sh * (oh - 1) - top - (height - 1));
  const right = Math.max(0, kw - 1 + sw * (ow - 1) - left - (width - 1));
  const g = new GraphBuilder("float32");
  const padded = top + left + bottom + right === 0 ? "x" : g.addNode("Pad", [
    "x",
    g.addInt64("pads", [8], [0, top, left, 0, 0, bottom, right, 0]),
  ], "x_padded");
  const rows = batch * oh * ow;
  const dy = g.addNode("Reshape", ["dy", g.addInt64("shape", [2], [rows, outC])], "dy_2d");
  const patchShape = g.addInt64("shape", [2], [rows, inC]);
  const axes = g.addInt64("axes", [2], [1, 2]);
  const steps = g.addInt64("steps", [2], [sh, sw]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = g.addNode("Slice", [
        padded,
        g.addInt64("starts", [2], [i, j]),
        g.addInt64("ends", [2], [i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1]),
        axes,
        steps,
      ], "tap_x");
      const patch = g.addNode("Reshape", [window, patchShape], "tap_2d");
      taps.push(g.addNode("Gemm", [patch, dy], "tap_grad", { transA: { int: 1 } }));
    }
  }
  const all = taps.length === 1 ? taps[0] : g.addNode("Concat", taps, "taps", { axis: { int: 0 } });
  const y = g.addNode("Reshape", [all, g.addInt64("shape", [4], [kh, kw, inC, outC])], "grad");
  return finish(g, y, [
    { name: "x", shape: info.inShape },
    { name: "dy", shape: info.outShape },
  ], [kh, kw, inC, outC]);
}
