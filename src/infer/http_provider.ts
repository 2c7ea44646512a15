/**
 * The `http` provider: a generator that runs on a v2 inference server (`deno task serve`, Triton, KServe). Its
 * {@link ModelInfo} comes from the server's model metadata (plus, where the server has Triton's model
 * configuration extension, the value range and layout in the configuration's parameters), and its session posts
 * each batch to `/infer`. The `Generator` on top is the one local providers use, so `sample`, `generate` and
 * `interpolate` behave alike. Uses `fetch` only (browser-safe).
 * @module
 */
import { InputError, ModelError, ProviderError } from "./errors.ts";
import {
  checkMaxBatch,
  type ClassifierSource,
  Generator,
  type GeneratorOptions,
} from "./generator.ts";
import { describeGenerator, type FloatType, imageDims, type ModelInfo } from "./model_info.ts";
import type { ProviderChoice, Session } from "./provider.ts";
import {
  floatTypeOfV2,
  readTensorData,
  type TritonModelConfig,
  v2Datatype,
  type V2InferRequest,
  type V2InferResponse,
  type V2ModelMetadata,
  type V2TensorMetadata,
} from "./v2_protocol.ts";

/** Rows per request when the server does not publish `max_batch_size`. */
const DEFAULT_REMOTE_BATCH = 64;

const MODEL_PATH = /\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/?$/;

/** True when `url` is an http(s) URL of a v2 model (`.../v2/models/NAME[/versions/V]`). */
export function isV2ModelUrl(url: URL): boolean {
  return (url.protocol === "http:" || url.protocol === "https:") && MODEL_PATH.test(url.pathname) &&
    !/\.onnx$/i.test(url.pathname);
}

async function getJson(url: string, what: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ProviderError(`http: cannot reach ${url} for the ${what}: ${(e as Error).message}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  } catch {
    throw new ProviderError(`http: ${url} answered HTTP ${response.status} without JSON`);
  }
}

function errorText(body: unknown): string {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === "string" ? error : JSON.stringify(body);
}

function tensorType(t: V2TensorMetadata, role: string): FloatType {
  const type = floatTypeOfV2(t.datatype);
  if (type === null) {
    throw new ModelError(
      `the model's ${role} "${t.name}" has datatype ${t.datatype}; a generator needs FP32 or FP16`,
    );
  }
  return type;
}

function dimsOf(t: V2TensorMetadata): Array<number | null> {
  return t.shape.map((d) => (d > 0 ? d : null));
}

/** Reads the model's signature from its metadata and (when the server has it) its configuration. */
async function remoteModelInfo(
  base: string,
): Promise<{ info: ModelInfo; config: TritonModelConfig | null }> {
  const { status, body } = await getJson(base, "model metadata");
  if (status !== 200) {
    const error = `http: ${base} answered HTTP ${status}: ${errorText(body)}`;
    throw status === 404 ? new ModelError(error) : new ProviderError(error);
  }
  const meta = body as V2ModelMetadata;
  if (!Array.isArray(meta?.inputs) || !Array.isArray(meta?.outputs)) {
    throw new ModelError(`http: ${base} is not v2 model metadata (no inputs and outputs)`);
  }
  if (meta.inputs.length !== 1 || meta.outputs.length !== 1) {
    throw new ModelError(
      `the model at ${base} has ${meta.inputs.length} inputs and ${meta.outputs.length} outputs; ` +
        "a generator has one of each",
    );
  }
  const configAnswer = await getJson(`${base}/config`, "model configuration");
  const config = configAnswer.status === 200 ? configAnswer.body as TritonModelConfig : null;
  const metadata = Object.fromEntries(
    Object.entries(config?.parameters ?? {}).map(([k, v]) => [k, v?.string_value ?? ""]),
  );
  if (metadata.value_range === undefined) {
    throw new ModelError(
      `the server at ${base} does not say the value range of the model's output: its model configuration ` +
        "(GET .../config) has no value_range parameter; `deno task serve` publishes one, and " +
        "`deno task export --triton` writes it into config.pbtxt for Triton",
    );
  }
  const [input] = meta.inputs;
  const [output] = meta.outputs;
  const info = describeGenerator({
    inputName: input.name,
    inputType: tensorType(input, "input"),
    inputDims: dimsOf(input),
    outputName: output.name,
    outputType: tensorType(output, "output"),
    outputDims: dimsOf(output),
    metadata,
    fallbackRange: null,
    opset: 0,
  });
  return { info, config };
}

function remoteSession(base: string, info: ModelInfo): Session {
  const outputShape = imageDims(info);
  return {
    async run(latents: Float32Array, count: number): Promise<Float32Array> {
      const request: V2InferRequest = {
        inputs: [{
          name: info.inputName,
          shape: [count, info.latentDim],
          datatype: v2Datatype(info.inputType),
          data: Array.from(latents),
        }],
        outputs: [{ name: info.outputName }],
      };
      let response: Response;
      try {
        response = await fetch(`${base}/infer`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(request),
        });
      } catch (e) {
        throw new ProviderError(`http: cannot reach ${base}/infer: ${(e as Error).message}`);
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ProviderError(
          `http: ${base}/infer answered HTTP ${response.status} without JSON`,
        );
      }
      if (!response.ok) {
        const message = `the server refused the batch (HTTP ${response.status}): ${
          errorText(body)
        }`;
        throw response.status < 500
          ? new InputError(message)
          : new ProviderError(`http: ${message}`);
      }
      const out = (body as V2InferResponse).outputs?.find((o) => o.name === info.outputName);
      if (!out) throw new ModelError(`http: the answer has no output "${info.outputName}"`);
      const expected = [count, ...outputShape];
      if (JSON.stringify(out.shape) !== JSON.stringify(expected)) {
        throw new ModelError(
          `http: output "${out.name}" has shape [${out.shape}], expected [${expected.join(", ")}]`,
        );
      }
      return readTensorData(out.data, out.shape, `output "${out.name}"`);
    },
    release: () => Promise.resolve(),
  };
}

/**
 * Opens the generator served at a v2 model URL (`http://host:8000/v2/models/generator`, optionally with
 * `/versions/V`). Batches are split at `options.maxBatch`, else at the server's `max_batch_size`.
 * @throws {ModelError} when the server has no such model or it is not a generator.
 * @throws {ProviderError} when the server cannot be reached or does not speak the protocol.
 */
export async function openRemoteGenerator(
  url: URL,
  options: GeneratorOptions,
  reason: string,
  classifier: ClassifierSource | null = null,
): Promise<Generator> {
  checkMaxBatch(options.maxBatch);
  const base = url.href.replace(/\/+$/, "");
  const { info, config } = await remoteModelInfo(base);
  const served = config?.max_batch_size;
  const maxBatch = options.maxBatch ??
    (typeof served === "number" && served > 0 ? served : DEFAULT_REMOTE_BATCH);
  const choice: ProviderChoice = { name: "http", reason };
  return new Generator(info, remoteSession(base, info), choice, maxBatch, classifier);
}
