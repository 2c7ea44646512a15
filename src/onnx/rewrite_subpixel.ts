/**
 * The `subpixel_conv_transpose` rewrite: a strided 2-D ConvTranspose as a sub-pixel convolution. Output pixel
 * `o = s·q + r − pad` of a stride-`s` transposed convolution sums the inputs `q − t` with the kernel taps
 * `s·t + r`, so each of the s² phases `(r_h, r_w)` is an ordinary stride-1 convolution of the input with its own
 * `⌈K/s⌉`-sized slice of the kernel. One Conv with the s²·C phase kernels as its output channels, a
 * DepthToSpace (DCR: channel `(r_h·s + r_w)·C + c`) that interleaves the phases, and a Slice that drops the
 * padding rows compute the same function, and the whole batch runs as one blocked convolution where onnxruntime's
 * CPU ConvTranspose runs a GEMM and a col2im image by image.
 * @module
 */
import { type GraphEditor, intAttr, intsAttr, stringAttr } from "./graph_edit.ts";
import type { NodeProto } from "../onnx_proto/mod.ts";

/** How one spatial axis of a ConvTranspose maps onto the sub-pixel Conv. */
interface AxisPlan {
  stride: number;
  kernel: number;
  /** Taps of each phase kernel: ⌈kernel / stride⌉. */
  taps: number;
  /** The Conv's end padding (its begin padding is taps − 1). */
  padEnd: number;
  /** Where the ConvTranspose's output starts in the interleaved phases, and where it ends from their end. */
  sliceStart: number;
  sliceEndFromEnd: number;
}

function axisPlan(stride: number, kernel: number, padBegin: number, padEnd: number): AxisPlan {
  const taps = Math.ceil(kernel / stride);
  const convPadEnd = Math.max(0, Math.floor((kernel - 1 - padEnd) / stride));
  // The interleaved phases hold s·(In + convPadEnd) pixels; the ConvTranspose's s·(In − 1) + K − pb − pe of them
  // start at pb, so they end K − s − pe − s·convPadEnd from the interleaved end (never after it).
  return {
    stride,
    kernel,
    taps,
    padEnd: convPadEnd,
    sliceStart: padBegin,
    sliceEndFromEnd: kernel - stride - padEnd - stride * convPadEnd,
  };
}

/** The per-axis plans of `node`, or null when it is not a ConvTranspose this pass rewrites. */
function planOf(node: NodeProto, kernelDims: number[]): [AxisPlan, AxisPlan] | null {
  if (node.opType !== "ConvTranspose" || kernelDims.length !== 4) return null;
  const strides = intsAttr(node, "strides", [1, 1]);
  const [kh, kw] = kernelDims.slice(2);
  const pads = intsAttr(node, "pads", [0, 0, 0, 0]);
  const plain = intAttr(node, "group", 1) === 1 &&
    intsAttr(node, "dilations", [1, 1]).every((d) => d === 1) &&
    intsAttr(node, "output_padding", [0, 0]).every((p) => p === 0) &&
    !node.attribute.some((a) => a.name === "output_shape") &&
    stringAttr(node, "auto_pad", "NOTSET") === "NOTSET";
  if (!plain || strides[0] !== strides[1] || strides[0] < 2) return null;
  const plans: [AxisPlan, AxisPlan] = [
    axisPlan(strides[0], kh, pads[0], pads[2]),
    axisPlan(strides[1], kw, pads[1], pads[3]),
  ];
  return plans.every((p) => p.sliceEndFromEnd <= 0) ? plans : null;
}

/**
 * The phase kernels `[s²·outC, inC, Th, Tw]` of a ConvTranspose kernel `[inC, outC, Kh, Kw]`: phase `(rh, rw)`,
 * channel `c`, tap `(th, tw)` is the ConvTranspose tap `(s·(Th − 1 − th) + rh, s·(Tw − 1 − tw) + rw)` (zero past
 * the kernel's edge).
 */
