/** The project's MNIST classifier: a small CNN whose penultimate layer gives the features for MNIST-FID. */
import * as tf from "@tensorflow/tfjs";

/** Width of the penultimate (feature) layer. */
export const FEATURE_DIM = 128;
/** Number of classes (digits 0–9). */
export const CLASS_COUNT = 10;
/** Names of the two outputs of the classifier, in order. */
export const CLASSIFIER_OUTPUTS = ["features", "probs"] as const;

/** Options for {@link buildClassifier}. */
export interface ClassifierOptions {
  /** Seed for the Glorot-uniform kernel initialisers (seed, seed+1, … per layer); unseeded when omitted. */
  seed?: number;
}

/**
 * Builds the classifier for 28×28×1 images scaled to [-1, 1] (the generator's range):
 * Conv2D(32, 5×5, ReLU) → MaxPool 2 → Conv2D(64, 5×5, ReLU) → MaxPool 2 → Flatten →
 * Dense(128, ReLU) "features" → Dropout(0.4) → Dense(10, softmax) "probs". 184,586 parameters.
 * The model has two outputs, `[features, probs]`, so one ONNX run gives both the class probabilities and
 * the penultimate-layer features; {@link trainingView} gives the single-output view that is trained.
 */
export function buildClassifier(options: ClassifierOptions = {}): tf.LayersModel {
  let next = 0;
  const init = () =>
    options.seed === undefined
      ? {}
      : { kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + next++ }) };
  const input = tf.input({ shape: [28, 28, 1], name: "image" });
  let x = tf.layers.conv2d({
    filters: 32,
    kernelSize: 5,
    activation: "relu",
    name: "conv1",
    ...init(),
  })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: "pool1" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 64, kernelSize: 5, activation: "relu", name: "conv2", ...init() })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: "pool2" }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: "flatten" }).apply(x) as tf.SymbolicTensor;
  const features = tf.layers.dense({
    units: FEATURE_DIM,
    activation: "relu",
    name: CLASSIFIER_OUTPUTS[0],
    ...init(),
  }).apply(x) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: 0.4, name: "dropout" }).apply(features);
  const probs = tf.layers.dense({
    units: CLASS_COUNT,
    activation: "softmax",
    name: CLASSIFIER_OUTPUTS[1],
    ...init(),
  }).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [features, probs], name: "mnist_classifier" });
}

/** The single-output view (image → probs) of a classifier from {@link buildClassifier}; it shares the weights. */
export function trainingView(classifier: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: classifier.inputs, outputs: classifier.outputs[1] });
}
