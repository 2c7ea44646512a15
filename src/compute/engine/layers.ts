/**
 * The forward and backward passes of a {@link NetSpec} as ONNX nodes, in NCHW with ONNX's own operators (Conv,
 * ConvTranspose, Gemm, BatchNormalization in inference mode, elementwise ops), so onnxruntime's graph optimiser
 * and its MLAS kernels see what they are fast at. The mathematics is TF.js's, layer by layer; where a gradient
 * can be written several ways, the choice and why sit beside the code.
 * @module
 */
import type { GraphBuilder } from "../../onnx_proto/mod.ts";
import { convNode } from "./blocked_conv.ts";
import type { ConvSpec, LayerSpec, NetSpec } from "./spec.ts";

/** Graph names of a network's weights: TF.js weight name → graph value. */
export type WeightNames = Map<string, string>;

/** What the backward pass needs of one layer's forward pass. */
interface Saved {
  /** The layer's input. */
  x: string;
  /** The layer's output (after its activation). */
  y: string;
  /** BatchNorm: the normalised input and `gamma / sqrt(var + eps)`, per channel `[1, C, 1, 1]`. */
  xhat?: string;
  scale?: string;
  /** Dropout: the multiplier (0 or 1/(1 − rate)) in NCHW. */
  mask?: string;
}

/** The result of {@link forward}. */
export interface ForwardPass {
  /** The network's output (NCHW image or `[n, features]`). */
  output: string;
  /** Training mode: BatchNorm layer name → its batch mean and biased variance (`[C]`). */
  batchStats: Map<string, { mean: string; variance: string }>;
  saved: Saved[];
}

/** How a forward pass runs. */
export interface ForwardOptions {
  /** Batch statistics and dropout (training), or moving statistics and no dropout (inference). */
  training: boolean;
  /** Training mode: dropout layer name → its multiplier input in TF.js's NHWC order. */
  dropoutMasks?: Map<string, string>;
  /** Start at this layer index with `input` as its input (a pass that shares the first layers of another). */
  fromLayer?: number;
  /** Stop before this layer index (default: all layers). */
  toLayer?: number;
  /** The CPU's NCHWc block size for blocked Conv kernels, or null for plain Convs. */
  nchwcBlock: number | null;
}

const f32 = (g: GraphBuilder, base: string, v: number) =>
  g.addFloat(base, [], new Float32Array([v]));

/** Per-channel constant shape `[1, C, 1, 1]` for broadcasting over NCHW. */
function perChannel(g: GraphBuilder, v: string, channels: number): string {
  return g.addNode("Reshape", [v, g.addInt64("shape", [4], [1, channels, 1, 1])], "per_channel");
}

/** The other convolution of a pair (Conv ↔ ConvTranspose) with the same weights and geometry: the adjoint. */
function adjointAttrs(s: ConvSpec, fromSize: number, toSize: number, transposedOp: boolean) {
  const { kernel: k, stride, pads } = s;
  const attrs: Record<string, { ints: number[] }> = {
    kernel_shape: { ints: [k, k] },
    strides: { ints: [stride, stride] },
    pads: { ints: pads },
  };
  if (transposedOp) {
    const extra = toSize - ((fromSize - 1) * stride + k - pads[0] - pads[2]);
    if (extra !== 0) attrs.output_padding = { ints: [extra, extra] };
  }
  return attrs;
}

function convForward(
  g: GraphBuilder,
  s: ConvSpec,
  x: string,
  w: WeightNames,
  block: number | null,
): string {
  if (fewOutputs(s)) {
    const y = scatterConv(g, s, x, w);
    return s.activation === "tanh" ? g.addNode("Tanh", [y], `${s.name}_tanh`) : y;
  }
  const inputs = [x, w.get(`${s.name}/kernel`)!, w.get(`${s.name}/bias`)!];
  const y = s.transposed
    ? g.addNode("ConvTranspose", inputs, s.name, adjointAttrs(s, s.inSize, s.outSize, true))
    : convNode(g, inputs, s.name, adjointAttrs(s, s.inSize, s.outSize, false), s, block);
  return s.activation === "tanh" ? g.addNode("Tanh", [y], `${s.name}_tanh`) : y;
}

