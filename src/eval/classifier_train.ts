/** Training and TF.js-side accuracy of the MNIST classifier. */
import * as tf from "@tensorflow/tfjs";
import { gatherScaled, type ImageDataset } from "../data/mod.ts";
import { Rng } from "../random/mod.ts";
import { CLASS_COUNT, trainingView } from "./classifier_model.ts";

/** Options for {@link trainClassifier}. */
export interface ClassifierTrainOptions {
  /** Passes over the training set (default 3). */
  epochs?: number;
  /** Images per update (default 64). */
  batchSize?: number;
  /** Adam learning rate (default 0.001, halved after each epoch). */
  learningRate?: number;
  /** Seed of the shuffling (default 1). */
  seed?: number;
  /** Called after every batch with the batch number (1-based, across epochs) and the total. */
  onBatch?: (done: number, total: number, loss: number) => void;
  /**
   * Called after every epoch with the 1-based epoch and its mean training loss; returning `true` ends the
   * training early (e.g. once a target accuracy is reached).
   */
  onEpoch?: (epoch: number, meanLoss: number) => Promise<boolean | void> | boolean | void;
}

function oneHot(labels: Uint8Array, indices: Int32Array): Float32Array {
  const out = new Float32Array(indices.length * CLASS_COUNT);
  indices.forEach((index, i) => out[i * CLASS_COUNT + labels[index]] = 1);
  return out;
}

function shuffled(count: number, rng: Rng): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Trains the classifier (from `buildClassifier`) in place with Adam and categorical cross-entropy on
 * seeded shuffles of `train`, images scaled as the reference (`x / 127.5 - 1`). Returns the number of epochs
 * trained (fewer than `epochs` when `onEpoch` ended it early).
 */
export async function trainClassifier(
  classifier: tf.LayersModel,
  train: ImageDataset,
  options: ClassifierTrainOptions = {},
): Promise<number> {
  const epochs = options.epochs ?? 3;
  const batchSize = options.batchSize ?? 64;
  const rng = new Rng(options.seed ?? 1);
  const view = trainingView(classifier);
  const batches = Math.ceil(train.count / batchSize);
  let done = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const lr = (options.learningRate ?? 1e-3) / 2 ** (epoch - 1);
    view.compile({ optimizer: tf.train.adam(lr), loss: "categoricalCrossentropy" });
    const order = shuffled(train.count, rng);
    let lossSum = 0;
    for (let b = 0; b < batches; b++) {
      const indices = order.subarray(b * batchSize, Math.min((b + 1) * batchSize, train.count));
      const x = tf.tensor4d(gatherScaled(train, indices), [
        indices.length,
        train.height,
        train.width,
        1,
      ]);
      const y = tf.tensor2d(oneHot(train.labels, indices), [indices.length, CLASS_COUNT]);
      const loss = await view.trainOnBatch(x, y) as number;
      tf.dispose([x, y]);
      lossSum += loss;
      options.onBatch?.(++done, epochs * batches, loss);
    }
    if (await options.onEpoch?.(epoch, lossSum / batches)) return epoch;
  }
  return epochs;
}

/** Share of `data` whose most probable class (TF.js inference, batches of 500) equals the label. */
export function accuracyOf(classifier: tf.LayersModel, data: ImageDataset): number {
  const view = trainingView(classifier);
  let correct = 0;
  for (let start = 0; start < data.count; start += 500) {
    const n = Math.min(500, data.count - start);
    const indices = Int32Array.from({ length: n }, (_, i) => start + i);
    const predicted = tf.tidy(() => {
      const x = tf.tensor4d(gatherScaled(data, indices), [n, data.height, data.width, 1]);
      return (view.predict(x) as tf.Tensor).argMax(-1).dataSync();
    });
    for (let i = 0; i < n; i++) if (predicted[i] === data.labels[start + i]) correct++;
  }
  return correct / data.count;
}
