/**
 * `Conv2D` / `FusedConv2D` as an ONNX graph: an explicit patch matrix and one GEMM for small images with many
 * channels, per-tap scatter for few output channels, onnxruntime's Conv otherwise.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { GraphBuilder } from "../../../onnx_proto/mod.ts";
import {
  finish,
  HWIO_TO_OIHW,
  type KernelGraph,
  lastRead,
  NCHW_TO_NHWC,
  NHWC_TO_NCHW,
  padHW,
  PATCH_LIMIT,
  type PatchGeometry,
  patchMatMul,
  patchValues,
  transpose,
} from "./common.ts";

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
 * one GEMM `W · x2dᵀ` (`[kh·kw·outC, inC] × [inC, n·H·W]`), then each output sums its taps' shifted contributions.
 * The contributions are laid out tap-major (`[taps, outC, n, H, W]`) so that each tap's shifted window is a block
 * of whole image rows. Read with the channel innermost, the 49 windows of the generator's 7×7 output layer were
 * gathers strided by 49, and its forward pass took 3–4× as long as in this layout.
 */
function scatterTaps(g: GraphBuilder, info: tf.backend_util.Conv2DInfo): string {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: inC, outChannels: outC } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow } = info;
  const x2d = g.addNode("Reshape", ["x", g.addInt64("shape", [2], [n * h * w, inC])], "x_2d");
  const weight = g.addNode("Reshape", [
    transpose(g, "filter", [0, 1, 3, 2], "w_hwoi"),
    g.addInt64("shape", [2], [kh * kw * outC, inC]),
  ], "w_2d");
  const contributions = g.addNode("Reshape", [
    g.addNode("Gemm", [weight, x2d], "contributions_2d", { transB: { int: 1 } }),
    g.addInt64("shape", [5], [kh * kw, outC, n, h, w]),
  ], "contributions");
  const { top, left } = info.padInfo;
  const bottom = lastRead(kh, 1, oh, top, h);
  const right = lastRead(kw, 1, ow, left, w);
  const padded = top + left + bottom + right === 0 ? contributions : g.addNode("Pad", [
    contributions,
    g.addInt64("pads", [10], [0, 0, 0, top, left, 0, 0, 0, bottom, right]),
  ], "padded");
  const axes = g.addInt64("axes", [3], [0, 3, 4]);
  const taps: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = i * kw + j;
      taps.push(g.addNode("Slice", [
        padded,
        g.addInt64("starts", [3], [tap, i, j]),
        g.addInt64("ends", [3], [tap + 1, i + oh, j + ow]),
        axes,
      ], "tap"));
    }
  }
  const sum = taps.length === 1 ? taps[0] : g.addNode("Sum", taps, "sum");
  // [1, outC, n, oh, ow] → [n, oh, ow, outC].
  const planes = g.addNode("Reshape", [sum, g.addInt64("shape", [4], [outC, n, oh, ow])], "planes");
  return transpose(g, planes, [1, 2, 3, 0], "y_nhwc");
}
