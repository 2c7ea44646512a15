import {
  deepStrictEqual as assertEquals,
  match,
  notDeepStrictEqual,
  ok,
  rejects,
  throws,
} from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/compute/mod.ts";
import {
  checkpointDirName,
  CheckpointNotFoundError,
  latestCheckpoint,
  listCheckpoints,
  resolveCheckpoint,
} from "../src/checkpoint/mod.ts";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import { latentsForSeed, Rng } from "../src/random/mod.ts";
import { loadTrainSet } from "../src/data/mod.ts";
import {
  BATCH_NORM_PASSES,
  type CompiledTrainer,
  createTrainer,
  DEFAULT_CONFIG,
  drawStepBatch,
  emaRate,
  formatLogLine,
  GeneratorEma,
  learningRateAt,
  parseTrainArgs,
  planRun,
  readHistory,
  train,
  TrainingDivergedError,
} from "../src/train/mod.ts";
import { UsageError } from "../src/cli/mod.ts";
import { HistoryWriter } from "../src/train/history.ts";
import { loadOptimizerState, saveOptimizerState } from "../src/train/optimizer_state.ts";

await initBackend("wasm");

async function mkdirs(...paths: string[]): Promise<void> {
  for (const p of paths) await Deno.mkdir(p, { recursive: true });
}

Deno.test("checkpoint folders: names, listing by step, newest, resolving run or checkpoint", async () => {
  assertEquals(checkpointDirName(7), "step-00007");
  assertEquals(checkpointDirName(123456), "step-123456");
  const run = await Deno.makeTempDir();
  await rejects(resolveCheckpoint(join(run, "missing")), /no such folder/);
  await rejects(resolveCheckpoint(run), (e: Error) => e instanceof CheckpointNotFoundError);
  assertEquals(await latestCheckpoint(run), null);
  for (const name of ["step-00010", "step-00002", ".tmp-step-00020", "notes"]) {
    await mkdirs(
      join(run, "checkpoints", name, "generator"),
      join(run, "checkpoints", name, "discriminator"),
    );
  }
  assertEquals((await listCheckpoints(run)).map((c) => c.step), [2, 10]);
  const newest = await resolveCheckpoint(run);
  assertEquals(newest, {
    dir: join(run, "checkpoints", "step-00010"),
    step: 10,
    generatorDir: join(run, "checkpoints", "step-00010", "generator"),
    emaGeneratorDir: join(run, "checkpoints", "step-00010", "generator_ema"),
    discriminatorDir: join(run, "checkpoints", "step-00010", "discriminator"),
  });
  assertEquals((await resolveCheckpoint(join(run, "checkpoints", "step-00002"))).step, 2);
  await Deno.remove(run, { recursive: true });
});

Deno.test("history: resume drops rows beyond the checkpoint and keeps extra columns", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "history.csv");
  await Deno.writeTextFile(
    path,
    "step,d_loss,d_acc,g_loss,seconds,fid\n0,1,50,2,1.5,\n1,1,50,2,3.000,9.5\n2,1,50,2,4.5,\n",
  );
  const { writer, lastSeconds } = await HistoryWriter.open(path, 2, ["is"]);
  assertEquals(lastSeconds, 3);
  writer.append({ step: 2, dLoss: 0.5, dAcc: 75, gLoss: 1.25, seconds: 4, extra: { fid: 7 } });
  writer.close();
  assertEquals(
    await Deno.readTextFile(path),
    "step,d_loss,d_acc,g_loss,seconds,fid,is\n0,1,50,2,1.5,,\n1,1,50,2,3.000,9.5,\n" +
      "2,0.5,75,1.25,4.000,7,\n",
  );
  const rows = await readHistory(path);
  assertEquals(rows.map((r) => [r.step, r.dLoss, r.extra?.fid]), [[0, 1, ""], [1, 1, "9.5"], [
    2,
    0.5,
    "7",
  ]]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the log line is the reference's printf format, ties rounding half to even", () => {
  assertEquals(
    formatLogLine(0, 1.2725, 31.25, 0.9785),
    "    0 [D loss: 1.272, acc.: 31.25%] [G loss: 0.979]",
  );
  assertEquals(
    formatLogLine(12345, 0.5, 53.125, 2.0625),
    "12345 [D loss: 0.500, acc.: 53.12%] [G loss: 2.062]",
  );
  assertEquals(
    formatLogLine(7, 0.6875, 54.6875, -0.0005),
    "    7 [D loss: 0.688, acc.: 54.69%] [G loss: -0.001]",
  );
});

