import { type LayerContext, unsupported } from "./context.ts";
import { chwOrder, invertPerm, samePerm, type Value } from "./layout.ts";

/** Brings a flat value into Keras feature order (a Gather when its order differs). */
function kerasOrder(ctx: LayerContext, x: Value): Value {
  if (samePerm(x.perm, null)) return x;
  const g = ctx.g;
  const inv = Array.from(invertPerm(x.perm!));
  const indices = g.addInt64(`${ctx.name}.order`, [inv.length], inv);
  return {
    ...x,
    perm: null,
    name: g.addNode("Gather", [x.name, indices], `${ctx.name}_order`, {
      axis: { int: 1 },
    }),
  };
}

/** Flattens an image to `[N, H·W·C]`; the features keep the NCHW order, recorded in the value's perm. */
export function flatten(ctx: LayerContext, x: Value, base: string): Value {
  if (x.shape.length === 1) return x;
  const [h, w, c] = x.shape;
  const name = ctx.g.addNode("Flatten", [x.name], base, { axis: { int: 1 } });
  return { name, shape: [h * w * c], perm: chwOrder(h, w, c) };
}

/** Turns a flat value into an image `[H, W, C]` (NCHW in ONNX): a plain Reshape when the order allows it. */
function toImage(ctx: LayerContext, x: Value, [h, w, c]: number[]): Value {
  const g = ctx.g;
  const order = chwOrder(h, w, c);
  const shape = { shape: [h, w, c], perm: null };
  const flat = samePerm(x.perm, order) ? x : kerasOrder(ctx, x);
  if (samePerm(flat.perm, order)) {
    const dims = g.addInt64(`${ctx.name}.shape`, [4], [0, c, h, w]);
    return { ...shape, name: g.addNode("Reshape", [flat.name, dims], ctx.name) };
  }
  const dims = g.addInt64(`${ctx.name}.shape`, [4], [0, h, w, c]);
  const nhwc = g.addNode("Reshape", [flat.name, dims], `${ctx.name}_nhwc`);
  const name = g.addNode("Transpose", [nhwc], ctx.name, { perm: { ints: [0, 3, 1, 2] } });
  return { ...shape, name };
}

/** Keras Reshape between flat vectors and images (in any combination). */
export function convertReshape(ctx: LayerContext): Value {
  const target = ctx.outputShape;
  const x = ctx.input;
  if (target.length !== 1 && target.length !== 3) {
    throw unsupported(ctx, `target shape [${target}] (only [features] or [H, W, C])`);
  }
  if (x.shape.join() === target.join()) return x;
  const flat = flatten(ctx, x, `${ctx.name}_flat`);
  return target.length === 1 ? flat : toImage(ctx, flat, target);
}

/** Keras Flatten. */
export function convertFlatten(ctx: LayerContext): Value {
  if (ctx.input.shape.length !== 1 && ctx.input.shape.length !== 3) {
    throw unsupported(ctx, `input shape [${ctx.input.shape}]`);
  }
  return flatten(ctx, ctx.input, ctx.name);
}
