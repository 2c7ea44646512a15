/**
 * ONNX graphs, one per kernel call shape, that compute TF.js's NHWC convolution kernels (and large reductions and
 * matrix products): layout changes happen inside the graph, so one `run` takes TF.js's tensors as they are and
 * returns TF.js's layout.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { DataType, encodeModel, GraphBuilder } from "../onnx_proto/mod.ts";
import { type TransposedPhase, transposedPhases } from "../kernels/conv_geometry.ts";

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

/**
 * Largest patch matrix (values) gathered for one matrix product. Below it, an explicit patch matrix times the
 * weights beats onnxruntime's Conv on these shapes (small images, many channels); above it, Conv is faster.
 */
export const PATCH_LIMIT = 16 * 1024 * 1024;

/** Geometry of a stride-(sh, sw) correlation whose input is already padded so that every read is in range. */
interface PatchGeometry {
  batch: number;
  channels: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  outH: number;
  outW: number;
  outC: number;
}

/** Values in the patch matrix of `p`. */
export function patchValues(p: PatchGeometry): number {
  return p.batch * p.outH * p.outW * p.kh * p.kw * p.channels;
}

/** The `[batch·outH·outW, kh·kw·channels]` patch matrix of NHWC `x` (rows in output order, tap-major columns). */
function gatherPatches(g: GraphBuilder, x: string, p: PatchGeometry): string {
  const axes = g.addInt64("axes", [2], [1, 2]);
  const steps = g.addInt64("steps", [2], [p.sh, p.sw]);
  const taps: string[] = [];
  for (let i = 0; i < p.kh; i++) {
    for (let j = 0; j < p.kw; j++) {
      taps.push(g.addNode("Slice", [
        x,
        g.addInt64("starts", [2], [i, j]),
        g.addInt64("ends", [2], [i + p.sh * (p.outH - 1) + 1, j + p.sw * (p.outW - 1) + 1]),
        axes,
        steps,
      ], "tap"));
    }
  }
  const patches = taps.length === 1
    ? taps[0]
    : g.addNode("Concat", taps, "patches", { axis: { int: 3 } });
  return g.addNode("Reshape", [
    patches,
    g.addInt64("shape", [2], [p.batch * p.outH * p.outW, p.kh * p.kw * p.channels]),
  ], "patches_2d");
}

/**
 * The correlation of NHWC `x` with `weight` (`[kh·kw·channels, outC]`, rows in tap-major order) as one matrix
 * product over the gathered patch matrix. NHWC in and out, no transposes.
 */
function patchMatMul(g: GraphBuilder, x: string, weight: string, p: PatchGeometry): string {
  const product = g.addNode("MatMul", [gatherPatches(g, x, p), weight], "product");
  return g.addNode("Reshape", [
    product,
    g.addInt64("shape", [4], [p.batch, p.outH, p.outW, p.outC]),
  ], "product_nhwc");
}

