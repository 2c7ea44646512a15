/**
 * A leaner gradient for `FusedBatchNorm` (TF.js's default tiles `rsqrt(variance)` to the activation's full shape and
 * makes several full-size products). Same mathematics, with per-channel factors folded before they meet the
 * activations: two full-size products and two reductions.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Gradients of `y = (x − mean)·rsqrt(variance + ε)·scale + offset` with respect to every input, given `dy`.
 * `mean`, `variance`, `scale` broadcast against `x` (per channel in the models here).
 */
export function batchNormGrads(
  dy: tf.Tensor,
  x: tf.Tensor,
  mean: tf.Tensor,
  variance: tf.Tensor,
  scale: tf.Tensor | null,
  varianceEpsilon: number,
): Record<"x" | "mean" | "variance" | "scale" | "offset", () => tf.Tensor> {
  const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
  const reduce = (t: tf.Tensor) => tf.reshape(axes.length ? tf.sum(t, axes) : t, mean.shape);
  const gamma = scale ?? tf.scalar(1);
  const rstd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
  const gammaRstd = tf.mul(gamma, rstd);
  const sumDy = () => reduce(dy);
  const sumDyCentered = () => reduce(tf.mul(dy, tf.sub(x, mean)));
  return {
    x: () => tf.mul(dy, gammaRstd),
    mean: () => tf.mul(tf.neg(gammaRstd), sumDy()),
    variance: () =>
      tf.mul(tf.mul(tf.scalar(-0.5), tf.mul(gammaRstd, tf.square(rstd))), sumDyCentered()),
    scale: () => tf.mul(rstd, sumDyCentered()),
    offset: () => sumDy(),
  };
}

/** Registers {@link batchNormGrads} as the gradient of `FusedBatchNorm` (all backends; same values). */
export function registerBatchNormGradient(): void {
  tf.registerGradient({
    kernelName: "FusedBatchNorm",
    inputsToSave: ["x", "mean", "variance", "scale"],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      return batchNormGrads(dy as tf.Tensor, x, mean, variance, scale ?? null, varianceEpsilon);
    },
  });
}
