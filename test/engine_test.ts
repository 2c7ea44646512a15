/**
 * The compiled training step (`--engine onnxruntime`) against the TF.js step, which stays the reference: the same
 * dropout masks, one step from the same state, 50 steps along the reference's own trajectory, the loss
 * statistics of a free-running history, checkpoints that move between engines, and bit-identical reruns.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import {
  convertWeight,
  type DeviceName,
  dropoutMultipliers,
  initBackend,
  readNetSpec,
  startKernels,
} from "../src/compute/mod.ts";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import { Rng } from "../src/random/mod.ts";
import {
  type CompiledTrainer,
  createCompiledTrainer,
  createTrainer,
  DEFAULT_CONFIG,
  type StepBatch,
  type StepLosses,
  train,
  type Trainer,
} from "../src/train/mod.ts";
import { assertSameStatistics, STEPS } from "./step_history.ts";

await initBackend("wasm");
await startKernels({ kernels: "onnxruntime" });

const BATCH = 8;
const LR = 2e-4;

function batchFor(rng: Rng, dropoutLayers: number, batch = BATCH): StepBatch {
  return {
    real: rng.normals(batch * 28 * 28, 0.5).map(Math.tanh),
    noise: rng.normals(batch * 100),
    realLabels: rng.normals(batch, 0.05).map((e) => 1 + e),
    fakeLabels: rng.normals(batch, 0.05),
    dropoutSeeds: Uint32Array.from({ length: 3 * dropoutLayers }, () => rng.nextUint32()),
  };
}

async function pair(
  device: DeviceName = "cpu",
  batch = BATCH,
): Promise<{ reference: Trainer; compiled: CompiledTrainer }> {
  const options = { learningRate: LR, beta1: 0.5 };
  const reference = createTrainer(
    buildGenerator({ seed: 3 }),
    buildDiscriminator({ seed: 4 }),
    options,
  );
  const compiled = await createCompiledTrainer(
    buildGenerator({ seed: 3 }),
    buildDiscriminator({ seed: 4 }),
    { ...options, device, batchSize: batch, ema: null },
  );
  return { reference, compiled };
}

function dispose(...trainers: Trainer[]): void {
  for (const t of trainers) {
    t.dispose();
    t.generator.dispose();
    t.discriminator.dispose();
  }
}

/** Every tensor of a trainer: weights (trainable and moving statistics) and both optimisers' moments. */
async function tensors(t: Trainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const model of [t.generator, t.discriminator]) {
    for (const w of model.weights) out.set(w.originalName, await w.read().data() as Float32Array);
  }
  for (const [prefix, optimizer] of [["G", t.gOptimizer], ["D", t.dOptimizer]] as const) {
    const model = prefix === "G" ? t.generator : t.discriminator;
    const weights = (await optimizer.getWeights()).slice(1);
    const n = model.trainableWeights.length;
    weights.forEach((w, i) => {
      const name = `${model.trainableWeights[i % n].originalName}/${i < n ? "m" : "v"}`;
      out.set(name, w.tensor.dataSync() as Float32Array);
    });
  }
  return out;
}

/** Copies the reference trainer's whole state (weights, moments, iteration counts, β products) into `to`. */
async function copyState(from: Trainer, to: Trainer): Promise<void> {
  to.generator.setWeights(from.generator.getWeights());
  to.discriminator.setWeights(from.discriminator.getWeights());
  for (const [a, b] of [[from.dOptimizer, to.dOptimizer], [from.gOptimizer, to.gOptimizer]]) {
    await b.setWeights(await a.getWeights());
    const acc = (o: tf.Optimizer) =>
      o as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    acc(b).accBeta1.assign(acc(a).accBeta1.clone());
    acc(b).accBeta2.assign(acc(a).accBeta2.clone());
  }
}

Deno.test("layouts: TF.js ↔ engine conversions are inverse permutations, and a filter lands in ONNX order", () => {
  const spec = readNetSpec(buildGenerator({ seed: 1 }));
  for (const w of spec.weights) {
    const tfjs = Float32Array.from({ length: w.size }, (_, i) => i);
    const engine = new Float32Array(w.size);
    const back = new Float32Array(w.size);
    convertWeight(w.layout, tfjs, engine, true);
    convertWeight(w.layout, engine, back, false);
    assertEquals(back, tfjs, w.name);
    assertEquals([...engine].sort((a, b) => a - b), [...tfjs], w.name);
  }
  // g_conv1's kernel: TF.js [kh, kw, in, out] → ONNX Conv [out, in, kh, kw].
  const conv = spec.weights.find((w) => w.name === "g_conv1/kernel")!;
  const tfjs = Float32Array.from({ length: conv.size }, (_, i) => i);
  const engine = new Float32Array(conv.size);
  convertWeight(conv.layout, tfjs, engine, true);
  const [kh, kw, inC, outC] = conv.shape;
  const at = (o: number, i: number, y: number, x: number) =>
    engine[((o * inC + i) * kh + y) * kw + x];
  assertEquals(at(5, 7, 2, 3), ((2 * kw + 3) * inC + 7) * outC + 5);
  // g_dense's columns feed a Reshape to [7, 7, 128]: TF.js column (h, w, c) becomes engine column (c, h, w).
  const dense = spec.weights.find((w) => w.name === "g_dense/kernel")!;
  const dt = Float32Array.from({ length: dense.size }, (_, i) => i);
  const de = new Float32Array(dense.size);
  convertWeight(dense.layout, dt, de, true);
  assertEquals(de[1 * 6272 + (5 * 49 + 2 * 7 + 3)], dt[1 * 6272 + ((2 * 7 + 3) * 128 + 5)]);
});

