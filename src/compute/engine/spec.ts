/**
 * A TF.js Layers model read as a plain NCHW layer list for the compiled training step, and the layout changes
 * between TF.js's tensors (NHWC activations, `[kh, kw, in, out]` filters, HWC-ordered Dense rows and columns around
 * Reshape and Flatten) and the engine's (NCHW activations, ONNX `[out, in, kh, kw]` / `[in, out, kh, kw]` filters,
 * CHW-ordered Dense rows and columns). The layout changes happen only when state moves between TF.js and the engine
 * (start, checkpoint, evaluation), never in a step.
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { BackendError } from "../backends.ts";

/** A Conv2D or Conv2DTranspose layer; its pads follow TF.js's 'same' rule (the extra row at the bottom/right). */
export interface ConvSpec {
  kind: "conv";
  name: string;
  /** A Conv2DTranspose (ONNX ConvTranspose) rather than a Conv2D. */
  transposed: boolean;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  /** Input and output height = width (square images). */
  inSize: number;
  outSize: number;
  /** ONNX pads [top, left, bottom, right] of the convolution (of the forward Conv for a transposed one). */
  pads: [number, number, number, number];
  activation: "linear" | "tanh";
}

/** A Dense layer; `rowsFrom` / `colsFrom` say its input or output is an image flattened in TF.js's HWC order. */
export interface DenseSpec {
  kind: "dense";
  name: string;
  inFeatures: number;
  units: number;
  activation: "linear" | "sigmoid";
  /** `[h, w, c]` when the input comes from a Flatten of an image (rows reordered HWC → CHW in the engine). */
  rowsFrom?: [number, number, number];
  /** `[h, w, c]` when the output goes into a Reshape to an image (columns reordered HWC → CHW). */
  colsTo?: [number, number, number];
}

/** The other layers of the reference models. */
export type LayerSpec =
  | ConvSpec
  | DenseSpec
  | { kind: "batchnorm"; name: string; channels: number; momentum: number; epsilon: number }
  | { kind: "relu"; name: string }
  | { kind: "leakyrelu"; name: string; alpha: number }
  | { kind: "dropout"; name: string; rate: number; shapeNHWC: [number, number, number] }
  | { kind: "reshape"; name: string; chw: [number, number, number] }
  | { kind: "flatten"; name: string; features: number };

/** How one TF.js weight is laid out in the engine. */
export type WeightLayout =
  | { kind: "same" }
  /** 4-D filter: TF.js `[kh, kw, a, b]` → engine `[b, a, kh, kw]` (Conv: a=in, b=out; ConvTranspose: a=out, b=in). */
  | { kind: "filter"; shape: [number, number, number, number] }
  /** Dense kernel `[rows, cols]` with HWC-ordered rows and/or columns that the engine keeps in CHW order. */
  | {
    kind: "dense";
    rows: number;
    cols: number;
    rowsFrom?: [number, number, number];
    colsTo?: [number, number, number];
  }
  /** Dense bias whose entries are an HWC image (before a Reshape), kept in CHW order. */
  | { kind: "vector"; hwc: [number, number, number] };

/** One weight of a model: its TF.js name and shape, its layout, and whether the optimiser trains it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  size: number;
  layout: WeightLayout;
  trainable: boolean;
}

/** A model as the engine sees it: its layers in order, its weights in TF.js's order, its input and output shapes. */
export interface NetSpec {
  layers: LayerSpec[];
  /** Trainable weights first, in the model's `trainableWeights` order, then the non-trainable ones. */
  weights: WeightSpec[];
  /** Input features (Dense input) or `[c, h, w]` image input. */
  input: number[];
  /** Output features or `[c, h, w]`. */
  output: number[];
}

/** Raised when a model has a layer or setting the compiled step does not implement. */
export class UnsupportedModelError extends BackendError {
  constructor(message: string) {
    super(`the compiled step does not implement this model: ${message}`);
    this.name = "UnsupportedModelError";
  }
}

interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  input: { shape: Array<number | null> };
  output: { shape: Array<number | null> };
  weights: Array<{ name: string; originalName: string; shape: number[]; trainable: boolean }>;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** TF.js 'same' padding of a convolution from `size` to `out` (the extra row after, as TF does). */
function samePads(size: number, out: number, kernel: number, stride: number) {
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, before, total - before, total - before] as [number, number, number, number];
}

function single(value: unknown, what: string, layer: string): number {
  const v = Array.isArray(value) ? value : [value, value];
  if (v[0] !== v[1]) throw new UnsupportedModelError(`${layer}: non-square ${what} ${v}`);
  return v[0] as number;
}

