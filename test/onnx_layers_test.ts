import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { compareWithTfjs, convertLayersModel, UnsupportedLayerError } from "../src/onnx/mod.ts";
import { emulateTraining, exportBytes, opsOf, useWasm } from "./onnx_fixtures.ts";

type Sym = tf.SymbolicTensor;

/** Builds a one-input model from a chain of layers, gives it trained-like weights, returns it. */
function chain(inputShape: number[], layers: tf.layers.Layer[], seed = 5): tf.LayersModel {
  const input = tf.input({ shape: inputShape });
  let x: Sym = input;
  for (const l of layers) x = l.apply(x) as Sym;
  const model = tf.model({ inputs: input, outputs: x });
  emulateTraining(model, seed);
  return model;
}

async function assertMatches(model: tf.LayersModel, foldBatchNorm = true, batchSizes = [1, 7]) {
  for (const layout of ["nchw", "nhwc"] as const) {
    const bytes = exportBytes(model, { layout, foldBatchNorm });
    for (const r of await compareWithTfjs(model, bytes, { batchSizes, layout })) {
      assert(r.maxAbsDiff <= 1e-4, `${layout} batch ${r.batch}: max abs diff ${r.maxAbsDiff}`);
    }
  }
}

interface ConvCase {
  kernelSize: number | number[];
  strides: number | number[];
  padding: "same" | "valid";
  dilationRate?: number;
}

const CONV_CASES: ConvCase[] = [
  { kernelSize: 1, strides: 1, padding: "same" },
  { kernelSize: 2, strides: 1, padding: "same" },
  { kernelSize: 4, strides: 2, padding: "same" },
  { kernelSize: 3, strides: 2, padding: "same" },
  { kernelSize: 5, strides: 3, padding: "same" },
  { kernelSize: 3, strides: 1, padding: "valid" },
  { kernelSize: 4, strides: 3, padding: "valid" },
  { kernelSize: [2, 3], strides: [1, 2], padding: "same" },
  { kernelSize: 3, strides: 1, padding: "same", dilationRate: 2 },
];

for (const c of CONV_CASES) {
  Deno.test(`Conv2D ${JSON.stringify(c)} (+ BatchNorm folded and kept) matches TF.js`, async () => {
    await useWasm();
    const m = chain([9, 10, 3], [
      tf.layers.conv2d({ filters: 4, ...c, useBias: c.kernelSize !== 2 }),
      tf.layers.batchNormalization({ epsilon: 0.01 }),
    ]);
    await assertMatches(m, true);
    await assertMatches(m, false);
    m.dispose();
  });
}

const DECONV_CASES: ConvCase[] = [
  { kernelSize: 4, strides: 2, padding: "same" },
  { kernelSize: 3, strides: 2, padding: "same" },
  { kernelSize: 5, strides: 2, padding: "same" },
  { kernelSize: 1, strides: 2, padding: "same" },
  { kernelSize: 2, strides: 3, padding: "same" },
  { kernelSize: 3, strides: 1, padding: "same" },
  { kernelSize: 3, strides: 2, padding: "valid" },
  { kernelSize: 2, strides: 3, padding: "valid" },
  { kernelSize: [3, 2], strides: [2, 1], padding: "same" },
];

for (const c of DECONV_CASES) {
  Deno.test(`Conv2DTranspose ${JSON.stringify(c)} (+ BatchNorm) matches TF.js`, async () => {
    await useWasm();
    const m = chain([5, 6, 3], [
      tf.layers.conv2dTranspose({ filters: 4, ...c, useBias: c.kernelSize !== 2 }),
      tf.layers.batchNormalization(),
    ]);
    await assertMatches(m, true);
    await assertMatches(m, false);
    m.dispose();
  });
}

for (const pool of ["maxPooling2d", "averagePooling2d"] as const) {
  for (const padding of ["same", "valid"] as const) {
    Deno.test(`${pool} ${padding} (pool 3 stride 2, pool 2 default stride) matches TF.js`, async () => {
      await useWasm();
      const m = chain([9, 8, 2], [
        tf.layers[pool]({ poolSize: 3, strides: 2, padding }),
        tf.layers[pool]({ poolSize: 2, padding }),
      ]);
      await assertMatches(m);
      m.dispose();
    });
  }
}

