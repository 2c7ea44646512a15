import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type * as tf from "@tensorflow/tfjs";
import { INPUT_LIMITS, readTextFileBounded } from "../fsio/mod.ts";
import {
  generatorDirOf,
  type GeneratorWeights,
  MODEL_JSON,
  resolveCheckpoint,
  STATE_JSON,
} from "../checkpoint/mod.ts";
import { convertLayersModel, type ImageLayout } from "./convert.ts";
import { rewriteForInference } from "./rewrite.ts";
import type { FloatPrecision, ModelProto } from "../onnx_proto/mod.ts";

/** Which network of a DCGAN checkpoint to export. */
export type ModelKind = "generator" | "discriminator";

/** Graph input/output names of the exported DCGAN networks (the contract for inference code). */
export const IO_NAMES: Record<ModelKind, { input: string; output: string }> = {
  generator: { input: "latent", output: "image" },
  discriminator: { input: "image", output: "probability" },
};

/** A model folder found from a user's `--checkpoint` path. */
export interface ModelSource {
  /** Folder with `model.json` + `weights.bin`. */
  modelDir: string;
  /** Training step of the checkpoint, when known. */
  step: number | null;
  /** Which generator of a checkpoint it is (null: a model folder given directly, or a discriminator). */
  weights: GeneratorWeights | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function stepNear(modelDir: string): Promise<number | null> {
  const checkpointDir = dirname(modelDir);
  try {
    const path = join(checkpointDir, STATE_JSON);
    const state = JSON.parse(await readTextFileBounded(path, INPUT_LIMITS.runFile, "a state.json"));
    if (Number.isInteger(state.step)) return state.step;
  } catch {
    // No state.json: fall back to the folder name.
  }
  const m = /^step-(\d+)$/.exec(basename(checkpointDir));
  return m ? Number(m[1]) : null;
}

/**
 * Finds the model folder of `kind` from a path that is a model folder (holding `model.json`), a checkpoint folder
 * (`…/checkpoints/step-NNNNN`) or a run folder (its newest checkpoint). For a generator of a checkpoint,
 * `weights` picks the raw or the EMA one (default: EMA when the checkpoint holds one, else raw).
 * @throws {CheckpointNotFoundError} when the path holds none of these, or `ema` is asked of a checkpoint
 * without an EMA generator.
 */
export async function resolveModelSource(
  path: string,
  kind: ModelKind,
  weights?: GeneratorWeights,
): Promise<ModelSource> {
  if (await exists(join(path, MODEL_JSON))) {
    return { modelDir: path, step: await stepNear(path), weights: null };
  }
  const info = await resolveCheckpoint(path);
  if (kind === "discriminator") {
    return { modelDir: info.discriminatorDir, step: info.step, weights: null };
  }
  const chosen = await generatorDirOf(info, weights);
  return { modelDir: chosen.dir, step: info.step, weights: chosen.weights };
}

/**
 * Says why `model` is not a DCGAN network of `kind` (a generator maps `[batch, latent]` to `[batch, H, W, C]`, a
 * discriminator the reverse), or returns null when it is one.
 */
export function kindMismatch(model: tf.LayersModel, kind: ModelKind): string | null {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    return `it has ${model.inputs.length} inputs and ${model.outputs.length} outputs, not one of each`;
  }
  const input = model.inputs[0].shape;
  const output = model.outputs[0].shape;
  const [imageRank, vectorRank] = kind === "generator"
    ? [output.length, input.length]
    : [input.length, output.length];
  if (imageRank === 4 && vectorRank === 2) return null;
  const other = kind === "generator" ? "discriminator" : "generator";
  return `its input [${input.slice(1)}] and output [${
    output.slice(1)
  }] are not those of a ${kind} ` +
    `(wrong --model? try --model ${other})`;
}

/** Facts recorded in an exported DCGAN model's `metadata_props`. */
export interface DcganMetadataInput {
  kind: ModelKind;
  model: tf.LayersModel;
  layout: ImageLayout;
  precision: FloatPrecision;
  step: number | null;
  source: string;
}

