/**
 * The reference training step as three ONNX graphs, each one update with its forward pass, gradients and Adam:
 * 1. `real`: the discriminator's update on the real batch;
 * 2. `fake`: the fake batch (the generator in inference mode) and the discriminator's update on it;
 * 3. `generator`: the generator's update through the discriminator (both in training mode), and its EMA.
 *
 * State (weights, BatchNorm moving statistics, Adam moments, the EMA) enters as inputs named after it and leaves
 * as outputs with {@link NEXT} appended, so a session swaps buffers between calls and nothing is copied.
 * The generator's layers before its first BatchNorm compute the same values in inference and training mode with
 * the same weights, so the `fake` graph hands them to the `generator` graph instead of computing them twice.
 * @module
 */
import { DataType, encodeModel, GraphBuilder } from "../../onnx_proto/mod.ts";
import { NCHWC_DOMAIN } from "./blocked_conv.ts";
import { backward, forward, type ForwardPass, type WeightNames } from "./layers.ts";
import { engineShape, type NetSpec } from "./spec.ts";

/** Suffix of the output that holds the next value of a state input. */
export const NEXT = "'";

/** Adam's fixed hyperparameters (TF.js's defaults besides β1). */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** An input or output of an update graph. */
export interface GraphValue {
  name: string;
  shape: number[];
}

/** One serialized update graph and its interface. */
export interface UpdateGraph {
  name: "real" | "fake" | "generator";
  model: Uint8Array;
  inputs: GraphValue[];
  outputs: GraphValue[];
}

/** Everything the three graphs are built from. */
export interface StepSpec {
  generator: NetSpec;
  discriminator: NetSpec;
  batch: number;
  adam: AdamConstants;
  /** Whether the generator graph also updates an EMA of the generator's trainable weights. */
  ema: boolean;
  /** Keras's clipping of predictions inside binary cross-entropy (1e-7). */
  clipEpsilon: number;
  /** The CPU's NCHWc block size (blocked Conv kernels), or null for plain Convs (any other device). */
  nchwcBlock: number | null;
}

/** Name of a state tensor: `G:` / `D:` weights, `…/m`, `…/v` Adam moments, `E:` EMA weights. */
export function stateName(net: "G" | "D" | "E", weight: string, moment?: "m" | "v"): string {
  return `${net}:${weight}${moment ? `/${moment}` : ""}`;
}

/** Input names of the dropout multipliers of one discriminator pass. */
export function maskName(layer: string): string {
  return `mask:${layer}`;
}

/** Scalar inputs of an update (one Adam step: its learning rate and bias corrections). */
export const SCALARS = {
  negLr: "neg_lr",
  oneMinusAccBeta1: "one_minus_acc_beta1",
  oneMinusAccBeta2: "one_minus_acc_beta2",
  emaKeep: "ema_keep",
  emaRate: "ema_rate",
} as const;

/** Names of the per-step outputs. */
export const RESULTS = {
  loss: "loss",
  accuracy: "accuracy",
  predictionSum: "prediction_sum",
} as const;

class Graph {
  readonly g = new GraphBuilder("float32");
  readonly inputs: GraphValue[] = [];
  readonly outputs: GraphValue[] = [];
  private readonly renames: Array<[string, string]> = [];

  input(name: string, shape: number[]): string {
    this.inputs.push({ name, shape });
    this.g.uniqueName(name);
    return name;
  }

  /** Makes `value` the output `name`; renamed when the graph is encoded, so later nodes may still read it. */
  output(value: string, name: string, shape: number[]): void {
    this.renames.push([value, name]);
    this.outputs.push({ name, shape });
  }

  scalar(v: number, base = "c"): string {
    return this.g.addFloat(base, [], new Float32Array([v]));
  }

  encode(name: UpdateGraph["name"]): UpdateGraph {
    for (const [value, output] of this.renames) this.g.rename(value, output);
    const info = (v: GraphValue) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: DataType.FLOAT,
          shape: { dim: v.shape.map((d) => ({ dimValue: d })) },
        },
      },
    });
    const model = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }, { domain: NCHWC_DOMAIN, version: 1 }],
      producerName: "dcgan-deno compiled step",
      producerVersion: "1",
      metadataProps: [],
      graph: {
        name,
        node: this.g.nodes,
        initializer: this.g.initializers,
        input: this.inputs.map(info),
        output: this.outputs.map(info),
      },
    });
    return { name, model, inputs: this.inputs, outputs: this.outputs };
  }
}

/** Declares a network's weights (trainable and moving statistics) as inputs. */
function weightInputs(graph: Graph, net: NetSpec, prefix: "G" | "D"): WeightNames {
  const names: WeightNames = new Map();
  for (const w of net.weights) {
    names.set(w.name, graph.input(stateName(prefix, w.name), engineShape(w)));
  }
  return names;
}

