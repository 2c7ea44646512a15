/** Runs the exported classifier (`models/classifier.onnx`) with onnxruntime-node on the CPU. */
import { INPUT_LIMITS, InputTooLargeError, readFileBounded } from "../fsio/mod.ts";
import * as ort from "onnxruntime-node";
import { CLASS_COUNT, CLASSIFIER_OUTPUTS, FEATURE_DIM } from "./classifier_model.ts";

/** Class probabilities and penultimate-layer features of `count` images. */
export interface ClassifierOutputs {
  count: number;
  /** `[count, 10]` row-major. */
  probs: Float32Array;
  /** `[count, 128]` row-major. */
  features: Float32Array;
}

/** Raised when a classifier file cannot be used; the message names the file and the problem. */
export class ClassifierFileError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = "ClassifierFileError";
  }
}

/** The exported MNIST classifier, ready to classify batches of 28×28 images in [-1, 1]. */
export class OnnxClassifier {
  private constructor(private readonly session: ort.InferenceSession) {}

  /**
   * Opens a classifier ONNX file (or its bytes) written by `deno task train:classifier`.
   * @throws {ClassifierFileError} when the file is missing, not ONNX, or lacks the `features`/`probs` outputs.
   */
  static async open(source: string | Uint8Array, label = "classifier"): Promise<OnnxClassifier> {
    const name = typeof source === "string" ? source : label;
    let session: ort.InferenceSession;
    try {
      const bytes = typeof source === "string"
        ? await readFileBounded(source, INPUT_LIMITS.model, "a classifier")
        : source;
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
    } catch (e) {
      if (e instanceof InputTooLargeError) throw new ClassifierFileError(name, e.problem);
      if ((e as { code?: string }).code === "ENOENT") {
        throw new ClassifierFileError(
          name,
          "not found (train it with `deno task train:classifier`)",
        );
      }
      throw new ClassifierFileError(
        name,
        `cannot be loaded (${(e as Error).message.split("\n")[0]})`,
      );
    }
    const missing = CLASSIFIER_OUTPUTS.filter((o) => !session.outputNames.includes(o));
    if (missing.length) {
      throw new ClassifierFileError(
        name,
        `has no output ${missing.join(", ")} (not our classifier)`,
      );
    }
    return new OnnxClassifier(session);
  }

  /** Classifies `count` images (`[count, 28, 28]` floats in [-1, 1]) in batches of `batchSize`. */
  async classify(images: Float32Array, count: number, batchSize = 500): Promise<ClassifierOutputs> {
    const size = 28 * 28;
    if (images.length !== count * size) {
      throw new RangeError(`images: ${images.length} values is not ${count} × 28 × 28`);
    }
    const probs = new Float32Array(count * CLASS_COUNT);
    const features = new Float32Array(count * FEATURE_DIM);
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const input = new ort.Tensor("float32", images.subarray(start * size, (start + n) * size), [
        n,
        1,
        28,
        28,
      ]);
      const out = await this.session.run({ [this.session.inputNames[0]]: input });
      probs.set(out.probs.data as Float32Array, start * CLASS_COUNT);
      features.set(out.features.data as Float32Array, start * FEATURE_DIM);
    }
    return { count, probs, features };
  }

  /** Frees the ONNX Runtime session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
