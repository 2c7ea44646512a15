import type * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  type BackendChoice,
  BackendError,
  chooseEngine,
  type EngineChoice,
  initBackend,
  startKernels,
  stopKernels,
} from "../compute/mod.ts";
import { type CheckpointInfo, RUN_FILES } from "../checkpoint/mod.ts";
import { type ImageDataset, loadTrainSet } from "../data/mod.ts";
import { buildDiscriminator, buildGenerator } from "../model/mod.ts";
import { latentsForSeed, Rng } from "../random/mod.ts";
import { drawStepBatch } from "./batch.ts";
import { ProgressBar, UsageError } from "../cli/mod.ts";
import {
  checkpointDue,
  evalDue,
  learningRateAt,
  SAMPLE_COUNT,
  sampleDue,
  type TrainConfig,
} from "./config.ts";
import { GeneratorEma } from "./ema.ts";
import { type HistoryRecord, HistoryWriter } from "./history.ts";
import {
  initRunFolder,
  loadCheckpoint,
  readLatents,
  restoreOptimizers,
  writeCheckpoint,
  writeRunConfig,
  writeSampleGrid,
} from "./run_folder.ts";
import { formatLogLine, RunLog } from "./run_log.ts";
import { StopRequest } from "./signals.ts";
import { createTrainer, type OptimizerOptions, type StepLosses, type Trainer } from "./step.ts";
import { createCompiledTrainer } from "./compiled_trainer.ts";

/** What a hook sees after each step. */
export interface StepEvent {
  /** The history row of the step (before extra columns are added). */
  record: HistoryRecord;
  /** Steps completed (`record.step + 1`). */
  completed: number;
  trainer: Trainer;
  /** The EMA generator after this step, or null when the run keeps none. */
  emaGenerator: tf.LayersModel | null;
  runDir: string;
  /** Prints a line to the terminal and the run's `log.txt`. */
  log(line: string): void;
}

/**
 * Callbacks that let later stages (evaluation, reports) plug into training without editing the loop.
 * All may be async; training waits for them.
 */
export interface TrainHooks {
  /** Extra `history.csv` columns that {@link TrainHooks.onStep} fills. */
  historyColumns?: string[];
  /** After every step; may return values of {@link TrainHooks.historyColumns} for this row. */
  onStep?(
    event: StepEvent,
  ): void | Record<string, number | string> | Promise<void | Record<string, number | string>>;
  /** After a sample grid is written. */
  onSample?(event: { step: number; path: string; runDir: string }): void | Promise<void>;
  /** After a checkpoint is written (it is complete and renamed into place). */
  onCheckpoint?(
    event: { step: number; dir: string; runDir: string; trainer: Trainer },
  ): void | Promise<void>;
  /** Once at the end (not after a divergence). */
  onEnd?(summary: TrainSummary): void | Promise<void>;
}

/** What a call of {@link train} did. */
export interface TrainSummary {
  runDir: string;
  backend: BackendChoice;
  /** Steps completed before this session (0 for a new run). */
  startStep: number;
  /** Steps completed at the end. */
  endStep: number;
  /** Wall seconds of this session's training loop. */
  seconds: number;
  /** Losses of the last step run, or null when none ran. */
  last: StepLosses | null;
  /** Why training ended: the step count was reached, or a signal asked it to stop. */
  stoppedBy: "steps" | Deno.Signal;
  /** Newest checkpoint folder, or null when there is none. */
  checkpoint: string | null;
}

/** A loss became NaN or infinite; the run keeps its last good checkpoint. */
export class TrainingDivergedError extends Error {
  constructor(step: number, losses: StepLosses, lastCheckpoint: string | null, runDir: string) {
    const where = lastCheckpoint
      ? `the last good checkpoint is ${lastCheckpoint} (continue with --resume ${runDir})`
      : "no checkpoint had been written yet";
    super(
      `step ${step}: a loss is not finite (d_loss ${losses.dLoss}, g_loss ${losses.gLoss}); ` +
        `training stopped and nothing of this state was saved; ${where}`,
    );
    this.name = "TrainingDivergedError";
  }
}

function checkImageSize(dataset: ImageDataset): void {
  if (dataset.height !== 28 || dataset.width !== 28) {
    throw new UsageError(
      `--data: images are ${dataset.height}×${dataset.width}, the reference DCGAN needs 28×28 (MNIST format)`,
    );
  }
}

interface Session {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  trainer: Trainer;
  /** The EMA generator and how many generator updates it has averaged (null: `--ema 0`). */
  ema: { average: GeneratorEma; updates: number } | null;
  rng: Rng;
  latents: Float32Array;
  startStep: number;
}

/**
 * The trainer of the chosen engine for `generator` and `discriminator`. When `auto` chose the compiled step and
 * it cannot run this model or device, the TF.js step runs instead and `engine.reason` says why.
 */
