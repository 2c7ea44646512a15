/** Shared helpers of the server tests: a real server on a free port, requests, and a metrics reader. */
import {
  SERVE_DEFAULTS,
  type ServeOptions,
  type ServerHandle,
  startServer,
} from "../src/serve/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";

/** Runs `body` against a server of the committed generator on a free loopback port, then stops it. */
export async function withServer(
  options: Partial<ServeOptions>,
  body: (server: ServerHandle) => Promise<void>,
): Promise<void> {
  const server = await startServer({
    ...SERVE_DEFAULTS,
    model: MODEL_PATH,
    provider: "cpu",
    port: 0,
    ...options,
  });
  try {
    await body(server);
  } finally {
    await server.shutdown();
  }
}

/** A v2 inference request body for `rows` latent rows. */
export function inferBody(latents: Float32Array, rows: number, extra: object = {}): string {
  return JSON.stringify({
    inputs: [{ name: "latent", shape: [rows, 100], datatype: "FP32", data: Array.from(latents) }],
    ...extra,
  });
}

/** Posts a body to a URL and returns the status and the parsed JSON (null for an empty body). */
export async function post(
  url: string,
  body: BodyInit,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; type: string | null }> {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text === "" ? null : JSON.parse(text),
    type: response.headers.get("content-type"),
  };
}

/** Reads one sample (no labels, or the given label set) of a metric from `/metrics`. */
export async function metric(baseUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
