/**
 * Training-mode batch normalisation as one kernel call each way where a kernel set provides it (onnxruntime on
 * the wasm backend), instead of the ~40 calls of TF.js's `moments` + `batchNorm` and their tape gradients.
 * {@link fuseBatchNormTraining} routes a model's `BatchNormalization` layers through it; the layers, their
 * weights and their saved form stay TF.js's own, the moving-average update reproduces TF.js's, and every other
 * backend keeps TF.js's code path.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** Kernel: inputs `x`, `scale`, `offset`; attribute `epsilon`; outputs `y`, `mean`, `variance`. */
export const BATCH_NORM_TRAINING = "DcganBatchNormTraining";
/**
 * Its gradient kernel: inputs `dy`, `x`, `mean`, `variance`, `scale`, `dmean`, `dvariance`; attribute `epsilon`;
 * outputs `dx`, `dscale`, `doffset`.
 */
export const BATCH_NORM_TRAINING_GRAD = "DcganBatchNormTrainingGrad";

/** Thrown by a fused kernel that cannot run this call (its graph did not compile); the layer then runs TF.js's path. */
export class FusedBatchNormUnavailable extends Error {}

/** Attributes of both kernels. */
export interface BatchNormTrainingAttrs {
  epsilon: number;
}

let gradientRegistered = false;

function registerGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ["x", "scale"],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [dy, dmean, dvariance] = dys as tf.Tensor[];
      const [x, scale, mean, variance] = saved;
      // One call gives all three gradients; the engine asks for them one at a time.
      const [dx, dscale, doffset] = tf.engine().runKernel(
        BATCH_NORM_TRAINING_GRAD,
        { dy, x, mean, variance, scale, dmean, dvariance },
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
      return { x: () => dx, scale: () => dscale, offset: () => doffset };
    },
  });
}

/** True when the active backend has the fused kernels (a kernel set registered them). */
export function batchNormTrainingFused(): boolean {
  return tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) !== undefined;
}

/**
 * `(x − mean)·scale/sqrt(variance + epsilon) + offset` over the batch statistics of channels-last `x`, and
 * those statistics: what TF.js's `BatchNormalization` layer computes in training, in one kernel call (and one
 * for the gradient). Call only where {@link batchNormTrainingFused} is true.
 */
export function batchNormTraining(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  registerGradient();
  const attrs: BatchNormTrainingAttrs = { epsilon };
  const [y, mean, variance] = tf.engine().runKernel(
    BATCH_NORM_TRAINING,
    { x, scale, offset },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Layers {@link fuseBatchNormTraining} has wrapped already. */
const fused = new WeakSet<tf.layers.Layer>();

/** The parts of TF.js's `BatchNormalization` layer the fused path reads (private in its typings). */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor | tf.Tensor[];
}

/**
 * Routes the training-mode calls of `model`'s `BatchNormalization` layers (channels last, with scale and offset)
 * through {@link batchNormTraining} while the active backend has the fused kernels; every other call, and every
 * call on another backend, runs TF.js's own code. Same mathematics, including the moving-average update
 * `moving ← moving − (moving − batch)·(1 − momentum)`; results differ from TF.js's path by float rounding only.
 */
export function fuseBatchNormTraining(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== "BatchNormalization" || fused.has(layer)) continue;
    fused.add(layer);
    const bn = layer as unknown as BatchNormLayer;
    const original = bn.call;
    bn.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const channelsLast = bn.axis === -1 || bn.axis === x.rank - 1;
      if (
        !kwargs?.training || x.dtype !== "float32" || !channelsLast || !bn.center || !bn.scale ||
        !batchNormTrainingFused()
      ) {
        return original.call(bn, inputs, kwargs);
      }
      try {
        return tf.tidy(() => {
          const { y, mean, variance } = batchNormTraining(
            x,
            bn.gamma.read() as tf.Tensor1D,
            bn.beta.read() as tf.Tensor1D,
            bn.epsilon,
          );
          for (
            const [moving, batch] of [[bn.movingMean, mean], [bn.movingVariance, variance]] as const
          ) {
            const current = moving.read();
            moving.write(tf.sub(current, tf.mul(tf.sub(current, batch), 1 - bn.momentum)));
          }
          return y;
        });
      } catch (e) {
        if (e instanceof FusedBatchNormUnavailable) return original.call(bn, inputs, kwargs);
        throw e;
      }
    };
  }
}