/** `x` with an NHWC multiplier applied in NCHW. */
function dropout(g: GraphBuilder, x: string, maskNHWC: string): { y: string; mask: string } {
  const mask = g.addNode("Transpose", [maskNHWC], "mask_nchw", { perm: { ints: [0, 3, 1, 2] } });
  return { y: g.addNode("Mul", [x, mask], "dropout"), mask };
}

/** Training-mode BatchNorm: batch mean and biased variance (two-pass, as `tf.moments`), then normalise. */
function batchNormTraining(
  g: GraphBuilder,
  s: Extract<LayerSpec, { kind: "batchnorm" }>,
  x: string,
  w: WeightNames,
) {
  const axes = { axes: { ints: [0, 2, 3] } };
  const mean = g.addNode("ReduceMean", [x], `${s.name}_mean`, axes);
  const centred = g.addNode("Sub", [x, mean], `${s.name}_centred`);
  const variance = g.addNode(
    "ReduceMean",
    [g.addNode("Mul", [centred, centred], "squares")],
    `${s.name}_var`,
    axes,
  );
  const inv = g.addNode(
    "Reciprocal",
    [g.addNode("Sqrt", [g.addNode("Add", [variance, f32(g, "eps", s.epsilon)], "v_eps")], "std")],
    `${s.name}_inv_std`,
  );
  const xhat = g.addNode("Mul", [centred, inv], `${s.name}_xhat`);
  const gamma = perChannel(g, w.get(`${s.name}/gamma`)!, s.channels);
  const beta = perChannel(g, w.get(`${s.name}/beta`)!, s.channels);
  const y = g.addNode("Add", [g.addNode("Mul", [xhat, gamma], "scaled"), beta], s.name);
  const scale = g.addNode("Mul", [gamma, inv], `${s.name}_scale`);
  const flat = (v: string, base: string) =>
    g.addNode("Reshape", [v, g.addInt64("shape", [1], [s.channels])], base);
  return {
    y,
    xhat,
    scale,
    stats: {
      mean: flat(mean, `${s.name}_batch_mean`),
      variance: flat(variance, `${s.name}_batch_var`),
    },
  };
}

/** The forward pass of `net` on `input`, from `fromLayer` to `toLayer` (default: the whole network). */
export function forward(
  g: GraphBuilder,
  net: NetSpec,
  input: string,
  w: WeightNames,
  options: ForwardOptions,
): ForwardPass {
  const batchStats = new Map<string, { mean: string; variance: string }>();
  const saved: Saved[] = [];
  let x = input;
  const to = options.toLayer ?? net.layers.length;
  for (let i = options.fromLayer ?? 0; i < to; i++) {
    const s = net.layers[i];
    g.scope = `${s.name}/forward`;
    const entry: Saved = { x, y: x };
    switch (s.kind) {
      case "dense": {
        const z = g.addNode(
          "Gemm",
          [x, w.get(`${s.name}/kernel`)!, w.get(`${s.name}/bias`)!],
          s.name,
        );
        entry.y = s.activation === "sigmoid" ? g.addNode("Sigmoid", [z], `${s.name}_sigmoid`) : z;
        break;
      }
      case "reshape":
        entry.y = g.addNode("Reshape", [x, g.addInt64("shape", [4], [-1, ...s.chw])], s.name);
        break;
      case "flatten":
        entry.y = g.addNode("Reshape", [x, g.addInt64("shape", [2], [-1, s.features])], s.name);
        break;
      case "conv":
        entry.y = convForward(g, s, x, w, options.nchwcBlock);
        break;
      case "batchnorm":
        if (options.training) {
          const bn = batchNormTraining(g, s, x, w);
          Object.assign(entry, { y: bn.y, xhat: bn.xhat, scale: bn.scale });
          batchStats.set(s.name, bn.stats);
        } else {
          entry.y = g.addNode(
            "BatchNormalization",
            [
              x,
              w.get(`${s.name}/gamma`)!,
              w.get(`${s.name}/beta`)!,
              w.get(`${s.name}/moving_mean`)!,
              w.get(`${s.name}/moving_variance`)!,
            ],
            s.name,
            { epsilon: { float: s.epsilon } },
          );
        }
        break;
      case "relu":
        entry.y = g.addNode("Relu", [x], s.name);
        break;
      case "leakyrelu":
        entry.y = g.addNode("LeakyRelu", [x], s.name, { alpha: { float: s.alpha } });
        break;
      case "dropout":
        if (options.training) {
          const d = dropout(g, x, options.dropoutMasks!.get(s.name)!);
          Object.assign(entry, d);
        }
        break;
    }
    saved.push(entry);
    x = entry.y;
  }
  g.scope = "";
  return { output: x, batchStats, saved };
}

