/**
 * `deno task export`: converts a generator or discriminator checkpoint (TF.js Layers format) to one `.onnx` file,
 * prints the graph summary and checks the file against TF.js with onnxruntime-node. With `--triton DIR` it
 * packages the generator (from `--checkpoint`, or an exported `--onnx FILE`) as a Triton model repository.
 * @module
 */
import process from "node:process";
import { dirname, resolve } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { BACKEND_NAMES, BackendError, type BackendName, initBackend } from "../src/compute/mod.ts";
import { join } from "node:path";
import {
  checkpointDirName,
  CheckpointNotFoundError,
  CHECKPOINTS_DIR,
  GENERATOR_WEIGHTS,
  type GeneratorWeights,
  loadLayersModel,
  ModelFileError,
  RUN_FILES,
} from "../src/checkpoint/mod.ts";
import { bestEvaluation, EvalLogError } from "../src/eval/mod.ts";
import {
  type BatchComparison,
  compareOnnxModels,
  compareWithTfjs,
  decodeModel,
  DEFAULT_OPSET,
  describeRewrites,
  encodeModel,
  exportDcgan,
  formatGraphSummary,
  type ImageLayout,
  kindMismatch,
  MAX_OPSET,
  MIN_OPSET,
  type ModelKind,
  type ModelProto,
  portableSourcePath,
  resolveModelSource,
  REWRITE_PROFILES,
  rewriteForInference,
  summarizeModel,
  UnsupportedLayerError,
} from "../src/onnx/mod.ts";
import { ModelError } from "../src/infer/mod.ts";
import { SERVE_DEFAULTS } from "../src/serve/mod.ts";
import { writeTritonRepository } from "../src/triton/mod.ts";
import {
  FileWriteError,
  INPUT_LIMITS,
  InputTooLargeError,
  readFileBounded,
  refuseOutputOverInput,
  writeFileAtomic,
} from "../src/fsio/mod.ts";

/** How far a rewritten file may differ from the file it came from (float32 rounding of another summation order). */
const REWRITE_TOLERANCE = 1e-5;

/** The largest batch the TF.js comparison runs (a generator batch of 4096 is 13 MB of images). */
const MAX_VERIFY_BATCH = 4096;

const OPTIONS = {
  checkpoint: {
    kind: "string",
    arg: "PATH",
    help: "required: a run folder (its newest checkpoint), a checkpoint folder\n" +
      "(runs/X/checkpoints/step-N) or a model folder (model.json + weights.bin)",
  },
  model: {
    kind: "string",
    arg: "KIND",
    choices: ["generator", "discriminator"],
    default: "generator",
    help: "which network to export",
  },
  weights: {
    kind: "string",
    arg: "WHICH",
    choices: GENERATOR_WEIGHTS,
    defaultHelp: "ema when the checkpoint has one, else raw",
    help: "generator: the raw weights or their exponential moving average (--ema)",
  },
  best: {
    kind: "flag",
    help: "with a run folder as --checkpoint: export the checkpoint and weights with the\n" +
      "lowest MNIST-FID in its eval.csv (train with --eval-every N)",
  },
  out: {
    kind: "string",
    arg: "FILE",
    defaultHelp: "KIND.onnx",
    help: "where to write the .onnx file",
  },
  opset: {
    kind: "integer",
    min: MIN_OPSET,
    max: MAX_OPSET,
    default: DEFAULT_OPSET,
    help: `ONNX operator set, ${MIN_OPSET}–${MAX_OPSET}`,
  },
  layout: {
    kind: "string",
    arg: "L",
    choices: ["nchw", "nhwc"],
    default: "nchw",
    help: "image layout of inputs/outputs",
  },
  fp16: {
    kind: "flag",
    help: "store weights and compute in float16 (inputs/outputs stay float32)",
  },
  "fp16-io": { kind: "flag", help: "with --fp16: make inputs and outputs float16 too" },
  "no-fold-bn": {
    kind: "flag",
    help: "keep BatchNormalization nodes instead of folding them into convolutions",
  },
  "no-rewrite": {
    kind: "flag",
    help: "write the converted graph as it is, without the inference rewrites\n" +
      `(${REWRITE_PROFILES.native.join(", ")})`,
  },
  "rewrite-onnx": {
    kind: "string",
    arg: "FILE",
    help: "instead of a --checkpoint: apply the inference rewrites to this exported file\n" +
      `(its own weights) and write --out, verified against FILE (≤ ${REWRITE_TOLERANCE})`,
  },
  "no-verify": {
    kind: "flag",
    help: "skip the comparison of the file with TF.js through onnxruntime-node",
  },
  "batch-sizes": {
    kind: "string",
    arg: "LIST",
    default: "1,7,64",
    help: `batch sizes compared with TF.js (each 1 to ${MAX_VERIFY_BATCH})`,
  },
  backend: {
    kind: "string",
    arg: "NAME",
    choices: BACKEND_NAMES,
    default: "auto",
    help: "TF.js backend for the comparison",
  },
  triton: {
    kind: "string",
    arg: "DIR",
    help: "write a Triton model repository instead of --out: DIR/NAME/1/model.onnx and\n" +
      `DIR/NAME/config.pbtxt (max_batch_size ${SERVE_DEFAULTS.maxRequestRows}, dynamic batching up to ` +
      `${SERVE_DEFAULTS.maxDelayMs} ms, like deno task serve)`,
  },
  onnx: {
    kind: "string",
    arg: "FILE",
    help: "with --triton: package this exported generator instead of a --checkpoint",
  },
  name: {
    kind: "string",
    arg: "NAME",
    default: SERVE_DEFAULTS.name,
    help: "with --triton: the model's name in the repository",
  },
} as const satisfies OptionTable;

