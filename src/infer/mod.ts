/**
 * Inference for ONNX generators in Deno and Node: `createGenerator(model, { provider })` on onnxruntime-node
 * (`cpu`, `cuda`, `webgpu`) or onnxruntime-web (`wasm`, `web-webgpu`), seeded sampling, latent walks and image
 * encodings. Browsers use `browser.ts`, which has the same API on onnxruntime-web only.
 *
 * ```ts
 * const generator = await createGenerator(); // the shipped models/generator.onnx, provider "auto"
 * console.log(generator.provider); // { name: "cpu", reason: "auto: skipped cuda (...)" }
 * const images = await generator.sample(64, { seed: 7 });
 * const threes = await generator.sample(16, { seed: 7, digit: 3 }); // checked by models/classifier.onnx
 * await Deno.writeFile("samples.png", imagesToPng(images, { cols: 8 }));
 * await generator.dispose();
 * ```
 *
 * The URL of a model on a v2 inference server (`deno task serve`, Triton) runs it there, with the same API:
 * `createGenerator("http://host:8000/v2/models/generator")` (provider `http`, chosen by `auto` for such a URL).
 * @module
 */
import { INPUT_LIMITS, InputTooLargeError, readFileBounded } from "../fsio/mod.ts";
import { fileURLToPath } from "node:url";
import { InputError, ModelError, ProviderError } from "./errors.ts";
import { type Generator, type GeneratorOptions, openGenerator } from "./generator.ts";
import { isV2ModelUrl, openRemoteGenerator } from "./http_provider.ts";
import { cpuProvider, cudaProvider, nodeWebGpuProvider } from "./node_providers.ts";
import { SHIPPED_CLASSIFIER, SHIPPED_GENERATOR } from "./shipped_models.ts";
import { wasmProvider, webGpuProvider } from "./web_providers.ts";

export * from "./common.ts";
export { SHIPPED_CLASSIFIER, SHIPPED_GENERATOR } from "./shipped_models.ts";

/**
 * A model as a file path, a URL (`file:`, or `http:`/`https:` of an `.onnx` file or of a v2 model such as
 * `http://host:8000/v2/models/generator`) or the bytes of an `.onnx` file.
 */
export type ModelSource = string | URL | Uint8Array | ArrayBuffer;

const PROVIDERS = [
  cpuProvider,
  cudaProvider,
  nodeWebGpuProvider,
  wasmProvider,
  webGpuProvider("web-webgpu"),
];
/**
 * `auto` tries CUDA, then the CPU, then WebAssembly. WebGPU is never picked automatically: without a GPU it runs
 * on a software rasteriser that is hundreds of times slower than the CPU provider; ask for it by name.
 */
const AUTO_ORDER = [cudaProvider, cpuProvider, wasmProvider];

async function modelBytes(model: ModelSource, what = "model"): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model !== "string" && !(model instanceof URL)) {
    throw new InputError(`${what} must be a path, a URL or the bytes of an .onnx file`);
  }
  const url = model instanceof URL
    ? model
    : /^(https?|file):\/\//i.test(model)
    ? new URL(model)
    : null;
  if (url && url.protocol !== "file:") {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new ModelError(`cannot fetch the ${what} ${url}: ${(e as Error).message}`);
    }
    if (!response.ok) {
      throw new ModelError(`cannot fetch the ${what} ${url}: HTTP ${response.status}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  const path = url ? fileURLToPath(url) : model as string;
  try {
    return await readFileBounded(path, INPUT_LIMITS.model, `a ${what}`);
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new ModelError(e.message);
    const code = (e as { code?: string }).code;
    const why = code === "ENOENT"
      ? "no such file"
      : code === "EISDIR"
      ? "it is a folder"
      : (e as Error).message;
    throw new ModelError(`cannot read the ${what} file ${path}: ${why}`);
  }
}

function httpUrl(model: ModelSource): URL | null {
  const url = model instanceof URL
    ? model
    : typeof model === "string" && /^https?:\/\//i.test(model)
    ? new URL(model)
    : null;
  return url && (url.protocol === "http:" || url.protocol === "https:") ? url : null;
}

/**
 * Opens an ONNX generator (default: the shipped `models/generator.onnx`) on `options.provider` (default `auto`:
 * CUDA if its files and a GPU are present, else the CPU; the choice and the reason are in `generator.provider`).
 * A v2 model URL opens the model on that server (provider `http`, which `auto` picks for such a URL).
 * `sample(n, { digit })` loads `options.classifier` (default: the shipped `models/classifier.onnx`) on first use,
 * on the generator's provider (on the CPU for a remote generator).
 * @throws {ModelError} when the model cannot be read or is not a generator.
 * @throws {ProviderError} when the provider is unknown or cannot run here (the message says what to do).
 */
export async function createGenerator(
  model: ModelSource = SHIPPED_GENERATOR,
  options: GeneratorOptions = {},
): Promise<Generator> {
  const loadClassifier = () =>
    modelBytes(options.classifier ?? SHIPPED_CLASSIFIER, "digit classifier");
  const requested = options.provider ?? "auto";
  const url = httpUrl(model);
  const remoteClassifier = { load: loadClassifier, provider: cpuProvider, tuning: options };
  if (requested === "http") {
    if (url === null) {
      throw new InputError(
        "provider http needs the URL of a model on a v2 inference server, e.g. " +
          "http://127.0.0.1:8000/v2/models/generator",
      );
    }
    return await openRemoteGenerator(url, options, "requested", remoteClassifier);
  }
  if (url !== null && isV2ModelUrl(url)) {
    if (requested !== "auto") {
      throw new ProviderError(
        `${url} is a model on an inference server: it runs on provider http (or auto), not ${requested}`,
      );
    }
    return await openRemoteGenerator(url, options, "auto: a v2 model URL", remoteClassifier);
  }
  return openGenerator(await modelBytes(model), PROVIDERS, AUTO_ORDER, options, loadClassifier);
}
