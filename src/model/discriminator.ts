import * as tf from "@tensorflow/tfjs";
import { seededKernels } from "./init.ts";

/** Options for {@link buildDiscriminator}. */
export interface DiscriminatorOptions {
  /** Seed for the kernel initialisers (Glorot uniform); unseeded when omitted. */
  seed?: number;
  /** Input image height (reference: 28). */
  height?: number;
  /** Input image width (reference: 28). */
  width?: number;
  /** Input image channels (reference: 1). */
  channels?: number;
}

/**
 * Builds the reference DCGAN discriminator (see `src/model/README.md`): four strided convolutions with
 * LeakyReLU and Dropout(0.2) (BatchNorm(0.8) on the last three), then Flatten → Dense(1, sigmoid).
 * Blocks 3 and 4 use Keras's default LeakyReLU slope 0.3, as the notebook's `LeakyReLU()` does.
 * For 28×28×1 it has 694,785 parameters (693,889 trainable).
 */
export function buildDiscriminator(options: DiscriminatorOptions = {}): tf.LayersModel {
  const kernels = seededKernels(options.seed);
  const input = tf.input({
    shape: [options.height ?? 28, options.width ?? 28, options.channels ?? 1],
    name: "d_input",
  });
  const blocks = [
    { filters: 32, kernelSize: 3, strides: 2, batchNorm: false, alpha: 0.2 },
    { filters: 64, kernelSize: 4, strides: 2, batchNorm: true, alpha: 0.2 },
    { filters: 128, kernelSize: 4, strides: 2, batchNorm: true, alpha: 0.3 },
    { filters: 256, kernelSize: 4, strides: 1, batchNorm: true, alpha: 0.3 },
  ];
  let x: tf.SymbolicTensor = input;
  blocks.forEach((b, index) => {
    const i = index + 1;
    x = tf.layers.conv2d({
      filters: b.filters,
      kernelSize: b.kernelSize,
      strides: b.strides,
      padding: "same",
      name: `d_conv${i}`,
      ...kernels(),
    }).apply(x) as tf.SymbolicTensor;
    if (b.batchNorm) {
      x = tf.layers.batchNormalization({ momentum: 0.8, name: `d_bn${i}` }).apply(
        x,
      ) as tf.SymbolicTensor;
    }
    x = tf.layers.leakyReLU({ alpha: b.alpha, name: `d_lrelu${i}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dropout({ rate: 0.2, name: `d_dropout${i}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: "d_flatten" }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers.dense({ units: 1, activation: "sigmoid", name: "d_out", ...kernels() })
    .apply(
      x,
    ) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: "discriminator" });
}