/** Zero-pads H and W of NHWC `x` (no node when nothing is padded). */
function padHW(
  g: GraphBuilder,
  x: string,
  top: number,
  left: number,
  bottom: number,
  right: number,
): string {
  if (top + left + bottom + right === 0) return x;
  return g.addNode(
    "Pad",
    [x, g.addInt64("pads", [8], [0, top, left, 0, 0, bottom, right, 0])],
    "padded",
  );
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
  patchLimit = PATCH_LIMIT,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const p = info.padInfo;
  const inputs = [
    { name: "x", shape: info.inShape },
    {
      name: "filter",
      shape: [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels],
    },
  ];
  if (bias) inputs.push({ name: "bias", shape: [info.outChannels] });
  const patches: PatchGeometry = {
    batch: info.batchSize,
    channels: info.inChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
  };
  const dense = info.dilationHeight === 1 && info.dilationWidth === 1;
  const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
  const positions = info.batchSize * info.inHeight * info.inWidth;
  if (dense && stride1 && 4 * info.outChannels <= info.inChannels) {
    const taps = info.filterHeight * info.filterWidth;
    if (positions * taps * info.outChannels <= patchLimit) {
      let y = scatterTaps(g, info);
      if (bias) y = g.addNode("Add", [y, "bias"], "biased");
      return finish(g, activate(g, y, activation, leakyreluAlpha), inputs, info.outShape);
    }
  }
  if (dense && patchValues(patches) <= patchLimit) {
    // Pad only as far as the last tap reads (TF.js's 'same' may pad one row more than is read).
    const bottom = lastRead(patches.kh, patches.sh, patches.outH, p.top, info.inHeight);
    const right = lastRead(patches.kw, patches.sw, patches.outW, p.left, info.inWidth);
    const x = padHW(g, "x", p.top, p.left, bottom, right);
    const weight = g.addNode("Reshape", [
      "filter",
      g.addInt64("shape", [2], [patches.kh * patches.kw * patches.channels, patches.outC]),
    ], "w_2d");
    let y = patchMatMul(g, x, weight, patches);
    if (bias) y = g.addNode("Add", [y, "bias"], "biased");
    return finish(g, activate(g, y, activation, leakyreluAlpha), inputs, info.outShape);
  }
  const x = transpose(g, "x", NHWC_TO_NCHW, "x_nchw");
  const w = transpose(g, "filter", HWIO_TO_OIHW, "w_oihw");
  const conv = g.addNode("Conv", bias ? [x, w, "bias"] : [x, w], "conv", {
    kernel_shape: { ints: [info.filterHeight, info.filterWidth] },
    strides: { ints: [info.strideHeight, info.strideWidth] },
    dilations: { ints: [info.dilationHeight, info.dilationWidth] },
    pads: { ints: [p.top, p.left, p.bottom, p.right] },
  });
  const y = transpose(g, activate(g, conv, activation, leakyreluAlpha), NCHW_TO_NHWC, "y_nhwc");
  return finish(g, y, inputs, info.outShape);
}

/**
 * A stride-1 convolution with few output channels: every input position's contribution to every tap first, as
 * one GEMM `x2d · W` (`[n·H·W, inC] × [inC, kh·kw·outC]`), then each output sums its taps' shifted contributions.
 */
function scatterTaps(g: GraphBuilder, info: tf.backend_util.Conv2DInfo): string {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: inC, outChannels: outC } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const x2d = g.addNode("Reshape", ["x", g.addInt64("shape", [2], [n * h * w, inC])], "x_2d");
  const weight = g.addNode("Reshape", [
    transpose(g, "filter", [2, 0, 1, 3], "w_ihwo"),
    g.addInt64("shape", [2], [inC, kh * kw * outC]),
  ], "w_2d");
  const contributions = g.addNode("Reshape", [
    g.addNode("MatMul", [x2d, weight], "contributions_2d"),
    g.addInt64("shape", [4], [n, h, w, kh * kw * outC]),
  ], "contributions");
  const { top, left } = info.padInfo;
  const padded = padHW(
    g,
    contributions,
    top,
    left,
    lastRead(kh, 1, oh, top, h),
    lastRead(kw, 1, ow, left, w),
  );
  const axes = g.addInt64("axes", [3], [1, 2, 3]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const channel = (i * kw + j) * outC;
      taps.push(g.addNode("Slice", [
        padded,
        g.addInt64("starts", [3], [i, j, channel]),
        g.addInt64("ends", [3], [i + oh, j + ow, channel + outC]),
        axes,
      ], "tap"));
    }
  }
  return taps.length === 1 ? taps[0] : g.addNode("Sum", taps, "sum");
}