const HELP = `Export a DCGAN network from a checkpoint to ONNX.

Usage: deno task export --checkpoint PATH [options]
       deno task export --triton DIR (--checkpoint PATH | --onnx FILE) [--name NAME]
       deno task export --rewrite-onnx FILE --out FILE

${optionsHelp(OPTIONS)}

Exit status: 0 ok, 1 ONNX and TF.js differ by more than 1e-4 (fp32) / 1e-2 (fp16) (--rewrite-onnx:
the rewritten and the given file by more than ${REWRITE_TOLERANCE}), 2 bad input.`;

interface ExportArgs {
  checkpoint: string;
  /** Triton packaging: the repository folder, the model name, and an exported file to package (or null). */
  triton: { dir: string; name: string; onnx: string | null } | null;
  kind: ModelKind;
  /** The generator variant asked for (undefined: the checkpoint's default). */
  weights?: GeneratorWeights;
  /** Pick checkpoint and weights by the lowest MNIST-FID in the run's `eval.csv`. */
  best: boolean;
  out: string;
  opset: number;
  layout: ImageLayout;
  fp16: boolean;
  fp16Io: boolean;
  foldBatchNorm: boolean;
  rewrite: boolean;
  /** `--rewrite-onnx`: the exported file to rewrite instead of converting a checkpoint (or null). */
  rewriteOnnx: string | null;
  verify: boolean;
  batchSizes: number[];
  backend: BackendName;
}

