/**
 * Large `Sum`, `Mean` and `BatchMatMul` calls as ONNX graphs.
 * @module
 */
import { GraphBuilder } from "../../../onnx_proto/mod.ts";
import { finish, type KernelGraph, transpose } from "./common.ts";

/** `Sum` / `Mean` over `axes` of a float tensor of shape `shape` (ONNX ReduceSum / ReduceMean). */
export function reduceGraph(
  op: "sum" | "mean",
  shape: number[],
  axes: number[],
  keepDims: boolean,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const keepdims = { int: keepDims ? 1 : 0 };
  // Opset 17: ReduceSum takes its axes as an input, ReduceMean still as an attribute.
  const y = op === "sum"
    ? g.addNode("ReduceSum", ["x", g.addInt64("axes", [axes.length], axes)], "sum", { keepdims })
    : g.addNode("ReduceMean", ["x"], "mean", { axes: { ints: axes }, keepdims });
  const outShape = shape.flatMap((d, i) => axes.includes(i) ? (keepDims ? [1] : []) : [d]);
  return finish(g, y, [{ name: "x", shape }], outShape);
}

/**
 * `BatchMatMul` of `a` `[batch, m, k]` and `b` `[batch, k, n]` (each possibly stored transposed), as one Gemm
 * when the batch is 1 (TF.js's dense layers) and MatMul over the batch otherwise.
 */
export function batchMatMulGraph(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
): KernelGraph {
  const g = new GraphBuilder("float32");
  const batch = aShape[0];
  const m = transposeA ? aShape[2] : aShape[1];
  const n = transposeB ? bShape[1] : bShape[2];
  let y: string;
  if (batch === 1) {
    const flat = (name: string, shape: number[]) =>
      g.addNode("Reshape", [name, g.addInt64("shape", [2], shape.slice(1))], `${name}_2d`);
    const product = g.addNode("Gemm", [flat("a", aShape), flat("b", bShape)], "product", {
      transA: { int: transposeA ? 1 : 0 },
      transB: { int: transposeB ? 1 : 0 },
    });
    y = g.addNode("Reshape", [product, g.addInt64("shape", [3], [1, m, n])], "product_3d");
  } else {
    const a = transposeA ? transpose(g, "a", [0, 2, 1], "a_t") : "a";
    const b = transposeB ? transpose(g, "b", [0, 2, 1], "b_t") : "b";
    y = g.addNode("MatMul", [a, b], "product");
  }
  return finish(g, y, [{ name: "a", shape: aShape }, { name: "b", shape: bShape }], [batch, m, n]);
}
