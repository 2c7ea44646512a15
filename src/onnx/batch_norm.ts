import { type ChannelAffine, type LayerContext, type LayerInfo, unsupported } from "./context.ts";
import { permuteVector, type Value } from "./layout.ts";
import type * as tf from "@tensorflow/tfjs";

/** The inference-mode parameters of a Keras BatchNormalization layer (defaults filled in). */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/**
 * True when a BatchNormalization normalises the channel/feature axis of a tensor of Keras rank `rank`
 * (batch included): the last axis, which is ONNX axis 1 after the layout change.
 */
export function normalisesChannels(config: tf.serialization.ConfigDict, rank: number): boolean {
  const axis = config.axis ?? -1;
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === -1 || a === rank - 1;
}

/** Reads the BatchNormalization parameters from a layer's weights (scale/center off → 1/0). */
export function batchNormParams(ctx: LayerInfo): BatchNormParams {
  const mean = ctx.weights.get("moving_mean")?.data;
  const variance = ctx.weights.get("moving_variance")?.data;
  if (!mean || !variance) throw unsupported(ctx, "it lacks moving_mean/moving_variance");
  const n = mean.length;
  return {
    gamma: ctx.weights.get("gamma")?.data ?? new Float32Array(n).fill(1),
    beta: ctx.weights.get("beta")?.data ?? new Float32Array(n),
    mean,
    variance,
    epsilon: Number(ctx.config.epsilon ?? 1e-3),
  };
}

/** The per-channel affine map of an inference-mode BatchNorm, computed in float64. */
export function batchNormAffine(p: BatchNormParams): ChannelAffine {
  const n = p.mean.length;
  const scale = new Float32Array(n);
  const shift = new Float32Array(n);
  for (let c = 0; c < n; c++) {
    const s = p.gamma[c] / Math.sqrt(p.variance[c] + p.epsilon);
    scale[c] = s;
    shift[c] = p.beta[c] - p.mean[c] * s;
  }
  return { scale, shift };
}

/** A BatchNormalization kept as an ONNX BatchNormalization node (inference form). */
export function convertBatchNorm(ctx: LayerContext): Value {
  if (!normalisesChannels(ctx.config, ctx.input.shape.length + 1)) {
    throw unsupported(ctx, `axis ${JSON.stringify(ctx.config.axis)} (only the channel axis)`);
  }
  const p = batchNormParams(ctx);
  const perm = ctx.input.perm;
  const g = ctx.g;
  const n = p.mean.length;
  const param = (suffix: string, v: Float32Array) =>
    g.addFloat(`${ctx.name}.${suffix}`, [n], permuteVector(v, perm));
  const inputs = [
    ctx.input.name,
    param("gamma", p.gamma),
    param("beta", p.beta),
    param("mean", p.mean),
    param("variance", p.variance),
  ];
  const out = g.addNode("BatchNormalization", inputs, ctx.name, { epsilon: { float: p.epsilon } });
  return { ...ctx.input, name: out };
}
