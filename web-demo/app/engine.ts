/// <reference lib="dom" />
import * as ort from "onnxruntime-web";
import type { GreyBatch } from "./digit_grid.ts";
import type { BackendChoice } from "./params.ts";
import { wasmUnsupportedReason } from "./wasm_support.ts";

/** The generator as the page uses it. */
export interface Engine {
  backend: "webgpu" | "wasm";
  /** Why this backend runs, in plain words. */
  reason: string;
  latentDim: number;
  height: number;
  width: number;
  /** Runs `latents` (rows of `latentDim`) and returns `0.5·G(z) + 0.5`, one grey image per row. */
  generate(latents: Float32Array): Promise<GreyBatch>;
}

/** A failure the page explains to the user as it is. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new EngineError(
      `The model file ${url} could not be downloaded: the server is unreachable.`,
    );
  }
  if (!response.ok) {
    throw new EngineError(
      `The model file ${url} could not be downloaded (HTTP ${response.status}${
        response.statusText ? ` ${response.statusText}` : ""
      }). Rebuild the site with "deno task web:build".`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function webgpuUnavailable(): Promise<string | null> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return "this browser has no WebGPU";
  try {
    return (await gpu.requestAdapter()) ? null : "WebGPU found no graphics adapter";
  } catch {
    return "WebGPU could not open a graphics adapter";
  }
}

async function openSession(bytes: Uint8Array, provider: "webgpu" | "wasm", url: string) {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: [provider] });
  } catch (error) {
    throw new EngineError(
      `The model file ${url} could not be opened on ${provider.toUpperCase()}: ${
        (error as Error).message
      }`,
    );
  }
}

/**
 * Loads the generator at `modelUrl` on the chosen backend. `auto` takes WebGPU when the browser has an
 * adapter and falls back to WASM otherwise (also when WebGPU fails to open the model).
 */
export async function loadEngine(modelUrl: string, choice: BackendChoice): Promise<Engine> {
  ort.env.wasm.wasmPaths = new URL("ort/", location.href).href;
  const bytes = await fetchModel(modelUrl);
  let backend: "webgpu" | "wasm" = "wasm";
  let reason = choice === "wasm" ? "chosen in the address" : "";
  let session: ort.InferenceSession | null = null;
  if (choice !== "wasm") {
    const missing = await webgpuUnavailable();
    if (missing === null) {
      try {
        session = await openSession(bytes, "webgpu", modelUrl);
        backend = "webgpu";
        reason = choice === "webgpu" ? "chosen in the address" : "the browser has a WebGPU adapter";
      } catch (error) {
        if (choice === "webgpu") throw error;
        reason = `WebGPU failed (${(error as Error).message}); using WebAssembly`;
      }
    } else if (choice === "webgpu") {
      throw new EngineError(`WebGPU was requested but ${missing}. Choose WebAssembly instead.`);
    } else {
      reason = `${missing}, so WebAssembly runs it`;
    }
  }
  if (session === null) {
    const unsupported = wasmUnsupportedReason();
    if (unsupported !== null) throw new EngineError(unsupported);
    session = await openSession(bytes, "wasm", modelUrl);
  }
  const input = session.inputNames[0];
  const meta = session.inputMetadata[0];
  const latentDim = meta.isTensor ? Number(meta.shape[1]) : NaN;
  if (!Number.isInteger(latentDim)) {
    throw new EngineError(`The model file ${modelUrl} has no [batch, latent] float input.`);
  }
  const run = session;
  const engine: Engine = {
    backend,
    reason,
    latentDim,
    height: 28,
    width: 28,
    async generate(latents) {
      const count = latents.length / latentDim;
      const feeds = { [input]: new ort.Tensor("float32", latents, [count, latentDim]) };
      const result = await run.run(feeds);
      const output = result[run.outputNames[0]];
      const raw = await output.getData() as Float32Array;
      output.dispose();
      const data = new Float32Array(raw.length);
      for (let i = 0; i < raw.length; i++) data[i] = 0.5 * raw[i] + 0.5;
      return { data, count, height: engine.height, width: engine.width };
    },
  };
  return engine;
}
