import * as tf from "@tensorflow/tfjs";
import { latentsForSeed } from "../random/mod.ts";

/** Fresh latents that set the EMA generator's BatchNorm statistics: batches × rows, from a fixed seed. */
export const BATCH_NORM_PASSES = { batches: 10, rows: 32, seed: 0xba7c } as const;

/**
 * The bias-corrected rate of the EMA update after the `t`-th generator update (t ≥ 1):
 * `β_t = (1 − decay) / (1 − decay^t)`. With `ema_t = (1 − β_t)·ema_{t−1} + β_t·w_t` the average equals
 * Adam-style bias correction of a zero-started EMA, `Σ decay^(t−s)·w_s / Σ decay^(t−s)`: it starts at the
 * first update's weights (β_1 = 1), never mixes in the random initial weights, and averages the last
 * ~1/(1 − decay) updates once t is large. Unlike a warm-up cap such as `min(decay, (1+t)/(10+t))`, two
 * decays already differ after a few thousand steps, so a short run can compare them.
 */
export function emaRate(decay: number, t: number): number {
  if (!(t >= 1)) throw new RangeError(`EMA update number must be ≥ 1, got ${t}`);
  return (1 - decay) / (1 - decay ** t);
}

/**
 * An exponential moving average of a generator's trainable weights, held as its own Layers model of the
 * same architecture (same layer and weight names), so it saves, loads, samples and exports like the raw one.
 * Its BatchNorm moving statistics are not averaged: {@link GeneratorEma.refreshStatistics} recomputes them
 * for the averaged weights from forward passes on fresh latents before the model is used (the averaged
 * statistics belong to none of the averaged networks; `models/README.md` has the measurement). It only
 * reads the raw generator: training never sees it.
 */
export class GeneratorEma {
  private constructor(
    /** The averaged generator. */
    readonly model: tf.LayersModel,
    readonly decay: number,
    private readonly source: tf.LayersModel,
  ) {}

  /**
   * An EMA of `generator` that starts from `start` (an EMA generator restored from a checkpoint), or
   * from a copy of `generator`'s current weights (a new run: the first update replaces them anyway).
   */
  static async create(
    generator: tf.LayersModel,
    decay: number,
    start?: tf.LayersModel,
  ): Promise<GeneratorEma> {
    if (!(decay > 0 && decay < 1)) {
      throw new RangeError(`EMA decay must be in (0, 1), got ${decay}`);
    }
    const model = start ?? await tf.models.modelFromJSON({
      modelTopology: generator.toJSON(null, false) as tf.io.ModelJSON["modelTopology"],
    });
    if (!start) model.setWeights(generator.getWeights());
    const shapes = (m: tf.LayersModel) => JSON.stringify(m.weights.map((w) => w.shape));
    if (shapes(model) !== shapes(generator)) {
      throw new RangeError("the EMA generator's weights do not match the generator's");
    }
    return new GeneratorEma(model, decay, generator);
  }

  /** Folds the raw generator's trainable weights after its `t`-th update into the average. */
  update(t: number): void {
    const rate = emaRate(this.decay, t);
    const raw = this.source.trainableWeights;
    tf.tidy(() => {
      const beta = tf.scalar(rate);
      const keep = tf.scalar(1 - rate);
      this.model.trainableWeights.forEach((w, i) => {
        w.write(tf.add(tf.mul(w.read(), keep), tf.mul(raw[i].read(), beta)));
      });
    });
  }

  /**
   * Sets the BatchNorm moving statistics of the averaged generator to its own batch statistics over
   * {@link BATCH_NORM_PASSES}: the cumulative mean over the passes of each batch's mean and variance, as
   * training-mode forward passes compute them. Deterministic, and it depends only on the averaged weights.
   */
  refreshStatistics(): void {
    recomputeBatchNormStatistics(this.model);
  }

  /** Frees the averaged model. */
  dispose(): void {
    this.model.dispose();
  }
}

interface MomentumLayer {
  momentum: number;
}

/**
 * Replaces every BatchNorm layer's moving mean and variance in `model` by the mean, over
 * {@link BATCH_NORM_PASSES} training-mode forward passes, of the batch statistics (pass k uses momentum
 * 1 − 1/k, so the first pass overwrites the old statistics and the result is the running mean). The
 * layers' momentum is restored afterwards, so the saved model's configuration is unchanged.
 */
function recomputeBatchNormStatistics(model: tf.LayersModel): void {
  const layers = model.layers.filter((l) => l.getClassName() === "BatchNormalization");
  const norms = layers as unknown as MomentumLayer[];
  const momentum = norms.map((l) => l.momentum);
  const { batches, rows, seed } = BATCH_NORM_PASSES;
  const latentDim = model.inputs[0].shape[1] as number;
  // Zeroed first, so that the first pass's `old − (old − batch)·1` is the batch statistic exactly and the
  // result does not depend on the statistics before (a resumed run recomputes bit for bit).
  tf.tidy(() => {
    for (const layer of layers) {
      for (const w of layer.nonTrainableWeights) w.write(tf.zerosLike(w.read()));
    }
  });
  try {
    for (let k = 1; k <= batches; k++) {
      norms.forEach((l) => l.momentum = 1 - 1 / k);
      tf.tidy(() => {
        const z = tf.tensor2d(latentsForSeed(seed + k, rows, latentDim), [rows, latentDim]);
        model.apply(z, { training: true });
      });
    }
  } finally {
    norms.forEach((l, i) => l.momentum = momentum[i]);
  }
}
