/**
 * The server's Prometheus metrics (prom-client, one registry per server): requests and errors by endpoint and
 * status, request latency, rows and requests per model run, and the batcher's queue depth.
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Upper bounds of the latency buckets, in seconds (1 ms to 30 s). */
const LATENCY_BUCKETS = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];
/** Upper bounds of the batch-size buckets (rows, or requests, per model run). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The metrics of one server. */
export class ServerMetrics {
  readonly #registry = new Registry();
  readonly #requests = new Counter({
    name: "dcgan_serve_requests_total",
    help: "HTTP requests answered, by endpoint and status code.",
    labelNames: ["endpoint", "status"] as const,
    registers: [this.#registry],
  });
  readonly #errors = new Counter({
    name: "dcgan_serve_errors_total",
    help: "HTTP requests answered with a 4xx or 5xx status, by endpoint and status code.",
    labelNames: ["endpoint", "status"] as const,
    registers: [this.#registry],
  });
  readonly #latency = new Histogram({
    name: "dcgan_serve_request_duration_seconds",
    help: "Time from a request's arrival to its response, by endpoint.",
    labelNames: ["endpoint"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.#registry],
  });
  readonly #batchRows = new Histogram({
    name: "dcgan_serve_batch_rows",
    help:
      "Latent rows in each model run of the infer endpoint (dynamic batching puts requests together).",
    buckets: BATCH_BUCKETS,
    registers: [this.#registry],
  });
  readonly #batchRequests = new Histogram({
    name: "dcgan_serve_batch_requests",
    help: "Infer requests put together into each model run.",
    buckets: BATCH_BUCKETS,
    registers: [this.#registry],
  });
  readonly #queueDepth = new Gauge({
    name: "dcgan_serve_queue_depth",
    help: "Infer requests waiting for a model run.",
    registers: [this.#registry],
  });

  /** Counts one answered request and its latency. */
  observeRequest(endpoint: string, status: number, seconds: number): void {
    const labels = { endpoint, status: String(status) };
    this.#requests.inc(labels);
    if (status >= 400) this.#errors.inc(labels);
    this.#latency.observe({ endpoint }, seconds);
  }

  /** Counts one model run of `rows` rows from `requests` requests. */
  observeBatch(rows: number, requests: number): void {
    this.#batchRows.observe(rows);
    this.#batchRequests.observe(requests);
  }

  /** Sets the number of requests waiting for a run. */
  setQueueDepth(requests: number): void {
    this.#queueDepth.set(requests);
  }

  /** The content type of {@link text}. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** All metrics in Prometheus's text exposition format. */
  text(): Promise<string> {
    return this.#registry.metrics();
  }
}
