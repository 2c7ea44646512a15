import { activationOf, applyActivation } from "./activations.ts";
import {
  type ChannelAffine,
  type LayerContext,
  pair,
  requireImage,
  unsupported,
  weight,
} from "./context.ts";
import { transpose, type Value } from "./layout.ts";

/**
 * Keras/TensorFlow 'same' padding of one spatial axis: the output has `ceil(size / stride)` positions and the
 * padding is split with the odd element at the end (bottom/right). Returns `[before, after]`.
 */
export function samePadding(size: number, kernel: number, stride: number, dilation = 1): [
  number,
  number,
] {
  const out = Math.ceil(size / stride);
  const span = (kernel - 1) * dilation + 1;
  const total = Math.max((out - 1) * stride + span - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX `pads` ([top, left, bottom, right]) for a Keras padding mode. */
function padsFor(
  ctx: LayerContext,
  [h, w]: [number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [dh, dw]: [number, number] = [1, 1],
): number[] {
  const padding = ctx.config.padding ?? "valid";
  if (padding === "valid") return [0, 0, 0, 0];
  if (padding !== "same") throw unsupported(ctx, `padding "${padding}" (only same/valid)`);
  const [top, bottom] = samePadding(h, kh, sh, dh);
  const [left, right] = samePadding(w, kw, sw, dw);
  return [top, left, bottom, right];
}

/** Multiplies the output channels (`axis` of an ONNX kernel `dims`) by `scale` and maps the bias. */
function foldInto(
  kernel: Float32Array,
  dims: number[],
  axis: number,
  bias: Float32Array,
  fold: ChannelAffine,
): void {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const start = (o * channels + c) * inner;
      const s = fold.scale[c];
      for (let i = start; i < start + inner; i++) kernel[i] *= s;
    }
  }
  for (let c = 0; c < channels; c++) bias[c] = bias[c] * fold.scale[c] + fold.shift[c];
}

/** The bias to write: the layer's own, zeros when a BatchNorm is folded into a bias-free layer, or null. */
function biasOf(ctx: LayerContext, channels: number): Float32Array | null {
  const own = ctx.weights.get("bias");
  if (own) return own.data.slice();
  return ctx.fold ? new Float32Array(channels) : null;
}

/** Conv2D → ONNX Conv (kernel [kh, kw, in, out] → [out, in, kh, kw]), with Keras's asymmetric 'same' pads. */
export function convertConv2D(ctx: LayerContext): Value {
  const [h, w] = requireImage(ctx);
  const k = weight(ctx, "kernel");
  const [kh, kw, inC, outC] = k.shape;
  const dims = [outC, inC, kh, kw];
  const kernel = transpose(k.data, k.shape, [3, 2, 0, 1]);
  const bias = biasOf(ctx, outC);
  if (ctx.fold && bias) foldInto(kernel, dims, 0, bias, ctx.fold);
  const strides = pair(ctx, "strides", 1);
  const dilations = pair(ctx, "dilationRate", 1);
  const g = ctx.g;
  const inputs = [ctx.input.name, g.addFloat(`${ctx.name}.weight`, dims, kernel)];
  if (bias) inputs.push(g.addFloat(`${ctx.name}.bias`, [outC], bias));
  const out = g.addNode("Conv", inputs, ctx.name, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: strides },
    dilations: { ints: dilations },
    pads: { ints: padsFor(ctx, [h, w], [kh, kw], strides, dilations) },
    group: { int: 1 },
  });
  return applyActivation(ctx, { name: out, shape: ctx.outputShape, perm: null }, activationOf(ctx));
}

/**
 * Conv2DTranspose → ONNX ConvTranspose (kernel [kh, kw, out, in] → [in, out, kh, kw]). The pads reproduce
 * TensorFlow's output size: the forward convolution's 'same' split, or `output_padding` when the kernel is
 * smaller than the stride.
 */
export function convertConv2DTranspose(ctx: LayerContext): Value {
  const [h, w] = requireImage(ctx);
  const [dh, dw] = pair(ctx, "dilationRate", 1);
  if (dh !== 1 || dw !== 1) throw unsupported(ctx, `dilationRate [${dh}, ${dw}] (only 1)`);
  const k = weight(ctx, "kernel");
  const [kh, kw, outC, inC] = k.shape;
  const dims = [inC, outC, kh, kw];
  const kernel = transpose(k.data, k.shape, [3, 2, 0, 1]);
  const bias = biasOf(ctx, outC);
  if (ctx.fold && bias) foldInto(kernel, dims, 1, bias, ctx.fold);
  const [sh, sw] = pair(ctx, "strides", 1);
  const [outH, outW] = ctx.outputShape;
  const axis = (size: number, kSize: number, s: number, out: number) => {
    const total = s * (size - 1) + kSize - out;
    const before = Math.floor(Math.max(total, 0) / 2);
    return { before, after: Math.max(total, 0) - before, extra: Math.max(-total, 0) };
  };
  const y = axis(h, kh, sh, outH);
  const x = axis(w, kw, sw, outW);
  const g = ctx.g;
  const inputs = [ctx.input.name, g.addFloat(`${ctx.name}.weight`, dims, kernel)];
  if (bias) inputs.push(g.addFloat(`${ctx.name}.bias`, [outC], bias));
  const attrs = {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [sh, sw] },
    pads: { ints: [y.before, x.before, y.after, x.after] },
    group: { int: 1 },
    ...(y.extra || x.extra ? { output_padding: { ints: [y.extra, x.extra] } } : {}),
  };
  const out = g.addNode("ConvTranspose", inputs, ctx.name, attrs);
  return applyActivation(ctx, { name: out, shape: ctx.outputShape, perm: null }, activationOf(ctx));
}

/** MaxPooling2D / AveragePooling2D → MaxPool / AveragePool (padding excluded from averages, as in Keras). */
export function convertPooling(ctx: LayerContext, op: "MaxPool" | "AveragePool"): Value {
  const [h, w] = requireImage(ctx);
  const kernel = pair(ctx, "poolSize", 2);
  const strides = ctx.config.strides == null ? kernel : pair(ctx, "strides");
  const out = ctx.g.addNode(op, [ctx.input.name], ctx.name, {
    kernel_shape: { ints: kernel },
    strides: { ints: strides },
    pads: { ints: padsFor(ctx, [h, w], kernel, strides) },
  });
  return { name: out, shape: ctx.outputShape, perm: null };
}

/** GlobalAveragePooling2D / GlobalMaxPooling2D → the global pool and a Flatten to `[N, C]`. */
export function convertGlobalPooling(
  ctx: LayerContext,
  op: "GlobalAveragePool" | "GlobalMaxPool",
): Value {
  requireImage(ctx);
  if (ctx.outputShape.length !== 1) throw unsupported(ctx, "keepDims (only the flat output)");
  const pooled = ctx.g.addNode(op, [ctx.input.name], `${ctx.name}_pool`);
  const out = ctx.g.addNode("Flatten", [pooled], ctx.name, { axis: { int: 1 } });
  return { name: out, shape: ctx.outputShape, perm: null };
}