Deno.test("dropout multipliers are TF.js's own for the same seed, element for element", () => {
  for (const seed of [0, 1, 987654321, 4294967295]) {
    for (const shape of [[8, 14, 14, 32], [3, 4, 4, 256]]) {
      const reference = tf.tidy(() => tf.dropout(tf.ones(shape), 0.2, undefined, seed).dataSync());
      const out = new Float32Array(reference.length);
      dropoutMultipliers(seed, 0.2, out);
      assertEquals(out, reference);
    }
  }
});

/**
 * One step of both engines from the same state and batch; every tensor compared. `relative` is the relative
 * tolerance of moments and moving statistics (1e-5 on the CPU).
 */
async function assertOneStepParity(
  device: DeviceName,
  size: number,
  relative = 1e-5,
): Promise<void> {
  const { reference, compiled } = await pair(device, size);
  const batch = batchFor(new Rng(9), reference.dropoutLayers, size);
  const a = await reference.step(batch);
  const b = await compiled.step(batch);
  for (const key of ["dLoss", "dAcc", "gLoss"] as const) {
    ok(
      Math.abs(a[key] - b[key]) <= 1e-5 * Math.abs(a[key]) + 1e-6,
      `${key}: ${a[key]} vs ${b[key]}`,
    );
  }
  await compiled.sync();
  const [ra, rb] = [await tensors(reference), await tensors(compiled)];
  // Biases right before a BatchNorm have a gradient of exactly 0 in exact arithmetic: what either
  // engine computes is rounding noise, which Adam turns into a step of up to lr either way, per update.
  // They are held to that bound, and the moving means after them to the (1 − momentum) share of it.
  // Adam moments and moving statistics: |Δ| ≤ 1e-5·max|tensor| (1e-5 relative, with the tensor's largest
  // value as the absolute floor: gradients that are sums of thousands of products cancel to small values). Weights: Adam's first step is w − lr·g/(|g| + ε), so the weights can differ only as much as the
  // gradients (m = (1 − β1)·g) allow: |Δw| ≤ 1e-5·|w| + 2·lr·|Δg|/(max|g| + ε). The discriminator takes two
  // updates, the second from weights the first moved, so its weights get 1e-5·|w| + 0.05·lr (measured ≤ 0.03·lr).
  const noisy = ["g_conv1/bias", "g_conv2/bias", "d_conv2/bias", "d_conv3/bias", "d_conv4/bias"];
  const afterNoisy = ["d_bn2/moving_mean", "d_bn3/moving_mean", "d_bn4/moving_mean"];
  const max = (v: Float32Array) => v.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
  ok(ra.size === rb.size && ra.size > 60);
  for (const [name, x] of ra) {
    const y = rb.get(name)!;
    const base = name.replace(/\/[mv]$/, "");
    const diffs = x.map((v, i) => Math.abs(v - y[i]));
    const worst = max(diffs);
    if (noisy.includes(base)) {
      const updates = name.startsWith("d_") ? 2 : 1;
      if (name === base) ok(worst <= 2 * LR * updates, `${name}: ${worst}`);
      continue;
    }
    if (afterNoisy.includes(name)) {
      ok(worst <= 0.2 * 2 * LR + 1e-5 * max(x), `${name}: ${worst}`);
      continue;
    }
    const m = ra.get(`${name}/m`);
    if (m && name.startsWith("d_")) {
      const beyond = diffs.findIndex((d, i) => d > 1e-5 * Math.abs(x[i]) + 0.05 * LR);
      ok(beyond < 0, `${name}[${beyond}]: ${x[beyond]} vs ${y[beyond]}`);
      continue;
    }
    if (m) {
      const mb = rb.get(`${name}/m`)!;
      const beyond = diffs.findIndex((d, i) => {
        const [ga, gb] = [2 * m[i], 2 * mb[i]];
        return d > 1e-5 * Math.abs(x[i]) +
            2 * LR * Math.abs(ga - gb) / (Math.max(Math.abs(ga), Math.abs(gb)) + 1e-7) + 1e-9;
      });
      ok(
        beyond < 0,
        `${name}[${beyond}]: ${x[beyond]} vs ${y[beyond]}, m ${m[beyond]} vs ${mb[beyond]}`,
      );
      continue;
    }
    const scale = max(x);
    // v holds g², whose relative error is twice g's.
    const tolerance = name.endsWith("/v") ? 2 * relative : relative;
    ok(worst <= tolerance * scale, `${name}: worst ${worst}, scale ${scale}`);
  }
  dispose(reference, compiled);
}

