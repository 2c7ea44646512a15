/// <reference lib="dom" />
import {
  createGenerator,
  type Generator,
  InferenceError,
  latentsForSeed,
  ProviderError,
} from "../../src/infer/browser.ts";
import type { GreyBatch } from "./digit_grid.ts";
import type { BackendChoice } from "./params.ts";
import { WasmPool } from "./wasm_pool.ts";
import { wasmUnsupportedReason } from "./wasm_support.ts";

/** What runs the model: the inference module's `Generator` (WebGPU), or a {@link WasmPool} (WebAssembly). */
type Runner = Generator | WasmPool;

/** A failure the page shows to the user as it is: what happened, in plain words. */
export class EngineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EngineError";
  }
}

/** The digit classifier, beside the generator in the built site; fetched only when a digit is chosen. */
const CLASSIFIER_URL = "models/classifier.onnx";

/** Where onnxruntime-web's `.wasm`/`.mjs` files are served: `ort/` beside the page (see the build). */
function wasmPaths(): string {
  return new URL("ort/", location.href).href;
}

async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new EngineError(
      `The model file ${url} could not be downloaded: the server did not answer.`,
    );
  }
  if (!response.ok) {
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    throw new EngineError(
      `The model file ${url} could not be downloaded (${status}). ` +
        `Rebuild the site with "deno task web:build", which copies it.`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** Adapter details a WebGPU implementation may report (`info` is newer than `isFallbackAdapter`). */
interface AdapterFacts {
  isFallbackAdapter?: boolean;
  info?: { architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

/** What stands in WebGPU's way here. */
interface WebGpuProblem {
  /** `missing`: no WebGPU or no adapter; `software`: the adapter emulates a GPU on the CPU. */
  kind: "missing" | "software";
  text: string;
}

/** Why WebGPU should not run the model here, or null for a hardware adapter. */
async function webgpuProblem(): Promise<WebGpuProblem | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { kind: "missing", text: "this browser has no WebGPU" };
  const adapter = await gpu.requestAdapter().catch(() => null) as AdapterFacts | null;
  if (!adapter) return { kind: "missing", text: "WebGPU found no graphics adapter" };
  const info = adapter.info ?? {};
  const name = `${info.architecture ?? ""} ${info.description ?? ""}`.toLowerCase();
  if (adapter.isFallbackAdapter || info.isFallbackAdapter || /swiftshader|llvmpipe/.test(name)) {
    return {
      kind: "software",
      text: "WebGPU here is a software emulation of a GPU, slower than WebAssembly",
    };
  }
  return null;
}

function plainReason(name: string, choice: BackendChoice, reason: string): string {
  if (choice !== "auto") return "as chosen";
  if (name === "webgpu") return "this browser has a WebGPU adapter";
  return `WebGPU failed: ${reason.replace(/^auto: /, "").replace(/^skipped webgpu: /, "")}`;
}

/** Most WebAssembly workers the page starts (each holds its own runtime and copy of the model). */
const MAX_WASM_WORKERS = 4;

/** WebAssembly workers for this page: one a logical CPU, up to {@link MAX_WASM_WORKERS}. */
export function wasmWorkers(): number {
  return Math.max(1, Math.min(MAX_WASM_WORKERS, navigator.hardwareConcurrency || 1));
}

/**
 * Opens the model on `provider` (WebAssembly: in a {@link WasmPool} of {@link wasmWorkers} workers, so the page
 * stays responsive and every core computes); `bytes` stay usable (the workers are sent copies). Errors of the
 * inference module become {@link EngineError}s with the original as `cause`.
 */
async function open(bytes: Uint8Array, url: string, provider: BackendChoice): Promise<Runner> {
  const classifier = new URL(CLASSIFIER_URL, location.href).href;
  try {
    if (provider === "wasm") {
      const workerUrl = new URL("./wasm_worker.js", import.meta.url);
      const reason = "requested";
      return await WasmPool.open(bytes, wasmWorkers(), {
        workerUrl,
        wasmPaths: wasmPaths(),
        classifier,
        reason,
      });
    }
    // WebGPU, or auto that may fall back to WebAssembly: then ONNX Runtime runs in its proxy worker.
    return await createGenerator(bytes.slice(), {
      provider,
      wasmProxy: true,
      wasmPaths: wasmPaths(),
      classifier,
    });
  } catch (error) {
    if (!(error instanceof InferenceError)) throw error;
    throw new EngineError(`The model file ${url} could not be opened: ${error.message}.`, {
      cause: error,
    });
  }
}

/**
 * The generator as the page uses it: a {@link WasmPool} or the inference module's browser `Generator`, images as
 * grey batches, and a fallback to WebAssembly if WebGPU fails while generating (when the choice was `auto`).
 */
export class Engine {
  /** Why the current backend runs, in plain words. */
  reason: string;

  private constructor(
    private generator: Runner,
    readonly modelUrl: string,
    readonly modelBytes: Uint8Array,
    readonly choice: BackendChoice,
  ) {
    this.reason = plainReason(generator.provider.name, choice, generator.provider.reason);
  }

  /**
   * Downloads the model and opens it on `choice` (`auto`: WebGPU on a hardware adapter, WebAssembly
   * otherwise). A `webgpu` choice that cannot run here falls back to WebAssembly, saying why in
   * `reason`.
   * @throws {EngineError} with a message for the page when the model or the backend cannot be used.
   */
  static async load(
    modelUrl: string,
    choice: BackendChoice,
    onStage: (text: string) => void = () => {},
  ): Promise<Engine> {
    onStage("Downloading the model…");
    const bytes = await fetchModel(modelUrl);
    const noWasm = wasmUnsupportedReason();
    if (noWasm !== null && choice === "wasm") throw new EngineError(noWasm);
    let provider: BackendChoice = noWasm !== null ? "webgpu" : choice;
    let reason: string | null = null;
    const problem = provider === "wasm" ? null : await webgpuProblem();
    // Automatic mode avoids any problem; a forced WebGPU still runs on a software adapter.
    if (
      problem !== null && noWasm === null && (provider === "auto" || problem.kind === "missing")
    ) {
      reason = provider === "auto" ? problem.text : `WebGPU was asked for, but ${problem.text}`;
      provider = "wasm";
    }
    onStage(
      provider === "wasm"
        ? "Starting ONNX Runtime on WebAssembly (compiling its runtime)…"
        : "Starting ONNX Runtime on WebGPU…",
    );
    let generator: Runner;
    try {
      generator = await open(bytes, modelUrl, provider);
    } catch (error) {
      const providerFailed = error instanceof EngineError && error.cause instanceof ProviderError;
      if (provider !== "webgpu" || noWasm !== null || !providerFailed) throw error;
      reason = `WebGPU could not run the model: ${(error.cause as Error).message}`;
      generator = await open(bytes, modelUrl, "wasm");
    }
    const engine = new Engine(generator, modelUrl, bytes, choice);
    if (reason !== null) engine.reason = reason;
    return engine;
  }

  /** `webgpu` or `wasm`. */
  get backend(): string {
    return this.generator.provider.name;
  }

  /** WebAssembly workers the model runs in, or null on WebGPU (or WebAssembly in ONNX Runtime's proxy). */
  get workers(): number | null {
    return this.generator instanceof WasmPool ? this.generator.size : null;
  }

  get latentDim(): number {
    return this.generator.latentDim;
  }

  /** Training steps recorded in the model file (`training_steps` metadata), or null. */
  get trainingSteps(): number | null {
    const steps = Number(this.generator.info.metadata.training_steps ?? NaN);
    return Number.isInteger(steps) && steps >= 0 ? steps : null;
  }

  get height(): number {
    return this.generator.info.height;
  }

  get width(): number {
    return this.generator.info.width;
  }

  /**
   * The `count` latents of `seed` (`latentsForSeed`), or with a digit the first `count` of them the
   * classifier reads as that digit (the inference module's `findDigits`; the classifier is loaded on
   * first use).
   * @throws {EngineError} when too few of the seed's latents show the digit.
   */
  async latents(seed: number, count: number, digit: number | null): Promise<Float32Array> {
    if (digit === null) return latentsForSeed(seed, count, this.latentDim);
    try {
      return (await this.generator.findDigits(count, { seed, digit })).latents;
    } catch (error) {
      if (!(error instanceof InferenceError)) throw error;
      throw new EngineError(`Could not find ${count} × the digit ${digit}: ${error.message}.`, {
        cause: error,
      });
    }
  }

  /** Runs `latents` (rows of `latentDim`) and returns `0.5·G(z) + 0.5`, one grey image per row. */
  async generate(latents: Float32Array): Promise<GreyBatch> {
    let images;
    try {
      images = await this.generator.generate(latents);
    } catch (error) {
      if (this.backend !== "webgpu" || this.choice !== "auto" || wasmUnsupportedReason() !== null) {
        throw error;
      }
      const failed = this.generator;
      this.generator = await open(this.modelBytes, this.modelUrl, "wasm");
      this.reason = `WebGPU failed while drawing: ${(error as Error).message}`;
      void failed.dispose().catch(() => {});
      images = await this.generator.generate(latents);
    }
    if (images.channels !== 1) {
      throw new EngineError(
        `This page draws grey digits, but the model makes ${images.channels}-channel images.`,
      );
    }
    return { data: images.data, count: images.count, height: images.height, width: images.width };
  }
}
