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
} from "./layers_io.ts";
export {
  checkpointDirName,
  type CheckpointInfo,
  CheckpointNotFoundError,
  CHECKPOINTS_DIR,
  DISCRIMINATOR_DIR,
  GENERATOR_DIR,
  GENERATOR_EMA_DIR,
  GENERATOR_WEIGHTS,
  generatorDirOf,
  type GeneratorWeights,
  hasEmaGenerator,
  latestCheckpoint,
  listCheckpoints,
  resolveCheckpoint,
  RUN_FILES,
  STATE_JSON,
} from "./run_layout.ts";