/** An image input in NCHW: for one channel NHWC data is already NCHW. */
function imageInput(graph: Graph, net: NetSpec, batch: number): string {
  const [c, h, w] = net.input;
  if (c === 1) return graph.input("images", [batch, c, h, w]);
  const nhwc = graph.input("images", [batch, h, w, c]);
  return graph.g.addNode("Transpose", [nhwc], "images_nchw", { perm: { ints: [0, 3, 1, 2] } });
}

function maskInputs(graph: Graph, net: NetSpec, batch: number): Map<string, string> {
  const masks = new Map<string, string>();
  for (const layer of net.layers) {
    if (layer.kind === "dropout") {
      masks.set(layer.name, graph.input(maskName(layer.name), [batch, ...layer.shapeNHWC]));
    }
  }
  return masks;
}

/**
 * Keras's binary cross-entropy on sigmoid outputs `p` against `labels` (clip to [ε, 1 − ε], logit, sigmoid
 * cross-entropy, batch mean), and its gradient with respect to the sigmoid's input: `(p − label)/n` where the
 * clip passes `p`, else 0 (the chain rule of TF.js's tape simplified: logit ∘ sigmoid is the identity).
 */
function binaryCrossEntropy(graph: Graph, p: string, labels: string, batch: number, eps: number) {
  const { g } = graph;
  g.scope = "loss";
  const lo = graph.scalar(eps, "clip_lo");
  const hi = graph.scalar(1 - eps, "clip_hi");
  const one = graph.scalar(1, "one");
  const clipped = g.addNode("Clip", [p, lo, hi], "p_clipped");
  const logit = g.addNode("Log", [
    g.addNode("Div", [clipped, g.addNode("Sub", [one, clipped], "one_minus_p")], "odds"),
  ], "logit");
  const perSample = g.addNode("Add", [
    g.addNode("Sub", [
      g.addNode("Relu", [logit], "relu_logit"),
      g.addNode("Mul", [logit, labels], "logit_label"),
    ], "ce_linear"),
    g.addNode("Log", [
      g.addNode("Add", [
        one,
        g.addNode("Exp", [g.addNode("Neg", [g.addNode("Abs", [logit], "abs")], "neg")], "exp"),
      ], "one_plus"),
    ], "softplus"),
  ], "ce");
  const loss = g.addNode("ReduceMean", [perSample], "loss", { keepdims: { int: 0 } });
  const inRange = g.addNode("And", [
    g.addNode("GreaterOrEqual", [p, lo], "above_lo"),
    g.addNode("LessOrEqual", [p, hi], "below_hi"),
  ], "unclipped");
  const dz = g.addNode("Where", [
    inRange,
    g.addNode(
      "Div",
      [g.addNode("Sub", [p, labels], "residual"), graph.scalar(batch, "n")],
      "dz_raw",
    ),
    graph.scalar(0, "zero"),
  ], "dz");
  g.scope = "";
  return { loss, dz };
}

/** The probes of a pass: accuracy against the clean label and the sum of predictions (NaN/∞ detection). */
function probes(graph: Graph, p: string, real: boolean, accuracy: boolean): void {
  const { g } = graph;
  g.scope = "loss";
  if (accuracy) {
    const half = graph.scalar(0.5, "half");
    const hit = g.addNode(real ? "Greater" : "LessOrEqual", [p, half], "hit");
    const acc = g.addNode(
      "ReduceMean",
      [
        g.addNode("Cast", [hit], "hit_f", { to: { int: DataType.FLOAT } }),
      ],
      "acc",
      { keepdims: { int: 0 } },
    );
    graph.output(acc, RESULTS.accuracy, []);
  }
  graph.output(
    g.addNode("ReduceSum", [p], "p_sum", { keepdims: { int: 0 } }),
    RESULTS.predictionSum,
    [],
  );
  g.scope = "";
}

