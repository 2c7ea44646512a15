import {
  compressWeights,
  decodeModel,
  encodeModel,
  REWRITE_PROFILES,
  rewriteForInference,
  type WeightFormat,
} from "../../src/onnx/mod.ts";

/**
 * The weight storage of the site's generator by name (`deno task web:build --weights`); `float32` keeps the
 * file's float32 weights. `int11` is the default: 11-bit integers with one scale per output channel, 2.1 MB gzip for the
 * shipped generator instead of 5.8 MB, every pixel within 1.1/255 of the float32 file's (see README).
 */
export const WEB_WEIGHTS = {
  int11: { kind: "int", bits: 11 },
  float16: { kind: "float16" },
  float32: null,
} as const satisfies Record<string, WeightFormat | null>;

/** A name of {@link WEB_WEIGHTS}. */
export type WebWeights = keyof typeof WEB_WEIGHTS;

/** The default of {@link WEB_WEIGHTS}. */
export const DEFAULT_WEB_WEIGHTS: WebWeights = "int11";

/**
 * The generator as the site ships it: the ONNX file `bytes` in the form onnxruntime-web runs fastest (src/onnx's
 * `web` rewrite profile: its WebAssembly runs the ConvTranspose faster than the sub-pixel form that export writes
 * for onnxruntime-node) with its weights stored as `weights` says (src/onnx's `compressWeights`), so that every
 * build derives it from the generator it is given.
 */
export function webModel(bytes: Uint8Array, weights: WebWeights): Uint8Array {
  const format = WEB_WEIGHTS[weights];
  const model = rewriteForInference(decodeModel(bytes), REWRITE_PROFILES.web).model;
  return encodeModel(format === null ? model : compressWeights(model, { format }));
}
