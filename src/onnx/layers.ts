import { activationOf, applyActivation, clip } from "./activations.ts";
import { convertBatchNorm } from "./batch_norm.ts";
import { type LayerContext, unsupported } from "./context.ts";
import {
  convertConv2D,
  convertConv2DTranspose,
  convertGlobalPooling,
  convertPooling,
} from "./conv.ts";
import { convertDense } from "./dense.ts";
import type { Value } from "./layout.ts";
import { convertFlatten, convertReshape } from "./shape_layers.ts";

/** Layers that are the identity at inference time. */
const INFERENCE_IDENTITY = ["Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout"];

/** Keras layer classes the exporter translates. */
export const SUPPORTED_LAYERS = [
  "InputLayer",
  "Dense",
  "Conv2D",
  "Conv2DTranspose",
  "BatchNormalization",
  "ReLU",
  "LeakyReLU",
  "ELU",
  "Softmax",
  "Activation",
  "Flatten",
  "Reshape",
  "MaxPooling2D",
  "AveragePooling2D",
  "GlobalAveragePooling2D",
  "GlobalMaxPooling2D",
  ...INFERENCE_IDENTITY,
];

function numberConfig(ctx: LayerContext, key: string, fallback: number): number {
  const v = ctx.config[key] ?? fallback;
  if (typeof v !== "number") throw unsupported(ctx, `unexpected ${key} ${JSON.stringify(v)}`);
  return v;
}

function unary(ctx: LayerContext, op: string, attrs = {}): Value {
  return { ...ctx.input, name: ctx.g.addNode(op, [ctx.input.name], ctx.name, attrs) };
}

/** Translates one Keras layer (InputLayer excepted) into ONNX nodes and returns its output. */
export function convertLayer(ctx: LayerContext): Value {
  const { className } = ctx;
  if (INFERENCE_IDENTITY.includes(className)) return ctx.input;
  switch (className) {
    case "Dense":
      return convertDense(ctx);
    case "Conv2D":
      return convertConv2D(ctx);
    case "Conv2DTranspose":
      return convertConv2DTranspose(ctx);
    case "BatchNormalization":
      return convertBatchNorm(ctx);
    case "ReLU": {
      const max = ctx.config.maxValue;
      if (max == null) return unary(ctx, "Relu");
      return clip(ctx, ctx.input, 0, numberConfig(ctx, "maxValue", 0), ctx.name);
    }
    case "LeakyReLU":
      return unary(ctx, "LeakyRelu", { alpha: { float: numberConfig(ctx, "alpha", 0.3) } });
    case "ELU":
      return unary(ctx, "Elu", { alpha: { float: numberConfig(ctx, "alpha", 1) } });
    case "Softmax": {
      const axis = ctx.config.axis ?? -1;
      if (axis !== -1 && axis !== ctx.input.shape.length) {
        throw unsupported(ctx, `axis ${JSON.stringify(axis)} (only the last axis)`);
      }
      return unary(ctx, "Softmax", { axis: { int: 1 } });
    }
    case "Activation":
      return applyActivation(ctx, ctx.input, activationOf(ctx));
    case "Flatten":
      return convertFlatten(ctx);
    case "Reshape":
      return convertReshape(ctx);
    case "MaxPooling2D":
      return convertPooling(ctx, "MaxPool");
    case "AveragePooling2D":
      return convertPooling(ctx, "AveragePool");
    case "GlobalAveragePooling2D":
      return convertGlobalPooling(ctx, "GlobalAveragePool");
    case "GlobalMaxPooling2D":
      return convertGlobalPooling(ctx, "GlobalMaxPool");
    default:
      throw unsupported(
        ctx,
        `this layer class is not supported (supported: ${SUPPORTED_LAYERS.join(", ")})`,
      );
  }
}
