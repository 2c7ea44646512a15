import { activationOf, applyActivation } from "./activations.ts";
import { type LayerContext, unsupported, weight } from "./context.ts";
import type { Value } from "./layout.ts";

/**
 * Dense → ONNX Gemm with kernel `[in, out]`. Rows follow the input's feature order, columns the requested output
 * order (so that a following Reshape to an image needs no Transpose); a folded BatchNorm scales the columns.
 */
export function convertDense(ctx: LayerContext): Value {
  if (ctx.input.shape.length !== 1) {
    throw unsupported(ctx, `expected a flat input [features], got [${ctx.input.shape}]`);
  }
  const k = weight(ctx, "kernel");
  const [inF, outF] = k.shape;
  const rows = ctx.input.perm;
  const cols = ctx.outputPerm;
  const own = ctx.weights.get("bias")?.data;
  const fold = ctx.fold;
  const kernel = new Float32Array(inF * outF);
  const bias = own || fold ? new Float32Array(outF) : null;
  for (let j = 0; j < outF; j++) {
    const src = cols ? cols[j] : j;
    const s = fold ? fold.scale[src] : 1;
    for (let i = 0; i < inF; i++) {
      kernel[i * outF + j] = k.data[(rows ? rows[i] : i) * outF + src] * s;
    }
    if (bias) bias[j] = (own ? own[src] : 0) * s + (fold ? fold.shift[src] : 0);
  }
  const g = ctx.g;
  const inputs = [ctx.input.name, g.addFloat(`${ctx.name}.weight`, [inF, outF], kernel)];
  if (bias) inputs.push(g.addFloat(`${ctx.name}.bias`, [outF], bias));
  const out = g.addNode("Gemm", inputs, ctx.name);
  return applyActivation(ctx, { name: out, shape: [outF], perm: cols }, activationOf(ctx));
}
