/**
 * ONNX export of TF.js Layers models through our own protobufjs writer: a general layer-by-layer converter
 * (NCHW inside, BatchNorm folding, float16), the DCGAN specifics (I/O names, metadata), a check of the file
 * against TF.js with onnxruntime-node, inference rewrites of an exported graph (named passes that compute the
 * same function faster), and smaller weight storage for an exported file (int8 or float16).
 * @module
 */
export {
  convertLayersModel,
  type ConvertOptions,
  DEFAULT_OPSET,
  type ImageLayout,
  IR_VERSION,
  MAX_OPSET,
  MIN_OPSET,
  PRODUCER_NAME,
} from "./convert.ts";
export {
  type DcganExportOptions,
  dcganMetadata,
  type DcganMetadataInput,
  exportDcgan,
  IO_NAMES,
  kindMismatch,
  type ModelKind,
  type ModelSource,
  portableSourcePath,
  resolveModelSource,
} from "./dcgan_export.ts";
export { UnsupportedLayerError } from "./errors.ts";
export {
  type AppliedRewrites,
  describeRewrites,
  REWRITE_PROFILES,
  rewriteForInference,
  type RewritePassName,
  REWRITES_METADATA_KEY,
} from "./rewrite.ts";
export {
  type CompressOptions,
  compressWeights,
  quantizeWeights,
  type WeightFormat,
} from "./compress.ts";
export type { FloatPrecision } from "../onnx_proto/mod.ts";
// The protobuf codec, for callers that write or read what the exporter produces.
export { DataType, decodeModel, encodeModel, type ModelProto } from "../onnx_proto/mod.ts";
export { formatGraphSummary, type GraphSummary, summarizeModel } from "./summary.ts";
export {
  type BatchComparison,
  compareOnnxModels,
  type CompareOptions,
  compareWithTfjs,
} from "./verify.ts";