function parse(argv: string[]): ExportArgs | null {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) return null;
  if (values.onnx !== undefined && values.triton === undefined) {
    throw new UsageError("--onnx needs --triton DIR (it packages an exported generator)");
  }
  if (values.onnx !== undefined && values.checkpoint !== undefined) {
    throw new UsageError("use --onnx FILE or --checkpoint PATH, not both");
  }
  const rewriteOnnx = values["rewrite-onnx"] ?? null;
  if (rewriteOnnx !== null) {
    const clash = ["checkpoint", "triton", "onnx", "best", "weights"].find((k) =>
      values[k as keyof typeof values] !== undefined && values[k as keyof typeof values] !== false
    );
    if (clash) {
      throw new UsageError(`--rewrite-onnx rewrites an exported file; leave out --${clash}`);
    }
    if (values["no-rewrite"]) throw new UsageError("--rewrite-onnx and --no-rewrite contradict");
  } else if (!values.checkpoint && values.onnx === undefined) {
    throw new UsageError("--checkpoint is required: a run, checkpoint or model folder");
  }
  if (values.triton !== undefined && values.model !== "generator") {
    throw new UsageError(
      "--triton packages a generator; leave out --model or use --model generator",
    );
  }
  if (values["fp16-io"] && !values.fp16) throw new UsageError("--fp16-io needs --fp16");
  if ((values.weights !== undefined || values.best) && values.model !== "generator") {
    throw new UsageError(
      "--weights and --best choose a generator; leave out --model discriminator",
    );
  }
  if (values.best && values.weights !== undefined) {
    throw new UsageError("--best picks the weights itself; leave out --weights");
  }
  const batchSizes = values["batch-sizes"].split(",").map(Number);
  if (batchSizes.some((b) => !Number.isInteger(b) || b < 1 || b > MAX_VERIFY_BATCH)) {
    throw new UsageError(
      `--batch-sizes ${
        values["batch-sizes"]
      }: use integers from 1 to ${MAX_VERIFY_BATCH}, e.g. 1,7,64`,
    );
  }
  const kind = values.model as ModelKind;
  return {
    checkpoint: values.checkpoint ?? "",
    triton: values.triton === undefined
      ? null
      : { dir: values.triton, name: values.name, onnx: values.onnx ?? null },
    kind,
    weights: values.weights as GeneratorWeights | undefined,
    best: values.best,
    out: values.out ?? `${kind}.onnx`,
    opset: values.opset,
    layout: values.layout as ImageLayout,
    fp16: values.fp16,
    fp16Io: values["fp16-io"],
    foldBatchNorm: !values["no-fold-bn"],
    rewrite: !values["no-rewrite"],
    rewriteOnnx,
    verify: !values["no-verify"],
    batchSizes,
    backend: values.backend as BackendName,
  };
}

async function checkOutputPath(out: string): Promise<void> {
  const dir = dirname(resolve(out));
  let stat;
  try {
    stat = await Deno.stat(dir);
  } catch {
    throw new UsageError(`--out ${out}: folder ${dir} does not exist; create it first`);
  }
  if (!stat.isDirectory) throw new UsageError(`--out ${out}: ${dir} is not a folder`);
  try {
    if ((await Deno.stat(out)).isDirectory) {
      throw new UsageError(`--out ${out} is a folder; give a file name such as model.onnx`);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
}

async function loadModel(modelDir: string): Promise<tf.LayersModel> {
  try {
    return await loadLayersModel(modelDir);
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new UsageError(`${modelDir}: cannot load the model (${(e as Error).message})`);
  }
}

/** Writes the Triton repository of `--triton` (see `src/triton`); a bad model or folder is bad input. */
async function packageForTriton(
  triton: NonNullable<ExportArgs["triton"]>,
  bytes: Uint8Array,
): Promise<void> {
  try {
    const files = await writeTritonRepository(triton.dir, bytes, {
      name: triton.name,
      maxBatchSize: SERVE_DEFAULTS.maxRequestRows,
      maxQueueDelayMs: SERVE_DEFAULTS.maxDelayMs,
    });
    console.log(`wrote ${files.modelPath} and ${files.configPath}`);
  } catch (e) {
    if (e instanceof ModelError) {
      throw new UsageError(`${triton.onnx ?? "the export"}: ${e.message}`);
    }
    throw new UsageError(
      `cannot write the Triton repository ${triton.dir}: ${(e as Error).message}`,
    );
  }
}

async function packageOnnx(
  triton: NonNullable<ExportArgs["triton"]>,
  path: string,
): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, INPUT_LIMITS.model, "a model");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new UsageError(`--onnx ${e.message}`);
    throw new UsageError(`--onnx ${path}: cannot read it (${(e as Error).message})`);
  }
  await packageForTriton(triton, bytes);
  return 0;
}

/** Refuses a model whose weights hold NaN or ±Infinity: its file would only produce NaN. */
function checkFiniteWeights(model: tf.LayersModel, modelDir: string): void {
  for (const w of model.weights) {
    const values = w.read().dataSync();
    const bad = values.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new UsageError(
        `${modelDir}: weight ${w.name} holds ${values[bad]} (not a finite number); ` +
          `the checkpoint is broken or training diverged, so nothing was exported`,
      );
    }
  }
}

/**
 * `--best`: the checkpoint folder and weights with the lowest MNIST-FID in the run's `eval.csv`, printed
 * with their figures.
 */
