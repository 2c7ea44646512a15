/**
 * Sample-quality evaluation: the project's MNIST classifier (TF.js model, training, ONNX runner), the
 * classifier-based Inception Score, class histogram and confidence, and the Fréchet distance of
 * penultimate-layer features (MNIST-FID).
 * @module
 */
export {
  argmaxRow,
  classHistogram,
  type ClassProbabilities,
  inceptionScore,
  meanConfidence,
} from "./class_metrics.ts";
export { type FeatureStats, featureStats, frechetDistance, sqrtSymmetric } from "./frechet.ts";
export {
  buildClassifier,
  CLASSIFIER_OUTPUTS,
  type ClassifierOptions,
  FEATURE_DIM,
} from "./classifier_model.ts";
export { accuracyOf, type ClassifierTrainOptions, trainClassifier } from "./classifier_train.ts";
export { ClassifierFileError, type ClassifierOutputs, OnnxClassifier } from "./classifier_onnx.ts";
export {
  checkTargets,
  describeTargets,
  EVAL_TARGETS,
  type QualityFigures,
  type Reference,
  type TargetCheck,
} from "./evaluate.ts";
export { generateImages, GeneratorFileError, generatorOnnxBytes } from "./generator_samples.ts";
export { type FiguresRow, formatFiguresTable } from "./table.ts";
export { fidScaleEnds, type FidScaleEstimate } from "./scale_ends.ts";
export { DEFAULT_CLASSIFIER, Evaluator } from "./evaluator.ts";
export {
  appendEvalRow,
  type BestEvaluation,
  bestEvaluation,
  EMA_COLUMN_PREFIX,
  EVAL_CSV_HEADER,
  EvalLogError,
  evaluatedSteps,
  mergeEvalRow,
  type StepFigures,
} from "./eval_log.ts";
