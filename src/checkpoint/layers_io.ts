import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  formatLimit,
  INPUT_LIMITS,
  InputTooLargeError,
  makeFolder,
  readFileBounded,
  readTextFileBounded,
  writeFileAtomic,
  writeTextFileAtomic,
} from "../fsio/mod.ts";

/** File names used for a TF.js Layers model saved in a folder. */
export const MODEL_JSON = "model.json";
/** The single weights shard written next to {@link MODEL_JSON}. */
export const WEIGHTS_BIN = "weights.bin";

/**
 * Saves a Layers model to `dir` in the standard TF.js format (`model.json` + `weights.bin`), the same
 * layout `tf.loadLayersModel` reads over HTTP or with tfjs-node's `file://` handler. Each file is written
 * atomically (weights first, so a `model.json` never describes weights that are not there yet).
 * @throws {import("../fsio/mod.ts").FileWriteError} when a file cannot be written.
 */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  makeFolder(dir);
  await model.save(tf.io.withSaveHandler((artifacts) => {
    const data = artifacts.weightData;
    const bytes = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(tf.io.concatenateArrayBuffers(data ?? []));
    const modelJson = {
      format: "layers-model",
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    };
    writeFileAtomic(join(dir, WEIGHTS_BIN), bytes);
    writeTextFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
    return Promise.resolve({ modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) });
  }));
}

/** A problem with a saved model or checkpoint file: names the file and what is wrong with it. */
export class ModelFileError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "ModelFileError";
  }
}

interface WeightsManifestEntry {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

/**
 * The weight files of a manifest, read with the size the manifest describes as their bound (a
 * `weights.bin` that is `/dev/zero` stops there).
 */
async function readWeightFiles(
  dir: string,
  manifest: WeightsManifestEntry[],
  expected: number,
): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (const p of manifest.flatMap((group) => group.paths)) {
    const path = join(dir, p);
    try {
      chunks.push(await readFileBounded(path, expected - total, "these weights"));
    } catch (e) {
      if (e instanceof InputTooLargeError) {
        throw new ModelFileError(
          path,
          `holds more than the ${expected} bytes of weights model.json describes (mismatched)`,
        );
      }
      throw new ModelFileError(path, `cannot read weights (${(e as Error).message})`);
    }
    total += chunks[chunks.length - 1].byteLength;
  }
  return chunks;
}

/** Reads the artifacts (topology, weight specs, weight bytes) of a Layers model saved in `dir`, validated. */
export async function readModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, MODEL_JSON);
  let text: string;
  try {
    text = await readTextFileBounded(jsonPath, INPUT_LIMITS.runFile, "a model.json");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new ModelFileError(jsonPath, e.problem);
    throw new ModelFileError(jsonPath, `cannot read (${(e as Error).message})`);
  }
  let json: { modelTopology?: object; weightsManifest?: WeightsManifestEntry[] };
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(jsonPath, `is not valid JSON (${(e as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFileError(
      jsonPath,
      "is not a TF.js Layers model (no modelTopology/weightsManifest)",
    );
  }
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = specs.reduce(
    (n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[s.dtype] ?? 4),
    0,
  );
  if (!(expected <= INPUT_LIMITS.checkpointWeights)) {
    throw new ModelFileError(
      jsonPath,
      `describes ${expected} bytes of weights, more than the ${
        formatLimit(INPUT_LIMITS.checkpointWeights)
      } a checkpoint may hold`,
    );
  }
  const chunks = await readWeightFiles(dir, json.weightsManifest, expected);
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  if (total !== expected) {
    throw new ModelFileError(
      join(dir, json.weightsManifest[0]?.paths[0] ?? WEIGHTS_BIN),
      `holds ${total} bytes of weights but model.json describes ${expected} (truncated or mismatched)`,
    );
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    weightData.set(c, offset);
    offset += c.byteLength;
  }
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer };
}

/** Loads a Layers model saved in `dir` (by {@link saveLayersModel} or any TF.js tool). */
export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const artifacts = await readModelArtifacts(dir);
  return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