/** What {@link backward} computes. */
export interface BackwardOptions {
  /** Gradients of the trainable weights (false: only the input gradient, through a frozen network). */
  weightGradients: boolean;
  /** The gradient with respect to the pass's input. */
  inputGradient: boolean;
  /** The CPU's NCHWc block size for blocked Conv kernels, or null for plain Convs. */
  nchwcBlock: number | null;
}

/** The result of {@link backward}. */
export interface BackwardPass {
  /** TF.js weight name → gradient value, for every trainable weight the pass covers. */
  grads: Map<string, string>;
  inputGrad: string | null;
}

/**
 * Back-propagates `dy` (the gradient of the loss with respect to the output of the last layer in `pass`, after
 * that layer's activation) through the layers of `pass`, last to first.
 */
export function backward(
  g: GraphBuilder,
  net: NetSpec,
  pass: ForwardPass,
  firstLayer: number,
  dy: string,
  w: WeightNames,
  options: BackwardOptions,
): BackwardPass {
  const grads = new Map<string, string>();
  let grad = dy;
  for (let k = pass.saved.length - 1; k >= 0; k--) {
    const s = net.layers[firstLayer + k];
    const saved = pass.saved[k];
    const needInput = k > 0 || options.inputGradient;
    g.scope = `${s.name}/backward`;
    grad = layerBackward(g, s, saved, grad, w, options, needInput, grads);
  }
  g.scope = "";
  return { grads, inputGrad: options.inputGradient ? grad : null };
}

/** One layer's backward step; returns the gradient with respect to its input ("" when not needed). */
function layerBackward(
  g: GraphBuilder,
  s: LayerSpec,
  saved: Saved,
  dy: string,
  w: WeightNames,
  options: BackwardOptions,
  needInput: boolean,
  grads: Map<string, string>,
): string {
  const weightGrads = options.weightGradients;
  switch (s.kind) {
    case "dense": {
      // A sigmoid output is always followed by the loss, which hands in the gradient before the sigmoid.
      if (weightGrads) {
        grads.set(
          `${s.name}/kernel`,
          g.addNode("Gemm", [saved.x, dy], `d_${s.name}_kernel`, {
            transA: { int: 1 },
          }),
        );
        grads.set(
          `${s.name}/bias`,
          g.addNode("ReduceSum", [dy, g.addInt64("axes", [1], [0])], `d_${s.name}_bias`, {
            keepdims: { int: 0 },
          }),
        );
      }
      return needInput
        ? g.addNode("Gemm", [dy, w.get(`${s.name}/kernel`)!], `d_${s.name}_in`, {
          transB: { int: 1 },
        })
        : "";
    }
    case "reshape":
    case "flatten": {
      const shape = g.addNode("Shape", [saved.x], `${s.name}_in_shape`);
      return g.addNode("Reshape", [dy, shape], `d_${s.name}_in`);
    }
    case "conv":
      return convBackward(g, s, saved, dy, w, options, needInput, grads);
    case "batchnorm":
      return batchNormBackward(g, s, saved, dy, weightGrads, grads);
    case "relu":
      // TF.js: dy · step(x), 0 at x = 0.
      return g.addNode("Where", [
        g.addNode("Greater", [saved.x, f32(g, "zero", 0)], "positive"),
        dy,
        f32(g, "zero", 0),
      ], `d_${s.name}`);
    case "leakyrelu":
      // TF.js: dy where x > 0, else α·dy.
      return g.addNode("Where", [
        g.addNode("Greater", [saved.x, f32(g, "zero", 0)], "positive"),
        dy,
        g.addNode("Mul", [dy, f32(g, "alpha", s.alpha)], "dy_alpha"),
      ], `d_${s.name}`);
    case "dropout":
      return saved.mask ? g.addNode("Mul", [dy, saved.mask], `d_${s.name}`) : dy;
  }
}

