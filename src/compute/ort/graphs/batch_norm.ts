/**
 * Batch normalisation (channels last) as ONNX graphs: in training (statistics of the batch), the forward pass with
 * its batch mean and variance, and every input gradient in one pass; in inference, TF.js's `FusedBatchNorm`. In
 * TF.js the layer's `moments`, `batchNorm` and their gradients are about 40 kernel calls a layer, several of them
 * full-size copies; here each direction is one call.
 *
 * Per-channel sums are products with a row of ones (`[1, M] × [M, C]`), which onnxruntime ran faster than a
 * ReduceSum over the leading axes of a channels-last tensor when these graphs were written (2–4× on the
 * generator's shapes, standalone; `reduceGraph` still uses ReduceSum).
 * @module
 */
import { GraphBuilder } from "../../../onnx_proto/mod.ts";
import { finish, finishOutputs, type KernelGraph } from "./common.ts";

/** Rows `M` (every axis but the last) and channels `C` of a channels-last shape. */
function rowsAndChannels(shape: number[]): [number, number] {
  const channels = shape[shape.length - 1];
  return [shape.reduce((a, b) => a * b, 1) / channels, channels];
}

/** `x` (any channels-last shape) as `[M, C]`. */
function asRows(g: GraphBuilder, x: string, m: number, c: number): string {
  return g.addNode("Reshape", [x, g.addInt64("shape", [2], [m, c])], `${x}_rows`);
}

/** `t` reshaped to `dims`. */
function reshaped(g: GraphBuilder, t: string, dims: number[]): string {
  return g.addNode("Reshape", [t, g.addInt64("shape", [dims.length], dims)], `${t}_out`);
}

/** A `[1, M]` row of `value`s, to sum `[M, C]` rows per channel as one matrix product. */
function rowOf(g: GraphBuilder, m: number, value: number): string {
  return g.addFloat("row", [1, m], new Float32Array(m).fill(value));
}

/** `1 / sqrt(variance + epsilon)`, per channel. */
function reciprocalStd(g: GraphBuilder, variance: string, epsilon: number): string {
  const eps = g.addFloat("epsilon", [], new Float32Array([epsilon]));
  return g.addNode("Reciprocal", [
    g.addNode("Sqrt", [g.addNode("Add", [variance, eps], "var_eps")], "std"),
  ], "rstd");
}

/**
 * Forward pass: inputs `x` (`shape`, channels last), `scale` and `offset` (`[C]`); outputs
 * `y = (x − mean)·scale/sqrt(variance + epsilon) + offset`, and the batch's `mean` and biased `variance` (`[C]`),
 * the two-pass statistics of TF.js's `moments`.
 */
export function batchNormTrainingGraph(shape: number[], epsilon: number): KernelGraph {
  const [m, c] = rowsAndChannels(shape);
  const g = new GraphBuilder("float32");
  const x = asRows(g, "x", m, c);
  const average = rowOf(g, m, 1 / m);
  const mean = g.addNode("MatMul", [average, x], "mean_row");
  const centred = g.addNode("Sub", [x, mean], "centred");
  const squares = g.addNode("Mul", [centred, centred], "squares");
  const variance = g.addNode("MatMul", [average, squares], "variance_row");
  const factor = g.addNode("Mul", ["scale", reciprocalStd(g, variance, epsilon)], "factor");
  const y = g.addNode("Add", [g.addNode("Mul", [centred, factor], "scaled"), "offset"], "y_rows");
  return finishOutputs(g, [
    { value: reshaped(g, y, shape), shape },
    { value: reshaped(g, mean, [c]), shape: [c] },
    { value: reshaped(g, variance, [c]), shape: [c] },
  ], [
    { name: "x", shape },
    { name: "scale", shape: [c] },
    { name: "offset", shape: [c] },
  ]);
}

