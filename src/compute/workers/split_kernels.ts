/**
 * Convolution kernels of the wasm backend split along the batch between the main thread and kernel workers. Each
 * part runs the backend's own kernel on its rows, so forward passes and input gradients are bit-identical to the
 * single-threaded kernel; filter gradients are the sum of per-part sums (equal up to float rounding order).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { convAttrs, convInfo, type HeapBackend } from "../tfjs_kernels.ts";
import type { JobTensor, KernelWorker } from "./worker_pool.ts";

/** How a kernel is split: which inputs are cut along the batch, how parts combine, its geometry. */
interface SplitSpec {
  kernel: string;
  /** Inputs cut along axis 0. */
  batched: string[];
  /** Inputs every part receives whole (absent optional inputs are skipped). */
  shared: string[];
  /** `concat`: parts are rows of the output; `sum`: parts add up to the output. */
  combine: "concat" | "sum";
  /** Convolution geometry for `rows` rows of the batch. */
  geometry(
    inputs: tf.NamedTensorInfoMap,
    attrs: tf.NamedAttrMap,
    rows: number,
  ): tf.backend_util.Conv2DInfo;
  /** Number of output values of a part of `rows` rows. */
  outputSize(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, rows: number): number;
  /** Attributes of a part of `rows` rows. */
  partAttrs(attrs: tf.NamedAttrMap, rows: number): tf.NamedAttrMap;
}

function forwardGeometry(
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  rows: number,
): tf.backend_util.Conv2DInfo {
  const x = inputs.x!.shape;
  return convInfo([rows, x[1], x[2], x[3]], inputs.filter!.shape, convAttrs(attrs));
}

const forward = (kernel: string, shared: string[]): SplitSpec => ({
  kernel,
  batched: ["x"],
  shared,
  combine: "concat",
  geometry: forwardGeometry,
  outputSize: (inputs, attrs, rows) =>
    tf.util.sizeFromShape(forwardGeometry(inputs, attrs, rows).outShape),
  partAttrs: (attrs) => attrs,
});

/** The kernels split across workers. */
export const SPLIT_SPECS: SplitSpec[] = [
  forward("Conv2D", ["filter"]),
  forward("FusedConv2D", ["filter", "bias", "preluActivationWeights"]),
  {
    kernel: "Conv2DBackpropInput",
    batched: ["dy"],
    shared: ["filter"],
    combine: "concat",
    geometry: (inputs, attrs, rows) => {
      const a = convAttrs(attrs);
      const s = a.inputShape!;
      return convInfo([rows, s[1], s[2], s[3]], inputs.filter!.shape, a, 1);
    },
    outputSize: (_inputs, attrs, rows) =>
      rows * tf.util.sizeFromShape(convAttrs(attrs).inputShape!.slice(1)),
    partAttrs: (attrs, rows) => {
      const s = convAttrs(attrs).inputShape!;
      return { ...attrs, inputShape: [rows, s[1], s[2], s[3]] };
    },
  },
  {
    kernel: "Conv2DBackpropFilter",
    batched: ["x", "dy"],
    shared: [],
    combine: "sum",
    geometry: (inputs, attrs, rows) => {
      const a = convAttrs(attrs);
      const x = inputs.x!.shape;
      return convInfo([rows, x[1], x[2], x[3]], a.filterShape!, a, 1);
    },
    outputSize: (_inputs, attrs) => tf.util.sizeFromShape(convAttrs(attrs).filterShape!),
    partAttrs: (attrs) => attrs,
  },
];

/** Multiply-adds of a convolution described by `info`. */
export function convMacs(info: tf.backend_util.Conv2DInfo): number {
  return tf.util.sizeFromShape(info.outShape) * info.filterHeight * info.filterWidth *
    info.inChannels;
}

/** Splits `n` rows into `parts` contiguous chunks whose sizes differ by at most one; returns the bounds. */
export function splitRows(n: number, parts: number): number[] {
  const bounds = [0];
  for (let i = 1; i <= parts; i++) bounds.push(Math.round((n * i) / parts));
  return bounds;
}