/** Padding needed after an axis of length `size` so that the last tap of the last output is in range. */
function lastRead(
  kernel: number,
  stride: number,
  outputs: number,
  padBefore: number,
  size: number,
): number {
  return Math.max(0, kernel - 1 + stride * (outputs - 1) - padBefore - (size - 1));
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
export function conv2dBackpropInputGraph(
  info: tf.backend_util.Conv2DInfo,
  patchLimit = PATCH_LIMIT,
): KernelGraph | null {
  const [batch, height, width, inC] = info.inShape as Shape4;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const outC = info.outChannels;
  const rows = transposedPhases(kh, sh, info.padInfo.top, height, info.outHeight);
  const cols = transposedPhases(kw, sw, info.padInfo.left, width, info.outWidth);
  const degenerate = (ph: TransposedPhase) =>
    ph.taps === 0 || ph.outputs === 0 || ph.window.cropSize === 0;
  if (rows.some(degenerate) || cols.some(degenerate)) return null;
  const geometry = (ph: TransposedPhase, pw: TransposedPhase): PatchGeometry => ({
    batch,
    channels: outC,
    kh: ph.taps,
    kw: pw.taps,
    sh: 1,
    sw: 1,
    outH: ph.outputs,
    outW: pw.outputs,
    outC: inC,
  });
  // Phases as patch matrix products (NHWC throughout) when every patch matrix is small, else as Convs (NCHW).
  const nhwc = rows.every((ph) => cols.every((pw) => patchValues(geometry(ph, pw)) <= patchLimit));
  const g = new GraphBuilder("float32");
  const dy = nhwc ? "dy" : transpose(g, "dy", NHWC_TO_NCHW, "dy_nchw");
  const [hAxis, wAxis] = nhwc ? [1, 2] : [2, 3];
  const qh = rows[0].outputs;
  const qw = cols[0].outputs;
  const parts: string[] = [];
  for (const ph of rows) {
    for (const pw of cols) {
      // This phase's taps tap0 + s·j in reverse order: [taps_h, taps_w, inC, outC].
      const taps = g.addNode("Slice", [
        "filter",
        g.addInt64("starts", [2], [ph.tap0 + sh * (ph.taps - 1), pw.tap0 + sw * (pw.taps - 1)]),
        g.addInt64("ends", [2], [reverseEnd(ph.tap0, kh), reverseEnd(pw.tap0, kw)]),
        g.addInt64("axes", [2], [0, 1]),
        g.addInt64("steps", [2], [-sh, -sw]),
      ], "taps");
      const window = g.addNode("Slice", [
        dy,
        g.addInt64("starts", [2], [ph.window.cropStart, pw.window.cropStart]),
        g.addInt64("ends", [2], [
          ph.window.cropStart + ph.window.cropSize,
          pw.window.cropStart + pw.window.cropSize,
        ]),
        g.addInt64("axes", [2], [hAxis, wAxis]),
      ], "window");
      let part: string;
      if (nhwc) {
        const p = geometry(ph, pw);
        const weight = g.addNode("Reshape", [
          transpose(g, taps, [0, 1, 3, 2], "phase_w"),
          g.addInt64("shape", [2], [p.kh * p.kw * outC, inC]),
        ], "phase_w_2d");
        const w = ph.window;
        const v = pw.window;
        part = patchMatMul(
          g,
          padHW(g, window, w.padBefore, v.padBefore, w.padAfter, v.padAfter),
          weight,
          p,
        );
      } else {
        part = g.addNode("Conv", [window, transpose(g, taps, [2, 3, 0, 1], "phase_w")], "phase", {
          kernel_shape: { ints: [ph.taps, pw.taps] },
          pads: {
            ints: [
              ph.window.padBefore,
              pw.window.padBefore,
              ph.window.padAfter,
              pw.window.padAfter,
            ],
          },
        });
      }
      if (ph.outputs < qh || pw.outputs < qw) {
        const pads = [0, 0, 0, 0, 0, 0, 0, 0];
        pads[4 + hAxis] = qh - ph.outputs;
        pads[4 + wAxis] = qw - pw.outputs;
        part = g.addNode("Pad", [part, g.addInt64("pads", [8], pads)], "phase_pad");
      }
      parts.push(part);
    }
  }
  let y: string;
  if (parts.length === 1) {
    y = nhwc ? parts[0] : transpose(g, parts[0], NCHW_TO_NHWC, "y_nhwc");
  } else {
    const stacked = g.addNode(
      "Concat",
      parts.map((part) => g.addNode("Unsqueeze", [part, g.addInt64("axis", [1], [0])], "phase_1")),
      "phases",
      { axis: { int: 0 } },
    );
    // Phases [sh, sw, n, ...] → [n, qh, sh, qw, sw, c]: row q·sh + phase, column q·sw + phase, channels last.
    const sixD = nhwc ? [sh, sw, batch, qh, qw, inC] : [sh, sw, batch, inC, qh, qw];
    const perm = nhwc ? [2, 3, 0, 4, 1, 5] : [2, 4, 0, 5, 1, 3];
    y = g.addNode("Reshape", [stacked, g.addInt64("shape", [6], sixD)], "phases_6d");
    y = transpose(g, y, perm, "interleaved");
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
    { name: "filter", shape: [kh, kw, inC, outC] },
  ], info.inShape);
}

