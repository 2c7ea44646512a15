/** Generator samples for evaluation, through the inference module (onnxruntime-node, CPU provider). */
import type * as tf from "@tensorflow/tfjs";
import { createGenerator, InferenceError } from "../infer/mod.ts";
import { convertLayersModel, encodeModel, IO_NAMES } from "../onnx/mod.ts";

/** Exports a TF.js generator to ONNX bytes in memory (graph I/O names as `deno task export` writes them). */
export function generatorOnnxBytes(generator: tf.LayersModel): Uint8Array {
  return encodeModel(convertLayersModel(generator, {
    inputNames: [IO_NAMES.generator.input],
    outputNames: [IO_NAMES.generator.output],
  }));
}

/** Raised when generator bytes cannot be run; the message names the generator and the problem. */
export class GeneratorFileError extends Error {
  constructor(readonly label: string, problem: string) {
    super(`${label}: ${problem}`);
    this.name = "GeneratorFileError";
  }
}

/**
 * Generates `count` images (`[count, 28, 28]`, values in [-1, 1] as the classifier takes them) from the ONNX
 * generator `model` (bytes) with `sample(count, {seed})`, i.e. the latents `latentsForSeed(seed, …)`, on
 * onnxruntime-node's CPU provider.
 * @throws {GeneratorFileError} naming `label` when the bytes are not a runnable 28×28×1 generator.
 */
export async function generateImages(
  model: Uint8Array,
  count: number,
  seed: number,
  onBatch?: (done: number, total: number) => void,
  label = "generator",
): Promise<Float32Array> {
  let generator;
  try {
    generator = await createGenerator(model, { provider: "cpu" });
  } catch (e) {
    if (!(e instanceof InferenceError)) throw e;
    throw new GeneratorFileError(label, e.message);
  }
  try {
    const { height, width, channels } = generator.info;
    if (height !== 28 || width !== 28 || channels !== 1) {
      throw new GeneratorFileError(
        label,
        `makes ${height}×${width}×${channels} images, not 28×28×1 (not an MNIST generator)`,
      );
    }
    const images = await generator.sample(count, { seed, onProgress: onBatch });
    // The inference module maps the model's range [-1, 1] to [0, 1]; the classifier takes [-1, 1].
    return images.data.map((v) => v * 2 - 1);
  } finally {
    await generator.dispose();
  }
}
