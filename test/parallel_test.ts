import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { initBackend } from "../src/compute/mod.ts";
import {
  parallelWorkers,
  splitRows,
  startParallelKernels,
  stopParallelKernels,
} from "../src/compute/workers/parallel.ts";
import type { StepLosses } from "../src/train/mod.ts";
import { relError } from "./conv_cases.ts";
import { assertSameStatistics, lossHistory, STEPS } from "./step_history.ts";

await initBackend("wasm");

Deno.test("splitRows: contiguous parts differing by at most one row", () => {
  assert.deepEqual(splitRows(32, 2), [0, 16, 32]);
  assert.deepEqual(splitRows(5, 3), [0, 2, 3, 5]);
  assert.deepEqual(splitRows(2, 2), [0, 1, 2]);
});

interface ConvOutputs {
  y: Float32Array;
  yFused: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

function convOutputs(): ConvOutputs {
  return tf.tidy(() => {
    const x = tf.randomNormal([5, 14, 14, 16], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomNormal([4, 4, 16, 8], 0, 1, "float32", 2) as tf.Tensor4D;
    const b = tf.randomNormal([8], 0, 1, "float32", 3);
    const dy = tf.randomNormal([5, 7, 7, 8], 0, 1, "float32", 4) as tf.Tensor4D;
    const y = tf.conv2d(x, w, 2, "same");
    const yFused = tf.fused.conv2d({
      x,
      filter: w,
      strides: 2,
      pad: "same",
      bias: b,
      activation: "relu",
    });
    const dx = tf.conv2dTranspose(dy, w, [5, 14, 14, 16], 2, "same");
    const dw = tf.grad((f: tf.Tensor) => tf.conv2d(x, f as tf.Tensor4D, 2, "same").mul(dy).sum())(
      w,
    );
    return {
      y: y.dataSync() as Float32Array,
      yFused: yFused.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      dw: dw.dataSync() as Float32Array,
    };
  });
}

Deno.test("split convolutions equal the single-threaded kernels", async () => {
  const plain = convOutputs();
  assert.equal(await startParallelKernels({ workers: 2, minMacs: 0 }), 2);
  try {
    assert.equal(parallelWorkers(), 2);
    const split = convOutputs();
    // Batch rows are computed by the same XNNPACK kernels: forward and input gradient are bit-identical.
    assert.deepEqual(split.y, plain.y);
    assert.deepEqual(split.yFused, plain.yFused);
    assert.deepEqual(split.dx, plain.dx);
    // The filter gradient is a sum of per-part sums: equal up to float rounding order.
    assert.ok(relError(split.dw, plain.dw) < 1e-5);
  } finally {
    await stopParallelKernels();
  }
  assert.equal(parallelWorkers(), 0);
});

Deno.test(`seeded ${STEPS}-step training: split kernels give the plain loss history`, async () => {
  const plain = await lossHistory();
  await startParallelKernels({ workers: 1, minMacs: 0 });
  let split: StepLosses[];
  try {
    split = await lossHistory();
  } finally {
    await stopParallelKernels();
  }
  assertSameStatistics(plain, split);
});
