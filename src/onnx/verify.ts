import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { Rng } from "../random/mod.ts";
import type { ImageLayout } from "./convert.ts";
import { transpose } from "./layout.ts";
import { DataType, decodeModel } from "../onnx_proto/mod.ts";

/** The comparison of one batch size. */
export interface BatchComparison {
  batch: number;
  /** Largest |ONNX − TF.js| over every output value. */
  maxAbsDiff: number;
}

/** Options of {@link compareWithTfjs}. */
export interface CompareOptions {
  /** Batch sizes to run (default 1, 7 and 64). */
  batchSizes?: number[];
  /** Layout of the ONNX file's image inputs/outputs (default `nchw`). */
  layout?: ImageLayout;
  /** The file's inputs and outputs are float16 (exported with `float16Io`). */
  float16Io?: boolean;
  /** Seed of the standard-normal inputs (default 1). */
  seed?: number;
  /** Called after each batch size is compared (for progress output). */
  onResult?: (result: BatchComparison) => void;
}

function toOnnxLayout(data: Float32Array, dims: number[], layout: ImageLayout): Float32Array {
  return dims.length === 4 && layout === "nchw" ? transpose(data, dims, [0, 3, 1, 2]) : data;
}

function ortTensor(data: Float32Array, dims: number[], float16: boolean): ort.Tensor {
  if (!float16) return new ort.Tensor("float32", data, dims);
  const bits = new Uint16Array(new Float16Array(data).buffer);
  const tensor = new ort.Tensor("float16", bits, dims);
  // onnxruntime-common stores float16 data as a Float16Array when the runtime has one (Deno does), but the
  // native binding reads such an array as empty ("not enough space: expected N, got 0"); it needs the bits.
  Object.defineProperty(tensor, "data", { value: bits });
  return tensor;
}

function ortValues(t: ort.Tensor): Float32Array {
  if (t.type === "float16") {
    const bits = t.data as Uint16Array;
    return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, bits.length));
  }
  return t.data as Float32Array;
}

/**
 * Runs an ONNX file with onnxruntime-node (CPU) and the TF.js model on the same standard-normal inputs, for each
 * batch size, and returns the largest absolute difference of the outputs (single-input, single-output models).
 */
export async function compareWithTfjs(
  model: tf.LayersModel,
  onnxBytes: Uint8Array,
  options: CompareOptions = {},
): Promise<BatchComparison[]> {
  const layout = options.layout ?? "nchw";
  const float16 = options.float16Io ?? false;
  const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ["cpu"] });
  const rng = new Rng(options.seed ?? 1);
  const results: BatchComparison[] = [];
  try {
    for (const batch of options.batchSizes ?? [1, 7, 64]) {
      const dims = [batch, ...(model.inputs[0].shape.slice(1) as number[])];
      const input = rng.normals(dims.reduce((a, b) => a * b, 1));
      const expected = tf.tidy(() => {
        const y = model.predict(tf.tensor(input, dims)) as tf.Tensor;
        return { data: y.dataSync() as Float32Array, dims: y.shape };
      });
      const onnxDims = dims.length === 4 && layout === "nchw"
        ? [dims[0], dims[3], dims[1], dims[2]]
        : dims;
      const feeds = {
        [session.inputNames[0]]: ortTensor(toOnnxLayout(input, dims, layout), onnxDims, float16),
      };
      const out = (await session.run(feeds))[session.outputNames[0]];
      const actual = ortValues(out);
      const want = toOnnxLayout(expected.data, expected.dims, layout);
      if (actual.length !== want.length) {
        throw new Error(`ONNX output has ${actual.length} values, TF.js ${want.length}`);
      }
      const maxAbsDiff = maxAbsDifference(actual, want);
      results.push({ batch, maxAbsDiff });
      options.onResult?.({ batch, maxAbsDiff });
    }
  } finally {
    await session.release();
  }
  return results;
}

/**
 * The largest |a − b| over two equally long arrays; NaN when either holds a NaN (NaN anywhere must fail a
 * comparison, so it is propagated rather than ignored by Math.max).
 */
function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    max = Math.max(max, d);
  }
  return max;
}

/**
 * Runs two ONNX files with onnxruntime-node (CPU) on the same standard-normal inputs, for each batch size (the
 * size of every symbolic dimension of the inputs), and returns the largest absolute difference over all their
 * outputs: how a rewritten graph is checked against the one it came from. Float32 inputs and outputs only.
 * @throws {RangeError} when an input or output of `reference` is not float32, or the outputs differ in size.
 */
export async function compareOnnxModels(
  reference: Uint8Array,
  candidate: Uint8Array,
  options: Pick<CompareOptions, "batchSizes" | "seed" | "onResult"> = {},
): Promise<BatchComparison[]> {
  const graph = decodeModel(reference).graph;
  const notFloat = [...graph.input, ...graph.output].find((v) =>
    v.type.tensorType.elemType !== DataType.FLOAT
  );
  if (notFloat) {
    throw new RangeError(`${notFloat.name} is not float32 (only float32 I/O is compared)`);
  }
  const sessions = [
    await ort.InferenceSession.create(reference, { executionProviders: ["cpu"] }),
    await ort.InferenceSession.create(candidate, { executionProviders: ["cpu"] }),
  ];
  const rng = new Rng(options.seed ?? 1);
  const results: BatchComparison[] = [];
  try {
    for (const batch of options.batchSizes ?? [1, 7, 64]) {
      const feeds = Object.fromEntries(graph.input.map((v) => {
        const dims = v.type.tensorType.shape.dim.map((d) => d.dimValue ?? batch).map(Number);
        const data = rng.normals(dims.reduce((a, b) => a * b, 1));
        return [v.name, new ort.Tensor("float32", data, dims)];
      }));
      const [want, got] = await Promise.all(sessions.map((s) => s.run(feeds)));
      let maxAbsDiff = 0;
      for (const v of graph.output) {
        const [a, b] = [want[v.name].data as Float32Array, got[v.name]?.data as Float32Array];
        if (b?.length !== a.length) throw new RangeError(`output ${v.name} differs in size`);
        maxAbsDiff = Math.max(maxAbsDiff, maxAbsDifference(a, b));
      }
      results.push({ batch, maxAbsDiff });
      options.onResult?.({ batch, maxAbsDiff });
    }
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
  return results;
}
