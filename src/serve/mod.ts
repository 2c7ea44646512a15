/**
 * `deno task serve`: a generator behind the open ("v2", KServe / Triton) inference protocol's REST API on
 * `Deno.serve`, with dynamic batching, a PNG convenience endpoint and Prometheus metrics.
 *
 * ```ts
 * const server = await startServer({ ...SERVE_DEFAULTS, port: 0 });
 * const generator = await createGenerator(server.modelUrl); // from src/infer: runs on the server
 * await generator.sample(16, { seed: 7 });
 * await generator.dispose();
 * await server.shutdown();
 * ```
 *
 * Endpoints: `GET /v2/health/live`, `/v2/health/ready`, `/v2` (server metadata), `/v2/models/{name}` (model
 * metadata), `/v2/models/{name}/ready`, `/v2/models/{name}/config` (Triton's model configuration as JSON),
 * `POST /v2/models/{name}/infer` (each also under `/v2/models/{name}/versions/1/`), `GET /v1/sample.png?seed&n`
 * and `GET /metrics`; every `GET` answers `HEAD` too. The model runs in a worker, so health and metrics answer
 * while it works; model requests have a time budget, a bounded queue, and are dropped when their client goes.
 * @module
 */
export {
  type BatcherOptions,
  type BatchObserver,
  DynamicBatcher,
  QueueFullError,
  type RunBatch,
} from "./batcher.ts";
export {
  bodyLimit,
  DRAIN_TIMEOUT_MS,
  MAX_REQUEST_ROWS,
  MODEL_RUN_ROWS,
  SERVE_DEFAULTS,
  SERVE_PROVIDERS,
  type ServeOptions,
} from "./options.ts";
export { type AbuseOptions, type AbuseResult, residentMb, runAbuse } from "./abuse_load.ts";
export {
  type ChildServer,
  type LoadOptions,
  type LoadResult,
  readMetric,
  runLoad,
  spawnServer,
} from "./load_generator.ts";
export { ListenError, type ServerHandle, serveUntilSignal, startServer } from "./server.ts";
