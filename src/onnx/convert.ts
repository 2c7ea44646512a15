import type * as tf from "@tensorflow/tfjs";
import { batchNormAffine, batchNormParams, normalisesChannels } from "./batch_norm.ts";
import type { ChannelAffine, LayerContext, Weight } from "./context.ts";
import { UnsupportedLayerError } from "./errors.ts";
import { type FloatPrecision, GraphBuilder } from "../onnx_proto/mod.ts";
import { chwOrder, invertPerm, samePerm, type Value } from "./layout.ts";
import { convertLayer } from "./layers.ts";
import {
  DataType,
  type Dimension,
  type ModelProto,
  type ValueInfoProto,
} from "../onnx_proto/mod.ts";

/** ONNX IR version written (ONNX 1.10–1.12). */
export const IR_VERSION = 8;
/** Default operator set; `opset` may be anything from {@link MIN_OPSET} to {@link MAX_OPSET}. */
export const DEFAULT_OPSET = 17;
/** Lowest supported opset (Softmax's single-axis semantics start at 13). */
export const MIN_OPSET = 13;
/** Highest supported opset (the newest that IR version 8 allows). */
export const MAX_OPSET = 17;
/** `producer_name` written into every model. */
export const PRODUCER_NAME = "dcgan-deno";
/** `producer_version` written into every model. */
export const PRODUCER_VERSION = "1.0.0";
/** Name of the symbolic batch dimension of inputs and outputs. */
export const BATCH_DIM = "batch";

/** Memory layout of image inputs and outputs of the exported graph (inside it always runs NCHW). */
export type ImageLayout = "nchw" | "nhwc";

/** Options of {@link convertLayersModel}. */
export interface ConvertOptions {
  /** Operator set version, 13–17 (default 17). */
  opset?: number;
  /** Fold inference BatchNormalization into the preceding Dense/Conv (default true). */
  foldBatchNorm?: boolean;
  /** Layout of image inputs and outputs (default `nchw`). */
  layout?: ImageLayout;
  /** Precision of weights and computation (default `float32`). */
  precision?: FloatPrecision;
  /** With float16: keep the graph's inputs and outputs float16 too (default: they stay float32). */
  float16Io?: boolean;
  /** Names of the graph inputs (default: the Keras input names). */
  inputNames?: string[];
  /** Names of the graph outputs (default: the Keras output layer names). */
  outputNames?: string[];
  /** Graph name (default: the Keras model name). */
  graphName?: string;
  /** Model doc string. */
  docString?: string;
  /** Key/value pairs for `metadata_props`. */
  metadata?: Record<string, string>;
}

interface LayerNode {
  layer: tf.layers.Layer;
  className: string;
  input: tf.SymbolicTensor;
  output: tf.SymbolicTensor;
}

const asArray = <T>(x: T | T[]): T[] => Array.isArray(x) ? x : [x];

/** Layers whose output keeps any feature order of a flat input (elementwise or per-feature). */
const ORDER_TRANSPARENT = new Set([
  "Activation",
  "ReLU",
  "LeakyReLU",
  "ELU",
  "Softmax",
  "BatchNormalization",
  "Dropout",
  "GaussianNoise",
  "GaussianDropout",
  "AlphaDropout",
]);

function kerasShape(layer: string, className: string, t: tf.SymbolicTensor): number[] {
  const dims = t.shape.slice(1);
  if (dims.some((d) => d === null)) {
    throw new UnsupportedLayerError(layer, className, `its shape [${t.shape}] has unknown sizes`);
  }
  const shape = dims as number[];
  if (shape.length !== 1 && shape.length !== 3) {
    throw new UnsupportedLayerError(
      layer,
      className,
      `tensors of rank ${shape.length + 1} (only [batch, features] and [batch, H, W, C])`,
    );
  }
  return shape;
}

function layerNodes(model: tf.LayersModel): LayerNode[] {
  const nodes: LayerNode[] = [];
  for (const layer of model.layers) {
    const className = layer.getClassName();
    if (className === "InputLayer") continue;
    let inputs: tf.SymbolicTensor[];
    let outputs: tf.SymbolicTensor[];
    try {
      inputs = asArray(layer.input);
      outputs = asArray(layer.output);
    } catch {
      throw new UnsupportedLayerError(layer.name, className, "it is applied more than once");
    }
    if (inputs.length !== 1 || outputs.length !== 1) {
      throw new UnsupportedLayerError(layer.name, className, "layers with several inputs/outputs");
    }
    nodes.push({ layer, className, input: inputs[0], output: outputs[0] });
  }
  return nodes;
}

