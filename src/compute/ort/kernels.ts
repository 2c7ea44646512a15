/**
 * TF.js kernel functions for the wasm backend that run convolutions, large matrix products, reductions and batch
 * normalisation through onnxruntime-node's native CPU kernels (MLAS, all cores), reading TF.js's tensors in the
 * wasm heap and writing the results straight into it. Calls a graph cannot express (NCHW data, PReLU, a small or
 * non-channels-last batch norm) go to the kernel registered before; the fused training batch norm, which has no
 * kernel before it, makes its layer run TF.js's own path.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { conv2dBackpropFilterGraph } from "./graphs/backprop_filter.ts";
import { conv2dBackpropInputGraph } from "./graphs/backprop_input.ts";
import { type KernelGraph, PATCH_LIMIT } from "./graphs/common.ts";
import { conv2dGraph, FUSED_ACTIVATIONS, type FusedActivation } from "./graphs/conv.ts";
import { batchMatMulGraph, reduceGraph } from "./graphs/reduce_matmul.ts";
import {
  batchNormGraph,
  batchNormTrainingGradGraph,
  batchNormTrainingGraph,
} from "./graphs/batch_norm.ts";
import {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  type BatchNormTrainingAttrs,
  FusedBatchNormUnavailable,
} from "../batch_norm_training.ts";
import { KernelSession, type RuntimeOptions } from "./runtime.ts";
import { type ConvAttrs, convAttrs, convInfo, type HeapBackend } from "../tfjs_kernels.ts";

/** Compiled kernel sessions by call shape; the oldest is freed past {@link MAX_SESSIONS}. */
export class SessionCache {
  private readonly sessions = new Map<string, KernelSession | null>();

  constructor(readonly options: RuntimeOptions = {}) {}

  /**
   * The session for `key`, compiled from `build()` on first use; null when `build` declines the call or
   * onnxruntime rejects the graph (said once on stderr), so that the caller keeps the wasm kernel for it.
   */
  get(key: string, build: () => KernelGraph | null): KernelSession | null {
    if (this.sessions.has(key)) return this.sessions.get(key)!;
    let session: KernelSession | null = null;
    try {
      const graph = build();
      if (graph !== null) session = KernelSession.create(graph, this.options);
    } catch (e) {
      console.warn(
        `onnxruntime kernels: ${key.split("|")[0]} for this shape failed to compile ` +
          `(${(e as Error).message.split("\n")[0]}); using the wasm kernel for it`,
      );
    }
    this.sessions.set(key, session);
    if (this.sessions.size > MAX_SESSIONS) {
      const [oldest, evicted] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      evicted?.dispose();
    }
    return session;
  }

  /** Frees every session. */
  dispose(): void {
    for (const session of this.sessions.values()) session?.dispose();
    this.sessions.clear();
  }
}

/** Smallest tensor (values) whose reduction or matrix product is worth a native call; smaller ones stay in wasm. */
const MIN_VALUES = 1 << 16;

/** Enough for a training run's layers × kernels × the few batch sizes it uses (training, samples, evaluation). */
const MAX_SESSIONS = 256;

/** Runs `session` on tensors of the wasm heap and returns its outputs, written in place into new heap tensors. */
function runInto(
  backend: HeapBackend,
  session: KernelSession,
  inputs: tf.TensorInfo[],
): tf.TensorInfo[] {
  const outs = session.outputShapes.map((shape) => backend.makeOutput(shape, "float32"));
  // Views are taken after makeOutput: growing the heap would detach earlier ones.
  session.run(
    inputs.map((t) => backend.typedArrayFromHeap(t)),
    outs.map((t) => backend.typedArrayFromHeap(t)),
  );
  return outs;
}

function isNhwc(attrs: ConvAttrs): boolean {
  return (attrs.dataFormat ?? "NHWC") === "NHWC";
}

const keyOf = (kernel: string, ...parts: unknown[]) => `${kernel}|${JSON.stringify(parts)}`;

