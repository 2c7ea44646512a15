import { deepStrictEqual as assertEquals } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  buildDiscriminator,
  buildGenerator,
  countParams,
  summarizeLayers,
} from "../src/model/mod.ts";

await tf.setBackend("cpu");

Deno.test("generator has the reference parameter counts", () => {
  const g = buildGenerator();
  assertEquals(countParams(g), { total: 1_555_329, trainable: 1_554_945, nonTrainable: 384 });
  g.dispose();
});

Deno.test("discriminator has the reference parameter counts", () => {
  const d = buildDiscriminator();
  assertEquals(countParams(d), { total: 694_785, trainable: 693_889, nonTrainable: 896 });
  d.dispose();
});

Deno.test("generator layer output shapes and params match the reference table", () => {
  const g = buildGenerator();
  const rows = summarizeLayers(g).map((l) => [l.className, l.outputShape, l.params]);
  assertEquals(rows, [
    ["InputLayer", [null, 100], 0],
    ["Dense", [null, 6272], 633_472],
    ["Reshape", [null, 7, 7, 128], 0],
    ["Conv2DTranspose", [null, 14, 14, 128], 262_272],
    ["Conv2D", [null, 14, 14, 128], 262_272],
    ["BatchNormalization", [null, 14, 14, 128], 512],
    ["ReLU", [null, 14, 14, 128], 0],
    ["Conv2DTranspose", [null, 28, 28, 128], 262_272],
    ["Conv2D", [null, 28, 28, 64], 131_136],
    ["BatchNormalization", [null, 28, 28, 64], 256],
    ["ReLU", [null, 28, 28, 64], 0],
    ["Conv2D", [null, 28, 28, 1], 3_137],
  ]);
  g.dispose();
});

Deno.test("discriminator layer output shapes and params match the reference table", () => {
  const d = buildDiscriminator();
  const rows = summarizeLayers(d).map((l) => [l.className, l.outputShape, l.params]);
  assertEquals(rows, [
    ["InputLayer", [null, 28, 28, 1], 0],
    ["Conv2D", [null, 14, 14, 32], 320],
    ["LeakyReLU", [null, 14, 14, 32], 0],
    ["Dropout", [null, 14, 14, 32], 0],
    ["Conv2D", [null, 7, 7, 64], 32_832],
    ["BatchNormalization", [null, 7, 7, 64], 256],
    ["LeakyReLU", [null, 7, 7, 64], 0],
    ["Dropout", [null, 7, 7, 64], 0],
    ["Conv2D", [null, 4, 4, 128], 131_200],
    ["BatchNormalization", [null, 4, 4, 128], 512],
    ["LeakyReLU", [null, 4, 4, 128], 0],
    ["Dropout", [null, 4, 4, 128], 0],
    ["Conv2D", [null, 4, 4, 256], 524_544],
    ["BatchNormalization", [null, 4, 4, 256], 1_024],
    ["LeakyReLU", [null, 4, 4, 256], 0],
    ["Dropout", [null, 4, 4, 256], 0],
    ["Flatten", [null, 4096], 0],
    ["Dense", [null, 1], 4_097],
  ]);
  d.dispose();
});

Deno.test("the LeakyReLU slopes follow the notebook (0.2, 0.2, Keras default 0.3, 0.3)", () => {
  const d = buildDiscriminator();
  const alphas = d.layers.filter((l) => l.getClassName() === "LeakyReLU").map((l) =>
    (l.getConfig() as { alpha: number }).alpha
  );
  assertEquals(alphas, [0.2, 0.2, 0.3, 0.3]);
  d.dispose();
});

Deno.test("the same seed builds the same initial weights; another seed differs", () => {
  const flat = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const [a, b, c] = [
    buildGenerator({ seed: 3 }),
    buildGenerator({ seed: 3 }),
    buildGenerator({ seed: 4 }),
  ];
  assertEquals(flat(a), flat(b));
  assertEquals(flat(a)[0].slice(0, 8).join() === flat(c)[0].slice(0, 8).join(), false);
  [a, b, c].forEach((m) => m.dispose());
});
