/**
 * The reference DCGAN networks built with the TF.js Layers API, and helpers to describe them.
 * @module
 */
export { buildGenerator, type GeneratorOptions } from "./generator.ts";
export { buildDiscriminator, type DiscriminatorOptions } from "./discriminator.ts";
export {
  countParams,
  formatSummary,
  type LayerSummary,
  type ParamCounts,
  summarizeLayers,
} from "./summary.ts";
