/**
 * Browser entry of the inference module: the same `createGenerator` API as `mod.ts`, on onnxruntime-web only
 * (providers `webgpu`, `wasm`, `auto` = WebGPU on a hardware adapter, else WebAssembly). No onnxruntime-node and
 * no `node:` modules, so it bundles for browsers.
 *
 * ```ts
 * const generator = await createGenerator("/models/generator.onnx", { provider: "auto" });
 * const images = await generator.sample(16, { seed: 7 }); // Float32Array in [0, 1] + shape
 * const png = imagesToPng(images, { cols: 4, scale: 2 });
 * // Choosing the digit needs the classifier's URL (fetched on the first such call):
 * // createGenerator(url, { classifier: "/models/classifier.onnx" }), then sample(16, { seed: 7, digit: 3 }).
 * await generator.dispose();
 * ```
 *
 * onnxruntime-web loads `ort-wasm-simd-threaded.{mjs,wasm}` (provider `wasm`) and, only once a WebGPU session is
 * created, `ort-wasm-simd-threaded.asyncify.{mjs,wasm}` from next to the bundle unless `wasmPaths` says where they
 * are served (copy them from `node_modules/onnxruntime-web/dist/`).
 * @module
 */
import { InputError, ModelError } from "./errors.ts";
import { type Generator, type GeneratorOptions, openGenerator } from "./generator.ts";
import { wasmProvider, webGpuProvider } from "./web_providers.ts";

export * from "./common.ts";

/** A model as a URL (absolute, or relative to the page) or the bytes of an `.onnx` file. */
export type BrowserModelSource = string | URL | Uint8Array | ArrayBuffer;

const webgpu = webGpuProvider("webgpu");
const PROVIDERS = [webgpu, wasmProvider];

async function modelBytes(model: BrowserModelSource, what = "model"): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model !== "string" && !(model instanceof URL)) {
    throw new InputError(`${what} must be a URL or the bytes of an .onnx file`);
  }
  let response: Response;
  try {
    response = await fetch(model);
  } catch (e) {
    throw new ModelError(`cannot fetch the ${what} ${model}: ${(e as Error).message}`);
  }
  if (!response.ok) {
    throw new ModelError(`cannot fetch the ${what} ${model}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Opens an ONNX generator on `options.provider` (`auto`, `webgpu` or `wasm`; default `auto`). Choosing a digit
 * (`sample(n, { digit })`) needs `options.classifier`, fetched on first use.
 * @throws {ModelError} when the model cannot be fetched or is not a generator.
 * @throws {ProviderError} when the provider is unknown or cannot run here.
 */
export async function createGenerator(
  model: BrowserModelSource,
  options: GeneratorOptions = {},
): Promise<Generator> {
  const classifier = options.classifier;
  return openGenerator(
    await modelBytes(model),
    PROVIDERS,
    PROVIDERS,
    options,
    classifier === undefined ? null : () => modelBytes(classifier, "digit classifier"),
  );
}
