/**
 * `Conv2DBackpropFilter` (the kernel gradient of Conv2D) as an ONNX graph: per-tap GEMMs, a patch matrix, or
 * shifted copies of `dy` when `dy` is the narrower operand.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { GraphBuilder } from "../../../onnx_proto/mod.ts";
import type { Shape4 } from "../../tfjs_kernels.ts";
import {
  finish,
  gatherPatches,
  type KernelGraph,
  lastRead,
  padHW,
  PATCH_LIMIT,
  type PatchGeometry,
  patchValues,
  transpose,
} from "./common.ts";

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
