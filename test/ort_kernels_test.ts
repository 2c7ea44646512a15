import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import {
  batchNormTrainingFused,
  fuseBatchNormTraining,
  initBackend,
  startKernels,
  stopKernels,
} from "../src/compute/mod.ts";
import { batchNormTraining } from "../src/compute/batch_norm_training.ts";
import { ortKernelsActive, startOrtKernels, stopOrtKernels } from "../src/compute/ort/start.ts";
import { conv2dBackpropInputGraph } from "../src/compute/ort/graphs/backprop_input.ts";
import { ortKernelConfigs, SessionCache } from "../src/compute/ort/kernels.ts";
import { replaceKernels } from "../src/compute/tfjs_kernels.ts";
import type { StepLosses } from "../src/train/mod.ts";
import { CASES, convGrads, relError, seeded } from "./conv_cases.ts";
import { assertSameStatistics, lossHistory, STEPS } from "./step_history.ts";

await initBackend("wasm");

/**
 * Runs `body` with the onnxruntime kernels routing the wasm backend's convolutions, then restores them. A patch
 * limit of 0 selects the graphs built on onnxruntime's Conv; the default selects patch-matrix GEMMs on small shapes.
 */
async function withOrtKernels<T>(body: () => Promise<T>, patchLimit?: number): Promise<T> {
  const failure = startOrtKernels({ threads: 2, patchLimit });
  assert.equal(failure, null, "onnxruntime-node's binding should load here");
  try {
    return await body();
  } finally {
    stopOrtKernels();
  }
}

for (const c of CASES) {
  Deno.test(`onnxruntime conv kernels equal cpu: ${c.name}`, async () => {
    const expected = await convGrads(c, "cpu");
    for (const patchLimit of [undefined, 0]) {
      const actual = await withOrtKernels(() => convGrads(c, "wasm"), patchLimit);
      const where = `${c.name}, patch limit ${patchLimit ?? "default"}`;
      assert.ok(relError(actual.y, expected.y) < 1e-4, `Conv2D of ${where}`);
      assert.ok(relError(actual.dx, expected.dx) < 1e-4, `Conv2DBackpropInput (dx) of ${where}`);
      assert.ok(relError(actual.dw, expected.dw) < 1e-4, `Conv2DBackpropFilter (dw) of ${where}`);
      if (typeof c.pad === "string") {
        assert.ok(
          relError(actual.transposed, expected.transposed) < 1e-4,
          `conv2dTranspose of ${where}`,
        );
      }
    }
  });
}

/** FusedConv2D with a bias and each activation (PReLU goes to the wasm kernel), on `backend`. */
async function fusedOutputs(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = seeded([3, 9, 9, 6], 31) as tf.Tensor4D;
    const filter = seeded([3, 3, 6, 5], 32) as tf.Tensor4D;
    const bias = seeded([5], 33);
    const activations = [
      "linear",
      "relu",
      "relu6",
      "elu",
      "sigmoid",
      "leakyrelu",
      "prelu",
    ] as const;
    return activations.map((activation) =>
      tf.fused.conv2d({
        x,
        filter,
        strides: 2,
        pad: "same",
        bias,
        activation,
        leakyreluAlpha: 0.3,
        preluActivationWeights: activation === "prelu" ? tf.fill([5], 0.25) : undefined,
      }).dataSync() as Float32Array
    );
  });
}

Deno.test("onnxruntime FusedConv2D applies bias and every fused activation like cpu", async () => {
  const expected = await fusedOutputs("cpu");
  const actual = await withOrtKernels(() => fusedOutputs("wasm"));
  expected.forEach((e, i) => assert.ok(relError(actual[i], e) < 1e-5, `activation ${i}`));
});

