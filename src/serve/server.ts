/**
 * Starts a server on `Deno.serve` for one generator, and stops it gracefully: no new connections, requests in
 * flight finish, then the model is freed.
 * @module
 */
import { createGenerator, imageDims, type ProviderChoice } from "../infer/mod.ts";
import { tritonModelConfig } from "../triton/mod.ts";
import { DynamicBatcher } from "./batcher.ts";
import { errorResponse, UploadTracker } from "./http.ts";
import { ServerMetrics } from "./metrics.ts";
import { bodyLimit, DRAIN_TIMEOUT_MS, SERVE_PROVIDERS, type ServeOptions } from "./options.ts";
import { handleRequest, type ServerContext } from "./routes.ts";

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
   * frees the model. Resolves to false when they did not all finish within `timeoutMs` (the model is freed anyway).
   */
  shutdown(timeoutMs?: number): Promise<boolean>;
}

/**
 * Opens the model and starts listening.
 * @throws {RangeError} for an option out of range, `ModelError` / `ProviderError` from opening the model.
 */
export async function startServer(options: ServeOptions): Promise<ServerHandle> {
  if (!(SERVE_PROVIDERS as readonly string[]).includes(options.provider)) {
    throw new RangeError(
      `unknown provider "${options.provider}"; use one of: ${SERVE_PROVIDERS.join(", ")}`,
    );
  }
  const generator = await createGenerator(options.model, { provider: options.provider });
  const info = generator.info;
  const metrics = new ServerMetrics();
  const uploads = new UploadTracker();
  const batcher = new DynamicBatcher(
    (latents) => generator.outputs(latents),
    {
      maxBatch: options.maxBatch,
      maxDelayMs: options.maxDelayMs,
      inputSize: info.latentDim,
      outputSize: imageDims(info).reduce((a, b) => a * b, 1),
      othersArriving: () => uploads.busy,
    },
    {
      onBatch: (rows, requests) => metrics.observeBatch(rows, requests),
      onQueueDepth: (depth) => metrics.setQueueDepth(depth),
    },
  );
  let draining = false;
  const ctx: ServerContext = {
    name: options.name,
    generator,
    batcher,
    metrics,
    config: tritonModelConfig(info, {
      name: options.name,
      maxBatchSize: options.maxRequestRows,
      maxQueueDelayMs: options.maxDelayMs,
    }),
    maxRequestRows: options.maxRequestRows,
    bodyLimit: bodyLimit(options.maxRequestRows, info.latentDim),
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
    await generator.dispose();
    throw e;
  }
  const { port } = server.addr;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  let stopped: Promise<boolean> | null = null;
  return {
    url,
    modelUrl: `${url}/v2/models/${encodeURIComponent(options.name)}`,
    port,
    provider: generator.provider,
    bodyLimit: ctx.bodyLimit,
    shutdown(timeoutMs = DRAIN_TIMEOUT_MS): Promise<boolean> {
      stopped ??= (async () => {
        draining = true;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        });
        const drain = ctx.uploads.idle().then(() => server.shutdown()).then(() => true);
        const drained = await Promise.race([drain, timeout]);
        clearTimeout(timer);
        // Past the bound, bodies still arriving are cut off.
        if (!drained) server.shutdown().catch(() => {});
        await generator.dispose();
        return drained;
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