/**
 * BatchNorm's gradient with the batch statistics' own gradients folded in (what TF.js's tape gives through
 * `moments`): `dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂))`, `dγ = Σ dy·x̂`, `dβ = Σ dy`.
 */
function batchNormBackward(
  g: GraphBuilder,
  s: Extract<LayerSpec, { kind: "batchnorm" }>,
  saved: Saved,
  dy: string,
  weightGrads: boolean,
  grads: Map<string, string>,
): string {
  const sum = (v: string, base: string) =>
    g.addNode("ReduceSum", [v, g.addInt64("axes", [3], [0, 2, 3])], base, { keepdims: { int: 1 } });
  const mean = (v: string, base: string) =>
    g.addNode("ReduceMean", [v], base, { axes: { ints: [0, 2, 3] } });
  const dyXhat = g.addNode("Mul", [dy, saved.xhat!], "dy_xhat");
  if (weightGrads) {
    const flat = (v: string, base: string) =>
      g.addNode("Reshape", [v, g.addInt64("shape", [1], [s.channels])], base);
    grads.set(`${s.name}/gamma`, flat(sum(dyXhat, "sum_dy_xhat"), `d_${s.name}_gamma`));
    grads.set(`${s.name}/beta`, flat(sum(dy, "sum_dy"), `d_${s.name}_beta`));
  }
  const centred = g.addNode("Sub", [
    g.addNode("Sub", [dy, mean(dy, "mean_dy")], "dy_centred"),
    g.addNode("Mul", [saved.xhat!, mean(dyXhat, "mean_dy_xhat")], "xhat_term"),
  ], "dxhat");
  return g.addNode("Mul", [centred, saved.scale!], `d_${s.name}_in`);
}

/**
 * The input gradient of a stride-1 Conv as a Conv of `dy` with the kernel turned by 180° and its channels
 * swapped, padded by `k − 1 − pad` on each side. onnxruntime runs it in its blocked Conv kernels, about 30 %
 * faster than the ConvTranspose that computes the same (per image, then col2im) on the generator's layers.
 */
function flippedConvInputGradient(
  g: GraphBuilder,
  s: ConvSpec,
  dy: string,
  kernel: string,
  block: number | null,
) {
  const k = s.kernel;
  const flipped = g.addNode("Slice", [
    kernel,
    g.addInt64("starts", [2], [-1, -1]),
    g.addInt64("ends", [2], [-(k + 1), -(k + 1)]),
    g.addInt64("axes", [2], [2, 3]),
    g.addInt64("steps", [2], [-1, -1]),
  ], "kernel_turned");
  const swapped = g.addNode("Transpose", [flipped], "kernel_swapped", CHANNEL_MAJOR);
  const [top, left, bottom, right] = s.pads;
  return convNode(
    g,
    [dy, swapped],
    `d_${s.name}_in`,
    {
      kernel_shape: { ints: [k, k] },
      pads: { ints: [k - 1 - top, k - 1 - left, k - 1 - bottom, k - 1 - right] },
    },
    { inC: s.outC, outC: s.inC },
    block,
  );
}

