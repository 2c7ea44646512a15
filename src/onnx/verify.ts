import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { Rng } from "../random/mod.ts";
import type { ImageLayout } from "./convert.ts";
import { transpose } from "./layout.ts";

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
      let maxAbsDiff = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(actual[i] - want[i]);
        // NaN anywhere must fail the comparison, so it is propagated rather than ignored by Math.max.
        maxAbsDiff = Number.isNaN(d) ? NaN : Math.max(maxAbsDiff, d);
        if (Number.isNaN(maxAbsDiff)) break;
      }
      results.push({ batch, maxAbsDiff });
      options.onResult?.({ batch, maxAbsDiff });
    }
  } finally {
    await session.release();
  }
  return results;
}
