/** Shared helpers of the ONNX exporter tests. */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/compute/mod.ts";
import { Rng } from "../src/random/mod.ts";
import {
  convertLayersModel,
  type ConvertOptions,
  decodeModel,
  encodeModel,
} from "../src/onnx/mod.ts";

/** Uses the wasm backend (XNNPACK): the fastest TF.js reference available here. */
export async function useWasm(): Promise<void> {
  await initBackend("wasm");
}

/**
 * Emulates a trained model: every weight gets seeded random non-trivial values (BatchNorm gammas around 1,
 * betas and moving means around 0, moving variances in [0.2, 2]; kernels at Glorot scale).
 */
export function emulateTraining(model: tf.LayersModel, seed: number): void {
  const rng = new Rng(seed);
  for (const layer of model.layers) {
    const values = layer.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const kind = w.originalName.split("/").pop();
      const uniform = (lo: number, hi: number) =>
        Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat());
      let data: Float32Array;
      if (kind === "gamma") data = uniform(0.5, 1.5);
      else if (kind === "moving_variance") data = uniform(0.2, 2);
      else if (kind === "kernel") {
        const fanIn = n / shape[shape.length - 1];
        data = rng.normals(n, Math.sqrt(1 / fanIn));
      } else data = rng.normals(n, 0.2);
      return tf.tensor(data, shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

/** Converts and encodes a model: the bytes of the `.onnx` file. */
export function exportBytes(model: tf.LayersModel, options: ConvertOptions = {}): Uint8Array {
  return encodeModel(convertLayersModel(model, options));
}

/** The operator types of an encoded model, in node order. */
export function opsOf(bytes: Uint8Array): string[] {
  return decodeModel(bytes).graph.node.map((n) => n.opType);
}