function layerWeights(layer: tf.layers.Layer): Map<string, Weight> {
  const map = new Map<string, Weight>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split("/").pop()!;
    map.set(short, { shape: w.shape as number[], data: values[i].dataSync() as Float32Array });
  });
  return map;
}

/** Graph facts the converter needs: who consumes each tensor, and which tensors are model outputs. */
class Topology {
  readonly consumers = new Map<number, LayerNode[]>();
  readonly producer = new Map<number, LayerNode>();
  readonly outputIds: Set<number>;

  constructor(readonly nodes: LayerNode[], model: tf.LayersModel) {
    for (const n of nodes) {
      this.producer.set(n.output.id, n);
      this.consumers.set(n.input.id, [...(this.consumers.get(n.input.id) ?? []), n]);
    }
    this.outputIds = new Set(model.outputs.map((t) => t.id));
  }

  /** The only consumer of `t`, when it has exactly one and is not a model output. */
  soleConsumer(t: tf.SymbolicTensor): LayerNode | null {
    const c = this.consumers.get(t.id) ?? [];
    return c.length === 1 && !this.outputIds.has(t.id) ? c[0] : null;
  }

  /**
   * For each Dense whose output reaches a Reshape to an image through order-transparent layers only, the NCHW
   * order its columns should have so that the Reshape is free.
   */
  denseOutputOrders(): Map<LayerNode, Int32Array | null> {
    const orders = new Map<LayerNode, Int32Array | null>();
    for (const reshape of this.nodes) {
      const target = reshape.output.shape.slice(1) as number[];
      if (reshape.className !== "Reshape" || target.length !== 3) continue;
      let t = reshape.input;
      for (;;) {
        const p = this.producer.get(t.id);
        if (!p || this.soleConsumer(t) === null || p.output.shape.length !== 2) break;
        if (p.className === "Dense") {
          orders.set(p, chwOrder(target[0], target[1], target[2]));
          break;
        }
        if (!ORDER_TRANSPARENT.has(p.className)) break;
        t = p.input;
      }
    }
    return orders;
  }
}

const FOLDS_INTO = new Set(["Dense", "Conv2D", "Conv2DTranspose"]);

function tensorType(elemType: ValueInfoProto["type"]["tensorType"]["elemType"], dims: Dimension[]) {
  return { tensorType: { elemType, shape: { dim: dims } } };
}

/** The ONNX shape of a Keras tensor in the chosen layout, batch symbolic. */
function ioDims(shape: number[], layout: ImageLayout): Dimension[] {
  const batch: Dimension = { dimParam: BATCH_DIM };
  if (shape.length === 1) return [batch, { dimValue: shape[0] }];
  const [h, w, c] = shape;
  const order = layout === "nchw" ? [c, h, w] : [h, w, c];
  return [batch, ...order.map((d) => ({ dimValue: d }))];
}

/** Moves an image between NHWC and NCHW: a Reshape when only one axis is not 1 among C and H·W, else Transpose. */
function relayout(g: GraphBuilder, x: string, [h, w, c]: number[], to: ImageLayout, base: string) {
  if (c === 1 || h * w === 1) {
    const dims = to === "nchw" ? [0, c, h, w] : [0, h, w, c];
    return g.addNode("Reshape", [x, g.addInt64(`${base}.shape`, [4], dims)], base);
  }
  const perm = to === "nchw" ? [0, 3, 1, 2] : [0, 2, 3, 1];
  return g.addNode("Transpose", [x], base, { perm: { ints: perm } });
}

/**
 * Converts a TF.js Layers model into an ONNX model (inference graph). Weights are re-laid out so the graph runs
 * NCHW without Transposes; BatchNorms are folded into the preceding layer unless `foldBatchNorm` is false.
 * @throws {UnsupportedLayerError} naming the first layer (and its class) that cannot be translated.
 */
