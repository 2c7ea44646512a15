/**
 * A bounded loopback load generator for `deno task bench:serve`: starts `deno task serve` as a child process on a
 * free port, and posts one-request-at-a-time v2 inference requests from `concurrency` clients for at most `seconds`
 * seconds or `maxRequests` requests, recording each latency.
 * @module
 */
import { latentsForSeed } from "../infer/mod.ts";

/** A `deno task serve` child process. */
export interface ChildServer {
  /** The base URL (`http://127.0.0.1:PORT`). */
  url: string;
  /** The model's v2 URL. */
  modelUrl: string;
  /** The server's process id. */
  pid: number;
  /** Sends SIGTERM and resolves to the exit code. */
  stop(): Promise<number>;
}

/**
 * Starts the server script (`scripts/serve.ts`) with `args` (`--port 0` is added) and waits for its URL.
 * @throws {Error} with its stderr when it ends before serving.
 */
export async function spawnServer(script: string | URL, args: string[]): Promise<ChildServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      String(script instanceof URL ? script.pathname : script),
      ...args,
      "--port",
      "0",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  for (;;) {
    const { done, value } = await lines.read();
    if (done) {
      await child.status;
      throw new Error(`the server did not start: ${seen}${await stderrText}`);
    }
    seen += value;
    const match = /(http:\/\/\S+)\/v2\/models\/(\S+)/.exec(seen);
    if (match) {
      lines.releaseLock();
      child.stdout.cancel().catch(() => {});
      return {
        url: match[1],
        modelUrl: `${match[1]}/v2/models/${match[2]}`,
        pid: child.pid,
        async stop() {
          child.kill("SIGTERM");
          const status = await child.status;
          await stderrText;
          return status.code;
        },
      };
    }
  }
}

/** One load run. */
export interface LoadOptions {
  modelUrl: string;
  /** Clients, each with one request in flight at a time. */
  concurrency: number;
  /** Stop issuing requests after this long. */
  seconds: number;
  /** Stop issuing requests after this many. */
  maxRequests: number;
  /** Latent rows per request. */
  rows: number;
}

/** What a load run measured. */
export interface LoadResult {
  requests: number;
  /** Requests not answered 200. */
  failures: number;
  seconds: number;
  /** Answered requests per second. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
}

/** The `p`-quantile (0–1) of sorted values, nearest rank. */
export function quantile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Runs `concurrency` clients against `modelUrl` until the time or request bound is reached. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const bodies = Array.from({ length: 64 }, (_, i) =>
    JSON.stringify({
      inputs: [{
        name: "latent",
        shape: [options.rows, 100],
        datatype: "FP32",
        data: Array.from(latentsForSeed(i, options.rows, 100)),
      }],
    }));
  const latencies: number[] = [];
  let issued = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const client = async (index: number) => {
    while (issued < options.maxRequests && performance.now() < deadline) {
      const body = bodies[(index + issued++) % bodies.length];
      const t0 = performance.now();
      const response = await fetch(`${options.modelUrl}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (response.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => client(i)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    seconds,
    throughput: (latencies.length - failures) / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Reads one unlabelled sample (e.g. `dcgan_serve_batch_rows_sum`) from a server's `/metrics`. */
export async function readMetric(url: string, sample: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