/** One Adam step per trainable weight of `net`, as TF.js's `AdamOptimizer.applyGradients` computes it. */
function adam(
  graph: Graph,
  net: NetSpec,
  prefix: "G" | "D",
  weights: WeightNames,
  grads: Map<string, string>,
  c: AdamConstants,
): Map<string, string> {
  const { g } = graph;
  g.scope = "adam";
  const negLr = graph.input(SCALARS.negLr, []);
  const bc1 = graph.input(SCALARS.oneMinusAccBeta1, []);
  const bc2 = graph.input(SCALARS.oneMinusAccBeta2, []);
  const [b1, b1c, b2, b2c, eps] = [c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.epsilon]
    .map((v) => graph.scalar(v, "adam"));
  const updated = new Map<string, string>();
  for (const w of net.weights.filter((w) => w.trainable)) {
    const shape = engineShape(w);
    const grad = grads.get(w.name)!;
    const m = graph.input(stateName(prefix, w.name, "m"), shape);
    const v = graph.input(stateName(prefix, w.name, "v"), shape);
    const m1 = g.addNode("Add", [
      g.addNode("Mul", [m, b1], "m_b1"),
      g.addNode("Mul", [grad, b1c], "g_b1"),
    ], "m1");
    const v1 = g.addNode("Add", [
      g.addNode("Mul", [v, b2], "v_b2"),
      g.addNode("Mul", [g.addNode("Mul", [grad, grad], "g2"), b2c], "g2_b2"),
    ], "v1");
    const step = g.addNode("Mul", [
      g.addNode("Div", [
        g.addNode("Div", [m1, bc1], "m_hat"),
        g.addNode(
          "Add",
          [g.addNode("Sqrt", [g.addNode("Div", [v1, bc2], "v_hat")], "sqrt_v"), eps],
          "denom",
        ),
      ], "ratio"),
      negLr,
    ], "step");
    const w1 = g.addNode("Add", [step, weights.get(w.name)!], "w1");
    graph.output(m1, stateName(prefix, w.name, "m") + NEXT, shape);
    graph.output(v1, stateName(prefix, w.name, "v") + NEXT, shape);
    graph.output(w1, stateName(prefix, w.name) + NEXT, shape);
    updated.set(w.name, w1);
  }
  g.scope = "";
  return updated;
}

/** `moving ← moving − (moving − batch)·(1 − momentum)`, TF.js's `doMovingAverage`, for every BatchNorm. */
function movingStatistics(
  graph: Graph,
  net: NetSpec,
  prefix: "G" | "D",
  pass: ForwardPass,
  w: WeightNames,
) {
  const { g } = graph;
  for (const layer of net.layers) {
    if (layer.kind !== "batchnorm") continue;
    g.scope = `${layer.name}/moving statistics`;
    const stats = pass.batchStats.get(layer.name)!;
    const decay = graph.scalar(1 - layer.momentum, "decay");
    for (
      const [suffix, batch] of [["moving_mean", stats.mean], ["moving_variance", stats.variance]]
    ) {
      const name = `${layer.name}/${suffix}`;
      const old = w.get(name)!;
      const next = g.addNode("Sub", [
        old,
        g.addNode("Mul", [g.addNode("Sub", [old, batch], "delta"), decay], "scaled_delta"),
      ], "moving");
      graph.output(next, stateName(prefix, name) + NEXT, [layer.channels]);
    }
  }
  g.scope = "";
}

/** A discriminator update on `images` against `labels`: forward, loss, gradients, Adam, moving statistics. */
function discriminatorUpdate(graph: Graph, spec: StepSpec, images: string, real: boolean): void {
  const net = spec.discriminator;
  const weights = weightInputs(graph, net, "D");
  const labels = graph.input("labels", [spec.batch, 1]);
  const pass = forward(graph.g, net, images, weights, {
    nchwcBlock: spec.nchwcBlock,
    training: true,
    dropoutMasks: maskInputs(graph, net, spec.batch),
  });
  const { loss, dz } = binaryCrossEntropy(graph, pass.output, labels, spec.batch, spec.clipEpsilon);
  graph.output(loss, RESULTS.loss, []);
  probes(graph, pass.output, real, true);
  const { grads } = backward(graph.g, net, pass, 0, dz, weights, {
    nchwcBlock: spec.nchwcBlock,
    weightGradients: true,
    inputGradient: false,
  });
  adam(graph, net, "D", weights, grads, spec.adam);
  movingStatistics(graph, net, "D", pass, weights);
}

/** Index of the generator's first layer whose output depends on the mode (BatchNorm or Dropout). */
export function sharedLayerCount(net: NetSpec): number {
  const i = net.layers.findIndex((l) => l.kind === "batchnorm" || l.kind === "dropout");
  return i < 0 ? net.layers.length : i;
}

/** Graph 1: the discriminator's update on the real batch. */
export function realUpdateGraph(spec: StepSpec): UpdateGraph {
  const graph = new Graph();
  discriminatorUpdate(graph, spec, imageInput(graph, spec.discriminator, spec.batch), true);
  return graph.encode("real");
}

/** The values of the generator's shared layers that the generator graph's backward pass reads, in order. */
function sharedValues(pass: ForwardPass, input: string): string[] {
  const values: string[] = [];
  for (const s of pass.saved) {
    for (const v of [s.x, s.y]) if (v !== input && !values.includes(v)) values.push(v);
  }
  return values;
}

/** Name of the `i`-th shared activation handed from the fake graph to the generator graph. */
export function sharedName(i: number): string {
  return `shared:${i}`;
}

