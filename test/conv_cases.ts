/** Convolution geometries of the reference networks and their gradients, shared by the kernel tests. */
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";

type Shape4 = [number, number, number, number];
type Pad = "same" | "valid" | tf.backend_util.ExplicitPadding;

export interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  stride: number | [number, number];
  pad: Pad;
}

/**
 * Every convolution geometry of the reference networks (input size, kernel, stride, padding; batch 2-4). The
 * generator's wide layers keep their geometry with fewer channels so that the pure-JS cpu reference stays quick.
 */
export const CASES: ConvCase[] = [
  { name: "D conv1 3x3 s2", x: [3, 28, 28, 1], filter: [3, 3, 1, 32], stride: 2, pad: "same" },
  { name: "D conv2 4x4 s2", x: [2, 14, 14, 32], filter: [4, 4, 32, 64], stride: 2, pad: "same" },
  {
    name: "D conv3 4x4 s2 (7→4)",
    x: [2, 7, 7, 64],
    filter: [4, 4, 64, 128],
    stride: 2,
    pad: "same",
  },
  { name: "D conv4 4x4 s1", x: [2, 4, 4, 128], filter: [4, 4, 128, 256], stride: 1, pad: "same" },
  {
    name: "G deconv1 4x4 s2 (7→14)",
    x: [2, 14, 14, 128],
    filter: [4, 4, 128, 128],
    stride: 2,
    pad: "same",
  },
  { name: "G conv1 4x4 s1", x: [2, 14, 14, 32], filter: [4, 4, 32, 24], stride: 1, pad: "same" },
  {
    name: "G deconv2 4x4 s2 (14→28)",
    x: [2, 28, 28, 16],
    filter: [4, 4, 16, 24],
    stride: 2,
    pad: "same",
  },
  { name: "G conv2 4x4 s1", x: [2, 28, 28, 16], filter: [4, 4, 16, 8], stride: 1, pad: "same" },
  { name: "G out 7x7 s1", x: [4, 28, 28, 8], filter: [7, 7, 8, 1], stride: 1, pad: "same" },
  { name: "valid 3x2 s2", x: [3, 9, 8, 5], filter: [3, 2, 5, 4], stride: 2, pad: "valid" },
  { name: "valid 1x1 s2", x: [2, 9, 8, 5], filter: [1, 1, 5, 4], stride: 2, pad: "valid" },
  { name: "same 5x4 s3", x: [2, 10, 11, 5], filter: [5, 4, 5, 3], stride: 3, pad: "same" },
  { name: "same 3x3 s(1,2)", x: [2, 6, 9, 3], filter: [3, 3, 3, 2], stride: [1, 2], pad: "same" },
  {
    name: "explicit pads 4x3 s2",
    x: [2, 9, 10, 3],
    filter: [4, 3, 3, 2],
    stride: 2,
    pad: [[0, 0], [2, 0], [1, 3], [0, 0]],
  },
];

export function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, "float32", seed);
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** Largest absolute difference divided by the largest absolute reference value. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

export interface Grads {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  transposed: Float32Array;
}

/** conv2d(x, w), the input and filter gradients of `sum(conv2d(x, w) · dy)`, and conv2dTranspose(dy, w), on `backend`. */
export async function convGrads(c: ConvCase, backend: string): Promise<Grads> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = seeded(c.x, 1) as tf.Tensor4D;
    const w = seeded(c.filter, 2) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.stride, c.pad);
    const dy = seeded(y.shape, 3) as tf.Tensor4D;
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad).mul(dy).sum();
    const [dx, dw] = tf.grads(f)([x, w]);
    const transposed = tf.conv2dTranspose(dy, w, c.x, c.stride, c.pad as "same" | "valid");
    return {
      y: y.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      dw: dw.dataSync() as Float32Array,
      transposed: transposed.dataSync() as Float32Array,
    };
  });
}
