/** Generator samples for evaluation: an ONNX generator (file, bytes or TF.js model exported in memory). */
import type * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { convertLayersModel, encodeModel, IO_NAMES } from "../onnx/mod.ts";
import { latentsForSeed } from "../random/mod.ts";

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
 * Generates `count` images (`[count, 28, 28]`, values in [-1, 1]) from the ONNX generator `model` (bytes) with
 * the latents `latentsForSeed(seed, count, latentDim)`, in batches of `batchSize`, on onnxruntime-node's CPU EP.
 * @throws {GeneratorFileError} naming `label` when the bytes are not a runnable generator.
 */
export async function generateImages(
  model: Uint8Array,
  count: number,
  seed: number,
  onBatch?: (done: number, total: number) => void,
  label = "generator",
  batchSize = 250,
): Promise<Float32Array> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });
  } catch (e) {
    const why = (e as Error).message.split("\n")[0];
    throw new GeneratorFileError(label, `is not a usable ONNX model (${why})`);
  }
  try {
    const input = session.inputNames[0];
    const output = session.outputNames[0];
    const meta = session.inputMetadata[0];
    const dims = meta.isTensor ? meta.shape : [];
    const latentDim = typeof dims[1] === "number" ? dims[1] : 100;
    const latents = latentsForSeed(seed, count, latentDim);
    const images = new Float32Array(count * 28 * 28);
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const z = new ort.Tensor(
        "float32",
        latents.subarray(start * latentDim, (start + n) * latentDim),
        [
          n,
          latentDim,
        ],
      );
      const out = await session.run({ [input]: z });
      const data = out[output].data as Float32Array;
      if (data.length !== n * 28 * 28) {
        throw new RangeError(
          `generator output has ${data.length / n} values per sample, not 28 × 28`,
        );
      }
      images.set(data, start * 28 * 28);
      onBatch?.(start + n, count);
    }
    return images;
  } finally {
    await session.release();
  }
}