Deno.test("one step from the same state: losses, weights, moving statistics and Adam moments match TF.js", async () => {
  await assertOneStepParity("cpu", BATCH);
});

// onnxruntime-node's WebGPU provider: here it runs on SwiftShader (software Vulkan), two minutes for the step at
// batch 8, so this runs only when asked: DCGAN_TEST_WEBGPU=1 LD_LIBRARY_PATH=/usr/lib/chromium
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json deno test -A test/engine_test.ts
// Its shaders sum in another order than the CPU kernels: moments and moving statistics get 2e-5 (measured
// 1.01e-5 on g_deconv2's bias, whose gradient comes only from the borders of the Conv after it).
Deno.test({
  name: "WebGPU (DCGAN_TEST_WEBGPU=1): one step from the same state matches TF.js",
  ignore: Deno.env.get("DCGAN_TEST_WEBGPU") !== "1",
  fn: () => assertOneStepParity("webgpu", BATCH, 2e-5),
});

Deno.test("50 steps along the reference's trajectory: from each of its states, the compiled step's losses agree within 1e-3", async () => {
  const { reference, compiled } = await pair();
  const rng = new Rng(21);
  let worst = 0;
  for (let step = 0; step < STEPS; step++) {
    const batch = batchFor(rng, reference.dropoutLayers);
    await copyState(reference, compiled);
    compiled.reload();
    const b = await compiled.step(batch);
    const a = await reference.step(batch);
    for (const key of ["dLoss", "dAcc", "gLoss"] as const) {
      worst = Math.max(worst, Math.abs(a[key] - b[key]));
      ok(Math.abs(a[key] - b[key]) <= 1e-3, `step ${step} ${key}: ${a[key]} vs ${b[key]}`);
    }
  }
  ok(worst > 0, "the two engines are different computations");
  dispose(reference, compiled);
});

Deno.test("free-running 50 steps: the compiled history follows the reference's statistically", async () => {
  // Left alone, the two histories separate after a few steps as TF.js's own kernel sets do (rounding noise in
  // gradients that are 0 in exact arithmetic becomes full Adam steps); their statistics must agree.
  const histories: StepLosses[][] = [];
  for (const make of ["reference", "compiled"] as const) {
    const trainers = await pair();
    const trainer = trainers[make];
    dispose(make === "reference" ? trainers.compiled : trainers.reference);
    const rng = new Rng(9);
    const history: StepLosses[] = [];
    for (let i = 0; i < STEPS; i++) {
      history.push(await trainer.step(batchFor(rng, trainer.dropoutLayers)));
    }
    histories.push(history);
    dispose(trainer);
  }
  assertSameStatistics(histories[0], histories[1]);
});

/** A short run of `train` with the given engine, resumed from `resume` when given; its history rows. */
async function shortRun(
  dir: string,
  engine: "tfjs" | "onnxruntime",
  steps: number,
  resume = false,
): Promise<string[]> {
  const config = {
    ...DEFAULT_CONFIG,
    seed: 6,
    outDir: dir,
    backend: "wasm" as const,
    engine,
    steps,
    batchSize: 4,
    logEvery: 1000,
    sampleEvery: 0,
    checkpointAt: [2],
  };
  const { latestCheckpoint } = await import("../src/checkpoint/mod.ts");
  await train(config, {}, resume ? (await latestCheckpoint(dir))! : undefined);
  const rows = (await Deno.readTextFile(join(dir, "history.csv"))).trim().split("\n").slice(1);
  // step, d_loss, d_acc, g_loss (seconds differ between runs).
  return rows.map((r) => r.split(",").slice(0, 4).join(","));
}

Deno.test("checkpoints move between engines, and the compiled engine reruns and resumes bit for bit", async () => {
  const base = await Deno.makeTempDir();
  const straight = await shortRun(join(base, "straight"), "onnxruntime", 4);
  assertEquals(straight.length, 4);
  assertEquals(await shortRun(join(base, "again"), "onnxruntime", 4), straight);
  await shortRun(join(base, "resumed"), "onnxruntime", 2);
  assertEquals(await shortRun(join(base, "resumed"), "onnxruntime", 4, true), straight);
  // TF.js → compiled and compiled → TF.js: the run goes on from the other engine's checkpoint, and its first
  // step after the resume is the step the first engine would have taken (one step from the same state agrees
  // to rounding), not a fresh model's.
  const straightTfjs = await shortRun(join(base, "straight-tfjs"), "tfjs", 4);
  const runs = { tfjs: straightTfjs, onnxruntime: straight };
  for (const [first, second] of [["tfjs", "onnxruntime"], ["onnxruntime", "tfjs"]] as const) {
    const dir = join(base, `${first}-${second}`);
    const before = await shortRun(dir, first, 2);
    const after = await shortRun(dir, second, 4, true);
    assertEquals(after.slice(0, 2), before);
    assertEquals(after.length, 4);
    const [resumed, continued] = [after[2], runs[first][2]].map((r) => r.split(",").map(Number));
    for (const column of [1, 3]) {
      ok(Math.abs(resumed[column] - continued[column]) <= 1e-3, after[2]);
    }
  }
  await Deno.remove(base, { recursive: true });
});