async function createEngineTrainer(
  engine: EngineChoice,
  config: TrainConfig,
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  ema: GeneratorEma | null,
): Promise<Trainer> {
  const optimizer: OptimizerOptions = {
    learningRate: config.learningRate,
    discriminatorLearningRate: config.discriminatorLearningRate,
    beta1: config.beta1,
  };
  if (engine.name === "onnxruntime") {
    try {
      return await createCompiledTrainer(generator, discriminator, {
        ...optimizer,
        device: config.device,
        batchSize: config.batchSize,
        threads: config.threads,
        ema,
      });
    } catch (e) {
      if (config.engine !== "auto" || !(e instanceof BackendError)) throw e;
      engine.name = "tfjs";
      engine.reason = `auto: ${e.message}; using the TF.js step`;
    }
  }
  return createTrainer(generator, discriminator, optimizer, ema);
}

async function startSession(
  config: TrainConfig,
  engine: EngineChoice,
  resumeFrom?: CheckpointInfo,
): Promise<Session> {
  if (resumeFrom) {
    const ckpt = await loadCheckpoint(resumeFrom);
    // A checkpoint written without an EMA (or with another decay) starts a fresh average here.
    const kept = ckpt.emaGenerator && ckpt.state.ema?.decay === config.ema;
    if (!kept) ckpt.emaGenerator?.dispose();
    const ema = config.ema > 0
      ? {
        average: await GeneratorEma.create(
          ckpt.generator,
          config.ema,
          kept ? ckpt.emaGenerator! : undefined,
        ),
        updates: kept ? ckpt.state.ema!.updates : 0,
      }
      : null;
    const trainer = await createEngineTrainer(
      engine,
      config,
      ckpt.generator,
      ckpt.discriminator,
      ema?.average ?? null,
    );
    await restoreOptimizers(trainer, ckpt);
    return {
      generator: ckpt.generator,
      discriminator: ckpt.discriminator,
      trainer,
      ema,
      rng: Rng.fromState(ckpt.state.rng),
      latents: await readLatents(config.outDir, config.latentDim),
      startStep: ckpt.state.step,
    };
  }
  const generator = buildGenerator({ seed: config.seed, latentDim: config.latentDim });
  // Offset so that no kernel of the discriminator shares an initialiser seed with the generator's.
  const discriminator = buildDiscriminator({ seed: config.seed + 1000 });
  const latents = latentsForSeed(config.sampleSeed, SAMPLE_COUNT, config.latentDim);
  const ema = config.ema > 0
    ? { average: await GeneratorEma.create(generator, config.ema), updates: 0 }
    : null;
  const trainer = await createEngineTrainer(
    engine,
    config,
    generator,
    discriminator,
    ema?.average ?? null,
  );
  initRunFolder(config, latents);
  return {
    generator,
    discriminator,
    trainer,
    ema,
    rng: new Rng(config.seed),
    latents,
    startStep: 0,
  };
}

/**
 * Trains (or, with `resumeFrom`, continues) the run described by `config` up to `config.steps`,
 * writing the run folder: `config.json`, `latents.json`, `history.csv`, `log.txt`, `samples/` and
 * `checkpoints/`. SIGINT/SIGTERM finish the current step, write a checkpoint and return.
 * @throws {TrainingDivergedError} when a loss becomes NaN/Infinity (no checkpoint of that state).
 */