/** Large Sum/Mean reductions and BatchMatMuls (over the native threshold) on `backend`. */
async function reductionsAndProducts(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = seeded([8, 20, 20, 24], 41);
    const a = seeded([1, 64, 300], 42);
    const b = seeded([1, 300, 256], 43);
    const c = seeded([3, 40, 300], 44);
    const d = seeded([3, 300, 50], 45);
    const outputs = [
      x.sum([0, 1, 2]),
      x.sum(3, true),
      x.sum([1, -1]),
      x.mean([0, 1, 2]),
      x.mean(1, true),
      tf.matMul(a, b),
      tf.matMul(b, a, true, true),
      tf.matMul(c, d),
      tf.matMul(c, d.transpose([0, 2, 1]), false, true),
      tf.matMul(c.transpose([0, 2, 1]), d, true, false),
    ];
    return outputs.map((t) => t.dataSync() as Float32Array);
  });
}

Deno.test("onnxruntime Sum, Mean and BatchMatMul equal cpu (axes, keepDims, transposes, batches)", async () => {
  const expected = await reductionsAndProducts("cpu");
  const actual = await withOrtKernels(() => reductionsAndProducts("wasm"));
  expected.forEach((e, i) => {
    assert.equal(actual[i].length, e.length, `output ${i} size`);
    assert.ok(relError(actual[i], e) < 1e-5, `output ${i}: ${relError(actual[i], e)}`);
  });
});

/**
 * A BatchNormalization layer on `backend` (fused where the backend has the kernels): its training output, input
 * and weight gradients, moving statistics and inference output; then the batch-statistics op itself with a loss
 * that also uses the mean and variance (TF.js's `moments` + `batchNorm` where nothing is fused).
 */
async function batchNormOutputs(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const outputs: tf.Tensor[] = [];
    for (const [i, shape] of [[4, 16, 16, 64], [5, 3, 7]].entries()) {
      const channels = shape[shape.length - 1];
      const input = tf.input({ shape: shape.slice(1) });
      const layer = tf.layers.batchNormalization({ momentum: 0.8 });
      const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
      layer.setWeights([
        seeded([channels], 40 + i),
        seeded([channels], 50 + i),
        seeded([channels], 60 + i),
        tf.add(tf.abs(seeded([channels], 70 + i)), 0.5),
      ]);
      fuseBatchNormTraining(model);
      const x = tf.add(tf.mul(seeded(shape, 80 + i), 2), 0.3);
      const w = seeded(shape, 90 + i);
      const loss = (xx: tf.Tensor) =>
        tf.sum(tf.mul(tf.square(model.apply(xx, { training: true }) as tf.Tensor), w)) as tf.Scalar;
      const weights = model.trainableWeights.map((v) => v.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => loss(x), weights);
      outputs.push(
        model.apply(x, { training: true }) as tf.Tensor,
        tf.grad(loss)(x),
        ...weights.map((v) => grads[v.name]),
        ...model.nonTrainableWeights.map((v) => v.read()),
        model.apply(x) as tf.Tensor,
      );
    }
    const shape = [6, 5, 5, 8];
    const [x, scale, offset, u, v] = [
      seeded(shape, 101),
      seeded([8], 102),
      seeded([8], 103),
      seeded([8], 104),
      seeded([8], 105),
    ];
    const w = seeded(shape, 106);
    const statsLoss = (xx: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
      let y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor;
      if (batchNormTrainingFused()) {
        ({ y, mean, variance } = batchNormTraining(xx, s as tf.Tensor1D, o as tf.Tensor1D, 1e-3));
      } else {
        ({ mean, variance } = tf.moments(xx, [0, 1, 2]));
        y = tf.batchNorm(xx, mean, variance, o, s, 1e-3);
      }
      return tf.addN([tf.sum(tf.mul(y, w)), tf.sum(tf.mul(mean, u)), tf.sum(tf.mul(variance, v))]);
    };
    outputs.push(...tf.grads(statsLoss)([x, scale, offset]));
    return outputs.map((t) => t.dataSync() as Float32Array);
  });
}

Deno.test("onnxruntime batch normalisation equals cpu: training, every gradient, moving statistics, inference", async () => {
  const expected = await batchNormOutputs("cpu");
  const actual = await withOrtKernels(async () => {
    await tf.setBackend("wasm");
    assert.ok(batchNormTrainingFused(), "the onnxruntime kernels provide the fused batch norm");
    return await batchNormOutputs("wasm");
  });
  assert.equal(actual.length, 17);
  expected.forEach((e, i) => {
    assert.ok(relError(actual[i], e) < 1e-4, `output ${i}: ${relError(actual[i], e)}`);
  });
});

