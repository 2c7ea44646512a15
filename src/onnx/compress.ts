import {
  AttributeType,
  DataType,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "../onnx_proto/mod.ts";

/**
 * How {@link compressWeights} stores the weights. `int`: symmetric integers of `bits` bits (2–12) with one float32
 * scale per output channel, expanded to float32 by `Cast` and `Mul` at the start of the graph (weight-only:
 * activations and arithmetic stay float32). Up to 8 bits that is one int8 tensor; above, the integer q is split
 * into `q >> 4` (int8) and its low 4 bits, packed two to a byte, because gzip then keeps each part at its entropy.
 * `float16`: half-precision weights expanded by `Cast`. Every expanding operator has constant inputs, so ONNX
 * Runtime computes the float32 weights once, when it loads the model (its `DequantizeLinear`, which it keeps for
 * its quantised kernels instead, would run on every inference).
 */
export type WeightFormat = { kind: "int"; bits: number } | { kind: "float16" };

/** Options of {@link compressWeights}. */
export interface CompressOptions {
  format: WeightFormat;
  /** Weights with fewer values stay float32 (default 4,096: they weigh little and a per-tensor scale hurts). */
  minValues?: number;
}

/** The lowest opset whose `Unsqueeze` takes its axes as an input (the unpacking of the low bits). */
const MIN_INT_OPSET = 13;
/** Bits of one stored integer plane. */
const PLANE_BITS = 8;
/** Above {@link PLANE_BITS} bits, the low bits split off into a second plane. */
const LOW_BITS = 4;
const DEFAULT_MIN_VALUES = 4096;
/** The most bits of an integer weight: an int8 high part over the 4 low bits. */
const MAX_BITS = PLANE_BITS + LOW_BITS;

/** The weight input of the operators whose weights are compressed, and its output-channel axis. */
function weightAxis(node: NodeProto, inputIndex: number): number | null {
  if (inputIndex !== 1) return null;
  switch (node.opType) {
    case "Conv":
      return 0; // [out, in / group, kH, kW]
    case "ConvTranspose":
      return 1; // [in, out / group, kH, kW]
    case "MatMul":
      return 1; // [in, out] (a rank-2 weight)
    case "Gemm": {
      const transB = node.attribute.find((a) => a.name === "transB")?.i ?? 0;
      return transB ? 0 : 1;
    }
    default:
      return null;
  }
}

function float32Values(tensor: TensorProto): Float32Array {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  const raw = tensor.rawData ?? new Uint8Array();
  if (raw.length !== count * 4) {
    throw new RangeError(
      `initializer ${tensor.name} holds ${raw.length} bytes of raw data, not ${count} float32 values`,
    );
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

function rawFloat32(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  Array.from(values).forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

/** The values, 16 bits each, little-endian. */
function rawFloat16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat16(2 * i, v, true));
  return out;
}

/**
 * Symmetric quantisation to integers of `bits` bits with one scale per index of `axis`: scale = max |w| /
 * (2^(bits−1) − 1) over the channel (in float32, as the file stores it), q = round(w / scale), so that zero stays
 * exact and q lies in ±(2^(bits−1) − 1).
 */
export function quantizeWeights(
  values: Float32Array,
  dims: readonly number[],
  axis: number,
  bits: number,
): { q: Int32Array; scales: Float32Array } {
  if (!Number.isInteger(bits) || bits < 2 || bits > MAX_BITS) {
    throw new RangeError(`integer weights take 2 to ${MAX_BITS} bits, not ${bits}`);
  }
  const limit = 2 ** (bits - 1) - 1;
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const peak = new Float32Array(channels);
  values.forEach((v, i) => {
    const c = channelOf(i);
    peak[c] = Math.max(peak[c], Math.abs(v));
  });
  const scales = peak.map((p) => p > 0 ? p / limit : 1);
  const q = new Int32Array(values.length);
  values.forEach((v, i) => {
    q[i] = Math.max(-limit, Math.min(limit, Math.round(v / scales[channelOf(i)])));
  });
  return { q, scales };
}

/** Names of the initializers that some compressible operator takes as its weight, with the axis each needs. */
function compressibleWeights(model: ModelProto, minValues: number): Map<string, number> {
  const floats = new Map(
    model.graph.initializer
      .filter((t) =>
        t.dataType === DataType.FLOAT && t.dims.reduce((a, b) => a * b, 1) >= minValues
      )
      .map((t) => [t.name, t]),
  );
  const axes = new Map<string, number | null>();
  for (const node of model.graph.node) {
    node.input.forEach((name, index) => {
      if (!floats.has(name)) return;
      const axis = weightAxis(node, index);
      // A tensor used in any other way, or by two operators that disagree, stays as it is.
      const seen = axes.get(name);
      axes.set(name, seen === undefined || seen === axis ? axis : null);
    });
  }
  const chosen = new Map<string, number>();
  for (const [name, axis] of axes) {
    if (axis !== null && axis < floats.get(name)!.dims.length) chosen.set(name, axis);
  }
  return chosen;
}

function node(
  opType: string,
  input: string[],
  output: string,
  ints: Record<string, number> = {},
): NodeProto {
  const attribute = Object.entries(ints).map(([name, i]) => ({ name, type: AttributeType.INT, i }));
  return { name: `${output}.${opType}`, opType, input, output: [output], attribute };
}

/** The initializers and nodes that store `values` as integers and expand them back into `tensor.name`. */
function intWeights(tensor: TensorProto, values: Float32Array, axis: number, bits: number) {
  const { name, dims } = tensor;
  const { q, scales } = quantizeWeights(values, dims, axis, bits);
  const lowBits = bits > PLANE_BITS ? LOW_BITS : 0;
  const high = Int8Array.from(q, (v) => v >> lowBits);
  const n = (suffix: string) => `${name}.${suffix}`;
  // One scale per index of `axis`, shaped to broadcast over the weight (`[C, 1, 1, 1]`, `[1, C, 1, 1]`, `[1, C]`).
  const scaleDims = dims.map((d, i) => i === axis ? d : 1);
  const initializer: TensorProto[] = [
    { name: n("scale"), dims: scaleDims, dataType: DataType.FLOAT, rawData: rawFloat32(scales) },
    { name: n("high"), dims, dataType: DataType.INT8, rawData: bytesOf(high) },
  ];
  if (lowBits === 0) {
    return {
      initializer,
      nodes: [
        node("Cast", [n("high")], n("integers"), { to: DataType.FLOAT }),
        node("Mul", [n("integers"), n("scale")], name),
      ],
    };
  }
  // The low 4 bits of each value, two values a byte (even index in the low nibble): uniform bits pack best so.
  const packed = new Uint8Array(Math.ceil(q.length / 2));
  q.forEach((v, i) => packed[i >> 1] |= (v & 0xf) << (4 * (i & 1)));
  const count = q.length;
  const int64 = (suffix: string, values: number[]): TensorProto => ({
    name: `${name}.${suffix}`,
    dims: [values.length],
    dataType: DataType.INT64,
    rawData: bytesOf(BigInt64Array.from(values, BigInt)),
  });
  initializer.push(
    { name: `${name}.low`, dims: [packed.length], dataType: DataType.UINT8, rawData: packed },
    {
      name: `${name}.nibble`,
      dims: [],
      dataType: DataType.INT32,
      rawData: bytesOf(Int32Array.of(16)),
    },
    { name: `${name}.step`, dims: [], dataType: DataType.FLOAT, rawData: rawFloat32([16]) },
    int64("axis1", [1]),
    int64("pairs", [2 * packed.length]),
    int64("start", [0]),
    int64("count", [count]),
    int64("dims", dims),
  );
  return {
    initializer,
    nodes: [
      node("Cast", [n("low")], n("low_int"), { to: DataType.INT32 }),
      node("Mod", [n("low_int"), n("nibble")], n("even")),
      node("Div", [n("low_int"), n("nibble")], n("odd")),
      node("Unsqueeze", [n("even"), n("axis1")], n("even_column")),
      node("Unsqueeze", [n("odd"), n("axis1")], n("odd_column")),
      node("Concat", [n("even_column"), n("odd_column")], n("low_pairs"), { axis: 1 }),
      node("Reshape", [n("low_pairs"), n("pairs")], n("low_flat")),
      node("Slice", [n("low_flat"), n("start"), n("count")], n("low_values")),
      node("Reshape", [n("low_values"), n("dims")], n("low_int32")),
      node("Cast", [n("low_int32")], n("low_part"), { to: DataType.FLOAT }),
      node("Cast", [n("high")], n("high_float"), { to: DataType.FLOAT }),
      node("Mul", [n("high_float"), n("step")], n("high_part")),
      node("Add", [n("high_part"), n("low_part")], n("integers")),
      node("Mul", [n("integers"), n("scale")], name),
    ],
  };
}

function bytesOf(values: Int8Array | Int32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * A copy of `model` whose operator weights (the weight input of `Conv`, `ConvTranspose`, `Gemm` and `MatMul`) are
 * stored in `options.format` and expanded back to float32 at the start of the graph, so the graph's inputs,
 * outputs and computation stay float32 while the file shrinks (int8: about a quarter, float16: a half). Biases,
 * shapes and everything else stay as they are. The metadata gains `weight_storage`. A model with no such weight
 * (one compressed already) is returned as it is.
 * @throws {RangeError} for integers in a model below opset 13 (the unpacking needs it) or whose weights are
 * not stored as raw float32 data.
 */
export function compressWeights(model: ModelProto, options: CompressOptions): ModelProto {
  const opset = model.opsetImport.find((o) => !o.domain)?.version ?? 0;
  if (options.format.kind === "int" && opset < MIN_INT_OPSET) {
    throw new RangeError(`integer weights need opset ${MIN_INT_OPSET} or later, not ${opset}`);
  }
  const weights = compressibleWeights(model, options.minValues ?? DEFAULT_MIN_VALUES);
  if (weights.size === 0) return model;
  const expand: NodeProto[] = [];
  const initializer: TensorProto[] = [];
  for (const tensor of model.graph.initializer) {
    const axis = weights.get(tensor.name);
    if (axis === undefined) {
      initializer.push(tensor);
      continue;
    }
    const values = float32Values(tensor);
    const { format } = options;
    if (format.kind === "int") {
      const parts = intWeights(tensor, values, axis, format.bits);
      initializer.push(...parts.initializer);
      expand.push(...parts.nodes);
    } else {
      initializer.push({
        name: `${tensor.name}.float16`,
        dims: tensor.dims,
        dataType: DataType.FLOAT16,
        rawData: rawFloat16(values),
      });
      expand.push(node("Cast", [`${tensor.name}.float16`], tensor.name, { to: DataType.FLOAT }));
    }
  }
  const storage = options.format.kind === "int"
    ? `int${options.format.bits}, one scale per output channel (Cast, Mul)`
    : "float16 (Cast)";
  const metadataProps = [
    ...model.metadataProps.filter((p) => p.key !== "weight_storage"),
    { key: "weight_storage", value: storage },
  ];
  return {
    ...model,
    graph: { ...model.graph, node: [...expand, ...model.graph.node], initializer },
    metadataProps,
  };
}
