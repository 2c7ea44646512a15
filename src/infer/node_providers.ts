/**
 * onnxruntime-node providers (Deno and Node only): `cpu`, `cuda` and `webgpu` (Dawn inside onnxruntime-node).
 * The package is imported on first use, so the browser-safe parts of the module never load its native binding.
 * @module
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import type { InferenceSession } from "onnxruntime-web";
import { ProviderError } from "./errors.ts";
import { ortSession, type TensorConstructor } from "./ort_session.ts";
import type { Provider, Session, SessionSignature, SessionTuning } from "./provider.ts";

/** What to do when onnxruntime-node's WebGPU finds no adapter (Linux without a GPU: SwiftShader). */
export const NODE_WEBGPU_HINT =
  "on Linux without a GPU, install Debian's chromium and start the process with " +
  "LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (or install " +
  "libvulkan1 and set only VK_ICD_FILENAMES); SwiftShader emulates a GPU on the CPU and is slow";

type OrtNode = {
  InferenceSession: { create(bytes: Uint8Array, options: object): Promise<InferenceSession> };
  Tensor: TensorConstructor;
};

let ortNode: Promise<OrtNode> | null = null;

async function loadOrtNode(label: string): Promise<OrtNode> {
  ortNode ??= import("onnxruntime-node") as unknown as Promise<OrtNode>;
  try {
    return await ortNode;
  } catch (e) {
    ortNode = null;
    throw new ProviderError(
      `${label}: onnxruntime-node does not load here (${
        (e as Error).message
      }); use --provider wasm`,
    );
  }
}

/** The folder of onnxruntime-node's native libraries for this platform. */
function nativeFolder(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return join(dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch);
}

/** Where onnxruntime-node keeps its CUDA provider library when it was installed with the CUDA files. */
export function cudaLibrary(): string {
  const file = process.platform === "win32"
    ? "onnxruntime_providers_cuda.dll"
    : "libonnxruntime_providers_cuda.so";
  return join(nativeFolder(), file);
}

async function nodeSession(
  bytes: Uint8Array,
  signature: SessionSignature,
  tuning: SessionTuning,
  executionProvider: "cpu" | "cuda" | "webgpu",
  failureHint: (message: string) => string,
): Promise<Session> {
  const ort = await loadOrtNode(executionProvider);
  try {
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [executionProvider],
      graphOptimizationLevel: tuning.optimization ?? "all",
      intraOpNumThreads: tuning.threads ?? availableParallelism(),
      ...(tuning.optimizedModelPath ? { optimizedModelFilePath: tuning.optimizedModelPath } : {}),
      extra: { session: { intra_op: { allow_spinning: tuning.spinning ? "1" : "0" } } },
    });
    return ortSession(session, ort.Tensor, signature);
  } catch (e) {
    const message = (e as Error).message.split("\n")[0];
    throw new ProviderError(`${executionProvider}: ${failureHint(message)}`);
  }
}

/** onnxruntime-node on the CPU (MLAS kernels, `threads` intra-op threads). */
export const cpuProvider: Provider = {
  name: "cpu",
  maxBatch: 256,
  create: (bytes, signature, tuning) =>
    nodeSession(
      bytes,
      signature,
      tuning,
      "cpu",
      (m) => `onnxruntime-node could not create a session (${m})`,
    ),
};

/** onnxruntime-node on an NVIDIA GPU; needs the CUDA provider files, which npm does not ship by default. */
export const cudaProvider: Provider = {
  name: "cuda",
  maxBatch: 1024,
  create(bytes, signature, tuning) {
    const library = cudaLibrary();
    if (!existsSync(library)) {
      return Promise.reject(
        new ProviderError(
          `cuda: onnxruntime-node's CUDA files are not installed (${library} is missing). They are ` +
            "downloaded only when onnxruntime-node is installed with ONNXRUNTIME_NODE_INSTALL=cuda12, which " +
            "needs internet access and an NVIDIA driver for CUDA 12, e.g. " +
            "`ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node`; " +
            "until then use --provider cpu",
        ),
      );
    }
    return nodeSession(
      bytes,
      signature,
      tuning,
      "cuda",
      (m) =>
        `the CUDA provider did not start (${m}); it needs an NVIDIA GPU with a CUDA 12 driver and cuDNN 9`,
    );
  },
};

/** onnxruntime-node on WebGPU (Dawn: Vulkan on Linux, D3D12 on Windows, Metal on macOS). */
export const nodeWebGpuProvider: Provider = {
  name: "webgpu",
  maxBatch: 64,
  create: (bytes, signature, tuning) =>
    nodeSession(
      bytes,
      signature,
      tuning,
      "webgpu",
      (m) =>
        /adapter|vulkan/i.test(m)
          ? `onnxruntime-node found no WebGPU adapter (${m}); ${NODE_WEBGPU_HINT}`
          : `onnxruntime-node could not create a WebGPU session (${m})`,
    ),
};
