import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { existsSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { cudaLibrary } from "../src/infer/node_providers.ts";
import {
  createGenerator,
  type Generator,
  InputError,
  MAX_SAMPLES,
  ProviderError,
} from "../src/infer/mod.ts";
import { latentsForSeed } from "../src/random/mod.ts";
import { maxAbsDiff, MODEL_PATH } from "./infer_fixtures.ts";

async function withGenerator(
  options: Parameters<typeof createGenerator>[1],
  body: (g: Generator) => Promise<void>,
): Promise<void> {
  const g = await createGenerator(MODEL_PATH, options);
  try {
    await body(g);
  } finally {
    await g.dispose();
  }
}

Deno.test("sample(n, {seed}) is generate(latentsForSeed(seed, n, 100)) mapped from [-1, 1] to [0, 1]", async () => {
  await withGenerator({ provider: "cpu" }, async (g) => {
    assertEquals(g.provider, { name: "cpu", reason: "requested" });
    const images = await g.sample(5, { seed: 7 });
    assertEquals(
      [
        images.count,
        images.height,
        images.width,
        images.channels,
        images.layout,
        images.data.length,
      ],
      [5, 28, 28, 1, "nchw", 5 * 784],
    );
    ok(images.data.every((v) => v >= 0 && v <= 1));
    const latents = latentsForSeed(7, 5, 100);
    assertEquals((await g.generate(latents)).data, images.data);
    // The raw model output, straight from onnxruntime-node, is tanh in [-1, 1]: images are 0.5·x + 0.5.
    const session = await ort.InferenceSession.create(MODEL_PATH);
    const raw = (await session.run({ latent: new ort.Tensor("float32", latents, [5, 100]) })).image
      .data as Float32Array;
    await session.release();
    ok(maxAbsDiff(raw.map((x) => 0.5 * x + 0.5), images.data) < 1e-6);
    ok(raw.some((x) => x < 0), "the raw output has negative values");
  });
});

Deno.test("large batches are split and give the same images", async () => {
  await withGenerator({ provider: "cpu", maxBatch: 2 }, async (g) => {
    const progress: number[] = [];
    const split = await g.sample(5, { seed: 1, onProgress: (done) => progress.push(done) });
    assertEquals(progress, [2, 4, 5]);
    await withGenerator({ provider: "cpu" }, async (whole) => {
      ok(maxAbsDiff(split.data, (await whole.sample(5, { seed: 1 })).data) < 1e-6);
    });
  });
});

Deno.test("interpolate walks from one latent to another, ends included", async () => {
  await withGenerator({ provider: "cpu" }, async (g) => {
    const [a, b] = [latentsForSeed(1, 1, 100), latentsForSeed(2, 1, 100)];
    for (const mode of ["slerp", "lerp"] as const) {
      const walk = await g.interpolate(a, b, 4, { mode });
      assertEquals(walk.count, 4);
      const ends = await g.generate(Float32Array.from([...a, ...b]));
      ok(maxAbsDiff(walk.data.subarray(0, 784), ends.data.subarray(0, 784)) < 1e-6);
      ok(maxAbsDiff(walk.data.subarray(3 * 784), ends.data.subarray(784)) < 1e-6);
    }
    await rejects(g.interpolate(a, b.subarray(0, 10), 4), /must have 100 values/);
  });
});

Deno.test("bad arguments are rejected with clear messages", async () => {
  await withGenerator({ provider: "cpu" }, async (g) => {
    await rejects(
      g.generate(new Float32Array(150)),
      (e: Error) => e instanceof InputError && /n × 100 values .* got 150/.test(e.message),
    );
    await rejects(g.sample(0), /n must be an integer from 1 to 100,000, got 0/);
    await rejects(g.sample(MAX_SAMPLES + 1), InputError);
    await rejects(g.sample(3, { seed: -2 }), /seed must be/);
  });
  const g = await createGenerator(MODEL_PATH, { provider: "cpu" });
  await g.dispose();
  await rejects(g.sample(1), /disposed/);
  await rejects(
    createGenerator(MODEL_PATH, { provider: "tpu" }),
    (e: Error) =>
      e instanceof ProviderError &&
      e.message === 'unknown provider "tpu"; use one of: auto, cpu, cuda, webgpu, wasm, web-webgpu',
  );
  await rejects(
    createGenerator(MODEL_PATH, { maxBatch: 0 }),
    /maxBatch must be a positive integer/,
  );
});

Deno.test("cuda: without its files it says how to install them, with them it runs or says why not; auto follows", async () => {
  let cudaRuns = false;
  if (!existsSync(cudaLibrary())) {
    await rejects(
      createGenerator(MODEL_PATH, { provider: "cuda" }),
      (e: Error) =>
        e instanceof ProviderError &&
        /CUDA files are not installed/.test(e.message) &&
        e.message.includes("ONNXRUNTIME_NODE_INSTALL=cuda12") &&
        /NVIDIA driver/.test(e.message),
    );
  } else {
    try {
      await (await createGenerator(MODEL_PATH, { provider: "cuda" })).dispose();
      cudaRuns = true;
    } catch (e) {
      ok(e instanceof ProviderError && /CUDA provider did not start/.test(e.message), String(e));
    }
  }
  await withGenerator({}, (g) => {
    assertEquals(g.provider.name, cudaRuns ? "cuda" : "cpu");
    if (!cudaRuns) ok(/skipped cuda/.test(g.provider.reason), g.provider.reason);
    return Promise.resolve();
  });
});

Deno.test("wasm (onnxruntime-web) equals cpu (onnxruntime-node) within 1e-3", async () => {
  const latents = latentsForSeed(11, 3, 100);
  let cpu: Float32Array = new Float32Array();
  await withGenerator({ provider: "cpu" }, async (g) => {
    cpu = (await g.generate(latents)).data;
  });
  await withGenerator({ provider: "wasm" }, async (g) => {
    const diff = maxAbsDiff((await g.generate(latents)).data, cpu);
    ok(diff < 1e-3, `wasm differs from cpu by ${diff}`);
  });
});