export function convertLayersModel(
  model: tf.LayersModel,
  options: ConvertOptions = {},
): ModelProto {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new RangeError(`opset ${opset} is not supported (use ${MIN_OPSET}–${MAX_OPSET})`);
  }
  const layout = options.layout ?? "nchw";
  const precision = options.precision ?? "float32";
  const castIo = precision === "float16" && !options.float16Io;
  const ioType = precision === "float16" && options.float16Io ? DataType.FLOAT16 : DataType.FLOAT;
  const g = new GraphBuilder(precision);
  const topology = new Topology(layerNodes(model), model);
  const denseOrders = topology.denseOutputOrders();
  const values = new Map<number, Value>();
  const inputNames = model.inputs.map((t, i) =>
    g.uniqueName(options.inputNames?.[i] ?? t.sourceLayer.name)
  );
  const outputNames = model.outputs.map((t, i) =>
    g.uniqueName(options.outputNames?.[i] ?? t.sourceLayer.name)
  );

  const inputs = model.inputs.map((t, i) => {
    const layer = t.sourceLayer;
    const shape = kerasShape(layer.name, layer.getClassName(), t);
    const name = inputNames[i];
    let internal = castIo
      ? g.addNode("Cast", [name], `${name}_fp16`, { to: { int: DataType.FLOAT16 } })
      : name;
    if (shape.length === 3 && layout === "nhwc") {
      internal = relayout(g, internal, shape, "nchw", `${name}_nchw`);
    }
    values.set(t.id, { name: internal, shape, perm: null });
    return { name, type: tensorType(ioType, ioDims(shape, layout)) };
  });

  const folded = new Set<LayerNode>();
  for (const node of topology.nodes) {
    const input = values.get(node.input.id);
    if (!input) throw new Error(`internal error: no value for the input of ${node.layer.name}`);
    if (folded.has(node)) {
      values.set(node.output.id, input);
      continue;
    }
    const outputShape = kerasShape(node.layer.name, node.className, node.output);
    const config = node.layer.getConfig();
    let fold: ChannelAffine | null = null;
    const next = topology.soleConsumer(node.output);
    if (
      (options.foldBatchNorm ?? true) && FOLDS_INTO.has(node.className) &&
      (config.activation ?? "linear") === "linear" && next?.className === "BatchNormalization" &&
      normalisesChannels(next.layer.getConfig(), next.output.shape.length)
    ) {
      fold = batchNormAffine(batchNormParams({
        name: next.layer.name,
        className: next.className,
        config: next.layer.getConfig(),
        weights: layerWeights(next.layer),
      }));
      folded.add(next);
    }
    const ctx: LayerContext = {
      g,
      name: node.layer.name,
      className: node.className,
      config,
      input,
      outputShape,
      weights: layerWeights(node.layer),
      fold,
      outputPerm: denseOrders.get(node) ?? null,
    };
    values.set(node.output.id, convertLayer(ctx));
  }

  const claimed = new Set<string>();
  const renamed = new Map<string, string>();
  const outputs = model.outputs.map((t, i) => {
    const v = values.get(t.id)!;
    const name = outputNames[i];
    let last = renamed.get(v.name) ?? v.name;
    if (!samePerm(v.perm, null)) {
      const inv = Array.from(invertPerm(v.perm!));
      const indices = g.addInt64(`${name}.order`, [inv.length], inv);
      last = g.addNode("Gather", [last, indices], `${name}_order`, { axis: { int: 1 } });
    }
    if (v.shape.length === 3 && layout === "nhwc") {
      last = relayout(g, last, v.shape, "nhwc", `${name}_nhwc`);
    }
    if (castIo) last = g.addNode("Cast", [last], `${name}_fp32`, { to: { int: DataType.FLOAT } });
    if (!g.isNodeOutput(last) || claimed.has(last)) {
      last = g.addNode("Identity", [last], `${name}_identity`);
    }
    g.rename(last, name);
    renamed.set(last, name);
    claimed.add(name);
    return { name, type: tensorType(ioType, ioDims(v.shape, layout)) };
  });

  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: opset }],
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString: options.docString ?? "",
    graph: {
      name: options.graphName ?? model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: inputs,
      output: outputs,
    },
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}
