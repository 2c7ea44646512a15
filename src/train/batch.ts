import { gatherScaled, type ImageDataset, sampleIndices } from "../data/mod.ts";
import type { Rng } from "../random/mod.ts";
import type { StepBatch } from "./step.ts";

/** What {@link drawStepBatch} needs to know about the step. */
export interface BatchOptions {
  batchSize: number;
  latentDim: number;
  /** Standard deviation of the label noise (reference 0.05). */
  labelNoise: number;
  /** Dropout layers in the discriminator (one seed each per discriminator pass). */
  dropoutLayers: number;
}

/**
 * Draws the random inputs of one step from `rng`, in the reference's order: batch indices (uniform, with
 * replacement), latents N(0,1), real-label noise, fake-label noise; then the dropout seeds.
 */
export function drawStepBatch(rng: Rng, dataset: ImageDataset, options: BatchOptions): StepBatch {
  const { batchSize, latentDim, labelNoise } = options;
  const real = gatherScaled(dataset, sampleIndices(rng, dataset.count, batchSize));
  const noise = rng.normals(batchSize * latentDim);
  const realLabels = rng.normals(batchSize, labelNoise).map((e) => 1 + e);
  const fakeLabels = rng.normals(batchSize, labelNoise);
  const dropoutSeeds = Uint32Array.from(
    { length: 3 * options.dropoutLayers },
    () => rng.nextUint32(),
  );
  return { real, noise, realLabels, fakeLabels, dropoutSeeds };
}
