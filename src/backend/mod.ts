/**
 * Chooses and initialises the TF.js backend used for training and TF.js inference.
 *
 * `auto` prefers `tensorflow` (@tensorflow/tfjs-node, native libtensorflow) when its binding loads, and otherwise
 * falls back to `wasm` (its heavy kernels then go native through `wasm_kernels.ts`, or stay in XNNPACK with the
 * project's own gradient kernels).
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { registerWasmKernels } from "../kernels/mod.ts";
import { loadTfjsNode, TFJS_NODE_INSTALL } from "./tfjs_node.ts";

export { describeTfjsNodeFailure } from "./tfjs_node.ts";

/** Backends a user may ask for on the command line. */
export const BACKEND_NAMES = ["auto", "tensorflow", "wasm", "webgpu", "cpu"] as const;
/** A backend name accepted by {@link initBackend}. */
export type BackendName = typeof BACKEND_NAMES[number];

/** What {@link initBackend} chose and why. */
export interface BackendChoice {
  /** The backend now active in TF.js (`tensorflow`, `wasm`, `webgpu` or `cpu`). */
  name: Exclude<BackendName, "auto">;
  /** A sentence for the user saying why this backend is used. */
  reason: string;
}

/** Raised when a requested backend cannot be initialised; the message says what to do. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendError";
  }
}

/** Returns true when `name` is a backend name accepted by {@link initBackend}. */
export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

// TF.js prints a "install tfjs-node" banner through its logger; we report the backend choice ourselves.
tf.env().set("PROD", true);

let wasmPathsSet = false;
function configureWasm(): void {
  if (wasmPathsSet) return;
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@tensorflow/tfjs-backend-wasm");
  setWasmPaths(pathToFileURL(dirname(entry)).href + "/");
  registerWasmKernels();
  wasmPathsSet = true;
}

async function activate(name: Exclude<BackendName, "auto">): Promise<void> {
  if (name === "wasm") configureWasm();
  if (name === "webgpu") {
    if (!("gpu" in navigator)) {
      throw new BackendError(
        "webgpu: this runtime has no navigator.gpu (WebGPU); use --backend wasm",
      );
    }
    await import("@tensorflow/tfjs-backend-webgpu");
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name === "tensorflow" ? "tensorflow" : name);
  } catch (e) {
    throw new BackendError(`${name}: failed to initialise (${(e as Error).message})`);
  }
  if (!ok) throw new BackendError(`${name}: TF.js could not initialise this backend`);
  await tf.ready();
}

/**
 * Initialises the requested TF.js backend. `auto` tries `tensorflow` first and falls back to `wasm`, saying why.
 * @throws {BackendError} when an explicitly requested backend cannot be used.
 */
export async function initBackend(requested: BackendName = "auto"): Promise<BackendChoice> {
  if (requested === "tensorflow" || requested === "auto") {
    const failure = await loadTfjsNode();
    if (failure === null) {
      await activate("tensorflow");
      return { name: "tensorflow", reason: "@tensorflow/tfjs-node native binding loaded" };
    }
    if (requested === "tensorflow") {
      throw new BackendError(
        `tensorflow: @tensorflow/tfjs-node is not usable (${failure}). Install it with ` +
          `\`${TFJS_NODE_INSTALL}\`, or use --backend wasm`,
      );
    }
    await activate("wasm");
    return {
      name: "wasm",
      reason: `tfjs-node is not available: ${failure}; using the WebAssembly backend`,
    };
  }
  await activate(requested);
  return { name: requested, reason: `requested with --backend ${requested}` };
}