export async function train(
  config: TrainConfig,
  hooks: TrainHooks = {},
  resumeFrom?: CheckpointInfo,
): Promise<TrainSummary> {
  const backend = await initBackend(config.backend);
  const engine = chooseEngine(config.engine, config.device);
  const dataset = await loadTrainSet(config.dataDir);
  checkImageSize(dataset);
  const runDir = config.outDir;
  if (resumeFrom && resumeFrom.step >= config.steps) {
    console.log(`Nothing to do: the run is at step ${resumeFrom.step}; pass a larger --steps.`);
    return {
      runDir,
      backend,
      startStep: resumeFrom.step,
      endStep: resumeFrom.step,
      seconds: 0,
      last: null,
      stoppedBy: "steps",
      checkpoint: resumeFrom.dir,
    };
  }
  const session = await startSession(config, engine, resumeFrom);
  const { trainer, rng, latents, startStep, ema } = session;
  if (resumeFrom) writeRunConfig(config);
  const log = await RunLog.open(join(runDir, RUN_FILES.log));
  const { writer: history, lastSeconds, keptRows } = await HistoryWriter.open(
    join(runDir, RUN_FILES.history),
    startStep,
    hooks.historyColumns,
  );
  if (keptRows !== startStep) {
    log.line(
      `${join(runDir, RUN_FILES.history)}: holds ${keptRows} complete row(s) before step ` +
        `${startStep}, not ${startStep}; rows lost before this resume stay missing`,
    );
  }
  const stop = new StopRequest();
  const summary: TrainSummary = {
    runDir,
    backend,
    startStep,
    endStep: startStep,
    seconds: 0,
    last: null,
    stoppedBy: "steps",
    checkpoint: resumeFrom?.dir ?? null,
  };
  // Started last, so that bad data or a bad checkpoint cannot leave kernel workers running.
  try {
    const kernels = backend.name === "wasm"
      ? await startKernels({
        kernels: config.kernels,
        threads: config.threads,
        workers: config.workers,
      })
      : null;
    log.line(`Engine: ${trainer.engine} (${engine.reason})`);
    log.line(`Backend: ${backend.name} (${backend.reason})`);
    if (kernels !== null) log.line(kernels.description);
    log.line(
      `${
        resumeFrom ? `Resuming ${resumeFrom.dir} at step ${startStep}` : "New run"
      } → ${runDir}; ` +
        `seed ${config.seed}, batch ${config.batchSize}, ${dataset.count} training images, ` +
        `steps ${startStep}..${config.steps}`,
    );
    stop.install((signal) =>
      log.line(`${signal}: finishing this step, then writing a checkpoint (again to quit at once)`)
    );
    const progress = new ProgressBar({
      total: config.steps,
      first: startStep,
      unit: "steps",
      stream: "stdout",
    });
    log.progress = progress;
    const started = performance.now();
    const batchOptions = {
      batchSize: config.batchSize,
      latentDim: config.latentDim,
      labelNoise: config.labelNoise,
      dropoutLayers: trainer.dropoutLayers,
    };
    for (let step = startStep; step < config.steps; step++) {
      trainer.setLearningRates(
        learningRateAt(config, config.learningRate, step),
        learningRateAt(config, config.discriminatorLearningRate ?? config.learningRate, step),
      );
      const losses = await trainer.step(
        drawStepBatch(rng, dataset, batchOptions),
        ema ? ++ema.updates : undefined,
      );
      if (![losses.dLoss, losses.gLoss].every(Number.isFinite)) {
        throw new TrainingDivergedError(step, losses, summary.checkpoint, runDir);
      }
      const completed = step + 1;
      const record: HistoryRecord = {
        step,
        dLoss: losses.dLoss,
        dAcc: 100 * losses.dAcc,
        gLoss: losses.gLoss,
        seconds: lastSeconds + (performance.now() - started) / 1000,
      };
      if (step % config.logEvery === 0) {
        log.line(formatLogLine(step, record.dLoss, record.dAcc, record.gLoss));
      }
      // The models are read (evaluation, samples, checkpoint) only after the engine wrote its state into
      // them, and the EMA generator's BatchNorm statistics are set for its weights before it is used.
      let emaFresh = false;
      const refreshModels = async () => {
        await trainer.sync();
        if (ema && !emaFresh) ema.average.refreshStatistics();
        emaFresh = true;
      };
      if (evalDue(config, completed) || sampleDue(config, completed)) await refreshModels();
      const emaGenerator = ema?.average.model ?? null;
      const extra = await hooks.onStep?.({
        record,
        completed,
        trainer,
        emaGenerator,
        runDir,
        log: (line) => log.line(line),
      });
      history.append({ ...record, ...(extra ? { extra } : {}) });
      summary.last = losses;
      summary.endStep = completed;
      progress.update(completed);
      // Let the event loop run: signal listeners are only called between macrotasks, and a CPU backend
      // resolves each step's promises without ever yielding.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const stopping = stop.signal !== null;
      if (stopping) await refreshModels();
      if (sampleDue(config, completed) || stopping) {
        const path = await writeSampleGrid(runDir, completed, trainer.generator, latents);
        if (emaGenerator) {
          await writeSampleGrid(runDir, completed, emaGenerator, latents, "ema");
        }
        await hooks.onSample?.({ step: completed, path, runDir });
      }
      if (checkpointDue(config, completed) || stopping) {
        const dir = await writeCheckpoint(runDir, completed, trainer, rng.getState(), ema);
        summary.checkpoint = dir;
        await hooks.onCheckpoint?.({ step: completed, dir, runDir, trainer });
      }
      if (stopping) {
        summary.stoppedBy = stop.signal!;
        break;
      }
    }
    progress.clear();
    log.progress = null;
    summary.seconds = (performance.now() - started) / 1000;
    const ran = summary.endStep - startStep;
    const last = summary.last!;
    log.line(
      `${
        summary.stoppedBy === "steps" ? "Done" : `Stopped by ${summary.stoppedBy}`
      }: steps ${startStep}→${summary.endStep} (${ran}) in ${summary.seconds.toFixed(1)} s, ` +
        `${(ran / summary.seconds).toFixed(3)} steps/s; last step D loss ${
          last.dLoss.toFixed(3)
        }, acc. ${(100 * last.dAcc).toFixed(2)}%, G loss ${last.gLoss.toFixed(3)}`,
    );
    log.line(
      `Run folder ${runDir}: history.csv, log.txt, samples/; newest checkpoint ${summary.checkpoint}` +
        (summary.stoppedBy === "steps" ? "" : ` (continue with --resume ${runDir})`),
    );
    await hooks.onEnd?.(summary);
    return summary;
  } finally {
    stop.uninstall();
    history.close();
    log.close();
    trainer.dispose();
    ema?.average.dispose();
    session.generator.dispose();
    session.discriminator.dispose();
    await stopKernels();
  }
}