async function pickBest(
  runDir: string,
): Promise<{ checkpoint: string; weights: GeneratorWeights }> {
  const best = await bestEvaluation(runDir);
  if (!best) {
    throw new UsageError(
      `--best: ${join(runDir, RUN_FILES.eval)} holds no evaluation (train with --eval-every N, ` +
        `or run deno task eval --run ${runDir})`,
    );
  }
  const checkpoint = join(runDir, CHECKPOINTS_DIR, checkpointDirName(best.step));
  try {
    await Deno.stat(checkpoint);
  } catch {
    throw new UsageError(
      `--best: the best evaluation (step ${best.step}, ${best.weights}) has no checkpoint ${checkpoint}`,
    );
  }
  console.log(
    `best by MNIST-FID in ${RUN_FILES.eval}: step ${best.step}, ${best.weights} weights ` +
      `(MNIST-FID ${best.fid.toFixed(2)}, IS ${
        best.inceptionScore.toFixed(2)
      }, ${best.count} samples)`,
  );
  return { checkpoint, weights: best.weights };
}

/** Reads an exported `.onnx` file (bounded as every model read is); anything else is bad input. */
async function readOnnx(path: string): Promise<{ bytes: Uint8Array; model: ModelProto }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, INPUT_LIMITS.model, "a model");
  } catch (e) {
    throw new UsageError(`--rewrite-onnx ${path}: cannot read it (${(e as Error).message})`);
  }
  try {
    return { bytes, model: decodeModel(bytes) };
  } catch (e) {
    throw new UsageError(`--rewrite-onnx ${path}: not an ONNX model (${(e as Error).message})`);
  }
}

/**
 * `--rewrite-onnx`: the inference rewrites of an exported file, with its own weights, written to `--out` only
 * when onnxruntime-node finds it equal to the given file within {@link REWRITE_TOLERANCE}.
 */
async function rewriteExported(args: ExportArgs, path: string): Promise<number> {
  await checkOutputPath(args.out);
  refuseOutputOverInput(args.out, { "--rewrite-onnx": path });
  const plain = await readOnnx(path);
  const { model, applied } = rewriteForInference(plain.model);
  const bytes = encodeModel(model);
  console.log(`rewrites of ${path}: ${describeRewrites(applied)}`);
  console.log(formatGraphSummary(summarizeModel(model), bytes.length));
  let ok = true;
  if (args.verify) {
    console.log(`verifying with onnxruntime-node (cpu) against ${path}:`);
    let results;
    try {
      results = await compareOnnxModels(plain.bytes, bytes, { batchSizes: args.batchSizes });
    } catch (e) {
      throw new UsageError(`--rewrite-onnx ${path}: cannot compare it (${(e as Error).message})`);
    }
    for (const r of results) {
      const pass = r.maxAbsDiff <= REWRITE_TOLERANCE;
      ok &&= pass;
      console.log(
        `  batch ${String(r.batch).padStart(3)}: max |rewritten − given| = ${
          r.maxAbsDiff.toExponential(2)
        } ${pass ? `≤ ${REWRITE_TOLERANCE} ok` : `> ${REWRITE_TOLERANCE} FAIL`}`,
      );
    }
  }
  if (!ok) {
    console.error(`error: the rewritten graph differs from ${path}; nothing was written`);
    return 1;
  }
  try {
    writeFileAtomic(args.out, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${args.out}: ${(e as Error).message}`);
  }
  console.log(`wrote ${args.out}`);
  return 0;
}

/**
 * Compares the ONNX bytes with TF.js at each batch size, printing one line each.
 * @returns null when they agree; else the error line (outputs not finite, or too far from TF.js).
 */
async function verify(
  model: tf.LayersModel,
  bytes: Uint8Array,
  args: ExportArgs,
  backendName: string,
): Promise<string | null> {
  const tolerance = args.fp16 ? 1e-2 : 1e-4;
  console.log(`verifying with onnxruntime-node (cpu) against TF.js (${backendName}):`);
  let ok = true;
  let finite = true;
  const report = (r: BatchComparison) => {
    finite &&= Number.isFinite(r.maxAbsDiff);
    const pass = r.maxAbsDiff <= tolerance;
    ok &&= pass;
    const diff = r.maxAbsDiff.toExponential(2);
    const verdict = pass ? `≤ ${tolerance} ok` : `> ${tolerance} FAIL`;
    console.log(`  batch ${String(r.batch).padStart(3)}: max |ONNX − TF.js| = ${diff} ${verdict}`);
  };
  await compareWithTfjs(model, bytes, {
    batchSizes: args.batchSizes,
    layout: args.layout,
    float16Io: args.fp16Io,
    onResult: report,
  });
  if (!finite) return "the model's outputs are not finite numbers";
  return ok ? null : `the ONNX file differs from TF.js by more than ${tolerance}`;
}

/** Writes the verified bytes: the Triton repository, or `--out` (replaced atomically). */
async function writeExport(args: ExportArgs, bytes: Uint8Array): Promise<string> {
  if (args.triton) {
    await packageForTriton(args.triton, bytes);
    return args.triton.dir;
  }
  try {
    writeFileAtomic(args.out, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${args.out}: ${(e as Error).message}`);
  }
  return args.out;
}

