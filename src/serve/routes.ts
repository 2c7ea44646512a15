/**
 * The server's endpoints: the v2 protocol's health, metadata and inference (with Triton's model configuration),
 * plus `/v1/sample.png` and `/metrics`. {@link handleRequest} never throws: bad input gets a 4xx with
 * `{"error": "..."}`, anything unexpected a 500 with one line (the stack goes to the log only). Every `GET`
 * endpoint answers `HEAD` too (the same status and headers, no body). A request that runs the model has a time
 * budget (`requestTimeoutMs`, its body included) and is dropped, wherever it waits, when its client goes.
 * @module
 */
import {
  imageDims,
  InputError,
  type ModelInfo,
  type TritonModelConfig,
  v2Datatype,
  type V2InferResponse,
  type V2ModelMetadata,
  type V2ServerMetadata,
} from "../infer/mod.ts";
import { ONNX_PLATFORM } from "../triton/mod.ts";
import { type DynamicBatcher, QueueFullError } from "./batcher.ts";
import {
  errorResponse,
  HttpError,
  jsonResponse,
  readBodyText,
  type UploadTracker,
} from "./http.ts";
import { parseInferRequest } from "./infer_request.ts";
import type { ServerMetrics } from "./metrics.ts";
import { RETRY_AFTER_S } from "./options.ts";
import { parseSampleQuery } from "./sample_png.ts";
import { ModelStoppedError, type WorkerModel } from "./worker_model.ts";

/** The server's name and version in `GET /v2`. */
export const SERVER_NAME = "dcgan-deno";
/** The version of this server's protocol implementation. */
export const SERVER_VERSION = "1.0.0";
/** The one version of the served model (Triton's repository folder `1`). */
export const MODEL_VERSION = "1";

/** What the endpoints need from the server. */
export interface ServerContext {
  name: string;
  /** The model, run off the event loop. */
  model: Pick<WorkerModel, "info" | "samplePng">;
  batcher: DynamicBatcher;
  metrics: ServerMetrics;
  config: TritonModelConfig;
  maxRequestRows: number;
  bodyLimit: number;
  /** The time budget of a request that runs the model, in milliseconds. */
  requestTimeoutMs: number;
  /** The request bodies being read (a stopping server waits for them). */
  uploads: UploadTracker;
  /** True once the server is stopping: readiness turns false and new work is refused with 503. */
  isDraining(): boolean;
}

/** `signal` fires when the client goes, or (for a route that runs the model) when its time budget is spent. */
type Handler = (
  request: Request,
  url: URL,
  ctx: ServerContext,
  signal: AbortSignal,
) => Promise<Response> | Response;

interface Route {
  endpoint: string;
  method: "GET" | "POST";
  handler: Handler;
  /** Runs the model (refused while the server is stopping). */
  work?: boolean;
}

/** A health answer: 200 for true, 400 for false, empty body (the protocol's rule). */
function health(ok: boolean): Response {
  return new Response(null, { status: ok ? 200 : 400 });
}

function modelMetadata(info: ModelInfo, name: string): V2ModelMetadata {
  const batch = info.fixedBatch ?? -1;
  return {
    name,
    versions: [MODEL_VERSION],
    platform: ONNX_PLATFORM,
    inputs: [{
      name: info.inputName,
      datatype: v2Datatype(info.inputType),
      shape: [batch, info.latentDim],
    }],
    outputs: [{
      name: info.outputName,
      datatype: v2Datatype(info.outputType),
      shape: [batch, ...imageDims(info)],
    }],
  };
}

/**
 * Checks that every output value is finite: JSON has no NaN or infinity (`JSON.stringify` would write `null`).
 * @throws {HttpError} 500 naming the first one.
 */
function checkFinite(values: Float32Array, rowSize: number): void {
  const i = values.findIndex((v) => !Number.isFinite(v));
  if (i < 0) return;
  throw new HttpError(
    500,
    `the model's output is not finite (${values[i]} in row ${Math.floor(i / rowSize)}, ` +
      `value ${i % rowSize}): the input is outside what the model can compute`,
  );
}

