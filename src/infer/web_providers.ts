/**
 * onnxruntime-web providers: `wasm` (WebAssembly, SIMD) and WebGPU. Browser-safe: no `node:` imports.
 *
 * Each provider runs on its own build of the package: `wasm` on the plain WebAssembly build
 * (`onnxruntime-web/wasm`, runtime `ort-wasm-simd-threaded.wasm`, 14 MB), WebGPU on the `webgpu` build (runtime
 * `ort-wasm-simd-threaded.asyncify.wasm`, 27 MB), imported only when a WebGPU session is created, so a page that
 * runs on WebAssembly never fetches the bigger runtime. In Deno the builds find their `.wasm` next to themselves in
 * the npm package, run single-threaded, and reach the GPU through Deno's `navigator.gpu` (on Linux without a GPU:
 * SwiftShader, see `WEBGPU_HINT`).
 * @module
 */
import * as ortWasm from "onnxruntime-web/wasm";
import { ProviderError } from "./errors.ts";
import { ortSession } from "./ort_session.ts";
import type { Provider, Session, SessionSignature, SessionTuning } from "./provider.ts";

const IN_DENO = "Deno" in globalThis;

/** One build of onnxruntime-web (both have the same API, each its own `env` and runtime). */
type OrtWeb = typeof ortWasm;

let webGpuBuild: Promise<OrtWeb> | null = null;

/** onnxruntime-web's WebGPU build, imported on first use (a bundler puts it in a chunk of its own). */
function ortWebGpu(): Promise<OrtWeb> {
  webGpuBuild ??= import("onnxruntime-web/webgpu");
  return webGpuBuild;
}

/** What to do when no WebGPU adapter is found (Linux without a GPU: Chromium's SwiftShader Vulkan driver). */
export const WEBGPU_HINT =
  "on Linux without a GPU, install Debian's chromium and start the process with " +
  "LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json " +
  "(SwiftShader, a slow CPU emulation of a GPU)";

function configureWasm(ort: OrtWeb, tuning: SessionTuning): void {
  if (tuning.wasmPaths !== undefined) ort.env.wasm.wasmPaths = tuning.wasmPaths;
  // Deno has no cross-origin isolation for worker threads: run the WebAssembly kernels on this thread.
  if (tuning.threads !== undefined) ort.env.wasm.numThreads = tuning.threads;
  else if (IN_DENO) ort.env.wasm.numThreads = 1;
  // The WebGPU build cannot run in the proxy worker; its env is its own, so this only reaches `wasm`.
  if (tuning.wasmProxy !== undefined && ort === ortWasm) ort.env.wasm.proxy = tuning.wasmProxy;
}

async function webSession(
  ort: OrtWeb,
  bytes: Uint8Array,
  signature: SessionSignature,
  tuning: SessionTuning,
  executionProvider: "wasm" | "webgpu",
  label: string,
): Promise<Session> {
  configureWasm(ort, tuning);
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [executionProvider],
      graphOptimizationLevel: tuning.optimization ?? "all",
    });
    return ortSession(session, ort.Tensor, signature);
  } catch (e) {
    throw new ProviderError(
      `${label}: onnxruntime-web could not create a session (${(e as Error).message})`,
    );
  }
}

/** This runtime's default WebGPU adapter, or null when there is none. */
async function webGpuAdapter(): Promise<GPUAdapter | null> {
  // Node before 21 has no `navigator` at all; typed by hand, as a window's and a worker's navigator differ.
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  return gpu ? await gpu.requestAdapter().catch(() => null) : null;
}

/** Fails with a {@link ProviderError} unless this runtime offers a WebGPU adapter. */
async function requireWebGpuAdapter(label: string): Promise<void> {
  if (!globalThis.navigator || !("gpu" in navigator)) {
    throw new ProviderError(`${label}: this runtime has no WebGPU (navigator.gpu is missing)`);
  }
  if (!(await webGpuAdapter())) {
    throw new ProviderError(
      `${label}: no WebGPU adapter was found; ${IN_DENO ? WEBGPU_HINT : "use wasm"}`,
    );
  }
}

/** A reason not to pick WebGPU automatically: no adapter, or a software one (SwiftShader, llvmpipe). */
async function softwareOrMissingAdapter(): Promise<string | null> {
  const adapter = await webGpuAdapter();
  if (!adapter) return "no WebGPU adapter";
  const facts = adapter as GPUAdapter & {
    isFallbackAdapter?: boolean;
    info?: { description?: string; architecture?: string; isFallbackAdapter?: boolean };
  };
  const name = `${facts.info?.architecture ?? ""} ${facts.info?.description ?? ""}`.toLowerCase();
  return facts.isFallbackAdapter || facts.info?.isFallbackAdapter ||
      /swiftshader|llvmpipe/.test(name)
    ? "the WebGPU adapter is a software emulation of a GPU, slower than wasm"
    : null;
}

/** onnxruntime-web on WebAssembly (SIMD; single-threaded in Deno), on the package's plain WebAssembly build. */
export const wasmProvider: Provider = {
  name: "wasm",
  maxBatch: 64,
  create: (bytes, signature, tuning) =>
    webSession(ortWasm, bytes, signature, tuning, "wasm", "wasm"),
};

/**
 * onnxruntime-web on WebGPU, named `name` (`webgpu` in the browser entry, `web-webgpu` beside onnxruntime-node).
 * `auto` passes it over when the adapter is a software emulation (it runs, but slower than wasm).
 */
export function webGpuProvider(name: "webgpu" | "web-webgpu"): Provider {
  return {
    name,
    maxBatch: 64,
    async create(bytes, signature, tuning) {
      await requireWebGpuAdapter(name);
      let ort: OrtWeb;
      try {
        ort = await ortWebGpu();
      } catch (e) {
        webGpuBuild = null;
        throw new ProviderError(
          `${name}: onnxruntime-web's WebGPU build could not be loaded (${(e as Error).message})`,
        );
      }
      return webSession(ort, bytes, signature, tuning, "webgpu", name);
    },
    unsuitableForAuto: softwareOrMissingAdapter,
  };
}
