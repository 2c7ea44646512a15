/**
 * Editing an ONNX graph in place, for the inference rewrites (`rewrite.ts`): constant float weights read and
 * written in the graph's own precision (float32 or float16), attributes read with defaults, fresh unique names,
 * and one node replaced by several at its position.
 * @module
 */
import {
  type Attr,
  DataType,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  toAttribute,
} from "../onnx_proto/mod.ts";

/** A constant float tensor of the graph, as float32 values. */
export interface FloatConstant {
  dims: number[];
  data: Float32Array;
  /** The element type it is stored in (float32 or float16). */
  dataType: typeof DataType.FLOAT | typeof DataType.FLOAT16;
}

/** Little-endian raw bytes of float32 or float16 values. */
function rawBytes(data: Float32Array, dataType: FloatConstant["dataType"]): Uint8Array {
  const width = dataType === DataType.FLOAT16 ? 2 : 4;
  const out = new Uint8Array(data.length * width);
  const view = new DataView(out.buffer);
  data.forEach((v, i) =>
    width === 2 ? view.setFloat16(2 * i, v, true) : view.setFloat32(4 * i, v, true)
  );
  return out;
}

/** The INTS attribute `name` of `node` as numbers, or `fallback` when the node does not set it. */
export function intsAttr(node: NodeProto, name: string, fallback: number[]): number[] {
  const a = node.attribute.find((x) => x.name === name);
  return a?.ints?.map(Number) ?? fallback;
}

/** The INT attribute `name` of `node`, or `fallback` when the node does not set it. */
export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i === undefined ? fallback : Number(a.i);
}

/** The STRING attribute `name` of `node`, or `fallback` when the node does not set it. */
export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = node.attribute.find((x) => x.name === name);
  return a?.s === undefined ? fallback : new TextDecoder().decode(a.s);
}

/** A node description for {@link GraphEditor.replaceNode}: the op, its inputs and attributes. */
export interface NewNode {
  opType: string;
  input: string[];
  attrs?: Record<string, Attr>;
}

/** Edits one graph: the constants it holds, names it has not used, nodes replaced where they stand. */
export class GraphEditor {
  private readonly initializers: Map<string, TensorProto>;
  private readonly names = new Set<string>();

  constructor(readonly graph: GraphProto) {
    this.initializers = new Map(graph.initializer.map((t) => [t.name, t]));
    for (const t of graph.initializer) this.names.add(t.name);
    for (const v of graph.input) this.names.add(v.name);
    for (const n of graph.node) {
      this.names.add(n.name);
      for (const o of n.output) this.names.add(o);
    }
  }

  /** A name not used in the graph yet, based on `base` (`base`, `base_1`, …), reserved. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /**
   * The float32 or float16 initializer `name` as float32 values, or null when `name` is not a constant float
   * tensor (a graph input, another node's output, another element type, data outside `rawData`).
   */
  floatConstant(name: string): FloatConstant | null {
    const t = this.initializers.get(name);
    if (!t || this.graph.input.some((v) => v.name === name)) return null;
    if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.FLOAT16) return null;
    const width = t.dataType === DataType.FLOAT16 ? 2 : 4;
    const count = t.dims.reduce((a, b) => a * Number(b), 1);
    const raw = t.rawData;
    if (!raw || raw.length !== count * width) return null;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const data = Float32Array.from(
      { length: count },
      (_, i) => width === 2 ? view.getFloat16(2 * i, true) : view.getFloat32(4 * i, true),
    );
    return { dims: t.dims.map(Number), data, dataType: t.dataType };
  }

  /** Adds a float initializer stored as `dataType` and returns its name. */
  addFloat(
    base: string,
    dims: number[],
    data: Float32Array,
    dataType: FloatConstant["dataType"],
  ): string {
    const name = this.uniqueName(base);
    const tensor = { name, dims, dataType, rawData: rawBytes(data, dataType) };
    this.graph.initializer.push(tensor);
    this.initializers.set(name, tensor);
    return name;
  }

  /** Adds an int64 initializer and returns its name. */
  addInt64(base: string, values: number[]): string {
    const name = this.uniqueName(base);
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    const rawData = new Uint8Array(data.buffer);
    const tensor = { name, dims: [values.length], dataType: DataType.INT64, rawData };
    this.graph.initializer.push(tensor);
    this.initializers.set(name, tensor);
    return name;
  }

  /**
   * Replaces `node` by `chain`, a sequence of single-output nodes where each one after the first takes the
   * previous one's output as its first input (given as `""` in its `input`); the last one writes `node`'s
   * output. The new nodes are named `<node>/<op>` and stand where `node` stood.
   */
  replaceNode(node: NodeProto, chain: NewNode[]): void {
    this.replaceNodes([node], chain, (op) => `${node.name}/${op}`);
  }

  /**
   * Replaces `old`, a chain of nodes, by `chain` (see {@link replaceNode}): the new nodes stand where the first
   * old one stood, the last new one writes the last old one's output, and each is named `name(opType)`.
   */
  replaceNodes(old: NodeProto[], chain: NewNode[], name: (op: string) => string): void {
    const at = this.graph.node.indexOf(old[0]);
    if (at < 0 || old.some((n) => !this.graph.node.includes(n))) {
      throw new Error(`internal error: ${old.map((n) => n.name)} are not all in the graph`);
    }
    const finalOutput = old[old.length - 1].output[0];
    // Node names are their own namespace: a name the old nodes held, or one of a tensor, may be reused.
    const nodeNames = new Set(this.graph.node.filter((n) => !old.includes(n)).map((n) => n.name));
    let previous = "";
    const nodes = chain.map((c, i) => {
      let nodeName = name(c.opType);
      for (let k = 1; nodeNames.has(nodeName); k++) nodeName = `${name(c.opType)}_${k}`;
      nodeNames.add(nodeName);
      const output = i === chain.length - 1 ? finalOutput : this.uniqueName(nodeName);
      const input = c.input.map((x) => x === "" ? previous : x);
      previous = output;
      const attribute = Object.entries(c.attrs ?? {}).map(([k, v]) => toAttribute(k, v));
      return { name: nodeName, opType: c.opType, input, output: [output], attribute };
    });
    this.graph.node = this.graph.node.filter((n) => !old.includes(n));
    this.graph.node.splice(at, 0, ...nodes);
  }

  /** The one node that reads `name`, when exactly one does and `name` is not a graph output; else null. */
  soleConsumer(name: string): NodeProto | null {
    if (this.graph.output.some((o) => o.name === name)) return null;
    const readers = this.graph.node.filter((n) => n.input.includes(name));
    return readers.length === 1 ? readers[0] : null;
  }

  /** The node that writes `name`, or null for graph inputs and initializers. */
  producer(name: string): NodeProto | null {
    return this.graph.node.find((n) => n.output.includes(name)) ?? null;
  }

  /** The int64 initializer `name` as numbers, or null when `name` is not one. */
  int64Constant(name: string): number[] | null {
    const t = this.initializers.get(name);
    if (!t || t.dataType !== DataType.INT64 || !t.rawData || t.rawData.length % 8 !== 0) {
      return null;
    }
    const raw = t.rawData;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  }

  /** Removes initializers that no node reads and that are not graph outputs. */
  dropUnusedInitializers(): void {
    const used = new Set(this.graph.node.flatMap((n) => n.input));
    for (const o of this.graph.output) used.add(o.name);
    this.graph.initializer = this.graph.initializer.filter((t) => used.has(t.name));
    for (const name of [...this.initializers.keys()]) {
      if (!used.has(name)) this.initializers.delete(name);
    }
  }
}
