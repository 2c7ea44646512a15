/**
 * Latent vectors for sampling: seeds to latents (through `src/random`, identical on every platform), bounds on
 * how many samples one call may ask for, and latent walks (spherical or linear interpolation).
 * @module
 */
import { latentsForSeed as seededNormals } from "../random/mod.ts";
import { InputError } from "./errors.ts";

/** The most samples (or interpolation steps) one call may generate: 100,000 MNIST images are 314 MB of floats. */
export const MAX_SAMPLES = 100_000;

/** How to walk from one latent vector to another. */
export type InterpolationMode = "slerp" | "lerp";

/**
 * Checks a sample count: an integer from 1 to {@link MAX_SAMPLES}.
 * @throws {InputError} naming `what` otherwise.
 */
export function checkCount(n: number, what = "n"): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLES) {
    throw new InputError(
      `${what} must be an integer from 1 to ${MAX_SAMPLES.toLocaleString("en-US")}, got ${n}`,
    );
  }
}

/**
 * Checks a seed: a non-negative safe integer (what {@link latentsForSeed} accepts).
 * @throws {InputError} otherwise.
 */
export function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new InputError(
      `seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${seed}`,
    );
  }
}

/**
 * The `n` latent vectors of `seed` (row-major `[n, dim]`, standard normal): the seed's PCG32 + Box–Muller
 * stream from `src/random`, identical in Deno, Node and browsers. The first `k` rows do not depend on `n`.
 * @throws {InputError} for a seed or count out of range.
 */
export function latentsForSeed(seed: number, n: number, dim: number): Float32Array {
  checkSeed(seed);
  checkCount(n);
  return seededNormals(seed, n, dim);
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

/**
 * `steps` latent vectors from `a` to `b` inclusive (row-major `[steps, dim]`). `slerp` follows the great circle
 * between the directions of `a` and `b` while its length moves linearly between theirs (typical Gaussian latents
 * keep a typical length, unlike `lerp`, whose midpoints are shorter); it falls back to `lerp` for (anti)parallel
 * vectors. Arithmetic is float64, rounded to float32 once, so results match across platforms.
 * @throws {InputError} when the vectors differ in length or `steps` is not from 2 to {@link MAX_SAMPLES}.
 */
export function interpolateLatents(
  a: Float32Array,
  b: Float32Array,
  steps: number,
  mode: InterpolationMode = "slerp",
): Float32Array {
  if (a.length !== b.length || a.length === 0) {
    throw new InputError(
      `cannot interpolate between latents of lengths ${a.length} and ${b.length}`,
    );
  }
  if (!Number.isInteger(steps) || steps < 2 || steps > MAX_SAMPLES) {
    throw new InputError(`steps must be an integer from 2 to ${MAX_SAMPLES}, got ${steps}`);
  }
  if (mode !== "slerp" && mode !== "lerp") {
    throw new InputError(`unknown interpolation mode "${mode}"; use "slerp" or "lerp"`);
  }
  const dim = a.length;
  const out = new Float32Array(steps * dim);
  const na = norm(a), nb = norm(b);
  let cos = 0;
  for (let i = 0; i < dim; i++) cos += a[i] * b[i];
  cos = na > 0 && nb > 0 ? Math.min(1, Math.max(-1, cos / (na * nb))) : 1;
  const omega = Math.acos(cos);
  const spherical = mode === "slerp" && Math.sin(omega) > 1e-6;
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    let wa = 1 - t, wb = t;
    if (spherical) {
      // Unit directions on the great circle, scaled to the linearly interpolated length.
      const length = (1 - t) * na + t * nb;
      wa = (Math.sin((1 - t) * omega) / Math.sin(omega)) * (length / na);
      wb = (Math.sin(t * omega) / Math.sin(omega)) * (length / nb);
    }
    for (let i = 0; i < dim; i++) out[s * dim + i] = wa * a[i] + wb * b[i];
  }
  return out;
}