function convSpec(layer: LayerLike, transposed: boolean): ConvSpec {
  const c = layer.getConfig();
  const inShape = layer.input.shape as number[];
  const outShape = layer.output.shape as number[];
  const kernel = single(c.kernelSize, "kernel", layer.name);
  const stride = single(c.strides, "strides", layer.name);
  if (single(c.dilationRate ?? 1, "dilation", layer.name) !== 1) {
    throw new UnsupportedModelError(`${layer.name}: dilated convolutions are not compiled`);
  }
  if (c.padding !== "same" && c.padding !== "valid") {
    throw new UnsupportedModelError(`${layer.name}: padding ${c.padding}`);
  }
  if (c.useBias === false || c.dataFormat === "channelsFirst") {
    throw new UnsupportedModelError(
      `${layer.name}: only biased channels-last convolutions are compiled`,
    );
  }
  if (inShape[1] !== inShape[2] || outShape[1] !== outShape[2]) {
    throw new UnsupportedModelError(`${layer.name}: only square images are compiled`);
  }
  const activation = (c.activation ?? "linear") as string;
  if (activation !== "linear" && activation !== "tanh") {
    throw new UnsupportedModelError(`${layer.name}: activation ${activation}`);
  }
  const [inSize, outSize] = [inShape[1], outShape[1]];
  // A transposed convolution is the input gradient of the Conv from its output to its input.
  const pads = c.padding === "valid"
    ? [0, 0, 0, 0] as [number, number, number, number]
    : transposed
    ? samePads(outSize, inSize, kernel, stride)
    : samePads(inSize, outSize, kernel, stride);
  return {
    kind: "conv",
    name: layer.name,
    transposed,
    inC: inShape[3],
    outC: outShape[3],
    kernel,
    stride,
    inSize,
    outSize,
    pads,
    activation,
  };
}

function layerSpec(layer: LayerLike): LayerSpec {
  const c = layer.getConfig();
  const inShape = layer.input.shape as number[];
  const outShape = layer.output.shape as number[];
  switch (layer.getClassName()) {
    case "Conv2D":
      return convSpec(layer, false);
    case "Conv2DTranspose":
      return convSpec(layer, true);
    case "Dense": {
      const activation = (c.activation ?? "linear") as string;
      if ((activation !== "linear" && activation !== "sigmoid") || c.useBias === false) {
        throw new UnsupportedModelError(
          `${layer.name}: Dense with ${activation}, bias ${c.useBias}`,
        );
      }
      return {
        kind: "dense",
        name: layer.name,
        inFeatures: inShape[1],
        units: outShape[1],
        activation,
      };
    }
    case "BatchNormalization":
      if (c.axis !== -1 && c.axis !== 3) {
        throw new UnsupportedModelError(`${layer.name}: BatchNormalization over axis ${c.axis}`);
      }
      if (c.center === false || c.scale === false) {
        throw new UnsupportedModelError(
          `${layer.name}: BatchNormalization without centre or scale`,
        );
      }
      return {
        kind: "batchnorm",
        name: layer.name,
        channels: outShape[3],
        momentum: c.momentum as number,
        epsilon: c.epsilon as number,
      };
    case "ReLU":
      if (c.maxValue != null) throw new UnsupportedModelError(`${layer.name}: capped ReLU`);
      return { kind: "relu", name: layer.name };
    case "LeakyReLU":
      return { kind: "leakyrelu", name: layer.name, alpha: c.alpha as number };
    case "Dropout":
      if (c.noiseShape != null) throw new UnsupportedModelError(`${layer.name}: noise shape`);
      return {
        kind: "dropout",
        name: layer.name,
        rate: c.rate as number,
        shapeNHWC: outShape.slice(1) as [number, number, number],
      };
    case "Reshape": {
      const [h, w, ch] = outShape.slice(1);
      if (outShape.length !== 4) throw new UnsupportedModelError(`${layer.name}: not to an image`);
      return { kind: "reshape", name: layer.name, chw: [ch, h, w] };
    }
    case "Flatten":
      return { kind: "flatten", name: layer.name, features: outShape[1] };
    default:
      throw new UnsupportedModelError(
        `${layer.name}: ${layer.getClassName()} layers are not compiled`,
      );
  }
}

/** Dense layers next to a Reshape or Flatten keep their HWC-ordered side in CHW order. */
function linkImageOrder(layers: LayerSpec[]): void {
  layers.forEach((layer, i) => {
    if (layer.kind !== "dense") return;
    const before = layers[i - 1];
    const after = layers[i + 1];
    if (before?.kind === "flatten") {
      const source = layers.slice(0, i - 1).reverse().find((l) => l.kind === "conv") as ConvSpec;
      layer.rowsFrom = [source.outSize, source.outSize, source.outC];
    }
    if (after?.kind === "reshape") {
      const [ch, h, w] = after.chw;
      layer.colsTo = [h, w, ch];
    }
  });
}

