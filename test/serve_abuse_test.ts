/**
 * The server under abuse: clients that leave, requests past their time budget, a full queue, slow bodies, long
 * digit searches, non-finite outputs and HEAD. The time bounds here are liveness bounds (health answers within the
 * promised second while the model works), not speed measurements.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { latentsForSeed } from "../src/infer/mod.ts";
import { inferBody, post, withServer } from "./serve_fixtures.ts";

const encoder = new TextEncoder();

/** The milliseconds a GET of `url` takes to answer, and its status. */
async function timedGet(url: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(url);
  await response.body?.cancel();
  return { ms: performance.now() - started, status: response.status };
}

/** Polls `probe` every 50 ms until it is true; false when `ms` pass first. */
async function eventually(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** True when `text` holds a whole response (its head, and as many body bytes as its Content-Length). */
function wholeResponse(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  const length = /content-length: (\d+)/i.exec(text.slice(0, end));
  return end >= 0 && length !== null && text.length - end - 4 >= Number(length[1]);
}

/** Reads one response from a raw connection, until it is whole, the connection closes or `ms` pass. */
async function readFor(conn: Deno.Conn, ms: number): Promise<string> {
  const chunks: string[] = [];
  const buffer = new Uint8Array(65_536);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(new TextDecoder().decode(buffer.subarray(0, n)));
      if (wholeResponse(chunks.join(""))) {
        conn.close();
        break;
      }
    }
  } catch {
    // Closed by the timer.
  } finally {
    clearTimeout(timer);
  }
  return chunks.join("");
}

const BIG = inferBody(latentsForSeed(1, 1024, 100), 1024);

/** Opens a raw connection to a server and sends a request's head (and `body`, if given). */
async function rawRequest(
  baseUrl: string,
  path: string,
  contentLength: number,
  body?: Uint8Array,
): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(baseUrl).port) });
  await conn.write(encoder.encode(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${contentLength}\r\n\r\n`,
  ));
  if (body) await conn.write(body);
  return conn;
}

Deno.test("serve: health and metrics answer within a second while a 1,024-row request and a digit search run", async () => {
  // A time budget long enough for the search on a busy machine.
  await withServer({ requestTimeoutMs: 300_000 }, async (server) => {
    const big = post(`${server.modelUrl}/infer`, BIG);
    const digits = fetch(`${server.url}/v1/sample.png?n=256&digit=3`);
    await new Promise((r) => setTimeout(r, 300));
    const probes = [];
    for (let i = 0; i < 6; i++) {
      probes.push(await timedGet(`${server.url}/v2/health/ready`));
      probes.push(await timedGet(`${server.url}/metrics`));
      await new Promise((r) => setTimeout(r, 200));
    }
    assertEquals(probes.map((p) => p.status), probes.map(() => 200));
    const slowest = Math.max(...probes.map((p) => p.ms));
    ok(slowest < 1000, `health or metrics took ${slowest.toFixed(0)} ms`);
    assertEquals((await big).status, 200);
    const png = await digits;
    assertEquals([png.status, png.headers.get("content-type")], [200, "image/png"]);
    await png.body?.cancel();
  });
});

Deno.test("serve: a request past --request-timeout gets 503 saying so", async () => {
  await withServer({ requestTimeoutMs: 200 }, async (server) => {
    const answers = await Promise.all(
      [0, 1, 2].map(() => post(`${server.modelUrl}/infer`, BIG)),
    );
    const late = answers.filter((a) => a.status === 503);
    ok(late.length >= 1, `statuses ${answers.map((a) => a.status)}`);
    ok(
      /time budget of 0\.2 s \(--request-timeout\)/.test((late[0].json as { error: string }).error),
    );
    // The server goes on serving once the model is free (a request may still time out while it finishes a run).
    const one = inferBody(latentsForSeed(2, 1, 100), 1);
    ok(
      await eventually(
        async () => (await post(`${server.modelUrl}/infer`, one)).status === 200,
        20_000,
      ),
      "no one-row request succeeded afterwards",
    );
  });
});

Deno.test("serve: a full queue answers 503 with Retry-After", async () => {
  await withServer({ maxQueueRows: 1024 }, async (server) => {
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() =>
        fetch(`${server.modelUrl}/infer`, { method: "POST", body: BIG }).then(async (r) => ({
          status: r.status,
          retry: r.headers.get("retry-after"),
          json: await r.json(),
        }))
      ),
    );
    const full = answers.filter((a) => a.status === 503);
    ok(full.length >= 1, `statuses ${answers.map((a) => a.status)}`);
    assertEquals(full[0].retry, "1");
    ok(/queue is full \(1024 rows waiting\)/.test(full[0].json.error), full[0].json.error);
    ok(answers.some((a) => a.status === 200));
  });
});

Deno.test("serve: a digit search stops when its client leaves", async () => {
  await withServer({}, async (server) => {
    // A raw connection: Deno's fetch keeps its connection open when a request is aborted.
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(server.url).port),
    });
    await conn.write(
      encoder.encode("GET /v1/sample.png?n=1024&digit=8 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"),
    );
    await new Promise((r) => setTimeout(r, 1000));
    conn.close();
    // The model is free again soon: a one-row request does not wait behind the ~10,000-latent search.
    const started = performance.now();
    const one = await post(`${server.modelUrl}/infer`, inferBody(latentsForSeed(3, 1, 100), 1));
    const ms = performance.now() - started;
    assertEquals(one.status, 200);
    ok(ms < 8000, `a one-row request took ${ms.toFixed(0)} ms after the search's client left`);
  });
});

