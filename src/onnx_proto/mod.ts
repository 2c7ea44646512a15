/**
 * The ONNX protobuf leaf shared by export (`src/onnx`), inference (`src/infer`) and the native training kernels
 * (`src/compute`): the message types and their encoder/decoder, and a small graph builder. Browser-safe: it
 * imports protobufjs and nothing else.
 * @module
 */
export {
  type AttributeProto,
  AttributeType,
  DataType,
  type DataTypeCode,
  decodeModel,
  type Dimension,
  encodeModel,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./schema.ts";
export { type Attr, type FloatPrecision, GraphBuilder, toAttribute } from "./graph_builder.ts";