/**
 * The checkpoint folder as recorded in a shipped model: relative to `cwd` when inside it, else its last four
 * components (`<run>/checkpoints/step-N/<model>`), so that no local absolute path leaks into the file.
 */
export function portableSourcePath(dir: string, cwd: string): string {
  const rel = relative(cwd, dir);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel.split(sep).join("/");
  return resolve(dir).split(sep).filter((p) => p !== "").slice(-4).join("/");
}

/** The `metadata_props` of an exported DCGAN generator or discriminator. */
export function dcganMetadata(m: DcganMetadataInput): Record<string, string> {
  const io = IO_NAMES[m.kind];
  const image = (m.kind === "generator" ? m.model.outputs[0] : m.model.inputs[0]).shape;
  const [h, w, c] = image.slice(1) as number[];
  const imageShape = m.layout === "nchw" ? [c, h, w] : [h, w, c];
  const common = {
    model_kind: m.kind,
    image_shape: JSON.stringify(imageShape),
    image_layout: m.layout.toUpperCase(),
    value_range: "[-1, 1]",
    pixel_mapping: "pixel = (value + 1) * 127.5 (0 = black, 255 = white)",
    precision: m.precision,
    training_steps: m.step === null ? "unknown" : String(m.step),
    source_checkpoint: m.source,
    input_name: io.input,
    output_name: io.output,
  };
  if (m.kind === "generator") {
    return {
      ...common,
      latent_size: String(m.model.inputs[0].shape[1]),
      latent_distribution: "standard normal N(0, 1), float32",
      output_layout: m.layout.toUpperCase(),
    };
  }
  return { ...common, output_meaning: "probability that the input image is a real MNIST digit" };
}

/** Human-readable doc string of an exported DCGAN network. */
export function dcganDocString(m: DcganMetadataInput): string {
  const io = IO_NAMES[m.kind];
  const steps = m.step === null ? "an unknown number of" : String(m.step);
  return m.kind === "generator"
    ? `MNIST DCGAN generator (${steps} training steps). Input "${io.input}": [batch, ` +
      `${m.model.inputs[0].shape[1]}] standard-normal latents. Output "${io.output}": 28×28 grey ` +
      `images in [-1, 1], ${m.layout.toUpperCase()}; pixel = (value + 1) · 127.5.`
    : `MNIST DCGAN discriminator (${steps} training steps). Input "${io.input}": 28×28 grey images in ` +
      `[-1, 1], ${m.layout.toUpperCase()}. Output "${io.output}": probability the image is real.`;
}

/** How {@link exportDcgan} converts one network of a checkpoint. */
export interface DcganExportOptions {
  kind: ModelKind;
  layout: ImageLayout;
  precision: FloatPrecision;
  /** With float16: make the inputs and outputs float16 too. */
  float16Io: boolean;
  opset: number;
  foldBatchNorm: boolean;
  /** Apply the inference rewrites (`rewriteForInference`: faster operators for the same function). */
  rewrite: boolean;
  /** The training step of the checkpoint, when known, and its folder as recorded in the file. */
  step: number | null;
  source: string;
}

/**
 * The ONNX model of one DCGAN network as `deno task export` writes it: the project's I/O names, graph name,
 * doc string and metadata (step, source, layout, value range) around the general converter, and with `rewrite`
 * the inference rewrites (recorded in the metadata).
 */
export function exportDcgan(model: tf.LayersModel, options: DcganExportOptions): ModelProto {
  const facts = { ...options, model };
  const converted = convertLayersModel(model, {
    opset: options.opset,
    layout: options.layout,
    foldBatchNorm: options.foldBatchNorm,
    precision: options.precision,
    float16Io: options.float16Io,
    inputNames: [IO_NAMES[options.kind].input],
    outputNames: [IO_NAMES[options.kind].output],
    graphName: options.kind,
    docString: dcganDocString(facts),
    metadata: dcganMetadata(facts),
  });
  return options.rewrite ? rewriteForInference(converted).model : converted;
}