/** A batch-norm layer's input gradient and weights after one training step, fused or as TF.js has it. */
function batchNormStep(fused: boolean): number[][] {
  return tf.tidy(() => {
    const input = tf.input({ shape: [5, 5, 8] });
    const layer = tf.layers.batchNormalization({ momentum: 0.8 });
    const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
    layer.setWeights([seeded([8], 1), seeded([8], 2), seeded([8], 3), tf.ones([8])]);
    if (fused) fuseBatchNormTraining(model);
    const x = seeded([4, 5, 5, 8], 4);
    const loss = (xx: tf.Tensor) =>
      tf.sum(tf.square(model.apply(xx, { training: true }) as tf.Tensor)) as tf.Scalar;
    return [tf.grad(loss)(x), ...model.getWeights()].map((t) => Array.from(t.dataSync()));
  });
}

Deno.test("fuseBatchNormTraining leaves a backend without the fused kernels on TF.js's own path, bit for bit", async () => {
  await tf.setBackend("cpu");
  assert.ok(!batchNormTrainingFused());
  assert.deepEqual(batchNormStep(true), batchNormStep(false));
});

Deno.test("a fused batch norm whose graphs do not compile runs TF.js's own path instead, bit for bit", async () => {
  await tf.setBackend("wasm");
  /** A cache in which every graph fails to compile. */
  class FailingCache extends SessionCache {
    override get(): null {
      return null;
    }
  }
  const restore = replaceKernels("wasm", (base) => ortKernelConfigs(new FailingCache(), base));
  try {
    assert.ok(batchNormTrainingFused());
    assert.deepEqual(batchNormStep(true), batchNormStep(false));
  } finally {
    restore();
  }
});

Deno.test("a graph onnxruntime rejects leaves that call shape to the wasm kernel, said once", () => {
  const cache = new SessionCache({ threads: 1 });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (message: string) => warnings.push(message);
  try {
    const broken = () => ({ inputs: [], outputShapes: [[1]], model: new Uint8Array([8, 1, 2]) });
    assert.equal(cache.get("Conv2D|[1]", broken), null);
    assert.equal(cache.get("Conv2D|[1]", broken), null);
  } finally {
    console.warn = warn;
    cache.dispose();
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /Conv2D for this shape failed to compile .*; using the wasm kernel/);
});

Deno.test("a transposed convolution with an empty phase is left to the wasm kernel", () => {
  // Kernel 1, stride 2: odd output rows receive nothing; the graph builder declines.
  const info = tf.backend_util.computeConv2DInfo([1, 6, 6, 2], [1, 1, 2, 3], 2, 1, "valid");
  assert.equal(conv2dBackpropInputGraph(info), null);
});

Deno.test("startKernels: auto picks onnxruntime, wasm keeps the wasm kernels, stop restores", async () => {
  const auto = await startKernels({ threads: 2 });
  try {
    assert.equal(auto.kernels, "onnxruntime");
    assert.equal(auto.threads, 2);
    assert.ok(ortKernelsActive());
  } finally {
    await stopKernels();
  }
  assert.ok(!ortKernelsActive());
  const wasm = await startKernels({ kernels: "wasm", workers: 0 });
  await stopKernels();
  assert.deepEqual([wasm.kernels, wasm.threads], ["wasm", 0]);
  assert.ok(!ortKernelsActive());
});

Deno.test(`seeded ${STEPS}-step training: onnxruntime kernels follow the plain loss history`, async () => {
  const plain = await lossHistory();
  const [first, second] = await withOrtKernels(
    async () => [await lossHistory(), await lossHistory()],
  );
  // Deterministic for a fixed thread count: the same seed gives the same history, bit for bit.
  assert.deepEqual(second, first);
  assertSameStatistics(plain, first as StepLosses[]);
});
