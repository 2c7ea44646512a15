/**
 * ONNX export of TF.js Layers models through our own protobufjs writer: a general layer-by-layer converter
 * (NCHW inside, BatchNorm folding, float16), the DCGAN specifics (I/O names, metadata), and a check of the file
 * against TF.js with onnxruntime-node.
 * @module
 */
export {
  BATCH_DIM,
  convertLayersModel,
  type ConvertOptions,
  DEFAULT_OPSET,
  type ImageLayout,
  IR_VERSION,
  MAX_OPSET,
  MIN_OPSET,
  PRODUCER_NAME,
  PRODUCER_VERSION,
} from "./convert.ts";
export {
  dcganDocString,
  dcganMetadata,
  type DcganMetadataInput,
  IO_NAMES,
  kindMismatch,
  type ModelKind,
  type ModelSource,
  portableSourcePath,
  resolveModelSource,
} from "./dcgan_export.ts";
export { UnsupportedLayerError } from "./errors.ts";
export type { FloatPrecision } from "./graph_builder.ts";
export { SUPPORTED_LAYERS } from "./layers.ts";
export { DataType, decodeModel, encodeModel, type ModelProto } from "./schema.ts";
export { formatGraphSummary, type GraphSummary, summarizeModel } from "./summary.ts";
export { type BatchComparison, type CompareOptions, compareWithTfjs } from "./verify.ts";