/**
 * `--out` (or the Triton folder) never lands in the checkpoint it is exported from: refused before
 * anything is loaded.
 */
function refuseExportIntoCheckpoint(args: ExportArgs, modelDir: string, checkpoint: string): void {
  const inputs = { "--checkpoint": checkpoint, "its model folder": modelDir };
  refuseOutputOverInput(args.triton ? args.triton.dir : args.out, inputs);
}

async function run(args: ExportArgs): Promise<number> {
  if (args.triton?.onnx) return await packageOnnx(args.triton, args.triton.onnx);
  if (args.rewriteOnnx !== null) return await rewriteExported(args, args.rewriteOnnx);
  if (!args.triton) await checkOutputPath(args.out);
  const backend = await initBackend(args.backend);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  const chosen = args.best
    ? await pickBest(args.checkpoint)
    : { checkpoint: args.checkpoint, weights: args.weights };
  const source = await resolveModelSource(chosen.checkpoint, args.kind, chosen.weights);
  refuseExportIntoCheckpoint(args, source.modelDir, chosen.checkpoint);
  const model = await loadModel(source.modelDir);
  const mismatch = kindMismatch(model, args.kind);
  if (mismatch) throw new UsageError(`${source.modelDir}: ${mismatch}`);
  checkFiniteWeights(model, source.modelDir);
  const loaded = performance.now();
  const proto = exportDcgan(model, {
    kind: args.kind,
    layout: args.layout,
    precision: args.fp16 ? "float16" : "float32",
    float16Io: args.fp16Io,
    opset: args.opset,
    foldBatchNorm: args.foldBatchNorm,
    rewrite: args.rewrite,
    step: source.step,
    source: portableSourcePath(source.modelDir, Deno.cwd()),
  });
  const bytes = encodeModel(proto);
  const converted = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  const variant = source.weights ? `, ${source.weights} weights` : "";
  console.log(
    `${args.kind} from ${source.modelDir} (step ${source.step ?? "unknown"}${variant})`,
  );
  console.log(formatGraphSummary(summarizeModel(decodeModel(bytes)), bytes.length));
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(
    `converted in ${ms(converted - started)} (load ${ms(loaded - started)}, convert ${
      ms(converted - loaded)
    }; CPU time ${ms((cpu.user + cpu.system) / 1000)})`,
  );
  // Verify first, then write: a failed check leaves the old file (or repository) untouched.
  const problem = args.verify ? await verify(model, bytes, args, backend.name) : null;
  if (problem !== null) {
    const old = args.triton ? args.triton.dir : args.out;
    console.error(`error: ${problem}; nothing was written (${old} is as it was)`);
    return 1;
  }
  console.log(`wrote ${await writeExport(args, bytes)}`);
  return 0;
}

async function main(): Promise<number> {
  const args = parse(Deno.args);
  if (!args) {
    console.log(HELP);
    return 0;
  }
  return await run(args);
}

await runCli(main, {
  inputErrors: [
    EvalLogError,
    ModelFileError,
    CheckpointNotFoundError,
    UnsupportedLayerError,
    BackendError,
    FileWriteError,
  ],
});
