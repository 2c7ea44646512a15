import type * as tf from "@tensorflow/tfjs";
import { UnsupportedLayerError } from "./errors.ts";
import type { GraphBuilder } from "../onnx_proto/mod.ts";
import type { Value } from "./layout.ts";

/** A weight of a Keras layer: its Keras shape and float32 values. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

/** A per-channel affine map `y = x·scale + shift` (an inference-mode BatchNormalization), in Keras order. */
export interface ChannelAffine {
  scale: Float32Array;
  shift: Float32Array;
}

/** Everything a layer converter needs to translate one Keras layer. */
export interface LayerContext {
  g: GraphBuilder;
  /** Layer name, used to name nodes and initializers. */
  name: string;
  className: string;
  config: tf.serialization.ConfigDict;
  input: Value;
  /** Keras output shape without the batch dimension. */
  outputShape: number[];
  /** The layer's weights by short name (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
  weights: Map<string, Weight>;
  /** A following BatchNormalization folded into this layer (Dense, Conv2D, Conv2DTranspose), or null. */
  fold: ChannelAffine | null;
  /** Dense only: the feature order its output must have in ONNX (see {@link Value.perm}). */
  outputPerm: Int32Array | null;
}

/** The parts of a {@link LayerContext} that describe the layer itself. */
export type LayerInfo = Pick<LayerContext, "name" | "className" | "config" | "weights">;

/** Returns an error for `ctx`'s layer with the given reason. */
export function unsupported(ctx: LayerInfo, reason: string): UnsupportedLayerError {
  return new UnsupportedLayerError(ctx.name, ctx.className, reason);
}

/** The weight `name` of the layer; throws a clear error when the checkpoint lacks it. */
export function weight(ctx: LayerContext, name: string): Weight {
  const w = ctx.weights.get(name);
  if (!w) throw unsupported(ctx, `it has no weight named "${name}"`);
  return w;
}

/** Throws unless the layer's input is an image (rank 4 in Keras, channels last). */
export function requireImage(ctx: LayerContext): [number, number, number] {
  if (ctx.input.shape.length !== 3) {
    throw unsupported(ctx, `expected an image input [H, W, C], got [${ctx.input.shape}]`);
  }
  const format = ctx.config.dataFormat;
  if (format !== undefined && format !== "channelsLast") {
    throw unsupported(ctx, `dataFormat ${format} (only channelsLast)`);
  }
  const [h, w, c] = ctx.input.shape;
  return [h, w, c];
}

/** Reads a config entry that Keras stores as a number or a pair, as a pair. */
export function pair(ctx: LayerContext, key: string, fallback?: number): [number, number] {
  const v = ctx.config[key] ?? fallback;
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number")) {
    return [v[0] as number, v[1] as number];
  }
  throw unsupported(ctx, `unexpected ${key} ${JSON.stringify(v)}`);
}