function weightLayout(layer: LayerSpec, suffix: string): WeightLayout {
  if (layer.kind === "conv" && suffix === "kernel") {
    const [a, b] = layer.transposed ? [layer.outC, layer.inC] : [layer.inC, layer.outC];
    return { kind: "filter", shape: [layer.kernel, layer.kernel, a, b] };
  }
  if (layer.kind === "dense" && suffix === "kernel") {
    return {
      kind: "dense",
      rows: layer.inFeatures,
      cols: layer.units,
      rowsFrom: layer.rowsFrom,
      colsTo: layer.colsTo,
    };
  }
  if (layer.kind === "dense" && suffix === "bias" && layer.colsTo) {
    return { kind: "vector", hwc: layer.colsTo };
  }
  return { kind: "same" };
}

/**
 * Reads `model` (a chain of Dense, Reshape, Conv2D, Conv2DTranspose, BatchNormalization, ReLU, LeakyReLU,
 * Dropout and Flatten layers, channels-last, square images) as a {@link NetSpec}.
 * @throws {UnsupportedModelError} naming the first layer the compiled step does not implement.
 */
export function readNetSpec(model: tf.LayersModel): NetSpec {
  const layers = (model.layers as unknown as LayerLike[])
    .filter((l) => l.getClassName() !== "InputLayer");
  const specs = layers.map(layerSpec);
  linkImageOrder(specs);
  const weights: WeightSpec[] = [];
  layers.forEach((layer, i) => {
    for (const w of layer.weights) {
      const suffix = w.originalName.split("/").pop()!;
      weights.push({
        name: w.originalName,
        shape: w.shape,
        size: sizeOf(w.shape),
        layout: weightLayout(specs[i], suffix),
        trainable: w.trainable,
      });
    }
  });
  const order = model.trainableWeights.map((w) => w.originalName);
  const trainable = order.map((name) => weights.find((w) => w.name === name)!);
  const fixed = weights.filter((w) => !order.includes(w.name));
  const inShape = model.inputs[0].shape.slice(1) as number[];
  const outShape = model.outputs[0].shape.slice(1) as number[];
  const chw = (s: number[]) => s.length === 3 ? [s[2], s[0], s[1]] : s;
  return {
    layers: specs,
    weights: [...trainable, ...fixed],
    input: chw(inShape),
    output: chw(outShape),
  };
}

/** Index in HWC order of the CHW-ordered element `i` of an `[h, w, c]` image. */
function hwcIndex(i: number, [h, w, c]: [number, number, number]): number {
  const ch = Math.floor(i / (h * w));
  const pos = i % (h * w);
  return pos * c + ch;
}

/**
 * Copies a weight between TF.js's layout and the engine's: `toEngine` true reads TF.js `from` into engine `to`,
 * false reads engine `from` into TF.js `to`.
 */
export function convertWeight(
  layout: WeightLayout,
  from: Float32Array,
  to: Float32Array,
  toEngine: boolean,
): void {
  // engineIndex → tfjsIndex for every element.
  const map = indexMap(layout, from.length);
  if (map === null) {
    to.set(from);
    return;
  }
  if (toEngine) { for (let e = 0; e < map.length; e++) to[e] = from[map[e]]; }
  else for (let e = 0; e < map.length; e++) to[map[e]] = from[e];
}

const mapCache = new WeakMap<WeightLayout, Uint32Array>();

/** For each engine element, the TF.js element it holds; null when the layouts are the same. */
function indexMap(layout: WeightLayout, size: number): Uint32Array | null {
  if (layout.kind === "same") return null;
  const cached = mapCache.get(layout);
  if (cached) return cached;
  const map = new Uint32Array(size);
  if (layout.kind === "filter") {
    // engine [b, a, kh, kw] ← TF.js [kh, kw, a, b]
    const [kh, kw, a, b] = layout.shape;
    let e = 0;
    for (let ib = 0; ib < b; ib++) {
      for (let ia = 0; ia < a; ia++) {
        for (let y = 0; y < kh; y++) {
          for (let x = 0; x < kw; x++) map[e++] = ((y * kw + x) * a + ia) * b + ib;
        }
      }
    }
  } else if (layout.kind === "vector") {
    for (let e = 0; e < size; e++) map[e] = hwcIndex(e, layout.hwc);
  } else {
    const { rows, cols, rowsFrom, colsTo } = layout;
    for (let r = 0; r < rows; r++) {
      const tr = rowsFrom ? hwcIndex(r, rowsFrom) : r;
      for (let c = 0; c < cols; c++) {
        map[r * cols + c] = tr * cols + (colsTo ? hwcIndex(c, colsTo) : c);
      }
    }
  }
  mapCache.set(layout, map);
  return map;
}

/** The engine shape of a weight (ONNX filter order for 4-D filters, TF.js's shape otherwise). */
export function engineShape(weight: WeightSpec): number[] {
  if (weight.layout.kind !== "filter") return weight.shape;
  const [kh, kw, a, b] = weight.layout.shape;
  return [b, a, kh, kw];
}
