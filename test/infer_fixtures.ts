/** Shared helpers of the inference tests: the committed generator and in-memory export variants of it. */
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { buildGenerator } from "../src/model/mod.ts";
import {
  convertLayersModel,
  dcganMetadata,
  encodeModel,
  type FloatPrecision,
  type ImageLayout,
} from "../src/onnx/mod.ts";

// TF.js prints a banner recommending tfjs-node on first use; these tests only build weights with it.
tf.env().set("PROD", true);

/** The development generator committed by the exporter (seed-0 weights, NCHW, float32). */
export const MODEL_PATH = fileURLToPath(new URL("../models/generator.onnx", import.meta.url));

/** Bytes of the seed-0 reference generator exported with the given layout and precision (NCHW float32 default). */
export function exportVariant(
  layout: ImageLayout = "nchw",
  precision: FloatPrecision = "float32",
  float16Io = false,
): Uint8Array {
  const model = buildGenerator({ seed: 0 });
  try {
    const metadata = dcganMetadata({
      kind: "generator",
      model,
      layout,
      precision,
      step: 0,
      source: "test",
    });
    return encodeModel(
      convertLayersModel(model, {
        layout,
        precision,
        float16Io,
        metadata,
        inputNames: ["latent"],
        outputNames: ["image"],
      }),
    );
  } finally {
    model.dispose();
  }
}

/** The largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Converts NHWC image data to NCHW. */
export function nhwcToNchw(
  data: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          out[((i * c + k) * h + y) * w + x] = data[((i * h + y) * w + x) * c + k];
        }
      }
    }
  }
  return out;
}