/**
 * `Conv2DBackpropFilter` (the kernel gradient of Conv2D): for every tap, the strided window of the padded input
 * read as a `[n·outH·outW, inC]` matrix, times `dy` as `[n·outH·outW, outC]` (one GEMM per tap, no patch matrix).
 */
export function conv2dBackpropFilterGraph(
  info: tf.backend_util.Conv2DInfo,
  patchLimit = PATCH_LIMIT,
): KernelGraph {
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
  const g = new GraphBuilder("float32");
  const inputs = [{ name: "x", shape: info.inShape }, { name: "dy", shape: info.outShape }];
  const filterShape = [kh, kw, inC, outC];
  const rows = batch * oh * ow;
  const dy = g.addNode("Reshape", ["dy", g.addInt64("shape", [2], [rows, outC])], "dy_2d");
  // Pad x below/right only as far as the last tap reads.
  const padded = () =>
    padHW(g, "x", top, left, lastRead(kh, sh, oh, top, height), lastRead(kw, sw, ow, left, width));
  const patches: PatchGeometry = {
    batch,
    channels: inC,
    kh,
    kw,
    sh,
    sw,
    outH: oh,
    outW: ow,
    outC,
  };
  if (patchValues(patches) <= patchLimit) {
    // Small images: one GEMM over the whole patch matrix.
    const grad = g.addNode("Gemm", [gatherPatches(g, padded(), patches), dy], "grad_2d", {
      transA: { int: 1 },
    });
    return finish(
      g,
      g.addNode("Reshape", [grad, g.addInt64("shape", [4], filterShape)], "grad"),
      inputs,
      filterShape,
    );
  }
  if (sh === 1 && sw === 1 && outC < inC) {
    return finish(g, shiftedGradientGemm(g, info, patchLimit), inputs, filterShape);
  }
  // One GEMM per tap: the tap's strided window of x as [n·outH·outW, inC], times dy.
  const xPadded = padded();
  const patchShape = g.addInt64("shape", [2], [rows, inC]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const window = g.addNode("Slice", [
        xPadded,
        g.addInt64("starts", [2], [i, j]),
        g.addInt64("ends", [2], [i + sh * (oh - 1) + 1, j + sw * (ow - 1) + 1]),
        g.addInt64("axes", [2], [1, 2]),
        g.addInt64("steps", [2], [sh, sw]),
      ], "tap_x");
      const tap = g.addNode("Reshape", [window, patchShape], "tap_2d");
      taps.push(g.addNode("Gemm", [tap, dy], "tap_grad", { transA: { int: 1 } }));
    }
  }
  const all = taps.length === 1 ? taps[0] : g.addNode("Concat", taps, "taps", { axis: { int: 0 } });
  return finish(
    g,
    g.addNode("Reshape", [all, g.addInt64("shape", [4], filterShape)], "grad"),
    inputs,
    filterShape,
  );
}

/**
 * Stride-1 filter gradient when `dy` has fewer channels than `x`: shift `dy` instead of `x`. For tap (i, j),
 * `dW[i, j] = x2dᵀ · shift_ij(dy)` with `x` read once as `[n·H·W, inC]`; taps are batched into GEMMs whose
 * shifted-`dy` matrices stay within `patchLimit` values.
 */
