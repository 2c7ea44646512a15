/**
 * Checkpoints: TF.js Layers models saved in folders in the standard format, and their loading.
 * @module
 */
export {
  loadLayersModel,
  MODEL_JSON,
  ModelFileError,
  readModelArtifacts,
  saveLayersModel,
  WEIGHTS_BIN,
} from "./layers_io.ts";
