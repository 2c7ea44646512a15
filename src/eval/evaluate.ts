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

/** What a shipped generator should reach, in the project's own evaluation. */
export const EVAL_TARGETS = {
  /** Inception Score at least this. */
  inceptionScore: 9.3,
  /** Every digit's share of the samples within this range. */
  digitShare: [0.08, 0.12] as const,
  /** MNIST-FID at most this multiple of the train-vs-test FID. */
  fidTimesTrainVsTest: 3,
} as const;

/** {@link EVAL_TARGETS} in one line, e.g. `IS >= 9.3, every digit 8-12%, FID <= 3 x train-vs-test`. */
export function describeTargets(): string {
  const [lo, hi] = EVAL_TARGETS.digitShare;
  return `IS >= ${EVAL_TARGETS.inceptionScore}, every digit ${Math.round(lo * 100)}-${
    Math.round(hi * 100)
  }%, ` +
    `FID <= ${EVAL_TARGETS.fidTimesTrainVsTest} x train-vs-test`;
}

/** Which of {@link EVAL_TARGETS} `figures` meet, given the train-vs-test FID. */
export interface TargetCheck {
  inceptionScore: boolean;
  balance: boolean;
  fid: boolean;
}

/** Checks `figures` against {@link EVAL_TARGETS}. */
export function checkTargets(figures: QualityFigures, trainVsTestFid: number): TargetCheck {
  const [lo, hi] = EVAL_TARGETS.digitShare;
  return {
    inceptionScore: figures.inceptionScore >= EVAL_TARGETS.inceptionScore,
    balance: figures.histogram.every((share) => share >= lo && share <= hi),
    fid: figures.fid <= EVAL_TARGETS.fidTimesTrainVsTest * trainVsTestFid,
  };
}
