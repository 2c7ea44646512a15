/** The options of `deno task serve` and {@link startServer}, their defaults and limits. @module */
import { SHIPPED_MODEL_PATHS } from "../infer/mod.ts";

/** How a server is started. */
export interface ServeOptions {
  /** The `.onnx` generator to serve. */
  model: string;
  /** The model's name in the URLs (`/v2/models/{name}`). */
  name: string;
  /** The address to listen on. */
  host: string;
  /** The port to listen on; 0 picks a free one (see `ServerHandle.port`). */
  port: number;
  /** The onnxruntime provider: one of {@link SERVE_PROVIDERS}. */
  provider: string;
  /** The most rows one model run takes from concurrent requests; 1 turns dynamic batching off. */
  maxBatch: number;
  /** The longest a request waits for others to join its run, in milliseconds. */
  maxDelayMs: number;
  /** The most rows one request (or one `/v1/sample.png`) may ask for, at most {@link MAX_REQUEST_ROWS}. */
  maxRequestRows: number;
  /** The most rows waiting for a model run; a request beyond it gets 503 with `Retry-After`. */
  maxQueueRows: number;
  /** Each model request's time budget (its body included), in milliseconds; past it the answer is 503. */
  requestTimeoutMs: number;
  /** The most request-body bytes the server holds at once; a body beyond it gets 503 with `Retry-After`. */
  maxBodyBytesInFlight: number;
}

/** The defaults of every option. */
export const SERVE_DEFAULTS: Readonly<ServeOptions> = {
  model: SHIPPED_MODEL_PATHS.generator,
  name: "generator",
  host: "127.0.0.1",
  port: 8000,
  provider: "auto",
  maxBatch: 64,
  maxDelayMs: 2,
  maxRequestRows: 1024,
  maxQueueRows: 8192,
  requestTimeoutMs: 30_000,
  maxBodyBytesInFlight: 32 * 1024 * 1024,
};

/**
 * The largest `maxRequestRows`: the JSON answer of 4,096 rows of the 28×28 generator is about 65 MB (and its body
 * may be 13 MB); beyond that, send several requests.
 */
export const MAX_REQUEST_ROWS = 4096;

/**
 * The most rows one onnxruntime run takes in the server (larger batches are run in parts). onnxruntime's CPU
 * memory arena keeps the largest run's activations: measured on the shipped generator, a 1,024-row request took
 * the server from 141 MB to 726 MB resident in runs of 256 rows, to 319 MB in runs of 64.
 */
export const MODEL_RUN_ROWS = 64;

/** The `Retry-After` (seconds) of a 503 for a full queue or body budget. */
export const RETRY_AFTER_S = 1;

/** The providers a server can run on (the local onnxruntime-node ones). */
export const SERVE_PROVIDERS = ["auto", "cpu", "cuda", "webgpu"] as const;

/** How long a stopping server waits for requests in flight before it gives up on them, in milliseconds. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The largest request body a server reads for a model with `latentDim` values per row: 32 bytes for each of
 * the `maxRequestRows × latentDim` numbers (a float32 written out in full takes at most 16, plus separators and
 * nesting), plus 64 KiB for the rest of the JSON.
 */
export function bodyLimit(maxRequestRows: number, latentDim: number): number {
  return maxRequestRows * latentDim * 32 + 65_536;
}