Deno.test("command-line options are parsed and checked", () => {
  const a = parseTrainArgs(["--steps", "20", "--checkpoint-at", "5, 10", "--lr", "1e-3"]);
  assertEquals(a, {
    help: false,
    summary: false,
    resume: undefined,
    options: { steps: 20, checkpointAt: [5, 10], learningRate: 0.001 },
  });
  const e = parseTrainArgs(["--eval-every", "500", "--eval-count", "1000", "--ema", "0"]);
  assertEquals(e.help ? null : e.options, { evalEvery: 500, evalCount: 1000, ema: 0 });
  const q = parseTrainArgs(["--lr-d", "4e-4", "--lr-decay-from", "2000", "--ema", "0.9995"]);
  assertEquals(q.help ? null : q.options, {
    discriminatorLearningRate: 4e-4,
    lrDecayFrom: 2000,
    ema: 0.9995,
  });
  assertEquals(parseTrainArgs(["-h"]), { help: true });
  for (
    const bad of [
      ["--steps", "0"],
      ["--batch-size", "1.5"],
      ["--beta1", "1"],
      ["--backend", "gpu"],
      ["--eval-every", "-5"],
      ["--eval-count", "1"],
      ["--ema", "1"],
      ["--ema", "-0.5"],
      ["--lr-d", "0"],
      ["--lr-decay-from", "-1"],
      ["--nope"],
      ["extra"],
      ["--checkpoint-at", "3,x"],
      ["--out", "a", "--resume", "b"],
    ]
  ) {
    throws(() => parseTrainArgs(bad), (e: Error) => e instanceof UsageError, bad.join(" "));
  }
});

Deno.test("planRun: defaults for a new run, and a resume keeps the run's training settings", async () => {
  const dir = await Deno.makeTempDir();
  // A preset sets a new run's defaults; options given override them.
  const quality = await planRun({ outDir: dir, seed: 3, preset: "quality", steps: 50 });
  assertEquals(
    [quality.config.preset, quality.config.steps, quality.config.evalEvery, quality.config.ema],
    ["quality", 50, 1000, 0.999],
  );
  assertEquals(quality.config.learningRate, DEFAULT_CONFIG.learningRate);
  const plan = await planRun({ outDir: dir, seed: 3, evalEvery: 250 });
  assertEquals(plan.config, { ...DEFAULT_CONFIG, seed: 3, evalEvery: 250, outDir: dir });
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({ ...plan.config, threads: null }),
  );
  // A run that never reached a checkpoint can be started again, with --out or with --resume.
  match((await planRun({ outDir: dir })).notice!, /never reached a checkpoint; starting it again/);
  const again = await planRun({}, dir);
  assertEquals([again.resumeFrom, again.broken, again.newer], [undefined, [], []]);
  match(again.notice!, /holds no checkpoint; starting it again from step 0/);
  await mkdirs(
    join(dir, "checkpoints/step-00004/generator"),
    join(dir, "checkpoints/step-00004/discriminator"),
  );
  await rejects(planRun({ outDir: dir }), /already holds a run/);
  await rejects(
    planRun({ learningRate: 0.1 }, dir),
    /learningRate 0\.1 differs from the run's 0\.0002/,
  );
  // The checkpoint's folders are empty: it is reported broken and the run starts again.
  const resumed = await planRun({ steps: 50, seed: 3 }, dir);
  assertEquals(resumed.config.steps, 50);
  // A resume keeps evaluating as the run did; an option stored as null is left to its default.
  assertEquals([resumed.config.evalEvery, "threads" in resumed.config], [250, false]);
  assertEquals(resumed.resumeFrom, undefined);
  assertEquals(resumed.broken.map((b) => b.info.step), [4]);
  match(resumed.broken[0].problem, /step-00004\/state\.json: cannot read the checkpoint state/);
  assertEquals(resumed.config.outDir, dir);
  await Deno.remove(dir, { recursive: true });
});

