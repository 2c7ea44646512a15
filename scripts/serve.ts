/**
 * `deno task serve`: serves an ONNX generator over the open ("v2", KServe / Triton) inference protocol, until
 * SIGTERM or SIGINT (then it finishes the requests in flight and exits).
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { InferenceError } from "../src/infer/mod.ts";
import {
  DRAIN_TIMEOUT_MS,
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
    default: D.maxRequestRows,
    help: "most rows one request may have (and n of /v1/sample.png)",
  },
} as const satisfies OptionTable;

const HELP = `Serve an ONNX generator over the v2 inference protocol (KServe / Triton REST API).

Usage: deno task serve [options]

${optionsHelp(OPTIONS)}

Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready,
/v2/models/NAME/config; POST /v2/models/NAME/infer (also under /v2/models/NAME/versions/1/);
GET /v1/sample.png?seed=S&n=N[&digit=D] (the bytes of deno task sample --seed S -n N [--digit D]);
GET /metrics (Prometheus). A request larger than --max-batch runs alone, in one run. Request bodies are
capped at 32 bytes per value of --max-request-rows full rows plus 64 KiB (413 beyond). SIGTERM/SIGINT: stop
accepting, finish the requests in flight (at most ${
  DRAIN_TIMEOUT_MS / 1000
} s), exit 0 (1 if some were cut off).
Exit status: 0 stopped cleanly, 2 bad input (arguments, model file, unavailable provider), 1 anything else.`;

function parse(argv: string[]): ServeOptions | null {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) return null;
  if (!/^[A-Za-z0-9_.-]+$/.test(values.name)) {
    throw new UsageError(`--name ${values.name}: use letters, digits, "_", "-" and "."`);
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
    inputErrors: [InferenceError, Deno.errors.AddrInUse, Deno.errors.AddrNotAvailable],
    failures: [Error],
  });
}
