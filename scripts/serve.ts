/**
 * `deno task serve`: serves an ONNX generator over the open ("v2", KServe / Triton) inference protocol, until
 * SIGTERM or SIGINT (then it finishes the requests in flight and exits).
 * @module
 */
import { integerOption, parseCommandLine, runCli, UsageError } from "../src/cli/mod.ts";
import { InferenceError } from "../src/infer/mod.ts";
import {
  DRAIN_TIMEOUT_MS,
  SERVE_DEFAULTS as D,
  SERVE_PROVIDERS,
  type ServeOptions,
  serveUntilSignal,
  startServer,
} from "../src/serve/mod.ts";

const OPTION_HELP: Array<[string, string, string | number]> = [
  ["--model FILE", "the .onnx generator", D.model],
  ["--name NAME", "the model's name in /v2/models/NAME", D.name],
  ["--host HOST", "address to listen on", D.host],
  ["--port N", "port to listen on (0: a free one, printed at start)", D.port],
  ["--provider NAME", SERVE_PROVIDERS.join(" | "), D.provider],
  ["--max-batch N", "most rows one model run takes from concurrent requests (1: off)", D.maxBatch],
  ["--max-delay-ms MS", "longest a request waits for others to join its run", D.maxDelayMs],
  [
    "--max-request-rows N",
    "most rows one request may have (and n of /v1/sample.png)",
    D.maxRequestRows,
  ],
];

const HELP = `Serve an ONNX generator over the v2 inference protocol (KServe / Triton REST API).

Usage: deno task serve [options]

${
  OPTION_HELP.map(([flag, what, fallback]) =>
    `  ${flag.padEnd(22)} ${what.padEnd(66)} [${fallback}]`
  ).join("\n")
}
  -h, --help             show this help

Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready,
/v2/models/NAME/config; POST /v2/models/NAME/infer (also under /v2/models/NAME/versions/1/);
GET /v1/sample.png?seed=S&n=N (the bytes of deno task sample --seed S -n N); GET /metrics (Prometheus).
A request larger than --max-batch runs alone, in one run. Request bodies are capped at 32 bytes per value of
--max-request-rows full rows plus 64 KiB (413 beyond). SIGTERM/SIGINT: stop accepting, finish the requests in
flight (at most ${DRAIN_TIMEOUT_MS / 1000} s), exit 0 (1 if some were cut off).
Exit status: 0 stopped cleanly, 2 bad input (arguments, model file, unavailable provider), 1 anything else.`;

function parse(argv: string[]): ServeOptions | null {
  const { values } = parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      model: { type: "string", default: D.model },
      name: { type: "string", default: D.name },
      host: { type: "string", default: D.host },
      port: { type: "string", default: String(D.port) },
      provider: { type: "string", default: D.provider },
      "max-batch": { type: "string", default: String(D.maxBatch) },
      "max-delay-ms": { type: "string", default: String(D.maxDelayMs) },
      "max-request-rows": { type: "string", default: String(D.maxRequestRows) },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return null;
  if (!(SERVE_PROVIDERS as readonly string[]).includes(values.provider)) {
    throw new UsageError(
      `--provider ${values.provider}: use one of ${SERVE_PROVIDERS.join(", ")}`,
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(values.name)) {
    throw new UsageError(`--name ${values.name}: use letters, digits, "_", "-" and "."`);
  }
  const port = integerOption("port", values.port, 0);
  if (port > 65535) throw new UsageError(`--port must be from 0 to 65535, got "${values.port}"`);
  const maxDelayMs = Number(values["max-delay-ms"]);
  if (values["max-delay-ms"].trim() === "" || !(maxDelayMs >= 0) || maxDelayMs > 60_000) {
    throw new UsageError(
      `--max-delay-ms must be a number from 0 to 60000, got "${values["max-delay-ms"]}"`,
    );
  }
  return {
    model: values.model,
    name: values.name,
    host: values.host,
    port,
    provider: values.provider,
    maxBatch: integerOption("max-batch", values["max-batch"], 1),
    maxDelayMs,
    maxRequestRows: integerOption("max-request-rows", values["max-request-rows"], 1),
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
