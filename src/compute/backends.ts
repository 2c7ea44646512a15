/**
 * The TF.js backends training and TF.js inference can run on, as a registry of named choices: each says whether
 * it can run here and why not, and `auto` takes the first available one in priority order.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { loadTfjsNode, TFJS_NODE_INSTALL } from "./tfjs_node.ts";
import { registerWasmKernels } from "./xnnpack/register.ts";

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

/** Raised when a requested backend or kernel set cannot be used; the message says what to do. */
export class BackendError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackendError";
  }
}

/** One TF.js backend the project can use. */
interface Backend {
  name: Exclude<BackendName, "auto">;
  /** Place in `auto`'s order (lower first), or null when `auto` never picks it. */
  autoPriority: number | null;
  /** Null when the backend can run here, else why not. */
  available(): Promise<string | null>;
  /** What to do when it was asked for by name and is not available. */
  remedy: string;
  /** Work before `tf.setBackend` (loading a package, registering kernels). */
  prepare?(): Promise<void>;
}

// TF.js prints a "install tfjs-node" banner through its logger; we report the backend choice ourselves.
tf.env().set("PROD", true);

let wasmPrepared = false;

const BACKENDS: readonly Backend[] = [
  {
    name: "tensorflow",
    autoPriority: 1,
    // Importing tfjs-node is what tells whether its binding loads; it registers the backend as it does.
    available: loadTfjsNode,
    remedy: `install it with \`${TFJS_NODE_INSTALL}\`, or use --backend wasm`,
  },
  {
    name: "wasm",
    autoPriority: 2,
    available: () => Promise.resolve(null),
    remedy: "",
    prepare() {
      if (!wasmPrepared) {
        const entry = createRequire(import.meta.url).resolve("@tensorflow/tfjs-backend-wasm");
        setWasmPaths(pathToFileURL(dirname(entry)).href + "/");
        registerWasmKernels();
        wasmPrepared = true;
      }
      return Promise.resolve();
    },
  },
  {
    // Never automatic: without a GPU it runs on a software rasteriser, far slower than wasm.
    name: "webgpu",
    autoPriority: null,
    available: () =>
      Promise.resolve("gpu" in navigator ? null : "this runtime has no navigator.gpu (WebGPU)"),
    remedy: "use --backend wasm",
    async prepare() {
      await import("@tensorflow/tfjs-backend-webgpu");
    },
  },
  {
    // Never automatic: the pure-JS reference, minutes per training step.
    name: "cpu",
    autoPriority: null,
    available: () => Promise.resolve(null),
    remedy: "",
  },
];

async function activate(backend: Backend): Promise<void> {
  await backend.prepare?.();
  let ok = false;
  try {
    ok = await tf.setBackend(backend.name);
  } catch (e) {
    throw new BackendError(`${backend.name}: failed to initialise (${(e as Error).message})`);
  }
  if (!ok) throw new BackendError(`${backend.name}: TF.js could not initialise this backend`);
  await tf.ready();
}

/**
 * Initialises the requested TF.js backend. `auto` takes the first available backend in priority order
 * (`tensorflow`, then `wasm`) and says in the reason why it passed over the others.
 * @throws {BackendError} when a backend asked for by name cannot be used here.
 */
export async function initBackend(requested: BackendName = "auto"): Promise<BackendChoice> {
  if (requested !== "auto") {
    const backend = BACKENDS.find((b) => b.name === requested)!;
    const why = await backend.available();
    if (why !== null) {
      throw new BackendError(`${backend.name}: not usable here (${why}); ${backend.remedy}`);
    }
    await activate(backend);
    return { name: backend.name, reason: `requested with --backend ${requested}` };
  }
  const order = BACKENDS.filter((b) => b.autoPriority !== null)
    .sort((a, b) => a.autoPriority! - b.autoPriority!);
  const skipped: string[] = [];
  for (const backend of order) {
    const why = await backend.available();
    if (why !== null) {
      skipped.push(`${backend.name} is not available: ${why}`);
      continue;
    }
    await activate(backend);
    const reason = skipped.length === 0
      ? `auto: ${backend.name}, the first choice`
      : `auto: ${skipped.join("; ")}; using ${backend.name}`;
    return { name: backend.name, reason };
  }
  throw new BackendError(`auto: no backend works here: ${skipped.join("; ")}`);
}
