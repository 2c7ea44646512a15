/**
 * The parts of the inference API shared by both entries (`mod.ts` and `browser.ts`): types, errors, latents,
 * image encodings. Browser-safe.
 * @module
 */
export { InferenceError, InputError, ModelError, ProviderError } from "./errors.ts";
export {
  type GeneratedImages,
  type GenerateOptions,
  Generator,
  type GeneratorOptions,
  type InterpolateOptions,
  type SampleOptions,
} from "./generator.ts";
export { imagesToGif, imagesToNpy, imagesToPng, imagesToPngs } from "./images.ts";
export {
  checkCount,
  checkSeed,
  interpolateLatents,
  type InterpolationMode,
  MAX_SAMPLES,
  seedLatents,
} from "./latents.ts";
export { type FloatType, type ImageLayout, type ModelInfo, readModelInfo } from "./model_info.ts";
export {
  isProviderName,
  PROVIDER_NAMES,
  type ProviderChoice,
  type ProviderName,
  type SessionTuning,
} from "./provider.ts";