/** A convolution's bias gradient: `dy` summed over batch and positions. */
function biasGradient(g: GraphBuilder, s: ConvSpec, dy: string): string {
  return g.addNode("ReduceSum", [dy, g.addInt64("axes", [3], [0, 2, 3])], `d_${s.name}_bias`, {
    keepdims: { int: 0 },
  });
}

function convBackward(
  g: GraphBuilder,
  s: ConvSpec,
  saved: Saved,
  dyOut: string,
  w: WeightNames,
  options: BackwardOptions,
  needInput: boolean,
  grads: Map<string, string>,
): string {
  const weightGrads = options.weightGradients;
  const block = options.nchwcBlock;
  const dy = s.activation === "tanh"
    ? g.addNode("Mul", [
      dyOut,
      g.addNode("Sub", [f32(g, "one", 1), g.addNode("Mul", [saved.y, saved.y], "y2")], "dtanh"),
    ], `d_${s.name}_pre`)
    : dyOut;
  if (fewOutputs(s)) {
    const shifts = shiftedOutputs(g, dy, s);
    if (weightGrads) {
      grads.set(`${s.name}/bias`, biasGradient(g, s, dy));
      grads.set(
        `${s.name}/kernel`,
        shiftFilterGradient(g, saved.x, shifts, s, `d_${s.name}_kernel`),
      );
    }
    return needInput ? scatterConvInputGradient(g, s, shifts, w) : "";
  }
  if (weightGrads) {
    grads.set(`${s.name}/bias`, biasGradient(g, s, dy));
    // dW of a Conv correlates its input with dy; of a ConvTranspose, dy (the adjoint Conv's input) with x.
    const [input, output, inSize, outSize, inC, outC] = s.transposed
      ? [dy, saved.x, s.outSize, s.inSize, s.outC, s.inC]
      : [saved.x, dy, s.inSize, s.outSize, s.inC, s.outC];
    grads.set(
      `${s.name}/kernel`,
      filterGradient(g, input, output, { ...s, inSize, outSize, inC, outC }, `d_${s.name}_kernel`),
    );
  }
  if (!needInput) return "";
  const kernel = w.get(`${s.name}/kernel`)!;
  if (!s.transposed && s.stride === 1) {
    return flippedConvInputGradient(g, s, dy, kernel, block);
  }
  return s.transposed
    ? convNode(g, [dy, kernel], `d_${s.name}_in`, adjointAttrs(s, s.outSize, s.inSize, false), {
      inC: s.outC,
      outC: s.inC,
    }, block)
    : g.addNode(
      "ConvTranspose",
      [dy, kernel],
      `d_${s.name}_in`,
      adjointAttrs(s, s.outSize, s.inSize, true),
    );
}

/** Geometry of the correlation `output[n, o, y, x] = Σ input[n, i, y·s + a − top, x·s + b − left]·W[o, i, a, b]`. */
interface Correlation {
  inC: number;
  outC: number;
  inSize: number;
  outSize: number;
  kernel: number;
  stride: number;
  pads: [number, number, number, number];
}

const CHANNEL_MAJOR = { perm: { ints: [1, 0, 2, 3] } };

/**
 * `dW[o, i, a, b] = Σ_{n,y,x} output[n, o, y, x]·input_padded[n, i, y·s + a, x·s + b]` as one GEMM over
 * channel-major operands (`[C, n·H·W]`, so the sum runs over the long axis). The operand that is copied once per
 * tap is the one with fewer values: the input's strided windows in general, or, for a stride-1 correlation whose
 * output has fewer channels, the output shifted by each tap.
 */