Deno.test("serve: a body that stops arriving is cut off at the request's time budget", async () => {
  await withServer({ requestTimeoutMs: 1000 }, async (server) => {
    const conn = await rawRequest(
      server.url,
      "/v2/models/generator/infer",
      3_000_000,
      encoder.encode('{"inputs": ['),
    );
    const answer = await readFor(conn, 10_000);
    ok(answer.startsWith("HTTP/1.1 503"), answer.slice(0, 100) || "no answer");
    ok(/time budget of 1 s/.test(answer), answer);
  });
});

Deno.test("serve: the request-body bytes held at once are bounded (503 with Retry-After)", async () => {
  await withServer({ maxBodyBytesInFlight: 1_000_000 }, async (server) => {
    // Two bodies of which 600 kB each have arrived pass a budget of 1 MB: the second is refused.
    const path = "/v2/models/generator/infer";
    const first = await rawRequest(server.url, path, 2_000_000, new Uint8Array(600_000).fill(32));
    await new Promise((r) => setTimeout(r, 500));
    const second = await rawRequest(server.url, path, 2_000_000, new Uint8Array(600_000).fill(32));
    const answer = await readFor(second, 10_000);
    first.close();
    ok(answer.startsWith("HTTP/1.1 503"), answer.slice(0, 100) || "no answer");
    ok(/request bodies already; retry shortly/.test(answer), answer);
    ok(/retry-after: 1/i.test(answer), answer);
  });
});

Deno.test("serve: a non-finite output is a 500 that says so, never null in the JSON", async () => {
  await withServer({}, async (server) => {
    const latents = new Float32Array(100).fill(3.4e38);
    const answer = await post(`${server.modelUrl}/infer`, inferBody(latents, 1));
    assertEquals(answer.status, 500);
    ok(
      /the model's output is not finite \(NaN in row 0/.test(
        (answer.json as { error: string }).error,
      ),
    );
  });
});

Deno.test("serve: HEAD answers like GET, without a body", async () => {
  await withServer({}, async (server) => {
    for (const path of ["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/generator"]) {
      const head = await fetch(`${server.url}${path}`, { method: "HEAD" });
      const get = await fetch(`${server.url}${path}`);
      await get.body?.cancel();
      assertEquals([head.status, await head.text()], [get.status, ""], path);
      assertEquals(head.headers.get("content-type"), get.headers.get("content-type"), path);
    }
    const png = await fetch(`${server.url}/v1/sample.png?n=1`, { method: "HEAD" });
    assertEquals([png.status, png.headers.get("content-type")], [200, "image/png"]);
    await png.body?.cancel();
  });
});
