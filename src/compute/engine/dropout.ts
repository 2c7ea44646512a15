/**
 * Dropout multipliers exactly as TF.js's `tf.dropout` draws them for a seed, so the compiled step drops the same
 * units as the TF.js step for the same seeds: `randomUniform` with a seed is seedrandom's `alea` seeded with the
 * seed's decimal string, one draw per element in row-major order; the multiplier is `floor(u + keep) / keep` in
 * float32. The same library and version as TF.js's (pinned in `deno.json`), called without building a tensor.
 * @module
 */
import seedrandom from "seedrandom";

/**
 * Writes into `out` the multipliers (0 or 1/(1 − rate), as float32) of one Dropout call of TF.js with `seed` on
 * a tensor of `out.length` elements, in TF.js's (row-major, NHWC) order.
 */
export function dropoutMultipliers(seed: number, rate: number, out: Float32Array): void {
  const random = seedrandom.alea(seed.toString());
  const keep = Math.fround(1 - rate);
  const kept = Math.fround(1 / keep);
  const u = new Float32Array(1);
  for (let i = 0; i < out.length; i++) {
    u[0] = random();
    out[i] = Math.floor(Math.fround(u[0] + keep)) === 0 ? 0 : kept;
  }
}
