/**
 * The project's MNIST digit classifier (`models/classifier.onnx`, see `models/README.md`) on an inference
 * provider: grey images in [0, 1] in, the probability of each digit 0–9 out. It backs `sample(n, { digit })`.
 * Browser-safe: it runs on whichever provider the generator uses.
 * @module
 */
// The schema file, not `src/onnx/mod.ts` (see model_info.ts).
import { decodeModel, type ModelProto } from "../onnx_proto/mod.ts";
import { InputError, ModelError } from "./errors.ts";
import type { GeneratedImages } from "./generator.ts";
import type { Provider, Session, SessionSignature, SessionTuning } from "./provider.ts";

/** How many digits the classifier tells apart (its `probs` output has one value per digit 0–9). */
export const DIGIT_COUNT = 10;
/** The classifier's output with the class probabilities. */
const PROBS_OUTPUT = "probs";
const FLOAT = 1;

function parse(bytes: Uint8Array): ModelProto {
  try {
    const model = decodeModel(bytes);
    if (model.graph && model.graph.node.length > 0) return model;
  } catch {
    // Reported below.
  }
  throw new ModelError("the digit classifier is not an ONNX model");
}

/** A classifier's session signature and the image size it takes. */
export interface ClassifierInfo extends SessionSignature {
  height: number;
  width: number;
}

/**
 * Reads the classifier's input (one grey image per sample: `[batch, 1, H, W]` or `[batch, H, W, 1]`, float32)
 * and checks that it has the `probs` output `[batch, 10]`.
 * @throws {ModelError} when the bytes are not such a classifier.
 */
export function readClassifierInfo(bytes: Uint8Array): ClassifierInfo {
  const graph = parse(bytes).graph;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((v) => !initializers.has(v.name));
  const probs = graph.output.find((v) => v.name === PROBS_OUTPUT);
  const dims = (inputs[0]?.type?.tensorType?.shape?.dim ?? []).map((d) => Number(d.dimValue ?? 0));
  const grey = dims.length === 4 && (dims[1] === 1 || dims[3] === 1) &&
    dims.slice(1).every((d) => d > 0);
  const probsDims = probs?.type?.tensorType?.shape?.dim ?? [];
  if (
    inputs.length !== 1 || !grey || inputs[0].type?.tensorType?.elemType !== FLOAT || !probs ||
    probsDims.length !== 2 || Number(probsDims[1].dimValue ?? 0) !== DIGIT_COUNT
  ) {
    throw new ModelError(
      "the digit classifier must take grey images [batch, 1, H, W] (float32) and give " +
        `"${PROBS_OUTPUT}" [batch, ${DIGIT_COUNT}], like models/classifier.onnx`,
    );
  }
  const [height, width] = dims[1] === 1 ? [dims[2], dims[3]] : [dims[1], dims[2]];
  return {
    inputName: inputs[0].name,
    inputType: "float32",
    inputShape: dims.slice(1),
    outputName: PROBS_OUTPUT,
    outputType: "float32",
    height,
    width,
  };
}

/** The digit classifier opened on a provider. */
export class DigitClassifier {
  private constructor(
    readonly info: ClassifierInfo,
    private readonly session: Session,
    private readonly maxBatch: number,
  ) {}

  /**
   * Opens the classifier's bytes on `provider` (the generator's).
   * @throws {ModelError} when the bytes are not a digit classifier.
   * @throws {ProviderError} when the provider cannot run it.
   */
  static async open(
    bytes: Uint8Array,
    provider: Provider,
    tuning: SessionTuning,
  ): Promise<DigitClassifier> {
    const info = readClassifierInfo(bytes);
    return new DigitClassifier(info, await provider.create(bytes, info, tuning), provider.maxBatch);
  }

  /**
   * The probabilities of the digits 0–9 for each image (row-major `[count, 10]`). Images in [0, 1] are fed as
   * `2·v − 1`, the range [-1, 1] the classifier was trained on.
   * @throws {InputError} when the images are not grey images of the classifier's size.
   */
  async probabilities(images: GeneratedImages): Promise<Float32Array> {
    const { height, width } = this.info;
    if (images.channels !== 1 || images.height !== height || images.width !== width) {
      throw new InputError(
        `choosing a digit needs grey ${height} × ${width} images; this generator makes ` +
          `${images.channels}-channel ${images.height} × ${images.width} ones`,
      );
    }
    const per = height * width;
    const out = new Float32Array(images.count * DIGIT_COUNT);
    for (let start = 0; start < images.count; start += this.maxBatch) {
      const n = Math.min(this.maxBatch, images.count - start);
      const input = images.data.subarray(start * per, (start + n) * per).map((v) => 2 * v - 1);
      out.set(await this.session.run(input, n), start * DIGIT_COUNT);
    }
    return out;
  }

  /** Frees the session. */
  release(): Promise<void> {
    return this.session.release();
  }
}
