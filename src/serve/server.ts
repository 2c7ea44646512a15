/**
 * Starts a server on `Deno.serve` for one generator, run in a worker (`worker_model.ts`) so that the event loop
 * stays free for health, metrics and new requests, and stops it gracefully: no new connections, requests in
 * flight finish within the drain bound (those that do not get 503), then the model is freed.
 * @module
 */
import { imageDims, type ProviderChoice } from "../infer/mod.ts";
import { tritonModelConfig } from "../triton/mod.ts";
import { DynamicBatcher } from "./batcher.ts";
import { errorResponse, UploadTracker } from "./http.ts";
import { ServerMetrics } from "./metrics.ts";
import {
  bodyLimit,
  DRAIN_TIMEOUT_MS,
  MAX_REQUEST_ROWS,
  MODEL_RUN_ROWS,
  SERVE_PROVIDERS,
  type ServeOptions,
} from "./options.ts";
import { handleRequest, type ServerContext } from "./routes.ts";
import { WorkerModel } from "./worker_model.ts";

/** How long a stopping server keeps, at most, for sending the 503s of the requests it gives up on. */
const FLUSH_MS = 1000;

/** True when `work` settles within `ms` milliseconds, false when it does not. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server could not listen on the address asked for (a bad host, a port in use). */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ListenError";
  }
}

/**
 * Checks the options that bound the server's work.
 * @throws {RangeError} naming the option out of range.
 */
function checkBounds(options: ServeOptions): void {
  if (!(SERVE_PROVIDERS as readonly string[]).includes(options.provider)) {
    throw new RangeError(
      `unknown provider "${options.provider}"; use one of: ${SERVE_PROVIDERS.join(", ")}`,
    );
  }
  const { maxRequestRows: rows, maxQueueRows, requestTimeoutMs, maxBodyBytesInFlight } = options;
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_REQUEST_ROWS) {
    throw new RangeError(
      `maxRequestRows must be an integer from 1 to ${MAX_REQUEST_ROWS}, got ${rows}`,
    );
  }
  if (!Number.isInteger(maxQueueRows) || maxQueueRows < rows) {
    throw new RangeError(
      `maxQueueRows must be an integer of at least maxRequestRows (${rows}), got ${maxQueueRows}`,
    );
  }
  if (!(requestTimeoutMs > 0 && requestTimeoutMs <= 3_600_000)) {
    throw new RangeError(
      `requestTimeoutMs must be above 0 and at most one hour, got ${requestTimeoutMs}`,
    );
  }
  if (!(maxBodyBytesInFlight > 0)) {
    throw new RangeError(`maxBodyBytesInFlight must be above 0, got ${maxBodyBytesInFlight}`);
  }
}

/** A running server. */
export interface ServerHandle {
  /** The server's base URL (`http://127.0.0.1:8000`). */
  url: string;
  /** The served model's v2 URL, what `createGenerator` takes (`http://127.0.0.1:8000/v2/models/generator`). */
  modelUrl: string;
  /** The port it listens on (the free one chosen for port 0). */
  port: number;
  /** The provider the model runs on, and why. */
  provider: ProviderChoice;
  /** The largest request body it reads, in bytes (see `bodyLimit`). */
  bodyLimit: number;
  /**
   * Stops the server: new model requests get 503 at once; once no request body is still arriving (`Deno.serve`'s
   * shutdown would cut those off), it stops accepting connections and lets the requests in flight finish, then
   * frees the model. Resolves to false when they did not all finish within `timeoutMs`: then the model's worker
   * is ended, the requests still waiting for it get 503, and bodies still arriving are cut off.
   */
  shutdown(timeoutMs?: number): Promise<boolean>;
}

/**
 * Opens the model and starts listening.
 * @throws {RangeError} for an option out of range, `ModelError` / `ProviderError` from opening the model,
 * {@link ListenError} when it cannot listen.
 */
export async function startServer(options: ServeOptions): Promise<ServerHandle> {
  checkBounds(options);
  const model = await WorkerModel.open(options.model, options.provider, MODEL_RUN_ROWS);
  const info = model.info;
  const metrics = new ServerMetrics();
  const uploads = new UploadTracker(options.maxBodyBytesInFlight);
  const batcher = new DynamicBatcher(
    (latents, _rows, signal) => model.outputs(latents, signal),
    {
      maxBatch: options.maxBatch,
      maxDelayMs: options.maxDelayMs,
      inputSize: info.latentDim,
      outputSize: imageDims(info).reduce((a, b) => a * b, 1),
      othersArriving: () => uploads.busy,
      maxQueueRows: options.maxQueueRows,
    },
    {
      onBatch: (rows, requests) => metrics.observeBatch(rows, requests),
      onQueueDepth: (depth) => metrics.setQueueDepth(depth),
    },
  );
  let draining = false;
  const ctx: ServerContext = {
    name: options.name,
    model,
    batcher,
    metrics,
    config: tritonModelConfig(info, {
      name: options.name,
      maxBatchSize: options.maxRequestRows,
      maxQueueDelayMs: options.maxDelayMs,
    }),
    maxRequestRows: options.maxRequestRows,
    bodyLimit: bodyLimit(options.maxRequestRows, info.latentDim),
    requestTimeoutMs: options.requestTimeoutMs,
    uploads,
    isDraining: () => draining,
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      onListen: () => {},
      onError: (e) => {
        console.error("serve: internal error:", e);
        return errorResponse(500, "internal error");
      },
    }, (request) => handleRequest(request, ctx));
  } catch (e) {
    model.terminate();
    throw new ListenError(
      `cannot listen on ${options.host} port ${options.port}: ${(e as Error).message}`,
    );
  }
  const { port } = server.addr;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  let stopped: Promise<boolean> | null = null;
  return {
    url,
    modelUrl: `${url}/v2/models/${encodeURIComponent(options.name)}`,
    port,
    provider: model.provider,
    bodyLimit: ctx.bodyLimit,
    shutdown(timeoutMs = DRAIN_TIMEOUT_MS): Promise<boolean> {
      stopped ??= (async () => {
        draining = true;
        // The last part of the bound is kept for sending the 503s of the requests that did not finish.
        const flushMs = Math.min(FLUSH_MS, timeoutMs / 10);
        const drain = ctx.uploads.idle().then(() => server.shutdown());
        if (await within(drain, timeoutMs - flushMs)) {
          await model.dispose();
          return true;
        }
        // Past the bound: the requests waiting for the model get 503 and bodies still arriving are cut off.
        model.terminate();
        await within(server.shutdown(), flushMs);
        return false;
      })();
      return stopped;
    },
  };
}

/**
 * Keeps a server running until SIGTERM or SIGINT, then shuts it down (see {@link ServerHandle.shutdown}) and
 * resolves to the exit code: 0 when every request in flight finished, 1 when some were cut off after
 * `timeoutMs`.
 */
export function serveUntilSignal(
  handle: ServerHandle,
  timeoutMs = DRAIN_TIMEOUT_MS,
  log: (line: string) => void = console.error,
): Promise<number> {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  return new Promise((resolve) => {
    const onSignal = async () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      log("serve: stopping: no new connections; finishing the requests in flight");
      const drained = await handle.shutdown(timeoutMs);
      log(
        drained
          ? "serve: stopped"
          : `serve: stopped after ${timeoutMs} ms with requests still in flight`,
      );
      resolve(drained ? 0 : 1);
    };
    for (const s of signals) Deno.addSignalListener(s, onSignal);
  });
}
