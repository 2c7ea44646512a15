import * as tf from "@tensorflow/tfjs";

/**
 * Returns a function that gives each successive weighted layer a Glorot-uniform kernel initialiser seeded from
 * `seed` (seed, seed+1, ...), so the same seed builds the same initial weights. Without a seed it adds nothing.
 */
export function seededKernels(
  seed: number | undefined,
): () => { kernelInitializer?: ReturnType<typeof tf.initializers.glorotUniform> } {
  let next = 0;
  return () =>
    seed === undefined
      ? {}
      : { kernelInitializer: tf.initializers.glorotUniform({ seed: seed + next++ }) };
}
