/**
 * The reference step on the compiled engine (`--engine onnxruntime`): the {@link Trainer} that runs each of the
 * step's three updates as one onnxruntime call, with the same mathematics, random inputs and dropout masks as
 * the TF.js step in `step.ts`. TF.js keeps the models and the checkpoint format: the engine's state is read from
 * the TF.js models, optimisers and EMA generator before the first step, and written back into them by
 * {@link Trainer.sync} whenever something reads them (a checkpoint, an evaluation, a sample grid).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  CompiledStep,
  convertWeight,
  type DeviceName,
  dropoutMultipliers,
  maskName,
  type NetSpec,
  readNetSpec,
  SCALARS,
  stateName,
} from "../compute/mod.ts";
import { emaRate, type GeneratorEma } from "./ema.ts";
import {
  type OptimizerOptions,
  type StepBatch,
  type StepLosses,
  stepLosses,
  type Trainer,
} from "./step.ts";

/** Options of {@link createCompiledTrainer}. */
export interface CompiledTrainerOptions extends OptimizerOptions {
  device: DeviceName;
  /** Rows per step; the graphs are compiled for this batch size. */
  batchSize: number;
  /** Intra-op threads of the CPU kernels (default: logical CPUs). */
  threads?: number;
  /** The EMA generator the step also updates, or null for none. */
  ema: GeneratorEma | null;
  /** Write onnxruntime's per-node profile to files with this prefix. */
  profilePrefix?: string;
}

/** A {@link Trainer} on the compiled engine. */
export interface CompiledTrainer extends Trainer {
  /**
   * Reads the state from the TF.js models, optimisers and EMA generator again before the next step (after
   * something outside the trainer changed them).
   */
  reload(): void;
}

/** TF.js's Adam fields the engine mirrors (TypeScript-private in TF.js). */
interface AdamFields {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  iterations_: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable }>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable }>;
}

/** One optimiser's running values, kept in JS exactly as TF.js keeps them in float32 variables. */
interface AdamCounters {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
}

const fields = (optimizer: tf.AdamOptimizer) => optimizer as unknown as AdamFields;

/** The scalars of one Adam update, then the counters advanced as TF.js advances them. */
function adamScalars(counters: AdamCounters, optimizer: tf.AdamOptimizer) {
  const f = fields(optimizer);
  const scalars = {
    [SCALARS.negLr]: new Float32Array([-f.learningRate]),
    [SCALARS.oneMinusAccBeta1]: new Float32Array([1 - counters.accBeta1]),
    [SCALARS.oneMinusAccBeta2]: new Float32Array([1 - counters.accBeta2]),
  };
  counters.iterations++;
  counters.accBeta1 = Math.fround(counters.accBeta1 * Math.fround(f.beta1));
  counters.accBeta2 = Math.fround(counters.accBeta2 * Math.fround(f.beta2));
  return scalars;
}

/**
 * A trainer for `generator` and `discriminator` on the compiled engine. Its optimisers are TF.js
 * `AdamOptimizer`s that hold the state only between {@link Trainer.sync} and the next step, so checkpoints
 * and `restoreOptimizers` work as for the TF.js trainer.
 * @throws {UnsupportedModelError} when a model has a layer the engine does not compile.
 */
