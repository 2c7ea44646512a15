/**
 * The parts of the inference API shared by both entries (`mod.ts` and `browser.ts`): types, errors, latents,
 * image encodings. Browser-safe.
 * @module
 */
export { InferenceError, InputError, ModelError, ProviderError } from "./errors.ts";
export {
  type ClassifierSource,
  type FindDigitsOptions,
  type GeneratedImages,
  type GenerateOptions,
  Generator,
  type GeneratorOptions,
  type InterpolateOptions,
  type SampleOptions,
} from "./generator.ts";
export {
  type ClassifierInfo,
  DIGIT_COUNT,
  DigitClassifier,
  readClassifierInfo,
} from "./digit_classifier.ts";
export {
  checkDigitSearch,
  DEFAULT_DIGIT_THRESHOLD,
  type DigitSearch,
  type DigitSearchResult,
  MAX_DIGIT_CANDIDATES,
  MAX_DIGIT_SAMPLES,
} from "./digit_search.ts";
export { imagesToGif, imagesToNpy, imagesToPng, imagesToPngs } from "./images.ts";
export {
  checkCount,
  checkSeed,
  interpolateLatents,
  type InterpolationMode,
  latentsForSeed,
  MAX_SAMPLES,
} from "./latents.ts";
export {
  type FloatType,
  imageDims,
  type ImageLayout,
  type ModelInfo,
  readModelInfo,
} from "./model_info.ts";
export {
  floatTypeOfV2,
  readTensorData,
  type TritonModelConfig,
  type TritonParameter,
  type TritonTensorConfig,
  v2Datatype,
  type V2Error,
  type V2InferRequest,
  type V2InferResponse,
  type V2ModelMetadata,
  type V2Parameters,
  type V2RequestInput,
  type V2ResponseOutput,
  type V2ServerMetadata,
  type V2TensorMetadata,
} from "./v2_protocol.ts";
export {
  isProviderName,
  PROVIDER_NAMES,
  type ProviderChoice,
  type ProviderName,
  type SessionSignature,
  type SessionTuning,
} from "./provider.ts";
export { SHIPPED_MODEL_PATHS } from "./shipped_models.ts";
