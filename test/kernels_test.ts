import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { initBackend } from "../src/compute/mod.ts";
import { CASES, convGrads, maxAbs, relError, seeded } from "./conv_cases.ts";
import { axisWindow, filterGradWindow, transposedPhases } from "../src/compute/conv_geometry.ts";
import { buildDiscriminator } from "../src/model/mod.ts";

await initBackend("wasm");

Deno.test("conv geometry: axis windows crop and pad", () => {
  assert.deepEqual(axisWindow(-1, 7, 7), { cropStart: 0, cropSize: 7, padBefore: 1, padAfter: 1 });
  assert.deepEqual(axisWindow(2, 4, 7), { cropStart: 2, cropSize: 3, padBefore: 0, padAfter: 0 });
  // Keras 'same', kernel 4, stride 2, 14 → 7: pad 1 on top; phase 0 uses taps 1,3, phase 1 taps 0,2.
  const phases = transposedPhases(4, 2, 1, 14, 7);
  assert.deepEqual(phases.map((p) => [p.tap0, p.taps, p.outputs]), [[1, 2, 7], [0, 2, 7]]);
  assert.deepEqual(phases[0].window, { cropStart: 0, cropSize: 7, padBefore: 1, padAfter: 0 });
  assert.deepEqual(phases[1].window, { cropStart: 0, cropSize: 7, padBefore: 0, padAfter: 1 });
  // Filter gradient, kernel 3, stride 2, 28 → 14, pad 0 top (TF pads 1 at the bottom only).
  assert.deepEqual(filterGradWindow(3, 2, 0, 28, 14), {
    cropStart: 0,
    cropSize: 28,
    padBefore: 0,
    padAfter: 1,
  });
});

for (const c of CASES) {
  Deno.test(`wasm conv gradients equal cpu: ${c.name}`, async () => {
    const expected = await convGrads(c, "cpu");
    const actual = await convGrads(c, "wasm");
    assert.ok(relError(actual.dx, expected.dx) < 1e-4, `Conv2DBackpropInput (dx) of ${c.name}`);
    assert.ok(relError(actual.dw, expected.dw) < 1e-4, `Conv2DBackpropFilter (dw) of ${c.name}`);
    if (typeof c.pad === "string") {
      assert.ok(
        relError(actual.transposed, expected.transposed) < 1e-4,
        `conv2dTranspose of ${c.name}`,
      );
    }
  });
}

/**
 * The reference generator's layer sequence at a tenth of its width (Dense → Reshape → [Conv2DTranspose s2 → Conv2D →
 * BatchNorm → ReLU] × 2 → Conv2D 7×7 tanh), so that the pure-JS cpu reference stays quick.
 */
function narrowGenerator(seed: number): tf.LayersModel {
  const init = (i: number) => ({
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
  });
  const z = tf.input({ shape: [100] });
  let x = tf.layers.dense({ units: 7 * 7 * 12, ...init(0) }).apply(z) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [7, 7, 12] }).apply(x) as tf.SymbolicTensor;
  for (const [i, filters] of [[1, 12], [2, 6]]) {
    x = tf.layers.conv2dTranspose({
      filters: 12,
      kernelSize: 4,
      strides: 2,
      padding: "same",
      ...init(i),
    })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.conv2d({ filters, kernelSize: 4, padding: "same", ...init(i + 10) })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.8 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  }
  const out = tf.layers.conv2d({
    filters: 1,
    kernelSize: 7,
    padding: "same",
    activation: "tanh",
    ...init(20),
  })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: z, outputs: out });
}

/** Gradients of the reference discriminator and a narrow generator (BatchNorm training mode, seeded dropout). */
async function modelGrads(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const g = narrowGenerator(11);
  const d = buildDiscriminator({ seed: 12 });
  for (const layer of d.layers) {
    if (layer.getClassName() === "Dropout") (layer as unknown as { seed: number }).seed = 5;
  }
  const grads = tf.tidy(() => {
    const z = seeded([3, 100], 4);
    const real = tf.tanh(seeded([3, 28, 28, 1], 6));
    const bce = (y: number, p: tf.Tensor) =>
      tf.metrics.binaryCrossentropy(tf.fill([3, 1], y), p).mean();
    const dVars = d.trainableWeights.map((w) => w.read() as tf.Variable);
    const gVars = g.trainableWeights.map((w) => w.read() as tf.Variable);
    const dLoss = () => {
      const fake = g.apply(z, { training: false }) as tf.Tensor;
      const onReal = bce(0.95, d.apply(real, { training: true }) as tf.Tensor);
      return onReal.add(bce(0.05, d.apply(fake, { training: true }) as tf.Tensor)) as tf.Scalar;
    };
    const gLoss = () =>
      bce(
        1,
        d.apply(g.apply(z, { training: true }), { training: false }) as tf.Tensor,
      ) as tf.Scalar;
    const dg = tf.variableGrads(dLoss, dVars).grads;
    const gg = tf.variableGrads(gLoss, gVars).grads;
    return [...dVars, ...gVars].map((v) => (dg[v.name] ?? gg[v.name]).dataSync() as Float32Array);
  });
  g.dispose();
  d.dispose();
  return grads;
}

Deno.test("wasm training gradients (BatchNorm, LeakyReLU, ReLU, tanh, sigmoid BCE) equal cpu", async () => {
  const expected = await modelGrads("cpu");
  const actual = await modelGrads("wasm");
  assert.equal(actual.length, 16 + 16);
  expected.forEach((e, i) => {
    const scale = maxAbs(e);
    if (scale < 1e-5) {
      // A bias followed by BatchNorm: its gradient is zero up to rounding on both backends.
      assert.ok(maxAbs(actual[i]) < 1e-5, `gradient ${i} should vanish`);
    } else {
      assert.ok(relError(actual[i], e) < 1e-4, `gradient ${i}: ${relError(actual[i], e)}`);
    }
  });
});

Deno.test("BatchNorm gradient equals autodiff of the explicit formula (cpu)", async () => {
  await tf.setBackend("cpu");
  tf.tidy(() => {
    const x = seeded([3, 5, 4, 6], 21);
    const mean = seeded([6], 22).mul(0.1);
    const variance = seeded([6], 23).abs().add(0.5);
    const scale = seeded([6], 24);
    const offset = seeded([6], 25);
    const dy = seeded([3, 5, 4, 6], 26);
    const inputs = [x, mean, variance, scale, offset];
    const explicit = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      a.sub(m).mul(tf.rsqrt(v.add(1e-3))).mul(g).add(b).mul(dy).sum();
    const fused = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.batchNorm(a, m, v, b, g, 1e-3).mul(dy).sum();
    const expected = tf.grads(explicit)(inputs);
    const actual = tf.grads(fused)(inputs);
    expected.forEach((e, i) => {
      assert.ok(relError(actual[i].dataSync(), e.dataSync()) < 1e-5, `input ${i}`);
    });
  });
});
