import * as tf from "@tensorflow/tfjs";
import { fuseBatchNormTraining } from "../compute/mod.ts";
import type { GeneratorEma } from "./ema.ts";

/**
 * The random inputs of one reference training step, as plain arrays so a step can be replayed, timed or
 * fed from any source. `batch` = `noise.length / latentDim`.
 */
export interface StepBatch {
  /** Real images scaled to [-1, 1], `[batch, height, width, channels]` row-major. */
  real: Float32Array;
  /** Latent vectors, `[batch, latentDim]`; the same noise feeds the fake batch and the generator update. */
  noise: Float32Array;
  /** Noisy targets of the real batch (1 + labelNoise·N(0,1)), one per image. */
  realLabels: Float32Array;
  /** Noisy targets of the fake batch (0 + labelNoise·N(0,1)), one per image. */
  fakeLabels: Float32Array;
  /**
   * Dropout seeds: one per discriminator Dropout layer for each of the three discriminator passes (real
   * update, fake update, generator update), in that order.
   */
  dropoutSeeds: Uint32Array;
}

/** Losses and accuracy of one step, as the reference reports them. */
export interface StepLosses {
  /**
   * Mean binary cross-entropy of the two discriminator updates (before each update); NaN when a
   * prediction was NaN or infinite (as Keras would report it).
   */
  dLoss: number;
  /** Mean accuracy of the two discriminator updates (0–1), predictions > 0.5 against clean 1/0 labels. */
  dAcc: number;
  /** Binary cross-entropy of the generator update (targets exactly 1); NaN as for `dLoss`. */
  gLoss: number;
}

/** What one update of a step measured on the forward pass that computed its gradients. */
export interface PassResult {
  loss: number;
  /** Accuracy against the clean labels (0–1). */
  accuracy: number;
  /** Sum of the predictions: not finite when one prediction is not. */
  predictionSum: number;
}

/**
 * A step's losses as the reference reports them from its three updates: D loss and accuracy the means of the
 * two discriminator updates, a loss NaN when one of its predictions was NaN or infinite (the loss's clipping
 * would otherwise hide it, on backends whose clip turns NaN into a bound).
 */
export function stepLosses(real: PassResult, fake: PassResult, generator: PassResult): StepLosses {
  const finite = (loss: number, ...sums: number[]) => sums.every(Number.isFinite) ? loss : NaN;
  return {
    dLoss: finite(0.5 * (real.loss + fake.loss), real.predictionSum, fake.predictionSum),
    dAcc: 0.5 * (real.accuracy + fake.accuracy),
    gLoss: finite(generator.loss, generator.predictionSum),
  };
}

/** Hyperparameters of the two Adam optimisers. */
export interface OptimizerOptions {
  /** Learning rate of both Adam optimisers (reference 0.0002). */
  learningRate: number;
  /** Learning rate of the discriminator's Adam when it differs from `learningRate`. */
  discriminatorLearningRate?: number;
  /** Adam β1 of both optimisers (reference 0.5). */
  beta1: number;
}

/** A generator/discriminator pair with their two separate Adam optimisers, ready to run steps. */
export interface Trainer {
  readonly generator: tf.LayersModel;
  readonly discriminator: tf.LayersModel;
  /** Updates the discriminator (two updates per step). */
  readonly dOptimizer: tf.AdamOptimizer;
  /** Updates the generator through the discriminator (one update per step). */
  readonly gOptimizer: tf.AdamOptimizer;
  /** Size of the generator's latent input. */
  readonly latentDim: number;
  /** Shape of one image, `[height, width, channels]`. */
  readonly imageShape: [number, number, number];
  /** Number of Dropout layers in the discriminator; {@link StepBatch.dropoutSeeds} holds 3× as many. */
  readonly dropoutLayers: number;
  /** The engine that runs the steps, for the log (`tfjs (wasm)`, `onnxruntime (cpu)`). */
  readonly engine: string;
  /** Sets both optimisers' learning rates for the following steps (a schedule). */
  setLearningRates(generator: number, discriminator: number): void;
  /**
   * Runs exactly one reference training step on the given batch and returns its losses. With an EMA
   * generator, `emaUpdate` is the number of this generator update (1 for the first) and the EMA is updated.
   */
  step(batch: StepBatch, emaUpdate?: number): Promise<StepLosses>;
  /**
   * Makes `generator`, `discriminator`, both optimisers and the EMA generator hold the trainer's current
   * state; call it before reading or saving them. (The TF.js trainer always holds it there.)
   */
  sync(): Promise<void>;
  /** Frees the optimisers' state (not the models). */
  dispose(): void;
}

