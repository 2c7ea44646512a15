/**
 * onnxruntime-web providers: `wasm` (WebAssembly, SIMD) and WebGPU. Browser-safe: no `node:` imports.
 *
 * The package's `webgpu` build is used for both: it holds the WebAssembly CPU provider and the WebGPU one. In Deno
 * the build finds its `.wasm` next to itself in the npm package, runs single-threaded, and reaches the GPU through
 * Deno's `navigator.gpu` (on Linux without a GPU: SwiftShader, see `webgpuHint`).
 * @module
 */
import * as ort from "onnxruntime-web/webgpu";
import { ProviderError } from "./errors.ts";
import { ortSession } from "./ort_session.ts";
import type { Provider, Session, SessionSignature, SessionTuning } from "./provider.ts";

const IN_DENO = "Deno" in globalThis;

/** What to do when no WebGPU adapter is found (Linux without a GPU: Chromium's SwiftShader Vulkan driver). */
export const WEBGPU_HINT =
  "on Linux without a GPU, install Debian's chromium and start the process with " +
  "LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json " +
  "(SwiftShader, a slow CPU emulation of a GPU)";

function configureWasm(tuning: SessionTuning): void {
  if (tuning.wasmPaths !== undefined) ort.env.wasm.wasmPaths = tuning.wasmPaths;
  // Deno has no cross-origin isolation for worker threads: run the WebAssembly kernels on this thread.
  if (tuning.threads !== undefined) ort.env.wasm.numThreads = tuning.threads;
  else if (IN_DENO) ort.env.wasm.numThreads = 1;
}

async function webSession(
  bytes: Uint8Array,
  signature: SessionSignature,
  tuning: SessionTuning,
  executionProvider: "wasm" | "webgpu",
  label: string,
): Promise<Session> {
  configureWasm(tuning);
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
  // Node before 21 has no `navigator` at all.
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
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

/** onnxruntime-web on WebAssembly (SIMD; single-threaded in Deno). */
export const wasmProvider: Provider = {
  name: "wasm",
  maxBatch: 64,
  create: (bytes, signature, tuning) => webSession(bytes, signature, tuning, "wasm", "wasm"),
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
      return webSession(bytes, signature, tuning, "webgpu", name);
    },
    unsuitableForAuto: softwareOrMissingAdapter,
  };
}