const dataset = await loadTrainSet();

function makeTrainer() {
  const trainer = createTrainer(buildGenerator({ seed: 1 }), buildDiscriminator({ seed: 2 }), {
    learningRate: 2e-4,
    beta1: 0.5,
  });
  const dispose = () => {
    trainer.dispose();
    trainer.generator.dispose();
    trainer.discriminator.dispose();
  };
  return { trainer, dispose };
}

Deno.test("a step is reproducible, and the dropout seeds change the discriminator's masks", async () => {
  const options = { batchSize: 2, latentDim: 100, labelNoise: 0.05, dropoutLayers: 4 };
  const rng = new Rng(11);
  const batch = drawStepBatch(rng, dataset, options);
  assertEquals(batch.dropoutSeeds.length, 12);
  assertEquals(drawStepBatch(new Rng(11), dataset, options), batch);
  // The next step draws new seeds, so the masks change from step to step.
  const next = drawStepBatch(rng, dataset, options);
  ok(next.dropoutSeeds.every((s, i) => s !== batch.dropoutSeeds[i]));
  assertEquals(batch.realLabels.length, 2);
  const losses = [];
  for (
    const seeds of [
      batch.dropoutSeeds,
      batch.dropoutSeeds,
      batch.dropoutSeeds.map((s) => s + 1),
    ]
  ) {
    const { trainer, dispose } = makeTrainer();
    assertEquals(trainer.dropoutLayers, 4);
    losses.push(await trainer.step({ ...batch, dropoutSeeds: seeds }));
    if (losses.length === 1) {
      // The optimisers' state survives a save and load: moments and iteration counts.
      const dir = await Deno.makeTempDir();
      const saved = await saveOptimizerState(trainer.dOptimizer, dir, "d.bin");
      assertEquals(saved.weights.length, 1 + 2 * trainer.discriminator.trainableWeights.length);
      const fresh = tf.train.adam(2e-4, 0.5);
      await loadOptimizerState(fresh, dir, saved);
      const [a, b] = [await trainer.dOptimizer.getWeights(), await fresh.getWeights()];
      assertEquals(b.map((w) => w.name), a.map((w) => w.name));
      assertEquals(await b[0].tensor.data(), new Int32Array([2]));
      assertEquals(await b[5].tensor.data(), await a[5].tensor.data());
      const acc = (o: tf.Optimizer) => (o as unknown as { accBeta2: tf.Variable }).accBeta2.data();
      // After 2 updates Adam holds β^3 as running float32 products.
      const b2 = Math.fround(0.999);
      assertEquals(saved.accBeta, [0.125, Math.fround(Math.fround(b2 * b2) * b2)]);
      assertEquals(await acc(fresh), await acc(trainer.dOptimizer));
      fresh.dispose();
      await Deno.remove(dir, { recursive: true });
    }
    dispose();
  }
  assertEquals(losses[1], losses[0]);
  notDeepStrictEqual(losses[2].dLoss, losses[0].dLoss);
  ok(losses.every((l) => l.dAcc >= 0 && l.dAcc <= 1 && l.dLoss > 0 && l.gLoss > 0));
});