/** Keras `binary_crossentropy` on sigmoid outputs (clip, logit, sigmoid cross-entropy), batch mean. */
function bce(target: tf.Tensor, prediction: tf.Tensor): tf.Scalar {
  return tf.mean(tf.metrics.binaryCrossentropy(target, prediction));
}

/** Fraction of predictions on the right side of 0.5 for the clean label (1 for real, 0 for fake). */
function accuracy(prediction: tf.Tensor, real: boolean): tf.Scalar {
  const hit = real ? tf.greater(prediction, 0.5) : tf.lessEqual(prediction, 0.5);
  return tf.mean(tf.cast(hit, "float32"));
}

interface SeededDropout {
  seed?: number;
}

/**
 * Creates a trainer for `generator` and `discriminator` with two separate `tf.train.adam(lr, beta1)`
 * optimisers (β2 0.999 and ε = the backend's epsilon, 1e-7, as Keras 2.1's defaults).
 *
 * One step, as the reference notebook with Keras 2.1:
 * 1. `fake = G(noise)` in inference mode (like Keras `predict`: BatchNorm uses moving statistics).
 * 2. Discriminator update on (real, realLabels), then on (fake, fakeLabels), each with
 *    `dOptimizer.minimize(loss, true, discriminatorVariables)`, in training mode (batch statistics, dropout),
 *    updating its BatchNorm moving statistics as Keras `train_on_batch` does.
 * 3. Generator update `gOptimizer.minimize(() => bce(D(G(noise)), 1), true, generatorVariables)` with both
 *    networks in training mode; only generator variables are updated. The discriminator's BatchNorm moving
 *    statistics are restored after this update: in Keras 2.1 the frozen (`trainable = False`) discriminator
 *    inside the combined model contributes no updates, so its moving statistics change only in its own
 *    updates, while the generator's do change here.
 *
 * Reported `dLoss`/`dAcc` are the means of the two discriminator updates, each measured on the forward pass
 * that computed its gradients (before the update), as Keras `train_on_batch` reports them. `dAcc` compares
 * predictions thresholded at 0.5 with the clean 1/0 labels: the noisy targets are never exactly 0 or 1.
 */
