import type { Rng } from "../random/mod.ts";
import type { ImageDataset } from "./mnist.ts";

/**
 * The float32 value of each byte under the reference scaling `x / 127.5 - 1`, computed in float32 as
 * NumPy does for `X.astype(np.float32) / 127.5 - 1`.
 */
const SCALED = Float32Array.from(
  { length: 256 },
  (_, x) => Math.fround(Math.fround(x / 127.5) - 1),
);

/** Scales uint8 pixels to [-1, 1] exactly as the reference: `x / 127.5 - 1` in float32. */
export function scalePixels(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = SCALED[pixels[i]];
  return out;
}

/**
 * Draws `batchSize` image indices uniformly with replacement from `rng` (the reference's
 * `np.random.randint(0, N, batch)`).
 */
export function sampleIndices(rng: Rng, count: number, batchSize: number): Int32Array {
  const out = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) out[i] = rng.nextInt(count);
  return out;
}

/**
 * Gathers the images at `indices` into one scaled float32 batch, `[indices.length, height, width]`
 * row-major (add a channel axis of 1 for NHWC).
 */
export function gatherScaled(dataset: ImageDataset, indices: Int32Array): Float32Array {
  const size = dataset.height * dataset.width;
  const out = new Float32Array(indices.length * size);
  indices.forEach((index, i) => {
    const src = dataset.images.subarray(index * size, (index + 1) * size);
    for (let j = 0; j < size; j++) out[i * size + j] = SCALED[src[j]];
  });
  return out;
}
