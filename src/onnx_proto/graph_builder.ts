import {
  type AttributeProto,
  AttributeType,
  DataType,
  type DataTypeCode,
  type NodeProto,
  type TensorProto,
} from "./schema.ts";

/** Floating-point precision of a graph's weights and internal tensors. */
export type FloatPrecision = "float32" | "float16";

/** An attribute value: `int`/`ints` are written as ONNX INT/INTS, `float` as FLOAT. */
export type Attr =
  | { int: number }
  | { ints: number[] }
  | { float: number }
  | { string: string };

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (a view when the platform is little-endian, else a swapped copy). */
function leBytes(data: Float32Array | Float16Array | BigInt64Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(view.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = view[i + width - 1 - b];
  }
  return out;
}

/** An ONNX attribute named `name` holding `value`. */
export function toAttribute(name: string, value: Attr): AttributeProto {
  if ("int" in value) return { name, type: AttributeType.INT, i: value.int };
  if ("ints" in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ("float" in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}

/**
 * Accumulates the nodes and initializers of an ONNX graph with unique names. Float initializers are given as
 * float32 and stored in the graph's precision.
 */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly names = new Set<string>();
  /**
   * Prefix of the names of the nodes added from now on (`scope/base`), so that a profile can charge each node to
   * the part of the graph it belongs to; empty for none.
   */
  scope = "";

  constructor(readonly precision: FloatPrecision) {}

  /** The ONNX element type of the graph's float tensors. */
  get floatType(): DataTypeCode {
    return this.precision === "float16" ? DataType.FLOAT16 : DataType.FLOAT;
  }

  /** Reserves a name that is not used yet, based on `base` (`base`, `base_1`, `base_2`, ...). */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Adds a float initializer (converted to the graph precision) and returns its name. */
  addFloat(base: string, dims: number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) {
      throw new Error(`internal error: ${base} has ${data.length} values for shape [${dims}]`);
    }
    const name = this.uniqueName(base);
    const stored = this.precision === "float16" ? new Float16Array(data) : data;
    this.initializers.push({ name, dims, dataType: this.floatType, rawData: leBytes(stored) });
    return name;
  }

  /** Adds an int64 initializer (shapes, indices) and returns its name. */
  addInt64(base: string, dims: number[], values: number[]): string {
    const name = this.uniqueName(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    this.initializers.push({ name, dims, dataType: DataType.INT64, rawData: leBytes(data) });
    return name;
  }

  /** Adds a node with one output and returns the output's name (`domain`: an operator set other than ONNX's). */
  addNode(
    opType: string,
    inputs: string[],
    base: string,
    attrs: Record<string, Attr> = {},
    domain?: string,
  ): string {
    const output = this.uniqueName(this.scope ? `${this.scope}/${base}` : base);
    this.nodes.push({
      name: output,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
      ...(domain ? { domain } : {}),
    });
    return output;
  }

  /** Renames a node output everywhere it appears (to give graph outputs their public names). */
  rename(from: string, to: string): void {
    this.names.add(to);
    for (const node of this.nodes) {
      node.input = node.input.map((n) => n === from ? to : n);
      node.output = node.output.map((n) => n === from ? to : n);
    }
  }

  /** True when a node produces `name` (false for graph inputs and initializers). */
  isNodeOutput(name: string): boolean {
    return this.nodes.some((n) => n.output.includes(name));
  }
}