async function infer(request: Request, ctx: ServerContext, signal: AbortSignal): Promise<Response> {
  const info = ctx.model.info;
  const text = await readBodyText(request, ctx.bodyLimit, ctx.uploads, signal);
  const call = parseInferRequest(text, info, ctx.maxRequestRows);
  const values = await ctx.batcher.run(call.latents, call.rows, signal);
  checkFinite(values, values.length / call.rows);
  const response: V2InferResponse = {
    model_name: ctx.name,
    model_version: MODEL_VERSION,
    ...(call.id === undefined ? {} : { id: call.id }),
    outputs: [{
      name: info.outputName,
      datatype: v2Datatype(info.outputType),
      shape: [call.rows, ...imageDims(info)],
      data: [],
    }],
  };
  return new Response(jsonBytes(response, values), {
    headers: { "content-type": "application/json" },
  });
}

/** Values written per part of an answer's JSON. */
const VALUES_PER_PART = 16_384;

/**
 * The most bytes a float32 value and its comma take in JSON: a sign, 17 significant digits, a point and an
 * exponent of at most two digits (`-1.2345678901234567e-38,`).
 */
const BYTES_PER_VALUE = 25;

/**
 * The JSON bytes of `response` with `values` as its (empty) `data` array, written a part at a time into one
 * buffer: a 1,024-row answer is about 16 MB of text, which is never held as one JavaScript string, nor its values
 * as an array of numbers. (A finite number's text is the same in `join` and in JSON.)
 */
function jsonBytes(response: V2InferResponse, values: Float32Array): Uint8Array<ArrayBuffer> {
  const [head, tail] = JSON.stringify(response).split('"data":[]');
  const encoder = new TextEncoder();
  const bytes = new Uint8Array(
    (head.length + tail.length) * 3 + 16 + values.length * BYTES_PER_VALUE,
  );
  let offset = 0;
  const write = (
    text: string,
  ) => (offset += encoder.encodeInto(text, bytes.subarray(offset)).written);
  write(`${head}"data":[`);
  for (let start = 0; start < values.length; start += VALUES_PER_PART) {
    const text = values.subarray(start, start + VALUES_PER_PART).join(",");
    write(start > 0 ? `,${text}` : text);
  }
  write(`]${tail}`);
  return bytes.subarray(0, offset);
}

const MODEL_ROUTES: Record<string, Route> = {
  "": {
    endpoint: "model_metadata",
    method: "GET",
    handler: (_r, _u, ctx) => jsonResponse(modelMetadata(ctx.model.info, ctx.name)),
  },
  ready: {
    endpoint: "model_ready",
    method: "GET",
    handler: (_r, _u, ctx) => health(!ctx.isDraining()),
  },
  config: {
    endpoint: "model_config",
    method: "GET",
    handler: (_r, _u, ctx) => jsonResponse(ctx.config),
  },
  infer: {
    endpoint: "infer",
    method: "POST",
    work: true,
    handler: (r, _u, ctx, signal) => infer(r, ctx, signal),
  },
};

const FIXED_ROUTES: Record<string, Route> = {
  "/v2": {
    endpoint: "server_metadata",
    method: "GET",
    handler: () => {
      const body: V2ServerMetadata = {
        name: SERVER_NAME,
        version: SERVER_VERSION,
        extensions: ["model_configuration"],
      };
      return jsonResponse(body);
    },
  },
  "/v2/health/live": { endpoint: "health_live", method: "GET", handler: () => health(true) },
  "/v2/health/ready": {
    endpoint: "health_ready",
    method: "GET",
    handler: (_r, _u, ctx) => health(!ctx.isDraining()),
  },
  "/v1/sample.png": {
    endpoint: "sample_png",
    method: "GET",
    work: true,
    handler: async (_r, url, ctx, signal) => {
      const query = parseSampleQuery(url.searchParams, ctx.maxRequestRows);
      const png = await ctx.model.samplePng(query.n, query.options, signal);
      return new Response(png as Uint8Array<ArrayBuffer>, {
        headers: { "content-type": "image/png" },
      });
    },
  },
  "/metrics": {
    endpoint: "metrics",
    method: "GET",
    handler: async (_r, _u, ctx) =>
      new Response(await ctx.metrics.text(), {
        headers: { "content-type": ctx.metrics.contentType },
      }),
  },
};

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(?:\/(ready|config|infer))?$/;

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Finds the route of a path; for a model path, also checks the model's name and version (404 otherwise). */
function findRoute(pathname: string, ctx: ServerContext): Route | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const fixed = FIXED_ROUTES[path];
  if (fixed) return fixed;
  const match = MODEL_PATH.exec(path);
  if (!match) return null;
  const route = MODEL_ROUTES[match[3] ?? ""];
  return {
    ...route,
    handler: (request, url, c, signal) => {
      const name = decode(match[1]);
      if (name !== ctx.name) {
        throw new HttpError(404, `unknown model "${name}"; this server serves "${ctx.name}"`);
      }
      const version = match[2] === undefined ? undefined : decode(match[2]);
      if (version !== undefined && version !== MODEL_VERSION) {
        throw new HttpError(
          404,
          `model "${name}" has no version "${version}"; its version is "${MODEL_VERSION}"`,
        );
      }
      return route.handler(request, url, c, signal);
    },
  };
}

