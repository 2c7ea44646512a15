/**
 * `deno task serve`: serves an ONNX generator over the open ("v2", KServe / Triton) inference protocol, until
 * SIGTERM or SIGINT (then it finishes the requests in flight and exits).
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { InferenceError } from "../src/infer/mod.ts";
import {
  DRAIN_TIMEOUT_MS,
  ListenError,
  MAX_REQUEST_ROWS,
  MODEL_RUN_ROWS,
  SERVE_DEFAULTS as D,
  SERVE_PROVIDERS,
  type ServeOptions,
  serveUntilSignal,
  startServer,
} from "../src/serve/mod.ts";

const OPTIONS = {
  model: { kind: "string", arg: "FILE", default: D.model, help: "the .onnx generator" },
  name: {
    kind: "string",
    arg: "NAME",
    default: D.name,
    help: "the model's name in /v2/models/NAME",
  },
  host: { kind: "string", arg: "HOST", default: D.host, help: "address to listen on" },
  port: {
    kind: "integer",
    min: 0,
    max: 65535,
    default: D.port,
    help: "port to listen on (0: a free one, printed at start)",
  },
  provider: {
    kind: "string",
    arg: "NAME",
    choices: SERVE_PROVIDERS,
    default: D.provider,
    help: "where the model runs",
  },
  "max-batch": {
    kind: "integer",
    default: D.maxBatch,
    help: "most rows one model run takes from concurrent requests (1: off)",
  },
  "max-delay-ms": {
    kind: "number",
    arg: "MS",
    min: 0,
    max: 60_000,
    default: D.maxDelayMs,
    help: "longest a request waits for others to join its run",
  },
  "max-request-rows": {
    kind: "integer",
    min: 1,
    max: MAX_REQUEST_ROWS,
    default: D.maxRequestRows,
    help: "most rows one request may have (and n of /v1/sample.png)",
  },
  "max-queue-rows": {
    kind: "integer",
    min: 1,
    default: D.maxQueueRows,
    help: "most rows waiting for the model (503 with Retry-After beyond)",
  },
  "request-timeout": {
    kind: "number",
    arg: "S",
    min: 0.001,
    max: 3600,
    default: D.requestTimeoutMs / 1000,
    help: "time budget of a request that runs the model, body included (503 past it)",
  },
} as const satisfies OptionTable;

const HELP = `Serve an ONNX generator over the v2 inference protocol (KServe / Triton REST API).

Usage: deno task serve [options]

${optionsHelp(OPTIONS)}

Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready,
/v2/models/NAME/config; POST /v2/models/NAME/infer (also under /v2/models/NAME/versions/1/);
GET /v1/sample.png?seed=S&n=N[&digit=D] (the bytes of deno task sample --seed S -n N [--digit D]);
GET /metrics (Prometheus). A request larger than --max-batch runs alone (in runs of ${MODEL_RUN_ROWS} rows). Request bodies are
capped at 32 bytes per value of --max-request-rows full rows plus 64 KiB (413 beyond), and the bodies held
at once at ${
  D.maxBodyBytesInFlight / 2 ** 20
} MiB (503 with Retry-After beyond). A request whose client goes is
dropped wherever it waits. SIGTERM/SIGINT: stop
accepting, finish the requests in flight (at most ${
  DRAIN_TIMEOUT_MS / 1000
} s; those left get 503), exit 0 (1 if some were cut off).
Exit status: 0 stopped cleanly, 2 bad input (arguments, model file, unavailable provider), 1 anything else.`;

function parse(argv: string[]): ServeOptions | null {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) return null;
  if (!/^[A-Za-z0-9_.-]+$/.test(values.name)) {
    throw new UsageError(`--name ${values.name}: use letters, digits, "_", "-" and "."`);
  }
  if (values["max-queue-rows"] < values["max-request-rows"]) {
    throw new UsageError(
      `--max-queue-rows ${values["max-queue-rows"]} is below --max-request-rows ` +
        `${values["max-request-rows"]}: the queue must hold one whole request`,
    );
  }
  return {
    model: values.model,
    name: values.name,
    host: values.host,
    port: values.port,
    provider: values.provider,
    maxBatch: values["max-batch"],
    maxDelayMs: values["max-delay-ms"],
    maxRequestRows: values["max-request-rows"],
    maxQueueRows: values["max-queue-rows"],
    requestTimeoutMs: values["request-timeout"] * 1000,
    maxBodyBytesInFlight: D.maxBodyBytesInFlight,
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parse(argv);
  if (options === null) {
    console.log(HELP);
    return 0;
  }
  const server = await startServer(options);
  console.error(`provider: ${server.provider.name} (${server.provider.reason})`);
  console.error(
    `max batch ${options.maxBatch} rows, max delay ${options.maxDelayMs} ms, at most ` +
      `${options.maxRequestRows} rows and ${server.bodyLimit} body bytes per request`,
  );
  console.log(`serving ${options.model} at ${server.modelUrl}`);
  return await serveUntilSignal(server);
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), {
    inputErrors: [InferenceError, ListenError],
    failures: [Error],
  });
}