function filterGradient(
  g: GraphBuilder,
  input: string,
  output: string,
  c: Correlation,
  base: string,
): string {
  if (c.stride === 1 && c.outC < c.inC) {
    return shiftFilterGradient(g, input, shiftedOutputs(g, output, c), c, base);
  }
  const { inC, outC, inSize, outSize, kernel: k, stride } = c;
  const [top, left] = c.pads;
  const inT = g.addNode("Transpose", [input], "in_cm", CHANNEL_MAJOR);
  const outT = g.addNode("Transpose", [output], "out_cm", CHANNEL_MAJOR);
  const hw = g.addInt64("axes", [2], [2, 3]);
  const last = (outSize - 1) * stride + k - top;
  const padded = pad(g, inT, top, Math.max(0, last - inSize), left);
  const span = stride * (outSize - 1) + 1;
  const taps: string[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      taps.push(g.addNode("Slice", [
        padded,
        g.addInt64("starts", [2], [a, b]),
        g.addInt64("ends", [2], [a + span, b + span]),
        hw,
        g.addInt64("steps", [2], [stride, stride]),
      ], "window"));
    }
  }
  const windows = g.addNode("Reshape", [
    g.addNode("Concat", taps, "windows", { axis: { int: 0 } }),
    g.addInt64("shape", [2], [k * k * inC, -1]),
  ], "windows_2d");
  const out2d = g.addNode("Reshape", [outT, g.addInt64("shape", [2], [outC, -1])], "out_2d");
  const grad = g.addNode("Gemm", [out2d, windows], "grad_2d", { transB: { int: 1 } });
  // [o, a, b, i] → [o, i, a, b]
  return g.addNode(
    "Transpose",
    [
      g.addNode("Reshape", [grad, g.addInt64("shape", [4], [outC, k, k, inC])], "grad_4d"),
    ],
    base,
    { perm: { ints: [0, 3, 1, 2] } },
  );
}

/**
 * Stride 1: the output shifted by every tap, channel-major, as `[k·k·outC, n·H·W]` with rows (a, b, o):
 * `shift_ab(output)[o, n, h, w] = output[n, o, h + top − a, w + left − b]`, zero outside.
 */
function shiftedOutputs(g: GraphBuilder, output: string, c: Correlation): string {
  const { inSize, outSize, outC, kernel: k } = c;
  const [top, left] = c.pads;
  const outT = g.addNode("Transpose", [output], "out_cm", CHANNEL_MAJOR);
  const before = Math.max(0, k - 1 - top);
  const after = Math.max(0, inSize - 1 + top - (outSize - 1));
  const padded = pad(g, outT, before, after);
  const hw = g.addInt64("axes", [2], [2, 3]);
  const taps: string[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const r = top - a + before;
      const col = left - b + before;
      taps.push(g.addNode("Slice", [
        padded,
        g.addInt64("starts", [2], [r, col]),
        g.addInt64("ends", [2], [r + inSize, col + inSize]),
        hw,
      ], "shift"));
    }
  }
  return g.addNode("Reshape", [
    g.addNode("Concat", taps, "shifts", { axis: { int: 0 } }),
    g.addInt64("shape", [2], [k * k * outC, -1]),
  ], "shifts_2d");
}

/** `dW = shifts · inputᵀ` (channel-major), reordered from `[a, b, o, i]` to `[o, i, a, b]`. */
function shiftFilterGradient(
  g: GraphBuilder,
  input: string,
  shifts: string,
  c: Correlation,
  base: string,
): string {
  const { inC, outC, kernel: k } = c;
  const inT = g.addNode("Transpose", [input], "in_cm", CHANNEL_MAJOR);
  const inputs2d = g.addNode("Reshape", [inT, g.addInt64("shape", [2], [inC, -1])], "in_2d");
  const grad = g.addNode("Gemm", [shifts, inputs2d], "grad_2d", { transB: { int: 1 } });
  return g.addNode(
    "Transpose",
    [
      g.addNode("Reshape", [grad, g.addInt64("shape", [4], [k, k, outC, inC])], "grad_4d"),
    ],
    base,
    { perm: { ints: [2, 3, 0, 1] } },
  );
}

/**
 * Whether a Conv is computed tap by tap: stride 1 with few output channels (the generator's 64 → 1 output
 * layer). onnxruntime's blocked Conv kernels handle one output channel poorly (about 11 GFLOP/s on `g_out`).
 */
