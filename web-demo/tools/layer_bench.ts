/**
 * Where WebAssembly loses to native code, layer by layer (`deno task bench:web --layers`): every node of a
 * generator runs as a one-node model on one thread, in onnxruntime-web's WebAssembly build (in Deno, whose V8 is
 * Chromium's) and in onnxruntime-node's cpu provider (MLAS), on the activations the layers before it produced.
 * A whole-page ratio cannot say whether the browser runtime is slow or the page is; this can. One-node models
 * lose the fusions onnxruntime makes across nodes, so the sums estimate the whole model rather than equal it.
 * @module
 */
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web";
import {
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
  type NodeProto,
} from "../../src/onnx_proto/mod.ts";
import { median } from "../../src/bench/mod.ts";

/** One node's time on each runtime. */
export interface LayerTiming {
  /** The node's name (the TF.js layer it came from). */
  layer: string;
  /** Its ONNX operator. */
  op: string;
  /** Shape of its output at the timed batch. */
  outputShape: number[];
  /** Millions of floating-point operations (multiply and add counted apart; 0 for elementwise and reshapes). */
  mflop: number;
  /** Median milliseconds on onnxruntime-web's WebAssembly, one thread. */
  wasmMs: number;
  /** Median milliseconds on onnxruntime-node's cpu provider, one thread. */
  nativeMs: number;
}

/** {@link benchLayers}'s report. */
export interface LayerBenchResult {
  /** Latents per run. */
  batch: number;
  /** Every node, in graph order. */
  layers: LayerTiming[];
  /** Sum of the layers' WebAssembly medians. */
  wasmMs: number;
  /** Sum of the layers' native medians. */
  nativeMs: number;
  /** WebAssembly throughput over native throughput, whole model, one thread each. */
  wasmVsNative: number;
}

/** What timing needs of a session of either runtime. */
interface TimedSession<Feeds> {
  run(feeds: Feeds): Promise<unknown>;
}

/** Rank of `node`'s output given its input's rank (the ops `deno task export` writes for a generator). */
function outputRank(model: ModelProto, node: NodeProto, inputRank: number): number {
  switch (node.opType) {
    case "Gemm":
    case "MatMul":
    case "Flatten":
      return 2;
    case "Reshape": {
      const shape = model.graph.initializer.find((t) => t.name === node.input[1]);
      if (shape === undefined) throw new Error(`${node.name}: Reshape without a constant shape`);
      return shape.dims[0];
    }
    case "Conv":
    case "ConvTranspose":
    case "Relu":
    case "LeakyRelu":
    case "Tanh":
    case "Sigmoid":
    case "BatchNormalization":
    case "DepthToSpace": // the inference rewrites' sub-pixel convolution (src/onnx/rewrite_subpixel.ts)
    case "Slice":
      return inputRank;
    default:
      throw new Error(`${node.name}: ${node.opType} is not timed per layer`);
  }
}

/** `node` alone as a model: its first input fed, its other inputs the model's initializers. */
function singleNodeModel(model: ModelProto, node: NodeProto, inputRank: number): Uint8Array {
  const symbolic = (rank: number, prefix: string) => ({
    dim: Array.from({ length: rank }, (_, i) => ({ dimParam: `${prefix}${i}` })),
  });
  const tensor = (name: string, rank: number, prefix: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: symbolic(rank, prefix) } },
  });
  return encodeModel({
    ...model,
    graph: {
      name: node.name,
      node: [node],
      initializer: model.graph.initializer.filter((t) => node.input.slice(1).includes(t.name)),
      input: [tensor(node.input[0], inputRank, "in")],
      output: [tensor(node.output[0], outputRank(model, node, inputRank), "out")],
    },
  });
}

/** Floating-point operations of `node` (multiply-adds count 2) from its input and output shapes. */
function flops(model: ModelProto, node: NodeProto, input: number[], output: number[]): number {
  const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  const weight = model.graph.initializer.find((t) => t.name === node.input[1])?.dims ?? [];
  switch (node.opType) {
    case "Gemm":
    case "MatMul":
      return 2 * size(output) * input[input.length - 1];
    case "Conv": // weight [outC, inC/group, kh, kw]: every output sums inC·kh·kw products
      return 2 * size(output) * size(weight.slice(1));
    case "ConvTranspose": // weight [inC, outC/group, kh, kw]: every input scatters outC·kh·kw products
      return 2 * size(input) * size(weight.slice(1));
    default:
      return 0;
  }
}

async function medianMs<Feeds>(session: TimedSession<Feeds>, feeds: Feeds, runs: number) {
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await session.run(feeds);
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Times every node of the ONNX generator `modelBytes` at `batch` latents (`runs` timed runs each, after one
 * warm-up), one thread per runtime.
 */
export async function benchLayers(
  modelBytes: Uint8Array,
  options: { batch?: number; runs?: number } = {},
): Promise<LayerBenchResult> {
  const batch = options.batch ?? 32;
  const runs = options.runs ?? 7;
  const threadsBefore = ortWeb.env.wasm.numThreads;
  ortWeb.env.wasm.numThreads = 1;
  try {
    return await timeEveryNode(modelBytes, batch, runs);
  } finally {
    ortWeb.env.wasm.numThreads = threadsBefore;
  }
}

async function timeEveryNode(
  modelBytes: Uint8Array,
  batch: number,
  runs: number,
): Promise<LayerBenchResult> {
  const model = decodeModel(modelBytes);
  const latentDim = model.graph.input[0].type.tensorType.shape.dim[1].dimValue!;
  let activation: ortNode.Tensor = new ortNode.Tensor(
    "float32",
    Float32Array.from({ length: batch * latentDim }, (_, i) => Math.sin(i)),
    [batch, latentDim],
  );
  const layers: LayerTiming[] = [];
  for (const node of model.graph.node) {
    const bytes = singleNodeModel(model, node, activation.dims.length);
    const native = await ortNode.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: 1,
    });
    const wasm = await ortWeb.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
    try {
      const feeds = { [node.input[0]]: activation };
      // Each package checks that feeds are its own Tensor class.
      const data = activation.data as Float32Array;
      const webFeeds = { [node.input[0]]: new ortWeb.Tensor("float32", data, activation.dims) };
      const output = (await native.run(feeds))[node.output[0]];
      layers.push({
        layer: node.name,
        op: node.opType,
        outputShape: [...output.dims],
        mflop: flops(model, node, [...activation.dims], [...output.dims]) / 1e6,
        wasmMs: await medianMs(wasm, webFeeds, runs),
        nativeMs: await medianMs(native, feeds, runs),
      });
      activation = output;
    } finally {
      await Promise.all([native.release(), wasm.release()]);
    }
  }
  const wasmMs = layers.reduce((a, l) => a + l.wasmMs, 0);
  const nativeMs = layers.reduce((a, l) => a + l.nativeMs, 0);
  return { batch, layers, wasmMs, nativeMs, wasmVsNative: nativeMs / wasmMs };
}
