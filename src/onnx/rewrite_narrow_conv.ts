/**
 * The `narrow_conv_as_transpose` rewrite: a stride-1 Conv with very few output channels (the generator's
 * 64 → 1, 7×7 image layer) as the ConvTranspose of the spatially flipped kernel. Both compute
 * `y[o] = Σ_k x[o + k − pad] · w[k]`; onnxruntime runs the Conv in its blocked NCHWc kernels, which fill a whole
 * block of 8 or 16 output channels to produce one, while its ConvTranspose computes the K²·C per-tap
 * contributions with one GEMM `W[K²·C, inC] · X[inC, H·W]` per image and sums the shifted taps (col2im), so the
 * work is the arithmetic of the layer and no more.
 * @module
 */
import { type GraphEditor, intAttr, intsAttr, stringAttr } from "./graph_edit.ts";
import type { NodeProto } from "../onnx_proto/mod.ts";

/**
 * The most output channels a Conv may have to be rewritten: below the smallest NCHWc block (8), the blocked
 * kernel wastes at least half its lanes.
 */
const NARROW_CONV_MAX_CHANNELS = 4;

/** True when `node` is a Conv this pass rewrites, given its kernel's dims `[outC, inC, Kh, Kw]`. */
function eligible(node: NodeProto, [outC, , kh, kw]: number[]): boolean {
  const pads = intsAttr(node, "pads", [0, 0, 0, 0]);
  return node.opType === "Conv" && outC <= NARROW_CONV_MAX_CHANNELS && kh * kw > 1 &&
    intAttr(node, "group", 1) === 1 &&
    intsAttr(node, "strides", [1, 1]).every((s) => s === 1) &&
    intsAttr(node, "dilations", [1, 1]).every((d) => d === 1) &&
    stringAttr(node, "auto_pad", "NOTSET") === "NOTSET" &&
    pads[0] < kh && pads[2] < kh && pads[1] < kw && pads[3] < kw;
}

/** The ConvTranspose kernel `[inC, outC, Kh, Kw]` of a Conv kernel `[outC, inC, Kh, Kw]`, flipped in space. */
function flippedTransposedKernel(
  kernel: Float32Array,
  [outC, inC, kh, kw]: number[],
): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          out[((i * outC + o) * kh + kh - 1 - y) * kw + kw - 1 - x] =
            kernel[((o * inC + i) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
}

/**
 * Rewrites each eligible Conv of the graph (2-D, at most {@link NARROW_CONV_MAX_CHANNELS} output channels, a
 * kernel larger than 1×1, stride 1, no dilation, group 1, explicit pads smaller than the kernel, constant kernel
 * and bias) into a ConvTranspose with pads `K − 1 − pad`; returns the names of the nodes it rewrote.
 */
export function narrowConvAsTranspose(edit: GraphEditor): string[] {
  const rewritten: string[] = [];
  for (const node of [...edit.graph.node]) {
    if (node.opType !== "Conv") continue;
    const kernel = edit.floatConstant(node.input[1]);
    if (!kernel || kernel.dims.length !== 4 || !eligible(node, kernel.dims)) continue;
    if (node.input[2] && !edit.floatConstant(node.input[2])) continue;
    const [outC, inC, kh, kw] = kernel.dims;
    const [top, left, bottom, right] = intsAttr(node, "pads", [0, 0, 0, 0]);
    const weight = edit.addFloat(
      `${node.name}.transposed_weight`,
      [inC, outC, kh, kw],
      flippedTransposedKernel(kernel.data, kernel.dims),
      kernel.dataType,
    );
    edit.replaceNode(node, [{
      opType: "ConvTranspose",
      input: node.input[2] ? [node.input[0], weight, node.input[2]] : [node.input[0], weight],
      attrs: {
        kernel_shape: { ints: [kh, kw] },
        pads: { ints: [kh - 1 - top, kw - 1 - left, kh - 1 - bottom, kw - 1 - right] },
        strides: { ints: [1, 1] },
        group: { int: 1 },
      },
    }]);
    rewritten.push(node.name);
  }
  return rewritten;
}
