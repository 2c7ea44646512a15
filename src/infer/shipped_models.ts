/**
 * The models shipped with the package, in `models/` at its root: in this repository, in the Deno package and in
 * the npm package (whose bundle `dist/node/mod.js` sits two folders below the root for this reason).
 * @module
 */

/** The reference generator, `models/generator.onnx`. */
export const SHIPPED_GENERATOR: URL = new URL("../../models/generator.onnx", import.meta.url);
/** The digit classifier, `models/classifier.onnx`. */
export const SHIPPED_CLASSIFIER: URL = new URL("../../models/classifier.onnx", import.meta.url);
