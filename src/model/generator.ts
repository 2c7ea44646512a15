import * as tf from "@tensorflow/tfjs";
import { seededKernels } from "./init.ts";

/** Options for {@link buildGenerator}. */
export interface GeneratorOptions {
  /** Seed for the kernel initialisers (Glorot uniform); unseeded when omitted. */
  seed?: number;
  /** Size of the latent vector z (reference: 100). */
  latentDim?: number;
  /** Number of image channels produced (reference: 1, MNIST). */
  channels?: number;
}

/**
 * Builds the reference DCGAN generator (see `src/model/README.md`):
 * Dense(128·7·7) → Reshape(7,7,128) → [Conv2DTranspose(128,4,s2) → Conv2D(k,4) → BN(0.8) → ReLU] × 2
 * → Conv2D(channels, 7, tanh). With latent 100 it has 1,555,329 parameters (1,554,945 trainable).
 * Layer names are fixed so checkpoints and exports are stable across runs.
 */
export function buildGenerator(options: GeneratorOptions = {}): tf.LayersModel {
  const kernels = seededKernels(options.seed);
  const latentDim = options.latentDim ?? 100;
  const channels = options.channels ?? 1;
  const input = tf.input({ shape: [latentDim], name: "g_input" });
  let x = tf.layers.dense({ units: 128 * 7 * 7, name: "g_dense", ...kernels() }).apply(
    input,
  ) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [7, 7, 128], name: "g_reshape" }).apply(
    x,
  ) as tf.SymbolicTensor;
  const blocks: Array<[number, number]> = [[1, 128], [2, 64]];
  for (const [i, convFilters] of blocks) {
    x = tf.layers.conv2dTranspose({
      filters: 128,
      kernelSize: 4,
      strides: 2,
      padding: "same",
      name: `g_deconv${i}`,
      ...kernels(),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({
      filters: convFilters,
      kernelSize: 4,
      padding: "same",
      name: `g_conv${i}`,
      ...kernels(),
    }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.8, name: `g_bn${i}` }).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `g_relu${i}` }).apply(x) as tf.SymbolicTensor;
  }
  const output = tf.layers.conv2d({
    filters: channels,
    kernelSize: 7,
    padding: "same",
    activation: "tanh",
    name: "g_out",
    ...kernels(),
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: "generator" });
}
