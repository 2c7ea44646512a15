import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { benchTrainStep } from "../src/bench/mod.ts";

Deno.test("bench:train --profile: every layer's convolutions by direction, BatchNorm, Adam; rows sum to the step", async () => {
  const r = await benchTrainStep({
    backend: "wasm",
    kernels: "wasm",
    workers: 0,
    batch: 2,
    warmup: 1,
    steps: 2,
    maxSeconds: 120,
    profile: true,
  });
  const rows = r.profile!;
  const total = rows.reduce((a, p) => a + p.msPerStep, 0);
  ok(Math.abs(total - r.meanMs) < 1e-6, `rows sum to ${total}, the mean step is ${r.meanMs}`);
  const names = new Set(rows.map((p) => `${p.group}: ${p.what}`));
  // The generator's transposed and plain convolutions, each forward and in both gradients (one G update).
  for (const layer of ["g_deconv1 (Conv2DTranspose)", "g_conv1 (Conv2D)", "g_out (Conv2D)"]) {
    for (const direction of ["forward", "input gradient", "filter gradient"]) {
      ok(names.has(`wasm convolution: ${layer} ${direction}`), `${layer} ${direction}`);
    }
  }
  // d_conv1 sees the image: its input gradient is only needed in the generator update.
  const dConv1 = rows.find((p) => p.what === "d_conv1 (Conv2D) filter gradient")!;
  assertEquals(dConv1.calls, 3, "three discriminator passes, each with a filter gradient");
  for (const name of ["Adam: Adam D", "Adam: Adam G"]) ok(names.has(name), name);
  ok(names.has("BatchNorm: g_bn1 (BatchNormalization) backward"));
  ok(rows.every((p) => p.msPerStep >= 0), "no negative time");
  // Profiling leaves the backend's kernels as they were.
  ok(!String(tf.getKernel("Conv2D", "wasm")!.kernelFunc).includes("performance.now"));
});
