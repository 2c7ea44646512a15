import { type LayerContext, unsupported } from "./context.ts";
import type { Value } from "./layout.ts";

/** Keras activation names (as TF.js serialises them) the exporter translates. */
export const ACTIVATIONS = [
  "linear",
  "relu",
  "relu6",
  "elu",
  "selu",
  "tanh",
  "sigmoid",
  "hardSigmoid",
  "softmax",
  "softplus",
  "softsign",
  "swish",
] as const;

/** Emits `max(min(x, hi), lo)` with the bounds as initializers (Clip takes them as inputs since opset 11). */
export function clip(ctx: LayerContext, x: Value, lo: number, hi: number, base: string): Value {
  const g = ctx.g;
  const min = g.addFloat(`${base}.min`, [], new Float32Array([lo]));
  const max = g.addFloat(`${base}.max`, [], new Float32Array([hi]));
  return { ...x, name: g.addNode("Clip", [x.name, min, max], base) };
}

/**
 * Applies a Keras activation to `x`. Every activation here acts element by element or, for softmax, along the
 * channel/feature axis (ONNX axis 1 in both layouts), so the feature order of `x` carries over.
 */
export function applyActivation(ctx: LayerContext, x: Value, activation: string): Value {
  const g = ctx.g;
  const base = `${ctx.name}_${activation}`;
  const unary = (op: string, attrs = {}) => ({ ...x, name: g.addNode(op, [x.name], base, attrs) });
  switch (activation) {
    case "linear":
      return x;
    case "relu":
      return unary("Relu");
    case "relu6":
      return clip(ctx, x, 0, 6, base);
    case "elu":
      return unary("Elu", { alpha: { float: 1 } });
    case "selu":
      return unary("Selu");
    case "tanh":
      return unary("Tanh");
    case "sigmoid":
      return unary("Sigmoid");
    case "hardSigmoid":
      return unary("HardSigmoid", { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case "softmax":
      return unary("Softmax", { axis: { int: 1 } });
    case "softplus":
      return unary("Softplus");
    case "softsign":
      return unary("Softsign");
    case "swish": {
      const s = g.addNode("Sigmoid", [x.name], `${base}_sigmoid`);
      return { ...x, name: g.addNode("Mul", [x.name, s], base) };
    }
    default:
      throw unsupported(
        ctx,
        `activation "${activation}" (supported: ${ACTIVATIONS.join(", ")})`,
      );
  }
}

/** The `activation` entry of a layer config (linear when absent). */
export function activationOf(ctx: LayerContext): string {
  const a = ctx.config.activation ?? "linear";
  if (typeof a !== "string") throw unsupported(ctx, `unexpected activation ${JSON.stringify(a)}`);
  return a;
}