/** Graph 2: the fake batch from the generator in inference mode, then the discriminator's update on it. */
export function fakeUpdateGraph(spec: StepSpec, sharedShapes: number[][]): UpdateGraph {
  const graph = new Graph();
  const gNet = spec.generator;
  const gWeights = weightInputs(graph, gNet, "G");
  const noise = graph.input("noise", [spec.batch, gNet.input[0]]);
  const shared = sharedLayerCount(gNet);
  const head = forward(graph.g, gNet, noise, gWeights, {
    nchwcBlock: spec.nchwcBlock,
    training: false,
    toLayer: shared,
  });
  const tail = forward(graph.g, gNet, head.output, gWeights, {
    nchwcBlock: spec.nchwcBlock,
    training: false,
    fromLayer: shared,
  });
  sharedValues(head, noise).forEach((v, i) => graph.output(v, sharedName(i), sharedShapes[i]));
  discriminatorUpdate(graph, spec, tail.output, false);
  return graph.encode("fake");
}

/** Shapes of the activations {@link fakeUpdateGraph} hands on, for a batch of `batch`. */
export function sharedShapes(net: NetSpec, batch: number): number[][] {
  const shapes: number[][] = [];
  let features = [net.input[0]];
  for (const layer of net.layers.slice(0, sharedLayerCount(net))) {
    switch (layer.kind) {
      case "dense":
        features = [layer.units];
        break;
      case "reshape":
        features = layer.chw;
        break;
      case "conv":
        features = [layer.outC, layer.outSize, layer.outSize];
        break;
      case "flatten":
        features = [layer.features];
        break;
      default:
        break;
    }
    // Every shared layer adds one new value (its output), except activations applied in place of none.
    shapes.push([batch, ...features]);
  }
  return shapes;
}

/** Graph 3: the generator's update through the discriminator, with the EMA of its weights. */
export function generatorUpdateGraph(spec: StepSpec, sharedShapesIn: number[][]): UpdateGraph {
  const graph = new Graph();
  const { g } = graph;
  const gNet = spec.generator;
  const dNet = spec.discriminator;
  const gWeights = weightInputs(graph, gNet, "G");
  const dWeights = new Map<string, string>();
  for (const w of dNet.weights.filter((w) => w.trainable)) {
    dWeights.set(w.name, graph.input(stateName("D", w.name), engineShape(w)));
  }
  const noise = graph.input("noise", [spec.batch, gNet.input[0]]);
  const shared = sharedLayerCount(gNet);
  const sharedIn = sharedShapesIn.map((shape, i) => graph.input(sharedName(i), shape));
  // The shared layers' saved values, rebuilt from the inputs in the order the fake graph listed them.
  let next = 0;
  const saved = [];
  let x = noise;
  for (let i = 0; i < shared; i++) {
    const y = sharedIn[next++];
    saved.push({ x, y });
    x = y;
  }
  const tail = forward(g, gNet, x, gWeights, {
    nchwcBlock: spec.nchwcBlock,
    training: true,
    fromLayer: shared,
  });
  const dPass = forward(g, dNet, tail.output, dWeights, {
    nchwcBlock: spec.nchwcBlock,
    training: true,
    dropoutMasks: maskInputs(graph, dNet, spec.batch),
  });
  const ones = graph.scalar(1, "ones");
  const { loss, dz } = binaryCrossEntropy(graph, dPass.output, ones, spec.batch, spec.clipEpsilon);
  graph.output(loss, RESULTS.loss, []);
  probes(graph, dPass.output, true, false);
  const dBack = backward(g, dNet, dPass, 0, dz, dWeights, {
    nchwcBlock: spec.nchwcBlock,
    weightGradients: false,
    inputGradient: true,
  });
  const whole: ForwardPass = {
    output: tail.output,
    batchStats: tail.batchStats,
    saved: [...saved, ...tail.saved],
  };
  const { grads } = backward(g, gNet, whole, 0, dBack.inputGrad!, gWeights, {
    nchwcBlock: spec.nchwcBlock,
    weightGradients: true,
    inputGradient: false,
  });
  const updated = adam(graph, gNet, "G", gWeights, grads, spec.adam);
  movingStatistics(graph, gNet, "G", tail, gWeights);
  if (spec.ema) {
    g.scope = "ema";
    const keep = graph.input(SCALARS.emaKeep, []);
    const rate = graph.input(SCALARS.emaRate, []);
    for (const w of gNet.weights.filter((w) => w.trainable)) {
      const shape = engineShape(w);
      const e = graph.input(stateName("E", w.name), shape);
      const e1 = g.addNode("Add", [
        g.addNode("Mul", [e, keep], "e_keep"),
        g.addNode("Mul", [updated.get(w.name)!, rate], "w_rate"),
      ], "ema");
      graph.output(e1, stateName("E", w.name) + NEXT, shape);
    }
  }
  return graph.encode("generator");
}