/** The native kernels, each falling back to `base(kernelName)` for calls it does not handle. */
export function ortKernelConfigs(
  cache: SessionCache,
  base: (kernelName: string) => tf.KernelFunc,
): Omit<tf.KernelConfig, "backendName">[] {
  const limit = cache.options.patchLimit ?? PATCH_LIMIT;
  /** Runs `kernelName`'s graph for this call shape, or the wasm kernel when there is none. */
  const native = (
    kernelName: string,
    args: Parameters<tf.KernelFunc>[0],
    shapeKey: unknown[],
    build: () => KernelGraph | null,
    inputs: tf.TensorInfo[],
  ): tf.TensorInfo => {
    const session = cache.get(keyOf(kernelName, ...shapeKey), build);
    if (session === null) return base(kernelName)(args) as tf.TensorInfo;
    return runInto(args.backend as HeapBackend, session, inputs)[0];
  };
  const conv2d: tf.KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const a = convAttrs(args.attrs);
    if (!isNhwc(a)) return base("Conv2D")(args);
    return native(
      "Conv2D",
      args,
      [x.shape, filter.shape, a],
      () => conv2dGraph(convInfo(x.shape, filter.shape, a), false, "linear", 0.2, limit),
      [x, filter],
    );
  };

  const fusedConv2d: tf.KernelFunc = (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<
      string,
      tf.TensorInfo | undefined
    >;
    const a = convAttrs(args.attrs);
    const activation = a.activation ?? "linear";
    const plainBias = bias === undefined ||
      (bias.shape.length === 1 && bias.shape[0] === filter!.shape[3]);
    if (
      !isNhwc(a) || preluActivationWeights !== undefined ||
      !FUSED_ACTIVATIONS.includes(activation) ||
      !plainBias
    ) {
      return base("FusedConv2D")(args);
    }
    const alpha = a.leakyreluAlpha ?? 0.2;
    return native(
      "FusedConv2D",
      args,
      [x!.shape, filter!.shape, bias !== undefined, a],
      () =>
        conv2dGraph(
          convInfo(x!.shape, filter!.shape, a),
          bias !== undefined,
          activation as FusedActivation,
          alpha,
          limit,
        ),
      bias === undefined ? [x!, filter!] : [x!, filter!, bias],
    );
  };

  const backpropInput: tf.KernelFunc = (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const a = convAttrs(args.attrs);
    if (!isNhwc(a)) return base("Conv2DBackpropInput")(args);
    return native(
      "Conv2DBackpropInput",
      args,
      [dy.shape, filter.shape, a],
      () => conv2dBackpropInputGraph(convInfo(a.inputShape!, filter.shape, a, 1), limit),
      [dy, filter],
    );
  };

  const backpropFilter: tf.KernelFunc = (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const a = convAttrs(args.attrs);
    if (!isNhwc(a)) return base("Conv2DBackpropFilter")(args);
    return native(
      "Conv2DBackpropFilter",
      args,
      [x.shape, dy.shape, a],
      () => conv2dBackpropFilterGraph(convInfo(x.shape, a.filterShape!, a, 1), limit),
      [x, dy],
    );
  };

  const reduce = (op: "sum" | "mean", kernelName: string): tf.KernelFunc => (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const a = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== "float32" || tf.util.sizeFromShape(x.shape) < MIN_VALUES) {
      return base(kernelName)(args);
    }
    const axes = tf.util.parseAxisParam(a.axis, x.shape).sort((p, q) => p - q);
    return native(
      kernelName,
      args,
      [x.shape, axes, a.keepDims],
      () => reduceGraph(op, x.shape, axes, a.keepDims),
      [x],
    );
  };

  const batchMatMul: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const t = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const rank3 = a.shape.length === 3 && b.shape.length === 3 && a.shape[0] === b.shape[0];
    const floats = a.dtype === "float32" && b.dtype === "float32";
    const size = tf.util.sizeFromShape(a.shape) + tf.util.sizeFromShape(b.shape);
    if (!rank3 || !floats || size < MIN_VALUES) return base("BatchMatMul")(args);
    return native(
      "BatchMatMul",
      args,
      [a.shape, b.shape, t.transposeA, t.transposeB],
      () => batchMatMulGraph(a.shape, b.shape, t.transposeA, t.transposeB),
      [a, b],
    );
  };

  const batchNorm: tf.KernelFunc = (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as {
      x: tf.TensorInfo;
      mean: tf.TensorInfo;
      variance: tf.TensorInfo;
      offset?: tf.TensorInfo;
      scale?: tf.TensorInfo;
    };
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const channels = x.shape[x.shape.length - 1];
    const perChannel = [mean, variance, offset, scale].every((t) =>
      t === undefined || (t.shape.length === 1 && t.shape[0] === channels)
    );
    if (!perChannel || x.dtype !== "float32" || tf.util.sizeFromShape(x.shape) < MIN_VALUES) {
      return base("FusedBatchNorm")(args);
    }
    const [hasOffset, hasScale] = [offset !== undefined, scale !== undefined];
    return native(
      "FusedBatchNorm",
      args,
      [x.shape, varianceEpsilon, hasOffset, hasScale],
      () => batchNormGraph(x.shape, varianceEpsilon, hasOffset, hasScale),
      [x, mean, variance, offset, scale].filter((t) => t !== undefined),
    );
  };

  /**
   * The training batch norm's forward and backward sessions for `x`'s shape. Both or neither: a forward pass
   * whose gradient could not run would fail in the middle of backpropagation, with no way back.
   */
  const batchNormTrainingSessions = (shape: number[], epsilon: number) => {
    const forward = cache.get(
      keyOf(BATCH_NORM_TRAINING, shape, epsilon),
      () => batchNormTrainingGraph(shape, epsilon),
    );
    const backward = cache.get(
      keyOf(BATCH_NORM_TRAINING_GRAD, shape, epsilon),
      () => batchNormTrainingGradGraph(shape, epsilon),
    );
    if (forward === null || backward === null) {
      throw new FusedBatchNormUnavailable(`no native batch norm for shape [${shape}]`);
    }
    return { forward, backward };
  };

  /** One of the training batch-norm kernels (the project's own: no wasm kernel to fall back on). */
  const batchNormTrainingKernel = (
    direction: "forward" | "backward",
    inputNames: string[],
  ): tf.KernelFunc =>
  (args) => {
    const named = args.inputs as Record<string, tf.TensorInfo>;
    const { epsilon } = args.attrs as unknown as BatchNormTrainingAttrs;
    const session = batchNormTrainingSessions(named.x.shape, epsilon)[direction];
    return runInto(
      args.backend as HeapBackend,
      session,
      inputNames.map((name) => named[name]),
    );
  };

  return [
    {
      kernelName: BATCH_NORM_TRAINING,
      kernelFunc: batchNormTrainingKernel("forward", ["x", "scale", "offset"]),
    },
    {
      kernelName: BATCH_NORM_TRAINING_GRAD,
      kernelFunc: batchNormTrainingKernel(
        "backward",
        ["dy", "x", "mean", "variance", "scale", "dmean", "dvariance"],
      ),
    },
    { kernelName: "FusedBatchNorm", kernelFunc: batchNorm },
    { kernelName: "Sum", kernelFunc: reduce("sum", "Sum") },
    { kernelName: "Mean", kernelFunc: reduce("mean", "Mean") },
    { kernelName: "BatchMatMul", kernelFunc: batchMatMul },
    { kernelName: "Conv2D", kernelFunc: conv2d },
    { kernelName: "FusedConv2D", kernelFunc: fusedConv2d },
    { kernelName: "Conv2DBackpropInput", kernelFunc: backpropInput },
    { kernelName: "Conv2DBackpropFilter", kernelFunc: backpropFilter },
  ];
}
