/**
 * The models shipped with the package, in `models/` at its root: in this repository, in the Deno package and in
 * the npm package (whose bundle `dist/node/mod.js` sits two folders below the root for this reason).
 * @module
 */

/** Where the shipped models lie, relative to the package root (the defaults of the CLIs, from the repo root). */
export const SHIPPED_MODEL_PATHS = {
  generator: "models/generator.onnx",
  classifier: "models/classifier.onnx",
} as const;

/** The reference generator, `models/generator.onnx`. */
export const SHIPPED_GENERATOR: URL = new URL(
  `../../${SHIPPED_MODEL_PATHS.generator}`,
  import.meta.url,
);
/** The digit classifier, `models/classifier.onnx`. */
export const SHIPPED_CLASSIFIER: URL = new URL(
  `../../${SHIPPED_MODEL_PATHS.classifier}`,
  import.meta.url,
);
