/** Everything an evaluation needs, loaded once: the classifier and the MNIST test-set reference. */
import type * as tf from "@tensorflow/tfjs";
import { type ImageDataset, loadTestSet, scalePixels } from "../data/mod.ts";
import { OnnxClassifier } from "./classifier_onnx.ts";
import {
  computeReference,
  evaluateImages,
  type QualityFigures,
  type Reference,
} from "./evaluate.ts";
import { generateImages, generatorOnnxBytes } from "./generator_samples.ts";
import { SHIPPED_MODEL_PATHS } from "../infer/mod.ts";

/** The default location of the project's classifier. */
export const DEFAULT_CLASSIFIER: string = SHIPPED_MODEL_PATHS.classifier;

/** A loaded classifier with the MNIST test set's figures and feature statistics. */
export class Evaluator {
  private constructor(
    readonly classifier: OnnxClassifier,
    readonly test: ImageDataset,
    readonly reference: Reference,
  ) {}

  /**
   * Opens the classifier and computes the MNIST test-set reference.
   * @throws {ClassifierFileError} or {IdxError} naming the file that cannot be used.
   */
  static async create(classifierPath = DEFAULT_CLASSIFIER, dataDir?: string): Promise<Evaluator> {
    const classifier = await OnnxClassifier.open(classifierPath);
    const test = await loadTestSet(dataDir);
    const reference = await computeReference(classifier, scalePixels(test.images), test.count);
    return new Evaluator(classifier, test, reference);
  }

  /** Figures of `count` samples of an ONNX generator (bytes) drawn with `latentsForSeed(seed, …)`. */
  async evaluateOnnx(
    model: Uint8Array,
    count: number,
    seed: number,
    onBatch?: (done: number, total: number) => void,
    label?: string,
  ): Promise<QualityFigures> {
    const images = await generateImages(model, count, seed, onBatch, label);
    return evaluateImages(this.classifier, images, count, this.reference);
  }

  /** Figures of `count` samples of a TF.js generator, exported to ONNX in memory first. */
  evaluateGenerator(
    generator: tf.LayersModel,
    count: number,
    seed: number,
  ): Promise<QualityFigures> {
    return this.evaluateOnnx(generatorOnnxBytes(generator), count, seed);
  }

  /** Figures of `images` (`[count, 28, 28]` uint8, e.g. MNIST training images) against the reference. */
  evaluatePixels(images: Uint8Array, count: number): Promise<QualityFigures> {
    return evaluateImages(this.classifier, scalePixels(images), count, this.reference);
  }

  /** Frees the classifier session. */
  async close(): Promise<void> {
    await this.classifier.release();
  }
}
