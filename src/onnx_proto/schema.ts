/**
 * The subset of the ONNX protobuf schema (`onnx/onnx.proto`, IR version 8) that the exporter writes, defined with
 * protobufjs reflection from the field numbers of the spec. Field names are the protobufjs camel-case forms.
 *
 * Why reflection rather than a schema package: the npm package that carries the schema (`onnx-proto` 8.0.1) is
 * generated static code that depends on protobufjs ^6, a second, older copy next to our pinned 8.8.1; the subset we
 * need is a few dozen fields, each checked against the descriptors of the official `onnx` Python package, and the
 * official checker validates every file we write (test/onnx_checker_test.ts).
 * @module
 */
import protobuf from "protobufjs";

/** ONNX `TensorProto.DataType` values used by the exporter. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;
/** An ONNX element type the exporter writes. */
export type DataTypeCode = typeof DataType[keyof typeof DataType];

/** ONNX `AttributeProto.AttributeType` values used by the exporter. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** `TensorProto`: an initializer, always written as little-endian `rawData`. */
export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataTypeCode;
  rawData: Uint8Array;
}

/** `AttributeProto` (scalar and list kinds only). */
export interface AttributeProto {
  name: string;
  type: typeof AttributeType[keyof typeof AttributeType];
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** `NodeProto`: one operator application. */
export interface NodeProto {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
  domain?: string;
}

/** `TensorShapeProto.Dimension`: a fixed size or a symbolic name. */
export interface Dimension {
  dimValue?: number;
  dimParam?: string;
}

/** `ValueInfoProto` for a tensor: name, element type and shape. */
export interface ValueInfoProto {
  name: string;
  docString?: string;
  type: { tensorType: { elemType: DataTypeCode; shape: { dim: Dimension[] } } };
}

/** `GraphProto`. */
export interface GraphProto {
  name: string;
  docString?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

/** `ModelProto`. */
export interface ModelProto {
  irVersion: number;
  opsetImport: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  modelVersion?: number;
  docString?: string;
  graph: GraphProto;
  metadataProps: Array<{ key: string; value: string }>;
}

const f = (id: number, type: string, rule?: "repeated") => rule ? { id, type, rule } : { id, type };

/** Field numbers from onnx.proto (checked against python onnx 1.12's descriptors). */
const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: f(1, "string"),
            refAttrName: f(21, "string"),
            docString: f(13, "string"),
            type: f(20, "AttributeType"),
            f: f(2, "float"),
            i: f(3, "int64"),
            s: f(4, "bytes"),
            t: f(5, "TensorProto"),
            floats: f(7, "float", "repeated"),
            ints: f(8, "int64", "repeated"),
            strings: f(9, "bytes", "repeated"),
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSOR: 11,
                SPARSE_TENSORS: 12,
                TYPE_PROTO: 13,
                TYPE_PROTOS: 14,
              },
            },
          },
        },
        ValueInfoProto: {
          fields: { name: f(1, "string"), type: f(2, "TypeProto"), docString: f(3, "string") },
        },
        NodeProto: {
          fields: {
            input: f(1, "string", "repeated"),
            output: f(2, "string", "repeated"),
            name: f(3, "string"),
            opType: f(4, "string"),
            domain: f(7, "string"),
            attribute: f(5, "AttributeProto", "repeated"),
            docString: f(6, "string"),
          },
        },
        ModelProto: {
          fields: {
            irVersion: f(1, "int64"),
            opsetImport: f(8, "OperatorSetIdProto", "repeated"),
            producerName: f(2, "string"),
            producerVersion: f(3, "string"),
            domain: f(4, "string"),
            modelVersion: f(5, "int64"),
            docString: f(6, "string"),
            graph: f(7, "GraphProto"),
            metadataProps: f(14, "StringStringEntryProto", "repeated"),
          },
        },
        StringStringEntryProto: { fields: { key: f(1, "string"), value: f(2, "string") } },
        GraphProto: {
          fields: {
            node: f(1, "NodeProto", "repeated"),
            name: f(2, "string"),
            initializer: f(5, "TensorProto", "repeated"),
            docString: f(10, "string"),
            input: f(11, "ValueInfoProto", "repeated"),
            output: f(12, "ValueInfoProto", "repeated"),
            valueInfo: f(13, "ValueInfoProto", "repeated"),
          },
        },
        TensorProto: {
          fields: {
            dims: f(1, "int64", "repeated"),
            dataType: f(2, "int32"),
            name: f(8, "string"),
            docString: f(12, "string"),
            rawData: f(9, "bytes"),
          },
        },
        TensorShapeProto: {
          fields: { dim: f(1, "Dimension", "repeated") },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: {
                dimValue: f(1, "int64"),
                dimParam: f(2, "string"),
                denotation: f(3, "string"),
              },
            },
          },
        },
        TypeProto: {
          fields: { tensorType: f(1, "Tensor"), denotation: f(6, "string") },
          nested: {
            Tensor: { fields: { elemType: f(1, "int32"), shape: f(2, "TensorShapeProto") } },
          },
        },
        OperatorSetIdProto: { fields: { domain: f(1, "string"), version: f(2, "int64") } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
const modelType = root.lookupType("onnx.ModelProto");

/** Serialises a model to the bytes of an `.onnx` file. */
export function encodeModel(model: ModelProto): Uint8Array {
  // The interfaces above already type the message, so it is encoded as is (no verify/fromObject copy).
  return modelType.encode(model).finish();
}

/** Parses the bytes of an `.onnx` file (the fields listed in this schema; others are skipped). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const message = modelType.decode(bytes);
  return modelType.toObject(message, {
    longs: Number,
    enums: Number,
    arrays: true,
  }) as unknown as ModelProto;
}