export async function createCompiledTrainer(
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  options: CompiledTrainerOptions,
): Promise<CompiledTrainer> {
  const dOptimizer = tf.train.adam(
    options.discriminatorLearningRate ?? options.learningRate,
    options.beta1,
  );
  const gOptimizer = tf.train.adam(options.learningRate, options.beta1);
  const gNet = readNetSpec(generator);
  const dNet = readNetSpec(discriminator);
  const adam = {
    beta1: fields(dOptimizer).beta1,
    beta2: fields(dOptimizer).beta2,
    epsilon: fields(dOptimizer).epsilon,
  };
  const engine = await CompiledStep.create({
    generator: gNet,
    discriminator: dNet,
    batch: options.batchSize,
    adam,
    ema: options.ema !== null,
    clipEpsilon: tf.backend().epsilon(),
  }, { device: options.device, threads: options.threads, profilePrefix: options.profilePrefix });
  const latentDim = gNet.input[0];
  const imageShape = discriminator.inputs[0].shape.slice(1) as [number, number, number];
  const dropouts = dNet.layers.filter((l) => l.kind === "dropout");
  const masks = new Map(
    dropouts.map((
      l,
    ) => [l.name, new Float32Array(options.batchSize * l.shapeNHWC.reduce((a, b) => a * b))]),
  );
  const nets: Array<[NetSpec, "G" | "D", tf.LayersModel]> = [
    [gNet, "G", generator],
    [dNet, "D", discriminator],
  ];
  const counters = { d: newCounters(dOptimizer), g: newCounters(gOptimizer) };
  // Whether the engine holds state that the TF.js objects do not (after a step), or the reverse (at start).
  let engineAhead = false;
  let imported = false;

  async function importState(): Promise<void> {
    for (const [net, prefix, model] of nets) {
      const values = await Promise.all(model.weights.map((w) => w.read().data()));
      const byName = new Map(
        model.weights.map((w, i) => [w.originalName, values[i] as Float32Array]),
      );
      for (const w of net.weights) {
        const target = engine.read(stateName(prefix, w.name));
        convertWeight(w.layout, byName.get(w.name)!, target, true);
      }
      const optimizer = prefix === "G" ? gOptimizer : dOptimizer;
      await importMoments(net, prefix, optimizer);
    }
    counters.d = newCounters(dOptimizer);
    counters.g = newCounters(gOptimizer);
    if (options.ema) {
      const values = await Promise.all(
        options.ema.model.trainableWeights.map((w) => w.read().data()),
      );
      gNet.weights.filter((w) => w.trainable).forEach((w, i) =>
        convertWeight(
          w.layout,
          values[i] as Float32Array,
          engine.read(stateName("E", w.name)),
          true,
        )
      );
    }
    imported = true;
  }

  async function importMoments(net: NetSpec, prefix: "G" | "D", optimizer: tf.AdamOptimizer) {
    const f = fields(optimizer);
    const trainable = net.weights.filter((w) => w.trainable);
    for (
      const [moment, list] of [["m", f.accumulatedFirstMoment], [
        "v",
        f.accumulatedSecondMoment,
      ]] as const
    ) {
      for (const [i, w] of trainable.entries()) {
        const target = engine.read(stateName(prefix, w.name, moment));
        if (list.length === 0) target.fill(0);
        else convertWeight(w.layout, await list[i].variable.data() as Float32Array, target, true);
      }
    }
  }

  function exportModel(
    net: NetSpec,
    prefix: "G" | "D" | "E",
    model: tf.LayersModel,
    trainableOnly: boolean,
  ) {
    const byName = new Map(model.weights.map((w) => [w.originalName, w]));
    const weights = trainableOnly ? net.weights.filter((w) => w.trainable) : net.weights;
    tf.tidy(() => {
      for (const w of weights) {
        const data = new Float32Array(w.size);
        convertWeight(w.layout, engine.read(stateName(prefix, w.name)), data, false);
        byName.get(w.name)!.write(tf.tensor(data, w.shape));
      }
    });
  }

  async function exportMoments(
    net: NetSpec,
    prefix: "G" | "D",
    optimizer: tf.AdamOptimizer,
    c: AdamCounters,
  ) {
    const f = fields(optimizer);
    const trainable = net.weights.filter((w) => w.trainable);
    const model = prefix === "G" ? generator : discriminator;
    const named: Array<{ name: string; tensor: tf.Tensor }> = [{
      name: "iter",
      tensor: tf.scalar(c.iterations, "int32"),
    }];
    for (const moment of ["m", "v"] as const) {
      trainable.forEach((w, i) => {
        const data = new Float32Array(w.size);
        convertWeight(w.layout, engine.read(stateName(prefix, w.name, moment)), data, false);
        named.push({
          name: `${(model.trainableWeights[i].read() as tf.Variable).name}/${moment}`,
          tensor: tf.tensor(data, w.shape),
        });
      });
    }
    for (const m of [...f.accumulatedFirstMoment, ...f.accumulatedSecondMoment]) {
      m.variable.dispose();
    }
    await optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
    tf.tidy(() => {
      f.accBeta1.assign(tf.scalar(c.accBeta1));
      f.accBeta2.assign(tf.scalar(c.accBeta2));
    });
  }

  function fillMasks(seeds: Uint32Array, pass: number): Record<string, Float32Array> {
    const feeds: Record<string, Float32Array> = {};
    for (const [i, layer] of dropouts.entries()) {
      const out = masks.get(layer.name)!;
      dropoutMultipliers(seeds[pass * dropouts.length + i], layer.rate, out);
      feeds[maskName(layer.name)] = out;
    }
    return feeds;
  }

  async function step(batch: StepBatch, emaUpdate?: number): Promise<StepLosses> {
    const n = batch.realLabels.length;
    if (
      n !== options.batchSize || batch.noise.length !== n * latentDim ||
      batch.fakeLabels.length !== n
    ) {
      throw new RangeError(`inconsistent step batch: ${n} labels, ${batch.noise.length} latents`);
    }
    if (batch.dropoutSeeds.length !== 3 * dropouts.length) {
      throw new RangeError(`expected ${3 * dropouts.length} dropout seeds`);
    }
    if (!imported) await importState();
    engineAhead = true;
    const real = await engine.run("real", {
      images: batch.real,
      labels: batch.realLabels,
      ...(fillMasks(batch.dropoutSeeds, 0)),
      ...adamScalars(counters.d, dOptimizer),
    });
    const fake = await engine.run("fake", {
      noise: batch.noise,
      labels: batch.fakeLabels,
      ...(fillMasks(batch.dropoutSeeds, 1)),
      ...adamScalars(counters.d, dOptimizer),
    });
    const emaFeeds: Record<string, Float32Array> = {};
    if (options.ema) {
      if (emaUpdate === undefined) throw new RangeError("an EMA step needs its update number");
      const rate = emaRate(options.ema.decay, emaUpdate);
      emaFeeds[SCALARS.emaRate] = new Float32Array([rate]);
      emaFeeds[SCALARS.emaKeep] = new Float32Array([1 - rate]);
    }
    const gen = await engine.run("generator", {
      noise: batch.noise,
      ...(fillMasks(batch.dropoutSeeds, 2)),
      ...adamScalars(counters.g, gOptimizer),
      ...emaFeeds,
    });
    return stepLosses(real, fake, gen);
  }

  return {
    generator,
    discriminator,
    dOptimizer,
    gOptimizer,
    latentDim,
    imageShape,
    dropoutLayers: dropouts.length,
    engine: `onnxruntime (${options.device})`,
    setLearningRates(g: number, d: number) {
      fields(gOptimizer).learningRate = g;
      fields(dOptimizer).learningRate = d;
    },
    step,
    reload() {
      imported = false;
      engineAhead = false;
    },
    async sync() {
      if (!engineAhead) return;
      exportModel(gNet, "G", generator, false);
      exportModel(dNet, "D", discriminator, false);
      if (options.ema) exportModel(gNet, "E", options.ema.model, true);
      await exportMoments(gNet, "G", gOptimizer, counters.g);
      await exportMoments(dNet, "D", dOptimizer, counters.d);
      engineAhead = false;
      // A later step starts from the engine's own state, which equals what was just written.
    },
    dispose() {
      if (options.profilePrefix) engine.endProfiling();
      void engine.dispose();
      dOptimizer.dispose();
      gOptimizer.dispose();
    },
  };
}

/** An optimiser's counters as TF.js holds them now (a fresh optimiser: 0, β1, β2). */
function newCounters(optimizer: tf.AdamOptimizer): AdamCounters {
  const f = fields(optimizer);
  return {
    iterations: f.iterations_ ?? 0,
    accBeta1: f.accBeta1.dataSync()[0],
    accBeta2: f.accBeta2.dataSync()[0],
  };
}
