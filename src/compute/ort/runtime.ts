/**
 * onnxruntime-node's native session binding, used synchronously (TF.js kernels are synchronous; the package's public
 * `run` only wraps the same native call in a Promise). One cached session per kernel graph.
 * @module
 */
import { createRequire } from "node:module";
import { type KernelGraph, outputName } from "./graphs/common.ts";

/** A tensor as onnxruntime-node's binding reads it (the `onnxruntime-common` Tensor class). */
interface OrtTensor {
  readonly dims: readonly number[];
  readonly data: unknown;
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(
    feeds: Record<string, OrtTensor>,
    fetches: Record<string, OrtTensor | null>,
    options: object,
  ): Record<string, OrtTensor>;
  dispose(): void;
}

interface NativeModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

interface OrtPackage {
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
}

let loaded: { native: NativeModule; ort: OrtPackage } | null = null;
let loadError: string | null = null;

/**
 * Loads onnxruntime-node's native binding once. Returns null when it loads, else the reason it does not (no prebuilt
 * binary for this platform, or the package is missing).
 */
export function loadOrtBinding(): string | null {
  if (loaded !== null) return null;
  if (loadError !== null) return loadError;
  try {
    const require = createRequire(import.meta.url);
    const native = require("onnxruntime-node/dist/binding.js") as NativeModule;
    native.initOrt();
    loaded = { native, ort: require("onnxruntime-node") as OrtPackage };
    return null;
  } catch (e) {
    loadError = (e as Error).message.split("\n")[0];
    return loadError;
  }
}

/** Options of the kernel sessions. */
export interface RuntimeOptions {
  /** Intra-op threads (default: logical CPUs). */
  threads?: number;
  /**
   * Largest patch matrix (values) a kernel graph gathers for one matrix product instead of using onnxruntime's
   * Conv (default `PATCH_LIMIT`; 0 always uses Conv where it can). Changes speed, not results beyond rounding.
   */
  patchLimit?: number;
}

/** A compiled kernel graph that reads and writes `Float32Array`s (views into the wasm heap included). */
export class KernelSession {
  private constructor(
    private readonly session: NativeSession,
    private readonly graph: KernelGraph,
    private readonly ort: OrtPackage,
  ) {}

  /** Compiles `graph` with `threads` intra-op threads that sleep, not spin, between runs. */
  static create(graph: KernelGraph, options: RuntimeOptions = {}): KernelSession {
    const reason = loadOrtBinding();
    if (reason !== null || loaded === null) {
      throw new Error(`onnxruntime-node is not usable: ${reason}`);
    }
    const session = new loaded.native.binding.InferenceSession();
    const bytes = graph.model;
    session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      intraOpNumThreads: options.threads ?? navigator.hardwareConcurrency ?? 1,
      interOpNumThreads: 1,
      // Spinning threads would compete with the TF.js work that runs between kernels on the main thread.
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
    return new KernelSession(session, graph, loaded.ort);
  }

  /** Shapes of the graph's outputs, in order. */
  get outputShapes(): number[][] {
    return this.graph.outputShapes;
  }

  /**
   * Runs the graph on `inputs` (in the graph's input order) and writes its outputs into `outputs` (in the
   * graph's output order).
   */
  run(inputs: Float32Array[], outputs: Float32Array[]): void {
    const feeds: Record<string, OrtTensor> = {};
    this.graph.inputs.forEach((input, i) => {
      feeds[input.name] = new this.ort.Tensor("float32", inputs[i], input.shape);
    });
    const fetches: Record<string, OrtTensor> = {};
    this.graph.outputShapes.forEach((shape, i) => {
      fetches[outputName(i)] = new this.ort.Tensor("float32", outputs[i], shape);
    });
    this.session.run(feeds, fetches, {});
  }

  /** Frees the native session. */
  dispose(): void {
    this.session.dispose();
  }
}
