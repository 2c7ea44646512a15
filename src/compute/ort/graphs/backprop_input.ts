/**
 * `Conv2DBackpropInput` (the input gradient of Conv2D, and Conv2DTranspose's forward pass) as an ONNX graph.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { GraphBuilder } from "../../../onnx_proto/mod.ts";
import type { Shape4 } from "../../tfjs_kernels.ts";
import { type TransposedPhase, transposedPhases } from "../../conv_geometry.ts";
import {
  finish,
  type KernelGraph,
  NCHW_TO_NHWC,
  NHWC_TO_NCHW,
  padHW,
  PATCH_LIMIT,
  type PatchGeometry,
  patchMatMul,
  patchValues,
  transpose,
} from "./common.ts";

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
