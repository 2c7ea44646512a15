import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { benchTrainStep, chargeOf } from "../src/bench/mod.ts";

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

Deno.test("bench:train --profile on the compiled step: onnxruntime's nodes by update, layer and direction; rows sum to the step", async () => {
  const r = await benchTrainStep({
    device: "cpu",
    backend: "wasm",
    kernels: "auto",
    workers: 0,
    threads: 2,
    batch: 2,
    warmup: 1,
    steps: 2,
    maxSeconds: 120,
    profile: true,
  });
  assertEquals(r.engine, "onnxruntime (cpu)");
  const rows = r.profile!;
  const total = rows.reduce((a, p) => a + p.msPerStep, 0);
  ok(Math.abs(total - r.meanMs) < 1e-6, `rows sum to ${total}, the mean step is ${r.meanMs}`);
  const names = new Set(rows.map((p) => `${p.group}: ${p.what}`));
  // Each update graph's own layers: the discriminator in all three, the generator's tail in the fake batch
  // (inference) and in its own update (the layers before its first BatchNorm are shared, not recomputed).
  for (const update of ["real", "fake", "generator"]) {
    for (const part of ["d_conv1 forward", "d_conv4 backward", "loss"]) {
      ok(names.has(`${update} update: ${part}`), `${update} update: ${part}`);
    }
    ok(names.has(`${update} update: Adam`), `${update} update: Adam`);
  }
  for (const part of ["g_deconv1 forward", "g_conv1 forward", "g_out forward"]) {
    ok(names.has(`fake update: ${part}`), part);
  }
  ok(!names.has("generator update: g_conv1 forward"), "the shared layers are not run again");
  for (const part of ["g_conv1 backward", "g_out backward", "g_dense backward"]) {
    ok(names.has(`generator update: ${part}`), part);
  }
  const outside = rows.find((p) => p.group === "outside")!;
  ok(outside.msPerStep > 0 && outside.msPerStep < r.meanMs, "time outside onnxruntime's nodes");
});

Deno.test("profile charges: scoped node names to their layer and direction", () => {
  assertEquals(chargeOf("g_conv1/backward/window_3"), "g_conv1 backward");
  assertEquals(chargeOf("fused d_out/forward/d_out"), "d_out forward");
  assertEquals(chargeOf("adam/m1_17"), "Adam");
  assertEquals(chargeOf("Transpose_token_12"), "onnxruntime-inserted nodes");
});