/** A status for a client that left before its answer (nginx's "client closed request"): logged, never read. */
const CLIENT_GONE = 499;

function failure(e: unknown, request: Request): Response {
  if (e instanceof HttpError) return errorResponse(e.status, e.message, e.headers);
  if (e instanceof InputError) return errorResponse(400, e.message);
  if (e instanceof QueueFullError) {
    return errorResponse(503, e.message, { "retry-after": String(RETRY_AFTER_S) });
  }
  if (e instanceof ModelStoppedError) return errorResponse(503, e.message, { connection: "close" });
  if (request.signal.aborted) return errorResponse(CLIENT_GONE, "the client closed the request");
  console.error("serve: internal error:", e);
  return errorResponse(500, `internal error: ${(e as Error)?.message ?? String(e)}`.split("\n")[0]);
}

/**
 * The signal of a request that runs the model: it fires when the client goes (`request.signal`, which fires on a
 * client's disconnect only: deno.json opts in to `no-legacy-abort`) or when `ms` have passed (with a 503 that says
 * so as its reason). Call `done` when the answer is made.
 */
function deadline(request: Request, ms: number): { signal: AbortSignal; done(): void } {
  const budget = new AbortController();
  const timer = setTimeout(() => {
    budget.abort(
      new HttpError(
        503,
        `the request did not finish within this server's time budget of ${ms / 1000} s ` +
          "(--request-timeout); retry later or ask for fewer rows",
        { "retry-after": String(RETRY_AFTER_S) },
      ),
    );
  }, ms);
  return {
    signal: AbortSignal.any([request.signal, budget.signal]),
    done: () => clearTimeout(timer),
  };
}

/** Checks that a request has a route and the route's method (`HEAD` is taken as `GET`). */
function checkRoute(
  route: Route | null,
  request: Request,
  url: URL,
  ctx: ServerContext,
): asserts route is Route {
  if (route === null) {
    throw new HttpError(404, `no endpoint ${url.pathname}; see GET /v2 and /v2/models/${ctx.name}`);
  }
  const method = request.method === "HEAD" ? "GET" : request.method;
  if (method !== route.method) {
    const allow = route.method === "GET" ? "GET, HEAD" : route.method;
    throw new HttpError(405, `${url.pathname} takes ${allow}, not ${request.method}`, { allow });
  }
  if (route.work && ctx.isDraining()) {
    throw new HttpError(503, "the server is stopping; send the request to another instance", {
      connection: "close",
    });
  }
}

/** Answers one request and counts it in the metrics. */
export async function handleRequest(request: Request, ctx: ServerContext): Promise<Response> {
  const started = performance.now();
  const url = new URL(request.url);
  const route = findRoute(url.pathname, ctx);
  let response: Response;
  try {
    checkRoute(route, request, url, ctx);
    if (route.work) {
      const budget = deadline(request, ctx.requestTimeoutMs);
      try {
        response = await route.handler(request, url, ctx, budget.signal);
      } finally {
        budget.done();
      }
    } else {
      response = await route.handler(request, url, ctx, request.signal);
    }
  } catch (e) {
    response = failure(e, request);
  }
  ctx.metrics.observeRequest(
    route?.endpoint ?? "unknown",
    response.status,
    (performance.now() - started) / 1000,
  );
  if (request.method !== "HEAD") return response;
  await response.body?.cancel();
  return new Response(null, { status: response.status, headers: response.headers });
}
