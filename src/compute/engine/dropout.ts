/**
 * Dropout multipliers exactly as TF.js's `tf.dropout` draws them for a seed (`randomUniform` with that seed,
 * `floor(u + keep) / keep`), so the compiled step drops the same units as the TF.js step for the same seeds.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Writes into `out` the multipliers (0 or 1/(1 − rate), as float32) of one Dropout call of TF.js on a tensor of
 * `shape` with `seed`, in TF.js's (row-major, NHWC) order.
 */
export async function dropoutMultipliers(
  seed: number,
  shape: number[],
  rate: number,
  out: Float32Array,
): Promise<void> {
  const uniform = tf.randomUniform(shape, 0, 1, "float32", seed);
  const u = await uniform.data() as Float32Array;
  uniform.dispose();
  const keep = Math.fround(1 - rate);
  const kept = Math.fround(1 / keep);
  for (let i = 0; i < u.length; i++) out[i] = Math.floor(Math.fround(u[i] + keep)) === 0 ? 0 : kept;
}
