/**
 * The `http` provider: a generator that runs on a v2 inference server (`deno task serve`, Triton, KServe). Its
 * {@link ModelInfo} comes from the server's model metadata (plus, where the server has Triton's model
 * configuration extension, the value range and layout in the configuration's parameters), and its session posts
 * each batch to `/infer`. The `Generator` on top is the one local providers use, so `sample`, `generate` and
 * `interpolate` behave alike. Uses `fetch` only (browser-safe). Every request has a time limit (`timeoutMs`) and
 * every answer a size bound: 1 MiB for metadata, and for an inference what its rows can take in JSON.
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

/** The default time limit of one request, in milliseconds. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** The largest metadata or configuration answer read. */
const MAX_METADATA_BYTES = 1 << 20;

/**
 * The largest inference answer read for `values` output values: 32 bytes a value (a float written out in full
 * takes at most 24 with its separator) plus 64 KiB for the rest of the JSON.
 */
function inferAnswerLimit(values: number): number {
  return values * 32 + 65_536;
}

/** What a bounded request got: the status and the body's text. */
interface Answer {
  status: number;
  text: string;
}

/**
 * Fetches `url` and reads its answer as text, within `timeoutMs` and at most `maxBytes` bytes.
 * @throws {ProviderError} when the server cannot be reached, is too slow, or sends too much.
 */
async function fetchBounded(
  url: string,
  init: RequestInit,
  what: string,
  limits: { timeoutMs: number; maxBytes: number },
): Promise<Answer> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    const text = await readCapped(response, limits.maxBytes, url, what);
    return { status: response.status, text };
  } catch (e) {
    if (e instanceof ProviderError) throw e;
    if (controller.signal.aborted) {
      throw new ProviderError(
        `http: ${url} did not answer the ${what} within ${limits.timeoutMs / 1000} s`,
      );
    }
    throw new ProviderError(`http: cannot reach ${url} for the ${what}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
  url: string,
  what: string,
): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ProviderError(
        `http: ${url} sent more than ${maxBytes} bytes for the ${what}; the answer cannot be that large`,
      );
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return new TextDecoder().decode(bytes);
}

const MODEL_PATH = /\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/?$/;

/** True when `url` is an http(s) URL of a v2 model (`.../v2/models/NAME[/versions/V]`). */
export function isV2ModelUrl(url: URL): boolean {
  return (url.protocol === "http:" || url.protocol === "https:") && MODEL_PATH.test(url.pathname) &&
    !/\.onnx$/i.test(url.pathname);
}

async function getJson(
  url: string,
  what: string,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  const { status, text } = await fetchBounded(
    url,
    { headers: { accept: "application/json" } },
    what,
    { timeoutMs, maxBytes: MAX_METADATA_BYTES },
  );
  try {
    return { status, body: text === "" ? null : JSON.parse(text) };
  } catch {
    throw new ProviderError(`http: ${url} answered HTTP ${status} without JSON`);
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
  timeoutMs: number,
): Promise<{ info: ModelInfo; config: TritonModelConfig | null }> {
  const { status, body } = await getJson(base, "model metadata", timeoutMs);
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
  const configAnswer = await getJson(`${base}/config`, "model configuration", timeoutMs);
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

function remoteSession(base: string, info: ModelInfo, timeoutMs: number): Session {
  const outputShape = imageDims(info);
  const perImage = outputShape.reduce((a, b) => a * b, 1);
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
      const { status, text } = await fetchBounded(
        `${base}/infer`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(request),
        },
        `inference of ${count} rows`,
        { timeoutMs, maxBytes: inferAnswerLimit(count * perImage) },
      );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ProviderError(`http: ${base}/infer answered HTTP ${status} without JSON`);
      }
      if (status !== 200) {
        const message = `the server refused the batch (HTTP ${status}): ${errorText(body)}`;
        throw status < 500 ? new InputError(message) : new ProviderError(`http: ${message}`);
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
 * `/versions/V`). Batches are split at `options.maxBatch`, else at the server's `max_batch_size`. Each request
 * must be answered within `options.timeoutMs` (default 60 s).
 * @throws {ModelError} when the server has no such model or it is not a generator.
 * @throws {ProviderError} when the server cannot be reached, does not speak the protocol, is too slow or sends
 * more than an answer can hold.
 */
export async function openRemoteGenerator(
  url: URL,
  options: GeneratorOptions,
  reason: string,
  classifier: ClassifierSource | null = null,
): Promise<Generator> {
  checkMaxBatch(options.maxBatch);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new InputError(`timeoutMs must be above 0, got ${timeoutMs}`);
  const base = url.href.replace(/\/+$/, "");
  const { info, config } = await remoteModelInfo(base, timeoutMs);
  const served = config?.max_batch_size;
  const maxBatch = options.maxBatch ??
    (typeof served === "number" && served > 0 ? served : DEFAULT_REMOTE_BATCH);
  const choice: ProviderChoice = { name: "http", reason };
  return new Generator(info, remoteSession(base, info, timeoutMs), choice, maxBatch, classifier);
}