function fewOutputs(s: ConvSpec): boolean {
  return !s.transposed && s.stride === 1 && 4 * s.outC <= s.inC;
}

/**
 * A stride-1 Conv with few output channels: every input position's contribution to every tap as one GEMM
 * `W · xᵀ` (`[k·k·outC, inC] × [inC, n·H·W]`), then each output sums its taps' shifted contributions.
 */
function scatterConv(g: GraphBuilder, s: ConvSpec, x: string, w: WeightNames): string {
  const { inC, outC, kernel: k, inSize, outSize } = s;
  const [top, left] = s.pads;
  const x2d = g.addNode("Reshape", [
    g.addNode("Transpose", [x], "x_cm", CHANNEL_MAJOR),
    g.addInt64("shape", [2], [inC, -1]),
  ], "x_2d");
  const weight = g.addNode("Reshape", [
    g.addNode("Transpose", [w.get(`${s.name}/kernel`)!], "w_abo_i", {
      perm: { ints: [2, 3, 0, 1] },
    }),
    g.addInt64("shape", [2], [k * k * outC, inC]),
  ], "w_2d");
  const contributions = g.addNode("Reshape", [
    g.addNode("Gemm", [weight, x2d], "contributions_2d"),
    g.addInt64("shape", [5], [k * k, outC, -1, inSize, inSize]),
  ], "contributions");
  const bottom = Math.max(0, k - 1 + (outSize - 1) - top - (inSize - 1));
  const padded = g.addNode("Pad", [
    contributions,
    g.addInt64("pads", [10], [0, 0, 0, top, left, 0, 0, 0, bottom, bottom]),
  ], "padded");
  const axes = g.addInt64("axes", [3], [0, 3, 4]);
  const taps: string[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      const tap = a * k + b;
      taps.push(g.addNode("Slice", [
        padded,
        g.addInt64("starts", [3], [tap, a, b]),
        g.addInt64("ends", [3], [tap + 1, a + outSize, b + outSize]),
        axes,
      ], "tap"));
    }
  }
  const planes = g.addNode("Reshape", [
    g.addNode("Sum", taps, "sum"),
    g.addInt64("shape", [4], [outC, -1, outSize, outSize]),
  ], "planes");
  const y = g.addNode("Transpose", [planes], "y_nchw", CHANNEL_MAJOR);
  return g.addNode("Add", [y, perChannel(g, w.get(`${s.name}/bias`)!, outC)], s.name);
}

/** The input gradient of a {@link scatterConv}: `dx = Wᵀ · shifts(dy)` (`[inC, k·k·outC] × [k·k·outC, n·H·W]`). */
function scatterConvInputGradient(g: GraphBuilder, s: ConvSpec, shifts: string, w: WeightNames) {
  const { inC, outC, kernel: k, inSize } = s;
  const weight = g.addNode("Reshape", [
    g.addNode("Transpose", [w.get(`${s.name}/kernel`)!], "w_i_abo", {
      perm: { ints: [1, 2, 3, 0] },
    }),
    g.addInt64("shape", [2], [inC, k * k * outC]),
  ], "w_t_2d");
  const dx = g.addNode("Reshape", [
    g.addNode("Gemm", [weight, shifts], "dx_2d"),
    g.addInt64("shape", [4], [inC, -1, inSize, inSize]),
  ], "dx_cm");
  return g.addNode("Transpose", [dx], `d_${s.name}_in`, CHANNEL_MAJOR);
}

/** Zero-pads the last two axes of a 4-D tensor (`before` on top, `after` at the bottom, `left`/`after` sideways). */
function pad(g: GraphBuilder, x: string, before: number, after: number, left = before): string {
  if (before + after + left === 0) return x;
  return g.addNode("Pad", [
    x,
    g.addInt64("pads", [8], [0, 0, before, left, 0, 0, after, after]),
  ], "padded");
}
