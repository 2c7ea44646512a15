/**
 * Reads what inference needs from the bytes of an ONNX generator: the latent input, the image output, its layout
 * and value range. It prefers the exporter's `metadata_props` (see `src/onnx/dcgan_export.ts`) and falls back to the
 * graph's own shapes and final activation, so generators from other tools work too.
 * @module
 */
// The protobuf leaf, not `src/onnx/mod.ts`: that entry pulls in TF.js and `node:` modules, and this file must
// bundle for browsers.
import { decodeModel, type ModelProto, type ValueInfoProto } from "../onnx_proto/mod.ts";
import { ModelError } from "./errors.ts";

/** Element types the module accepts at a generator's input and output. */
export type FloatType = "float32" | "float16";

/** Memory layout of one batch of images. */
export type ImageLayout = "nchw" | "nhwc";

/** What a generator model takes and gives, read from its file. */
export interface ModelInfo {
  /** Name and element type of the latent input `[batch, latentDim]`. */
  inputName: string;
  inputType: FloatType;
  /** Size of one latent vector. */
  latentDim: number;
  /** The input shape of one sample, `[latentDim]` (what a provider's session feeds). */
  inputShape: [number];
  /** The batch size when the file fixes it (e.g. 1), or null when any batch size is accepted. */
  fixedBatch: number | null;
  /** Name and element type of the image output. */
  outputName: string;
  outputType: FloatType;
  /** Layout of the output batch. */
  layout: ImageLayout;
  height: number;
  width: number;
  channels: 1 | 3;
  /** The range of the raw output values (tanh: [-1, 1]); images are mapped from it to [0, 1]. */
  valueRange: [number, number];
  /** Opset of the default ONNX domain. */
  opset: number;
  /** The file's `metadata_props` as a plain object (empty when it has none). */
  metadata: Record<string, string>;
}

const FLOAT = 1;
const FLOAT16 = 10;

function floatType(v: ValueInfoProto, role: string): FloatType {
  const code = v.type?.tensorType?.elemType;
  if (code === FLOAT) return "float32";
  if (code === FLOAT16) return "float16";
  throw new ModelError(
    `the model's ${role} "${v.name}" has ONNX element type ${code}; a generator needs float32 or float16`,
  );
}

/** The dims of a value: a positive number for a fixed size, null for a symbolic or unknown one. */
function dims(v: ValueInfoProto): Array<number | null> | null {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return null;
  return shape.dim.map((
    d,
  ) => (d.dimValue !== undefined && d.dimValue > 0 ? Number(d.dimValue) : null));
}

function formatDims(d: Array<number | null> | null): string {
  return d === null ? "unknown" : `[${d.map((x) => x ?? "?").join(", ")}]`;
}

function parseModel(bytes: Uint8Array): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new ModelError(
      `not an ONNX model: the bytes are not an ONNX protobuf (${(e as Error).message})`,
    );
  }
  if (!model.irVersion || !model.graph || model.graph.node.length === 0) {
    throw new ModelError(
      "not an ONNX model: no IR version or no graph with nodes was found in the file",
    );
  }
  return model;
}

function parseRange(text: string | undefined): [number, number] | null {
  if (text === undefined) return null;
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] < v[1]) {
      return [v[0], v[1]];
    }
  } catch {
    // Reported below.
  }
  throw new ModelError(`the model's metadata value_range "${text}" is not a range like "[-1, 1]"`);
}

/** Operators that move or retype values without changing them. */
const VALUE_PRESERVING = new Set([
  "Transpose",
  "Reshape",
  "Identity",
  "Cast",
  "Flatten",
  "Squeeze",
]);

/**
 * The output range implied by the last activation before the output (tanh or sigmoid, looking through
 * layout-only operators such as an NHWC Transpose), if any.
 */
function rangeFromActivation(model: ModelProto, outputName: string): [number, number] | null {
  let name = outputName;
  for (let hops = 0; hops < 8; hops++) {
    const producer = model.graph.node.find((n) => n.output.includes(name));
    if (producer?.opType === "Tanh") return [-1, 1];
    if (producer?.opType === "Sigmoid") return [0, 1];
    if (!producer || !VALUE_PRESERVING.has(producer.opType)) return null;
    name = producer.input[0];
  }
  return null;
}

function isChannels(n: number | null): n is 1 | 3 {
  return n === 1 || n === 3;
}

interface ImageGeometry {
  layout: ImageLayout;
  height: number;
  width: number;
  channels: 1 | 3;
}