export function createTrainer(
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  options: OptimizerOptions,
  ema: GeneratorEma | null = null,
): Trainer {
  const dOptimizer = tf.train.adam(
    options.discriminatorLearningRate ?? options.learningRate,
    options.beta1,
  );
  const gOptimizer = tf.train.adam(options.learningRate, options.beta1);
  // BatchNormalization in training mode as one native call each way where the kernel set has one (the
  // onnxruntime kernels on wasm): same mathematics, ~40 fewer TF.js kernel calls per layer and direction.
  fuseBatchNormTraining(generator);
  fuseBatchNormTraining(discriminator);
  const dVars = discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
  const gVars = generator.trainableWeights.map((w) => w.read() as tf.Variable);
  const dropouts = discriminator.layers.filter((l) =>
    l.getClassName() === "Dropout"
  ) as unknown as SeededDropout[];
  const latentDim = generator.inputs[0].shape[1] as number;
  const imageShape = discriminator.inputs[0].shape.slice(1) as [number, number, number];

  function seedDropouts(seeds: Uint32Array, pass: number): void {
    dropouts.forEach((layer, i) => layer.seed = seeds[pass * dropouts.length + i]);
  }

  async function step(batch: StepBatch, emaUpdate?: number): Promise<StepLosses> {
    const n = batch.realLabels.length;
    if (batch.noise.length !== n * latentDim || batch.fakeLabels.length !== n) {
      throw new RangeError(`inconsistent step batch: ${n} labels, ${batch.noise.length} latents`);
    }
    if (batch.dropoutSeeds.length !== 3 * dropouts.length) {
      throw new RangeError(`expected ${3 * dropouts.length} dropout seeds`);
    }
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      kept.push(t);
      return tf.keep(t);
    };
    // Per pass: [accuracy, sum of predictions]. The sum exposes NaN/Infinity predictions, which the
    // loss's clipping would otherwise hide on backends whose clip turns NaN into a bound.
    const probes: tf.Scalar[][] = [];
    const probe = (p: tf.Tensor, real: boolean) =>
      probes.push([keep(accuracy(p, real)), keep(tf.sum(p) as tf.Scalar)]);
    const values = tf.tidy(() => {
      const real = tf.tensor4d(batch.real, [n, ...imageShape]);
      const noise = tf.tensor2d(batch.noise, [n, latentDim]);
      const fake = generator.apply(noise, { training: false }) as tf.Tensor;
      const realLabels = tf.tensor2d(batch.realLabels, [n, 1]);
      const fakeLabels = tf.tensor2d(batch.fakeLabels, [n, 1]);

      seedDropouts(batch.dropoutSeeds, 0);
      const dLossReal = dOptimizer.minimize(
        () => {
          const p = discriminator.apply(real, { training: true }) as tf.Tensor;
          probe(p, true);
          return bce(realLabels, p);
        },
        true,
        dVars,
      )!;

      seedDropouts(batch.dropoutSeeds, 1);
      const dLossFake = dOptimizer.minimize(
        () => {
          const p = discriminator.apply(fake, { training: true }) as tf.Tensor;
          probe(p, false);
          return bce(fakeLabels, p);
        },
        true,
        dVars,
      )!;

      const movingStats = discriminator.nonTrainableWeights.map((w) => keep(w.read().clone()));
      seedDropouts(batch.dropoutSeeds, 2);
      const ones = tf.onesLike(realLabels);
      const gLoss = gOptimizer.minimize(
        () => {
          const generated = generator.apply(noise, { training: true }) as tf.Tensor;
          const p = discriminator.apply(generated, { training: true }) as tf.Tensor;
          probe(p, true);
          return bce(ones, p);
        },
        true,
        gVars,
      )!;
      discriminator.nonTrainableWeights.forEach((w, i) => w.write(movingStats[i]));

      return tf.stack([dLossReal, dLossFake, gLoss, ...probes.flat()]);
    });
    tf.dispose(kept);
    if (ema) {
      if (emaUpdate === undefined) throw new RangeError("an EMA step needs its update number");
      ema.update(emaUpdate);
    }
    const [lossReal, lossFake, lossG, accReal, sumReal, accFake, sumFake, , sumG] = await values
      .data();
    values.dispose();
    return stepLosses(
      { loss: lossReal, accuracy: accReal, predictionSum: sumReal },
      { loss: lossFake, accuracy: accFake, predictionSum: sumFake },
      { loss: lossG, accuracy: NaN, predictionSum: sumG },
    );
  }

  return {
    generator,
    discriminator,
    dOptimizer,
    gOptimizer,
    latentDim,
    imageShape,
    dropoutLayers: dropouts.length,
    engine: `tfjs (${tf.getBackend()})`,
    setLearningRates(generator: number, discriminator: number) {
      // TF.js Adam reads its (protected) rate anew at every update.
      (gOptimizer as unknown as { learningRate: number }).learningRate = generator;
      (dOptimizer as unknown as { learningRate: number }).learningRate = discriminator;
    },
    step,
    sync: () => Promise.resolve(),
    dispose() {
      dOptimizer.dispose();
      gOptimizer.dispose();
    },
  };
}