/**
 * Backward pass of {@link batchNormTrainingGraph}: inputs `dy`, `x` (`shape`), the forward pass's `mean` and
 * `variance`, `scale`, and the gradients reaching the batch statistics, `dmean` and `dvariance` (`[C]`, zeros when
 * only `y` is used); outputs `dx`, `dscale`, `doffset`.
 *
 * With `d = x − mean`, `r = 1/sqrt(variance + ε)`, `a = scale·r` and per-channel sums `Σdy`, `Σdy·d`:
 * `dscale = r·Σdy·d`, `doffset = Σdy`, and `dx = a·dy + b·d + c` with per-channel
 * `b = −a·r·dscale/M + 2·dvariance/M` and `c = −a·Σdy/M + dmean/M`: three full-size products, no tiling.
 */
export function batchNormTrainingGradGraph(shape: number[], epsilon: number): KernelGraph {
  const [m, c] = rowsAndChannels(shape);
  const g = new GraphBuilder("float32");
  const dy = asRows(g, "dy", m, c);
  const centred = g.addNode("Sub", [asRows(g, "x", m, c), "mean"], "centred");
  const ones = rowOf(g, m, 1);
  const sumDy = g.addNode("MatMul", [ones, dy], "sum_dy");
  const dyCentred = g.addNode("Mul", [dy, centred], "dy_centred");
  const sumDyCentred = g.addNode("MatMul", [ones, dyCentred], "sum_dy_centred");
  const rstd = reciprocalStd(g, "variance", epsilon);
  const a = g.addNode("Mul", ["scale", rstd], "a");
  const dscale = g.addNode("Mul", [sumDyCentred, rstd], "dscale_row");
  const times = (t: string, k: number) =>
    g.addNode("Mul", [t, g.addFloat("k", [], new Float32Array([k]))], `${t}_scaled`);
  const b = g.addNode("Sub", [
    times("dvariance", 2 / m),
    times(g.addNode("Mul", [g.addNode("Mul", [a, rstd], "a_rstd"), dscale], "b_stat"), 1 / m),
  ], "b");
  const cTerm = g.addNode("Sub", [
    times("dmean", 1 / m),
    times(g.addNode("Mul", [a, sumDy], "a_sum_dy"), 1 / m),
  ], "c");
  const dx = g.addNode("Add", [
    g.addNode("Add", [
      g.addNode("Mul", [dy, a], "dy_a"),
      g.addNode("Mul", [centred, b], "centred_b"),
    ], "dx_ab"),
    cTerm,
  ], "dx_rows");
  const vector = { shape: [c] };
  return finishOutputs(g, [
    { value: reshaped(g, dx, shape), shape },
    { value: reshaped(g, dscale, [c]), ...vector },
    { value: reshaped(g, sumDy, [c]), ...vector },
  ], [
    { name: "dy", shape },
    { name: "x", shape },
    { name: "mean", ...vector },
    { name: "variance", ...vector },
    { name: "scale", ...vector },
    { name: "dmean", ...vector },
    { name: "dvariance", ...vector },
  ]);
}

/**
 * `FusedBatchNorm` with given statistics (inference): inputs `x` (`shape`, channels last), `mean`, `variance` and,
 * when present, `offset` and `scale` (`[C]`); output `(x − mean)·scale/sqrt(variance + epsilon) + offset`, in
 * TF.js's order of operations (centring first keeps the digits a large mean would cancel).
 */
export function batchNormGraph(
  shape: number[],
  epsilon: number,
  hasOffset: boolean,
  hasScale: boolean,
): KernelGraph {
  const c = shape[shape.length - 1];
  const g = new GraphBuilder("float32");
  const rstd = reciprocalStd(g, "variance", epsilon);
  const k = hasScale ? g.addNode("Mul", ["scale", rstd], "k") : rstd;
  const scaled = g.addNode("Mul", [g.addNode("Sub", ["x", "mean"], "centred"), k], "scaled");
  const y = hasOffset ? g.addNode("Add", [scaled, "offset"], "y") : scaled;
  const vector = { shape: [c] };
  return finish(g, y, [
    { name: "x", shape },
    { name: "mean", ...vector },
    { name: "variance", ...vector },
    ...(hasOffset ? [{ name: "offset", ...vector }] : []),
    ...(hasScale ? [{ name: "scale", ...vector }] : []),
  ], shape);
}