function rowsOf(view: Float32Array, shape: number[], from: number, to: number): Float32Array {
  const row = tf.util.sizeFromShape(shape.slice(1));
  return view.subarray(from * row, to * row);
}

/** True while a split call is running: kernels it calls (composite kernels) run unsplit. */
let splitting = false;

/**
 * Wraps `base` (the backend's kernel) so that calls of at least `minMacs` multiply-adds with a batch of two or
 * more run in parts: rows `[0, b1)` on the main thread, the rest on `workers`.
 */
export function splitKernelFunc(
  spec: SplitSpec,
  base: tf.KernelFunc,
  workers: KernelWorker[],
  minMacs: number,
): tf.KernelFunc {
  return (args) => {
    const inputs = args.inputs;
    const attrs = args.attrs ?? {};
    const batch = inputs[spec.batched[0]]!.shape[0];
    const nhwc = (attrs.dataFormat ?? "NHWC") === "NHWC";
    const parts = Math.min(batch, workers.length + 1);
    if (
      splitting || !nhwc || parts < 2 || convMacs(spec.geometry(inputs, attrs, batch)) < minMacs
    ) {
      return base(args);
    }
    splitting = true;
    try {
      return runSplit(spec, base, workers, args, batch, parts);
    } finally {
      splitting = false;
    }
  };
}

function runSplit(
  spec: SplitSpec,
  base: tf.KernelFunc,
  workers: KernelWorker[],
  args: Parameters<tf.KernelFunc>[0],
  batch: number,
  parts: number,
): tf.TensorInfo {
  const inputs = args.inputs;
  const attrs = args.attrs ?? {};
  const backend = args.backend as HeapBackend;
  const bounds = splitRows(batch, parts);
  const sharedTensors: JobTensor[] = spec.shared
    .filter((name) => inputs[name] !== undefined)
    .map((name) => ({
      name,
      shape: inputs[name]!.shape,
      values: backend.typedArrayFromHeap(inputs[name]!),
    }));
  for (let p = 1; p < parts; p++) {
    const rows = bounds[p + 1] - bounds[p];
    const batched = spec.batched.map((name) => ({
      name,
      shape: [rows, ...inputs[name]!.shape.slice(1)],
      values: rowsOf(
        backend.typedArrayFromHeap(inputs[name]!),
        inputs[name]!.shape,
        bounds[p],
        bounds[p + 1],
      ),
    }));
    const outSize = spec.outputSize(inputs, attrs, rows);
    workers[p - 1].post(
      spec.kernel,
      [...batched, ...sharedTensors],
      spec.partAttrs(attrs, rows) as Record<string, unknown>,
      outSize,
    );
  }

  const mainRows = bounds[1];
  const mainInputs: tf.NamedTensorInfoMap = { ...inputs };
  const sliced: tf.TensorInfo[] = [];
  for (const name of spec.batched) {
    const x = inputs[name]!;
    const part = backend.makeOutput([mainRows, ...x.shape.slice(1)], "float32");
    backend.typedArrayFromHeap(part).set(
      rowsOf(backend.typedArrayFromHeap(x), x.shape, 0, mainRows),
    );
    sliced.push(part);
    mainInputs[name] = part;
  }
  const mainOut = base({ inputs: mainInputs, attrs: spec.partAttrs(attrs, mainRows), backend });
  const mainInfo = (Array.isArray(mainOut) ? mainOut[0] : mainOut) as tf.TensorInfo;

  const outShape = spec.combine === "sum" ? mainInfo.shape : [batch, ...mainInfo.shape.slice(1)];
  const out = backend.makeOutput(outShape, "float32");
  const target = backend.typedArrayFromHeap(out);
  const mainValues = backend.typedArrayFromHeap(mainInfo);
  target.set(mainValues);
  let offset = mainValues.length;
  for (let p = 1; p < parts; p++) {
    const values = workers[p - 1].wait();
    if (spec.combine === "sum") {
      for (let i = 0; i < values.length; i++) target[i] += values[i];
    } else {
      target.set(values, offset);
      offset += values.length;
    }
  }
  backend.disposeData(mainInfo.dataId);
  for (const s of sliced) backend.disposeData(s.dataId);
  return out;
}