Deno.test("BatchNorm without scale/center, after a bias-free Dense and Conv2D, matches TF.js", async () => {
  await useWasm();
  const m = chain([6, 6, 2], [
    tf.layers.conv2d({ filters: 3, kernelSize: 3, useBias: false }),
    tf.layers.batchNormalization({ scale: false }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 5, useBias: false }),
    tf.layers.batchNormalization({ center: false }),
  ]);
  for (const foldBatchNorm of [true, false]) {
    const ops = opsOf(exportBytes(m, { foldBatchNorm }));
    assertEquals(ops.includes("BatchNormalization"), !foldBatchNorm);
  }
  await assertMatches(m, true);
  await assertMatches(m, false);
  m.dispose();
});

Deno.test("MNIST classifier CNN (Conv2D, MaxPooling2D, Flatten, Dropout, Dense, softmax)", async () => {
  await useWasm();
  const m = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 32, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  emulateTraining(m, 9);
  const ops = opsOf(exportBytes(m));
  assertEquals(ops, [
    "Conv",
    "Relu",
    "MaxPool",
    "Conv",
    "Relu",
    "MaxPool",
    "Flatten",
    "Gemm",
    "Relu",
    "Gemm",
    "Softmax",
  ]);
  await assertMatches(m, true, [1, 7, 64]);
  m.dispose();
});

Deno.test("activations and activation layers match TF.js", async () => {
  await useWasm();
  const acts = [
    "relu",
    "relu6",
    "elu",
    "selu",
    "tanh",
    "sigmoid",
    "hardSigmoid",
    "softplus",
    "softsign",
    "swish",
    "softmax",
  ] as const;
  const m = chain([6, 5, 3], [
    ...acts.map((activation) => tf.layers.conv2d({ filters: 3, kernelSize: 1, activation })),
    tf.layers.reLU({ maxValue: 0.5 }),
    tf.layers.leakyReLU({ alpha: 0.07 }),
    tf.layers.elu(),
    tf.layers.softmax({ axis: -1 }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 6, activation: "linear" }),
    tf.layers.activation({ activation: "tanh" }),
    tf.layers.softmax(),
  ]);
  await assertMatches(m);
  m.dispose();
});

Deno.test("flat BatchNorm, Reshape/Flatten round trips and global pooling match TF.js", async () => {
  await useWasm();
  const input = tf.input({ shape: [12] });
  let x = tf.layers.dense({ units: 24 }).apply(input) as Sym;
  x = tf.layers.batchNormalization().apply(x) as Sym;
  x = tf.layers.leakyReLU({ alpha: 0.2 }).apply(x) as Sym;
  x = tf.layers.reshape({ targetShape: [2, 3, 4] }).apply(x) as Sym;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 2, padding: "same" }).apply(x) as Sym;
  const flat = tf.layers.batchNormalization().apply(tf.layers.flatten().apply(x)) as Sym;
  const image = tf.layers.reshape({ targetShape: [3, 4, 3] }).apply(flat) as Sym;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(image) as Sym;
  const models = [
    tf.model({ inputs: input, outputs: pooled }),
    tf.model({ inputs: input, outputs: flat }),
  ];
  emulateTraining(models[0], 21);
  for (const foldBatchNorm of [true, false]) {
    // Dense → Reshape is free (the Dense writes NCHW order); Flatten → Reshape needs one Transpose.
    assertEquals(
      opsOf(exportBytes(models[0], { foldBatchNorm })).filter((o) => o === "Transpose"),
      [
        "Transpose",
      ],
    );
    // A flattened NCHW tensor returned as an output is put back in Keras order.
    assert(opsOf(exportBytes(models[1], { foldBatchNorm })).includes("Gather"));
    for (const m of models) await assertMatches(m, foldBatchNorm);
  }
  const rank3 = tf.layers.reshape({ targetShape: [6, 6] }).apply(flat) as Sym;
  throws(() => convertLayersModel(tf.model({ inputs: input, outputs: rank3 })), /rank 3/);
  models[0].dispose();
});

Deno.test("an unsupported layer is an error naming the layer and its class", () => {
  const input = tf.input({ shape: [8, 8, 2] });
  const y = tf.layers.depthwiseConv2d({ kernelSize: 3, name: "dw_conv" }).apply(input) as Sym;
  const m = tf.model({ inputs: input, outputs: y });
  throws(
    () => convertLayersModel(m),
    (e: Error) =>
      e instanceof UnsupportedLayerError && /"dw_conv"/.test(e.message) &&
      /DepthwiseConv2D/.test(e.message),
  );
  const m2 = chain([4], [tf.layers.dense({ units: 2, activation: "logSoftmax" as "softmax" })]);
  throws(() => convertLayersModel(m2), /activation "logSoftmax"/);
  throws(() => convertLayersModel(m2, { opset: 12 }), /opset 12/);
  m.dispose();
  m2.dispose();
});
