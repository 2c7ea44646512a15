/** Sample-quality figures of a batch of images, judged by the project's classifier. */
import { classHistogram, inceptionScore, meanConfidence } from "./class_metrics.ts";
import { CLASS_COUNT, FEATURE_DIM } from "./classifier_model.ts";
import type { OnnxClassifier } from "./classifier_onnx.ts";
import { type FeatureStats, featureStats, frechetDistance } from "./frechet.ts";

/** The evaluation figures of one set of images. */
export interface QualityFigures {
  /** Number of images judged. */
  count: number;
  /** Classifier-based Inception Score, 1 (worst) to 10. */
  inceptionScore: number;
  /** Share of the images classified as each digit 0–9 (adds up to 1). */
  histogram: number[];
  /** Mean largest class probability. */
  confidence: number;
  /** Fréchet distance of penultimate-layer features to the reference (MNIST test) statistics. */
  fid: number;
}

/** Feature statistics and figures of the reference images (the MNIST test set). */
export interface Reference {
  stats: FeatureStats;
  figures: QualityFigures;
}

function figuresOf(
  probs: Float32Array,
  count: number,
  stats: FeatureStats,
  reference: FeatureStats | null,
): QualityFigures {
  const p = { data: probs, count, classes: CLASS_COUNT };
  return {
    count,
    inceptionScore: inceptionScore(p),
    histogram: Array.from(classHistogram(p)),
    confidence: meanConfidence(p),
    fid: reference ? frechetDistance(stats, reference) : 0,
  };
}

/** Classifies the reference images (`[count, 28, 28]` in [-1, 1]); their FID to themselves is 0. */
export async function computeReference(
  classifier: OnnxClassifier,
  images: Float32Array,
  count: number,
): Promise<Reference> {
  const out = await classifier.classify(images, count);
  const stats = featureStats(out.features, count, FEATURE_DIM);
  return { stats, figures: figuresOf(out.probs, count, stats, null) };
}

/** Judges `count` images (`[count, 28, 28]` in [-1, 1]) against the reference statistics. */
export async function evaluateImages(
  classifier: OnnxClassifier,
  images: Float32Array,
  count: number,
  reference: Reference,
): Promise<QualityFigures> {
  const out = await classifier.classify(images, count);
  const stats = featureStats(out.features, count, FEATURE_DIM);
  return figuresOf(out.probs, count, stats, reference.stats);
}

/** What the issue asks of a shipped generator, checked against `figures` and the train-vs-test FID. */
export interface TargetCheck {
  /** Inception Score ≥ 9.0. */
  inceptionScore: boolean;
  /** Every digit between 7% and 13% of the samples. */
  balance: boolean;
  /** FID within 3× the train-vs-test FID. */
  fid: boolean;
}

/** Checks the targets: IS ≥ 9, every digit 7–13%, FID ≤ 3 × the train-vs-test FID. */
export function checkTargets(figures: QualityFigures, trainVsTestFid: number): TargetCheck {
  return {
    inceptionScore: figures.inceptionScore >= 9,
    balance: figures.histogram.every((share) => share >= 0.07 && share <= 0.13),
    fid: figures.fid <= 3 * trainVsTestFid,
  };
}