function shiftedGradientGemm(
  g: GraphBuilder,
  info: tf.backend_util.Conv2DInfo,
  patchLimit: number,
): string {
  const [batch, height, width, inC] = info.inShape;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const outC = info.outChannels;
  const { top, left } = info.padInfo;
  // shift_ij(dy)[n, h, w] = dy[n, h + top − i, w + left − j], zero outside dy.
  const padTop = Math.max(0, kh - 1 - top);
  const padLeft = Math.max(0, kw - 1 - left);
  const dyPadded = padHW(
    g,
    "dy",
    padTop,
    padLeft,
    Math.max(0, height - 1 + top - (oh - 1)),
    Math.max(0, width - 1 + left - (ow - 1)),
  );
  const positions = batch * height * width;
  const x2d = g.addNode("Reshape", ["x", g.addInt64("shape", [2], [positions, inC])], "x_2d");
  const perChunk = Math.max(1, Math.floor(patchLimit / (positions * outC)));
  const axes = g.addInt64("axes", [2], [1, 2]);
  const shifts: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r = top - i + padTop;
      const c = left - j + padLeft;
      shifts.push(g.addNode("Slice", [
        dyPadded,
        g.addInt64("starts", [2], [r, c]),
        g.addInt64("ends", [2], [r + height, c + width]),
        axes,
      ], "dy_shift"));
    }
  }
  const chunks: string[] = [];
  for (let k = 0; k < shifts.length; k += perChunk) {
    const group = shifts.slice(k, k + perChunk);
    const stacked = group.length === 1
      ? group[0]
      : g.addNode("Concat", group, "dy_shifts", { axis: { int: 3 } });
    const matrix = g.addNode("Reshape", [
      stacked,
      g.addInt64("shape", [2], [positions, group.length * outC]),
    ], "dy_shifts_2d");
    chunks.push(g.addNode("Gemm", [x2d, matrix], "grad_chunk", { transA: { int: 1 } }));
  }
  const all = chunks.length === 1
    ? chunks[0]
    : g.addNode("Concat", chunks, "grad_chunks", { axis: { int: 1 } });
  // [inC, kh·kw·outC] → [kh, kw, inC, outC].
  const grid = g.addNode(
    "Reshape",
    [all, g.addInt64("shape", [4], [inC, kh, kw, outC])],
    "grad_4d",
  );
  return transpose(g, grid, [1, 2, 0, 3], "grad");
}

/** `Sum` / `Mean` over `axes` of a float tensor of shape `shape` (ONNX ReduceSum / ReduceMean). */
export function reduceGraph(
  op: "sum" | "mean",
  shape: number[],
  axes: number[],
  keepDims: boolean,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const keepdims = { int: keepDims ? 1 : 0 };
  // Opset 17: ReduceSum takes its axes as an input, ReduceMean still as an attribute.
  const y = op === "sum"
    ? g.addNode("ReduceSum", ["x", g.addInt64("axes", [axes.length], axes)], "sum", { keepdims })
    : g.addNode("ReduceMean", ["x"], "mean", { axes: { ints: axes }, keepdims });
  const outShape = shape.flatMap((d, i) => axes.includes(i) ? (keepDims ? [1] : []) : [d]);
  return finish(g, y, [{ name: "x", shape }], outShape);
}

/**
 * `BatchMatMul` of `a` `[batch, m, k]` and `b` `[batch, k, n]` (each possibly stored transposed), as one Gemm
 * when the batch is 1 (TF.js's dense layers) and MatMul over the batch otherwise.
 */
export function batchMatMulGraph(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const batch = aShape[0];
  const m = transposeA ? aShape[2] : aShape[1];
  const n = transposeB ? bShape[1] : bShape[2];
  let y: string;
  if (batch === 1) {
    const flat = (name: string, shape: number[]) =>
      g.addNode("Reshape", [name, g.addInt64("shape", [2], shape.slice(1))], `${name}_2d`);
    const product = g.addNode("Gemm", [flat("a", aShape), flat("b", bShape)], "product", {
      transA: { int: transposeA ? 1 : 0 },
      transB: { int: transposeB ? 1 : 0 },
    });
    y = g.addNode("Reshape", [product, g.addInt64("shape", [3], [1, m, n])], "product_3d");
  } else {
    const a = transposeA ? transpose(g, "a", [0, 2, 1], "a_t") : "a";
    const b = transposeB ? transpose(g, "b", [0, 2, 1], "b_t") : "b";
    y = g.addNode("MatMul", [a, b], "product");
  }
  return finish(g, y, [{ name: "a", shape: aShape }, { name: "b", shape: bShape }], [batch, m, n]);
}