function subpixelKernels(
  kernel: Float32Array,
  [inC, outC, kh, kw]: number[],
  [y, x]: [AxisPlan, AxisPlan],
): Float32Array {
  const s = y.stride;
  const out = new Float32Array(s * s * outC * inC * y.taps * x.taps);
  let i = 0;
  for (let rh = 0; rh < s; rh++) {
    for (let rw = 0; rw < s; rw++) {
      for (let c = 0; c < outC; c++) {
        for (let ic = 0; ic < inC; ic++) {
          for (let th = 0; th < y.taps; th++) {
            const ky = s * (y.taps - 1 - th) + rh;
            for (let tw = 0; tw < x.taps; tw++, i++) {
              const kx = s * (x.taps - 1 - tw) + rw;
              if (ky < kh && kx < kw) out[i] = kernel[((ic * outC + c) * kh + ky) * kw + kx];
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Rewrites each eligible ConvTranspose of the graph (2-D, equal strides ≥ 2, group 1, no dilation,
 * output_padding, output_shape or auto_pad, constant kernel and bias) into Conv → DepthToSpace → Slice; returns
 * the names of the nodes it rewrote.
 */
export function subpixelConvTranspose(edit: GraphEditor): string[] {
  const rewritten: string[] = [];
  for (const node of [...edit.graph.node]) {
    if (node.opType !== "ConvTranspose") continue;
    const kernel = edit.floatConstant(node.input[1]);
    const bias = node.input[2] ? edit.floatConstant(node.input[2]) : null;
    if (!kernel || (node.input[2] && !bias)) continue;
    const plan = planOf(node, kernel.dims);
    if (!plan) continue;
    const [y, x] = plan;
    const s = y.stride;
    const [inC, outC] = kernel.dims;
    const phases = s * s;
    const weights = subpixelKernels(kernel.data, kernel.dims, plan);
    const convInputs = [
      node.input[0],
      edit.addFloat(
        `${node.name}.subpixel_weight`,
        [phases * outC, inC, y.taps, x.taps],
        weights,
        kernel.dataType,
      ),
    ];
    if (bias) {
      const tiled = new Float32Array(phases * outC).map((_, i) => bias.data[i % outC]);
      convInputs.push(
        edit.addFloat(`${node.name}.subpixel_bias`, [phases * outC], tiled, bias.dataType),
      );
    }
    // Slice ends: counted back from the end (INT64 max when nothing is cut there).
    const end = (p: AxisPlan) =>
      p.sliceEndFromEnd < 0 ? p.sliceEndFromEnd : Number.MAX_SAFE_INTEGER;
    edit.replaceNode(node, [
      {
        opType: "Conv",
        input: convInputs,
        attrs: {
          kernel_shape: { ints: [y.taps, x.taps] },
          pads: { ints: [y.taps - 1, x.taps - 1, y.padEnd, x.padEnd] },
          strides: { ints: [1, 1] },
          dilations: { ints: [1, 1] },
          group: { int: 1 },
        },
      },
      {
        opType: "DepthToSpace",
        input: [""],
        attrs: { blocksize: { int: s }, mode: { string: "DCR" } },
      },
      {
        opType: "Slice",
        input: [
          "",
          edit.addInt64(`${node.name}.slice_starts`, [y.sliceStart, x.sliceStart]),
          edit.addInt64(`${node.name}.slice_ends`, [end(y), end(x)]),
          edit.addInt64(`${node.name}.slice_axes`, [2, 3]),
        ],
      },
    ]);
    rewritten.push(node.name);
  }
  return rewritten;
}

/** The Conv → DepthToSpace → Slice chain that {@link subpixelConvTranspose} writes, found from its DepthToSpace. */
interface SubpixelChain {
  conv: NodeProto;
  depthToSpace: NodeProto;
  slice: NodeProto;
  stride: number;
  starts: number[];
  /** Where the Slice ends, counted back from the end of each axis (0: at the end). */
  endsFromEnd: number[];
}

/** The sub-pixel chain around `d2s`, or null when `d2s` is not the middle of one. */
function subpixelChain(edit: GraphEditor, d2s: NodeProto): SubpixelChain | null {
  const stride = intAttr(d2s, "blocksize", 0);
  if (d2s.opType !== "DepthToSpace" || stride < 2) return null;
  if (stringAttr(d2s, "mode", "DCR") !== "DCR") return null;
  const conv = edit.producer(d2s.input[0]);
  const slice = edit.soleConsumer(d2s.output[0]);
  if (conv?.opType !== "Conv" || edit.soleConsumer(conv.output[0]) !== d2s) return null;
  if (slice?.opType !== "Slice" || slice.input[0] !== d2s.output[0]) return null;
  const [starts, ends, axes, steps] = [1, 2, 3, 4].map((i) =>
    slice.input[i] ? edit.int64Constant(slice.input[i]) : null
  );
  if (
    !starts || !ends || axes?.join() !== "2,3" || (slice.input[4] && !steps?.every((s) => s === 1))
  ) {
    return null;
  }
  // Ends count back from the end (negative) or reach it (at least INT32 max): the chain fits any input size.
  const endsFromEnd = ends.map((e) => e < 0 ? e : e >= 2 ** 31 - 1 ? 0 : NaN);
  if (endsFromEnd.some(Number.isNaN) || starts.some((s) => s < 0)) return null;
  return { conv, depthToSpace: d2s, slice, stride, starts, endsFromEnd };
}

/**
 * The inverse of {@link subpixelConvTranspose}, for runtimes where the ConvTranspose is faster (onnxruntime-web's
 * WebAssembly runs both image by image, and the sub-pixel form adds the interleave): each Conv → DepthToSpace
 * (DCR) → Slice chain whose Conv is stride 1, group 1, undilated, padded `T − 1` at the start, with a constant
 * kernel and a bias equal across the phases, becomes one ConvTranspose with the `s·T` kernel (taps past the
 * original kernel are zeros and change nothing). Returns the names of the chains' Conv nodes.
 */
export function convTransposeFromSubpixel(edit: GraphEditor): string[] {
  const rewritten: string[] = [];
  for (const d2s of [...edit.graph.node]) {
    const chain = d2s.opType === "DepthToSpace" ? subpixelChain(edit, d2s) : null;
    if (!chain) continue;
    const { conv, stride: s } = chain;
    const kernel = edit.floatConstant(conv.input[1]);
    const bias = conv.input[2] ? edit.floatConstant(conv.input[2]) : null;
    if (!kernel || kernel.dims.length !== 4 || (conv.input[2] && !bias)) continue;
    const [phasesC, inC, th, tw] = kernel.dims;
    const outC = phasesC / (s * s);
    const pads = intsAttr(conv, "pads", [0, 0, 0, 0]);
    const plain = Number.isInteger(outC) && intAttr(conv, "group", 1) === 1 &&
      intsAttr(conv, "strides", [1, 1]).every((x) => x === 1) &&
      intsAttr(conv, "dilations", [1, 1]).every((x) => x === 1) &&
      stringAttr(conv, "auto_pad", "NOTSET") === "NOTSET" &&
      pads[0] === th - 1 && pads[1] === tw - 1;
    const tiled = bias?.data.every((v, i) => v === bias.data[i % outC]) ?? true;
    // The ConvTranspose's end pads: its output must end where the Slice ends (see axisPlan).
    const padEnd = [th, tw].map((t, a) => s * t - (chain.endsFromEnd[a] + s + s * pads[2 + a]));
    if (!plain || !tiled || padEnd.some((p) => p < 0)) continue;
    const [kh, kw] = [s * th, s * tw];
    const weights = new Float32Array(inC * outC * kh * kw);
    let i = 0;
    for (let p = 0; p < s * s; p++) {
      const [rh, rw] = [Math.floor(p / s), p % s];
      for (let c = 0; c < outC; c++) {
        for (let ic = 0; ic < inC; ic++) {
          for (let y = 0; y < th; y++) {
            for (let x = 0; x < tw; x++, i++) {
              const [ky, kx] = [s * (th - 1 - y) + rh, s * (tw - 1 - x) + rw];
              weights[((ic * outC + c) * kh + ky) * kw + kx] = kernel.data[i];
            }
          }
        }
      }
    }
    const inputs = [
      conv.input[0],
      edit.addFloat(
        `${conv.name}.transposed_weight`,
        [inC, outC, kh, kw],
        weights,
        kernel.dataType,
      ),
    ];
    if (bias) {
      const own = bias.data.slice(0, outC);
      inputs.push(edit.addFloat(`${conv.name}.transposed_bias`, [outC], own, bias.dataType));
    }
    const base = conv.name.replace(/\/Conv$/, "");
    edit.replaceNodes([conv, d2s, chain.slice], [{
      opType: "ConvTranspose",
      input: inputs,
      attrs: {
        kernel_shape: { ints: [kh, kw] },
        strides: { ints: [s, s] },
        pads: { ints: [chain.starts[0], chain.starts[1], padEnd[0], padEnd[1]] },
        group: { int: 1 },
      },
    }], () => base);
    rewritten.push(conv.name);
  }
  return rewritten;
}
