import * as tf from "@tensorflow/tfjs";

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
 * An exponential moving average of a generator's weights, held as its own Layers model of the same
 * architecture (same layer and weight names), so it saves, loads, samples and exports like the raw one.
 * Every weight is averaged, the BatchNorm moving mean and variance too (see `models/README.md` for the
 * measurement behind that choice). It only reads the raw generator: training never sees it.
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

  /** Folds the raw generator's weights after its `t`-th update (t = completed steps) into the average. */
  update(t: number): void {
    const rate = emaRate(this.decay, t);
    const raw = this.source.weights;
    tf.tidy(() => {
      const beta = tf.scalar(rate);
      const keep = tf.scalar(1 - rate);
      this.model.weights.forEach((w, i) => {
        w.write(tf.add(tf.mul(w.read(), keep), tf.mul(raw[i].read(), beta)));
      });
    });
  }

  /** Frees the averaged model. */
  dispose(): void {
    this.model.dispose();
  }
}
