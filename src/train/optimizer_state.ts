import * as tf from "@tensorflow/tfjs";
import { ModelFileError } from "../checkpoint/mod.ts";
import { INPUT_LIMITS, InputTooLargeError, readFileBounded, writeNewFile } from "../fsio/mod.ts";

/** Where an optimiser's state lives in a checkpoint: a binary file and its tensor manifest. */
export interface OptimizerStateFile {
  /** File name (relative to the checkpoint folder) of the concatenated little-endian tensor data. */
  file: string;
  /** The tensors in the file, in order: `iter` (int32), then first moments, then second moments. */
  weights: tf.io.WeightsManifestEntry[];
  /**
   * Adam's accumulated β1^t and β2^t (float32). TF.js's `setWeights` recomputes them as `pow(β, t)`,
   * which differs in the last bits from the running product after ~100 steps; restoring the saved
   * values makes a resumed run identical to an uninterrupted one.
   */
  accBeta?: [number, number];
}

/** The running products TF.js's Adam keeps in (TypeScript-private) fields. */
interface AdamAccumulators {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

/**
 * Writes an optimiser's state (`optimizer.getWeights()`: iteration count and, for Adam, first and second
 * moments) to `dir/file` (a new file in a checkpoint being built) and returns its manifest, to be stored
 * in the checkpoint's `state.json`.
 */
export async function saveOptimizerState(
  optimizer: tf.Optimizer,
  dir: string,
  file: string,
): Promise<OptimizerStateFile> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // getWeights() creates a fresh `iter` scalar; the moment variables belong to the optimiser.
  named[0].tensor.dispose();
  writeNewFile(`${dir}/${file}`, new Uint8Array(data));
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamAccumulators;
  if (!accBeta1 || !accBeta2) return { file, weights: specs };
  const accBeta: [number, number] = [(await accBeta1.data())[0], (await accBeta2.data())[0]];
  return { file, weights: specs, accBeta };
}

/**
 * Reads an optimiser state file and checks its size against the manifest.
 * @throws {ModelFileError} naming the file when it is missing or does not match its manifest.
 */
export async function readOptimizerState(
  dir: string,
  state: OptimizerStateFile,
): Promise<Uint8Array> {
  const path = `${dir}/${state.file}`;
  const expected = state.weights.reduce(
    (n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1),
    0,
  );
  const bound = Math.min(expected, INPUT_LIMITS.checkpointWeights);
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, bound, "this optimiser state");
  } catch (e) {
    if (e instanceof InputTooLargeError) {
      throw new ModelFileError(path, `holds more than the ${bound} bytes the manifest describes`);
    }
    throw new ModelFileError(path, `cannot read optimiser state (${(e as Error).message})`);
  }
  if (bytes.byteLength !== expected) {
    throw new ModelFileError(
      path,
      `holds ${bytes.byteLength} bytes but the manifest describes ${expected} (truncated?)`,
    );
  }
  return bytes;
}

/**
 * Restores an optimiser's state written by {@link saveOptimizerState} (`optimizer.setWeights()`), so the
 * next update uses the saved moments and iteration count.
 * @throws {ModelFileError} naming the file when it is missing or does not match its manifest.
 */
export async function loadOptimizerState(
  optimizer: tf.Optimizer,
  dir: string,
  state: OptimizerStateFile,
): Promise<void> {
  const bytes = await readOptimizerState(dir, state);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const map = tf.io.decodeWeights(buffer as ArrayBuffer, state.weights);
  const named = state.weights.map((s) => ({ name: s.name, tensor: map[s.name] }));
  await optimizer.setWeights(named);
  tf.dispose(Object.values(map));
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamAccumulators;
  if (state.accBeta && accBeta1 && accBeta2) {
    tf.tidy(() => {
      accBeta1.assign(tf.scalar(state.accBeta![0]));
      accBeta2.assign(tf.scalar(state.accBeta![1]));
    });
  }
}