Deno.test("BatchNorm statistics: the discriminator's move only in its own updates, the generator's in its update", async () => {
  // Tiny networks whose BatchNorm sees the images directly, so the expected moving means are known.
  const zIn = tf.input({ shape: [3] });
  const g = tf.layers.dense({ units: 4, kernelInitializer: "ones" }).apply(
    zIn,
  ) as tf.SymbolicTensor;
  const gNorm = tf.layers.batchNormalization({ momentum: 0.8 }).apply(g) as tf.SymbolicTensor;
  const generator = tf.model({
    inputs: zIn,
    outputs: tf.layers.reshape({ targetShape: [2, 2, 1] }).apply(gNorm) as tf.SymbolicTensor,
  });
  const xIn = tf.input({ shape: [2, 2, 1] });
  const flat = tf.layers.flatten().apply(xIn) as tf.SymbolicTensor;
  const dNorm = tf.layers.batchNormalization({ momentum: 0.8 }).apply(flat) as tf.SymbolicTensor;
  const discriminator = tf.model({
    inputs: xIn,
    outputs: tf.layers.dense({ units: 1, activation: "sigmoid" }).apply(dNorm) as tf.SymbolicTensor,
  });
  const trainer = createTrainer(generator, discriminator, { learningRate: 0.01, beta1: 0.5 });
  const batch = {
    real: Float32Array.from({ length: 8 }, (_, i) => i / 4 - 1),
    noise: Float32Array.from([1, 2, 3, -1, 0.5, 0]),
    realLabels: Float32Array.from([1, 1]),
    fakeLabels: Float32Array.from([0, 0]),
    dropoutSeeds: new Uint32Array(0),
  };
  const fake = tf.tidy(() => generator.predict(tf.tensor2d(batch.noise, [2, 3])) as tf.Tensor);
  const column = (data: Float32Array, j: number) => (data[j] + data[4 + j]) / 2;
  const fakeData = (await fake.data()) as Float32Array;
  await trainer.step(batch);
  const dMean = await discriminator.getLayer(discriminator.layers[2].name).getWeights()[2].data();
  for (let j = 0; j < 4; j++) {
    const expected = 0.8 * (0.2 * column(batch.real, j)) + 0.2 * column(fakeData, j);
    ok(Math.abs(dMean[j] - expected) < 1e-5, `d moving mean ${j}: ${dMean[j]} vs ${expected}`);
  }
  const gMean = await generator.layers[2].getWeights()[2].data();
  ok(gMean.some((m) => Math.abs(m) > 1e-3), "the generator's moving mean moved in its update");
  fake.dispose();
  trainer.dispose();
  generator.dispose();
  discriminator.dispose();
});