/** Works out the image geometry from the output dims and the metadata (which wins when present). */
function imageGeometry(
  out: Array<number | null> | null,
  meta: Record<string, string>,
  outputName: string,
): ImageGeometry {
  const metaLayout = (meta.output_layout ?? meta.image_layout)?.toLowerCase();
  if (metaLayout !== undefined && metaLayout !== "nchw" && metaLayout !== "nhwc") {
    throw new ModelError(
      `the model's metadata output_layout "${metaLayout}" is neither NCHW nor NHWC`,
    );
  }
  let perSample: Array<number | null> | null = out && out.length === 4 ? out.slice(1) : null;
  if (meta.image_shape !== undefined) {
    const shape = JSON.parse(meta.image_shape);
    if (
      Array.isArray(shape) && shape.length === 3 && shape.every((x) => Number.isInteger(x) && x > 0)
    ) {
      perSample = shape;
    }
  }
  if (perSample === null && out && out.length === 3) perSample = [1, ...out.slice(1)];
  if (perSample === null || perSample.some((x) => x === null)) {
    throw new ModelError(
      `the model's output "${outputName}" has shape ${formatDims(out)}: not an image batch ` +
        "[batch, C, H, W] or [batch, H, W, C] with fixed sizes, and no image_shape metadata says what it is",
    );
  }
  const [a, b, c] = perSample as number[];
  const layout: ImageLayout = metaLayout === "nchw" || metaLayout === "nhwc"
    ? metaLayout
    : isChannels(a) && !isChannels(c)
    ? "nchw"
    : isChannels(c) && !isChannels(a)
    ? "nhwc"
    : "nchw";
  const [channels, height, width] = layout === "nchw" ? [a, b, c] : [c, a, b];
  if (!isChannels(channels)) {
    throw new ModelError(
      `the model's output "${outputName}" has ${channels} channels (${layout.toUpperCase()} ` +
        `${formatDims(out)}); images need 1 (grey) or 3 (RGB)`,
    );
  }
  return { layout, height, width, channels };
}

/** The dims of one generated image in the model's layout: `[C, H, W]` (NCHW) or `[H, W, C]` (NHWC). */
export function imageDims(info: ModelInfo): number[] {
  return info.layout === "nchw"
    ? [info.channels, info.height, info.width]
    : [info.height, info.width, info.channels];
}

/** A generator's input and output as a model file or an inference server describes them. */
export interface GeneratorSignature {
  inputName: string;
  inputType: FloatType;
  /** Input dims: a positive number for a fixed size, null for a variable one; null when unknown. */
  inputDims: Array<number | null> | null;
  outputName: string;
  outputType: FloatType;
  outputDims: Array<number | null> | null;
  /** Facts beside the shapes (`image_shape`, `output_layout`, `value_range`, `latent_size`). */
  metadata: Record<string, string>;
  /** The value range when the metadata does not give it (e.g. from the final activation), or null. */
  fallbackRange: [number, number] | null;
  opset: number;
}

/**
 * Checks that a signature is a generator's (one latent vector per sample in, an image batch out) and works out
 * the {@link ModelInfo}. Shared by {@link readModelInfo} and the `http` provider, which reads the signature from
 * a v2 inference server.
 * @throws {ModelError} saying what does not fit.
 */
export function describeGenerator(signature: GeneratorSignature): ModelInfo {
  const { inputName, inputDims: inDims, outputName, outputDims: outDims, metadata } = signature;
  if (inDims === null || inDims.length !== 2 || inDims[1] === null) {
    throw new ModelError(
      `the model's input "${inputName}" has shape ${formatDims(inDims)}: not a latent vector ` +
        "[batch, latent size] (is this a discriminator or another kind of model?)",
    );
  }
  const latentDim = inDims[1];
  if (metadata.latent_size !== undefined && Number(metadata.latent_size) !== latentDim) {
    throw new ModelError(
      `the model's metadata says latent_size ${metadata.latent_size} but its input "${inputName}" ` +
        `takes ${latentDim} values per sample`,
    );
  }
  const geometry = imageGeometry(outDims, metadata, outputName);
  const valueRange = parseRange(metadata.value_range) ?? signature.fallbackRange;
  if (valueRange === null) {
    throw new ModelError(
      `cannot tell the value range of the output "${outputName}": the file has no value_range metadata ` +
        'and its last operator is neither Tanh nor Sigmoid (add metadata value_range, e.g. "[-1, 1]")',
    );
  }
  return {
    inputName,
    inputType: signature.inputType,
    latentDim,
    inputShape: [latentDim],
    fixedBatch: inDims[0],
    outputName,
    outputType: signature.outputType,
    ...geometry,
    valueRange,
    opset: signature.opset,
    metadata,
  };
}

/**
 * Reads and checks a generator's ONNX bytes.
 * @throws {ModelError} when the bytes are not ONNX, or the model's input is not one latent vector per sample, or its
 * output is not an image batch.
 */
export function readModelInfo(bytes: Uint8Array): ModelInfo {
  const model = parseModel(bytes);
  const metadata = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  const initializers = new Set(model.graph.initializer.map((t) => t.name));
  const inputs = model.graph.input.filter((v) => !initializers.has(v.name));
  if (inputs.length !== 1) {
    throw new ModelError(
      `the model has ${inputs.length} inputs (${inputs.map((v) => v.name).join(", ")}); ` +
        "a generator has exactly one, the latent vectors [batch, latent size]",
    );
  }
  if (model.graph.output.length !== 1) {
    throw new ModelError(
      `the model has ${model.graph.output.length} outputs; a generator has exactly one, the images`,
    );
  }
  const [input] = inputs;
  const [output] = model.graph.output;
  return describeGenerator({
    inputName: input.name,
    inputType: floatType(input, "input"),
    inputDims: dims(input),
    outputName: output.name,
    outputType: floatType(output, "output"),
    outputDims: dims(output),
    metadata,
    fallbackRange: rangeFromActivation(model, output.name),
    opset: Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0),
  });
}
