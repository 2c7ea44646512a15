/**
 * The provider layer's common part: provider names, the session interface every provider returns, and the
 * `auto` choice. The onnxruntime-node providers live in `node_providers.ts`, the onnxruntime-web ones in
 * `web_providers.ts`.
 * @module
 */
import { ProviderError } from "./errors.ts";
import type { FloatType } from "./model_info.ts";

/** Every provider name the API knows (`auto` picks one of the others). */
export const PROVIDER_NAMES = [
  "auto",
  "cpu",
  "cuda",
  "webgpu",
  "wasm",
  "web-webgpu",
  "http",
] as const;

/**
 * A provider: `cpu`, `cuda`, `webgpu` run on onnxruntime-node (Deno/Node only); `wasm` and `web-webgpu` run on
 * onnxruntime-web (everywhere); `http` runs on a v2 inference server (the model is its URL, see `http_provider.ts`).
 * In the browser entry `webgpu` means onnxruntime-web's WebGPU, since onnxruntime-node does not exist there.
 */
export type ProviderName = typeof PROVIDER_NAMES[number];

/** Returns true when `name` is a known provider name. */
export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** Session tuning that providers apply where it means something. */
export interface SessionTuning {
  /**
   * Threads for one operator (onnxruntime-node cpu: default the logical CPU count; onnxruntime-web: its
   * `env.wasm.numThreads`, which needs a cross-origin isolated page, default 1 in Deno and onnxruntime-web's own
   * choice, half the logical CPUs up to 4, in browsers).
   */
  threads?: number;
  /**
   * onnxruntime-node cpu: let idle intra-op threads spin-wait between operators (default false). Spinning saves a
   * few wake-ups on a quiet machine; on a busy one it burns the CPU other work needs (`deno task bench --tuning`
   * measured 1.8× more samples/s at batch 32 without it on this project's shared 2-core machine).
   */
  spinning?: boolean;
  /** ONNX Runtime graph optimisation level (default `all`). */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /** onnxruntime-node cpu: also save the optimised graph to this path (a pre-optimised model for later loads). */
  optimizedModelPath?: string;
  /** onnxruntime-web: where its `.wasm` files are served (default: next to the bundle; in Deno, the package). */
  wasmPaths?: string;
  /**
   * onnxruntime-web `wasm` in a browser page: run the runtime in a worker (its proxy mode), so that the page stays
   * responsive while it computes (default: onnxruntime-web's, off).
   */
  wasmProxy?: boolean;
}

/**
 * What a session feeds and reads: one input and one output by name, in float32 or float16, and the shape of one
 * sample's input (a generator's `[latentDim]`, the digit classifier's `[1, 28, 28]`). `ModelInfo` is one.
 */
export interface SessionSignature {
  inputName: string;
  inputType: FloatType;
  /** Shape of one sample's input, without the batch dimension. */
  inputShape: readonly number[];
  outputName: string;
  outputType: FloatType;
}

/** One created inference session: runs float batches in the model's element types. */
export interface Session {
  /** Runs `count` inputs (float32, row-major, `count × inputShape`) and returns the raw output values as float32. */
  run(inputs: Float32Array, count: number): Promise<Float32Array>;
  /** Frees the session's native or GPU memory. */
  release(): Promise<void>;
}

/** A provider that may be able to create sessions here. */
export interface Provider {
  /** The name users pass. */
  name: Exclude<ProviderName, "auto">;
  /** Batches larger than this are split (memory and latency stay bounded). */
  maxBatch: number;
  /**
   * Creates a session for the model, or throws a {@link ProviderError} that says why this provider cannot run
   * here and what to do about it.
   */
  create(bytes: Uint8Array, signature: SessionSignature, tuning: SessionTuning): Promise<Session>;
  /** For `auto` only: a reason to pass this provider over although it could run (e.g. a software GPU). */
  unsuitableForAuto?(): Promise<string | null>;
}

/** The provider a generator runs on, and why it was chosen. */
export interface ProviderChoice {
  name: Exclude<ProviderName, "auto">;
  reason: string;
}

/**
 * Creates a session on `requested`, or for `auto` on the first of `autoOrder` that works (skipping the ones that
 * fail, and saying why in the reason).
 * @throws {ProviderError} for an unknown provider, one that is not available in this entry, or one that fails.
 */
export async function openSession(
  providers: readonly Provider[],
  autoOrder: readonly Provider[],
  requested: string,
  bytes: Uint8Array,
  signature: SessionSignature,
  tuning: SessionTuning,
): Promise<{ session: Session; provider: Provider; choice: ProviderChoice }> {
  if (requested !== "auto") {
    const provider = providers.find((p) => p.name === requested);
    if (!provider) {
      const known = ["auto", ...providers.map((p) => p.name)].join(", ");
      throw new ProviderError(
        isProviderName(requested)
          ? `provider "${requested}" is not available in this entry; use one of: ${known}`
          : `unknown provider "${requested}"; use one of: ${known}`,
      );
    }
    const session = await provider.create(bytes, signature, tuning);
    return { session, provider, choice: { name: provider.name, reason: "requested" } };
  }
  const skipped: string[] = [];
  for (const provider of autoOrder) {
    const unsuitable = await provider.unsuitableForAuto?.();
    if (unsuitable) {
      skipped.push(`skipped ${provider.name}: ${unsuitable}`);
      continue;
    }
    try {
      const session = await provider.create(bytes, signature, tuning);
      const reason = skipped.length === 0
        ? "auto: the first choice"
        : `auto: ${skipped.join("; ")}`;
      return { session, provider, choice: { name: provider.name, reason } };
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      // The first clause is enough here ("cuda: onnxruntime-node's CUDA files are not installed").
      skipped.push(`skipped ${e.message.split(" (")[0]}`);
    }
  }
  throw new ProviderError(`auto: no provider works here: ${skipped.join("; ")}`);
}