for (const engine of ["tfjs", "onnxruntime"] as const) {
  Deno.test(`${engine}: a non-finite loss stops training and keeps the last good checkpoint; hooks run`, async () => {
    const dir = await Deno.makeTempDir();
    const events: string[] = [];
    const config = {
      ...DEFAULT_CONFIG,
      seed: 4,
      outDir: dir,
      backend: "wasm" as const,
      engine,
      steps: 5,
      batchSize: 2,
      logEvery: 1000,
      checkpointAt: [1],
    };
    await rejects(
      train(config, {
        historyColumns: ["note"],
        onStep: (e) => ({ note: `s${e.completed}` }),
        onSample: (e) => void events.push(`sample ${e.step}`),
        onCheckpoint: (e) => {
          events.push(`checkpoint ${e.step}`);
          // Poison the generator after the checkpoint: the next step's losses are NaN.
          const out = e.trainer.generator.getLayer("g_out");
          const [kernel, bias] = out.getWeights();
          out.setWeights([tf.fill(kernel.shape, NaN), bias]);
          // The compiled engine reads the models again only when told to.
          if ("reload" in e.trainer) (e.trainer as CompiledTrainer).reload();
        },
      }),
      (e: Error) =>
        e instanceof TrainingDivergedError && /step 1: a loss is not finite/.test(e.message) &&
        e.message.includes(join(dir, "checkpoints", "step-00001")),
    );
    assertEquals(events, ["sample 1", "checkpoint 1"]);
    assertEquals((await listCheckpoints(dir)).map((c) => c.step), [1]);
    assertEquals(
      (await Deno.readTextFile(join(dir, "history.csv"))).split("\n")[0],
      "step,d_loss,d_acc,g_loss,seconds,note",
    );
    assertEquals((await readHistory(join(dir, "history.csv"))).map((r) => r.extra?.note), ["s1"]);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("EMA: the bias-corrected average of every update's trainable weights; BatchNorm statistics recomputed for them", async () => {
  await initBackend("cpu");
  const zIn = tf.input({ shape: [2] });
  const dense = tf.layers.dense({ units: 2, kernelInitializer: "zeros", useBias: false });
  const norm = tf.layers.batchNormalization({ momentum: 0.9 });
  const generator = tf.model({
    inputs: zIn,
    outputs: norm.apply(dense.apply(zIn)) as tf.SymbolicTensor,
  });
  const decay = 0.9;
  const ema = await GeneratorEma.create(generator, decay);
  // Update t sets every weight to t; the average is Σ decay^(t−s)·s / Σ decay^(t−s).
  for (let t = 1; t <= 4; t++) {
    generator.weights.forEach((w) => w.write(tf.fill(w.shape as number[], t)));
    ema.update(t);
  }
  const weightOf = [1, 2, 3, 4].map((s) => decay ** (4 - s));
  const average = [1, 2, 3, 4].reduce((a, s, i) => a + s * weightOf[i], 0) /
    weightOf.reduce((a, b) => a + b, 0);
  const values = async (i: number) => [...await ema.model.weights[i].read().data()];
  const [kernel, gamma, beta] = [await values(0), await values(1), await values(2)];
  for (const x of [...kernel, ...gamma, ...beta]) ok(Math.abs(x - average) < 1e-6, `${x}`);
  // The moving statistics are not averaged (they stay the copy's until refreshed) ...
  assertEquals(await values(3), [0, 0]);
  // ... and a refresh sets them to the mean of the batch statistics of the averaged network over the passes.
  ema.refreshStatistics();
  const { batches, rows, seed } = BATCH_NORM_PASSES;
  let mean = 0;
  let variance = 0;
  for (let k = 1; k <= batches; k++) {
    // Every unit computes z·(a, a) with a the averaged kernel value: its batch mean and (biased) variance.
    const z = latentsForSeed(seed + k, rows, 2);
    const y = Array.from({ length: rows }, (_, r) => average * (z[2 * r] + z[2 * r + 1]));
    const m = y.reduce((a, b) => a + b, 0) / rows;
    mean += m / batches;
    variance += y.reduce((a, b) => a + (b - m) ** 2, 0) / rows / batches;
  }
  for (const x of await values(3)) ok(Math.abs(x - mean) < 1e-5, `moving mean ${x} vs ${mean}`);
  for (const x of await values(4)) {
    ok(Math.abs(x - variance) < 1e-4 * variance, `moving variance ${x} vs ${variance}`);
  }
  assertEquals(
    (norm as unknown as { momentum: number }).momentum,
    0.9,
    "the raw layer is untouched",
  );
  assertEquals(
    (ema.model.layers[2] as unknown as { momentum: number }).momentum,
    0.9,
    "momentum restored",
  );
  assertEquals(emaRate(decay, 1), 1);
  ok(Math.abs(emaRate(0.999, 1e6) - 0.001) < 1e-12);
  throws(() => emaRate(decay, 0), RangeError);
  await rejects(() => GeneratorEma.create(generator, 1), RangeError);
  ema.dispose();
  generator.dispose();
});

Deno.test("learning-rate decay: constant, then linear to 0 at the last step", () => {
  const config = { ...DEFAULT_CONFIG, steps: 100, lrDecayFrom: 60, outDir: "x", seed: 0 };
  const lr = (completed: number) => learningRateAt(config, 2e-4, completed);
  assertEquals([lr(0), lr(59), lr(60), lr(80), lr(99)], [2e-4, 2e-4, 2e-4, 1e-4, 2e-4 / 40]);
  assertEquals(learningRateAt({ ...config, lrDecayFrom: 0 }, 2e-4, 99), 2e-4);
});
