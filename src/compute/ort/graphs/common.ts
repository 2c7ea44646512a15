/**
 * What every kernel graph shares: the graph's interface and its serialisation, layout permutations, patch matrices
 * and padding.
 * @module
 */
import { DataType, encodeModel, type GraphBuilder } from "../../../onnx_proto/mod.ts";

/** A graph's input names and shapes, its outputs' shapes (in order), and its serialized model. */
export interface KernelGraph {
  inputs: Array<{ name: string; shape: number[] }>;
  outputShapes: number[][];
  model: Uint8Array;
}

/** ONNX opset of the kernel graphs (Slice with steps, Pad with an input, Gemm without broadcasting quirks). */
const OPSET = 17;

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];
/** TF.js filter `[kh, kw, in, out]` → ONNX Conv weight `[out, in, kh, kw]`. */
export const HWIO_TO_OIHW = [3, 2, 0, 1];

/** The graph with one output, `output`, of shape `outputShape`. */
export function finish(
  g: GraphBuilder,
  output: string,
  inputs: KernelGraph["inputs"],
  outputShape: number[],
): KernelGraph {
  return finishOutputs(g, [{ value: output, shape: outputShape }], inputs);
}

/** The graph with the given outputs, in order (a session's outputs are `y0`, `y1`, ...). */
export function finishOutputs(
  g: GraphBuilder,
  outputs: Array<{ value: string; shape: number[] }>,
  inputs: KernelGraph["inputs"],
): KernelGraph {
  outputs.forEach((o, i) => g.rename(o.value, outputName(i)));
  const valueInfo = (name: string, dims: number[]) => ({
    name,
    type: {
      tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
    },
  });
  const model = encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "dcgan-deno compute kernels",
    producerVersion: "1",
    metadataProps: [],
    graph: {
      name: "kernel",
      node: g.nodes,
      initializer: g.initializers,
      input: inputs.map((i) => valueInfo(i.name, i.shape)),
      output: outputs.map((o, i) => valueInfo(outputName(i), o.shape)),
    },
  });
  return { inputs, outputShapes: outputs.map((o) => o.shape), model };
}

/** Name of a kernel graph's `i`th output. */
export function outputName(i: number): string {
  return `y${i}`;
}

export function transpose(g: GraphBuilder, x: string, perm: number[], base: string): string {
  return g.addNode("Transpose", [x], base, { perm: { ints: perm } });
}

/**
 * Largest patch matrix (values) gathered for one matrix product. Below it, an explicit patch matrix times the
 * weights beats onnxruntime's Conv on these shapes (small images, many channels); above it, Conv is faster.
 */
export const PATCH_LIMIT = 16 * 1024 * 1024;

/** Geometry of a stride-(sh, sw) correlation whose input is already padded so that every read is in range. */
export interface PatchGeometry {
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
export function gatherPatches(g: GraphBuilder, x: string, p: PatchGeometry): string {
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
export function patchMatMul(g: GraphBuilder, x: string, weight: string, p: PatchGeometry): string {
  const product = g.addNode("MatMul", [gatherPatches(g, x, p), weight], "product");
  return g.addNode("Reshape", [
    product,
    g.addInt64("shape", [4], [p.batch, p.outH, p.outW, p.outC]),
  ], "product_nhwc");
}

/** Zero-pads H and W of NHWC `x` (no node when nothing is padded). */
export function padHW(
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

/** Padding needed after an axis of length `size` so that the last tap of the last output is in range. */
export function lastRead(
  kernel: number,
  stride: number,
  outputs: number,
  padBefore: number,
  size: number,
): number {
  return Math.max(0, kernel - 1 + stride * (outputs - 1) - padBefore - (size - 1));
}
