import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { latentsForSeed } from "../src/infer/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";
import { inferBody } from "./serve_fixtures.ts";

const SCRIPT = new URL("../scripts/serve.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

/** Reads lines from a stream until one matches, and returns that match. */
async function waitForLine(
  lines: ReadableStreamDefaultReader<string>,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  let buffered = "";
  for (;;) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`the server ended before printing ${pattern}: ${buffered}`);
    buffered += value;
    const match = pattern.exec(buffered);
    if (match) return match;
  }
}

async function readAll(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65_536);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

Deno.test("serve: SIGTERM refuses new connections, finishes the request in flight and exits 0", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "--model", MODEL_PATH, "--provider", "cpu", "--port", "0"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const [, port] = await waitForLine(
      stdout,
      /http:\/\/127\.0\.0\.1:(\d+)\/v2\/models\/generator/,
    );
    const base = `http://127.0.0.1:${port}`;
    // A slow client: the request's headers and half its body now, the rest after the signal.
    const body = encoder.encode(inferBody(latentsForSeed(4, 2, 100), 2, { id: "slow" }));
    const half = Math.floor(body.length / 2);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(encoder.encode(
      `POST /v2/models/generator/infer HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    ));
    await conn.write(body.subarray(0, half));
    // And a large request that takes a while to run.
    const large = fetch(`${base}/v2/models/generator/infer`, {
      method: "POST",
      body: inferBody(latentsForSeed(5, 512, 100), 512),
    }).then(async (r) => ({ status: r.status, json: await r.json() }));
    await new Promise((r) => setTimeout(r, 300));
    const signalled = performance.now();
    child.kill("SIGTERM");
    await waitForLine(stderr, /serve: stopping/);
    // While the slow body is still arriving, new work is refused.
    const late = await fetch(`${base}/v1/sample.png?n=1`);
    assertEquals(late.status, 503);
    ok(/the server is stopping/.test((await late.json()).error));
    await conn.write(body.subarray(half));
    const response = await readAll(conn);
    conn.close();
    ok(response.startsWith("HTTP/1.1 200 OK"), response.slice(0, 200));
    const json = JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));
    assertEquals([json.id, json.outputs[0].shape], ["slow", [2, 1, 28, 28]]);
    const big = await large;
    assertEquals([big.status, big.json.outputs[0].shape], [200, [512, 1, 28, 28]]);
    // Then no new connection is accepted.
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: Number(port) })).close();
        await new Promise((r) => setTimeout(r, 100));
      } catch (e) {
        refused = e instanceof Deno.errors.ConnectionRefused;
      }
    }
    ok(refused, "new connections are refused");
    const status = await child.status;
    assertEquals(status.code, 0);
    ok(performance.now() - signalled < 10_000, "exited within the drain bound");
    await waitForLine(stderr, /serve: stopped\n/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await child.status;
    await stdout.cancel();
    await stderr.cancel();
  }
});

Deno.test("serve: SIGTERM under load exits within the 10 s bound; requests it gives up on get 503", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      SCRIPT,
      "--model",
      MODEL_PATH,
      "--provider",
      "cpu",
      "--port",
      "0",
      "--max-queue-rows",
      "16384",
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const [, port] = await waitForLine(
      stdout,
      /http:\/\/127\.0\.0\.1:(\d+)\/v2\/models\/generator/,
    );
    const base = `http://127.0.0.1:${port}`;
    // More work than the drain bound can finish here: 12 requests of 1,024 rows (about 3.5 s each).
    const body = inferBody(latentsForSeed(6, 1024, 100), 1024);
    const answers = Array.from(
      { length: 12 },
      () =>
        fetch(`${base}/v2/models/generator/infer`, { method: "POST", body }).then(
          async (r) => r.status === 200 ? 200 : [r.status, (await r.json()).error],
          (e) => String(e),
        ),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const signalled = performance.now();
    child.kill("SIGTERM");
    const status = await child.status;
    const seconds = (performance.now() - signalled) / 1000;
    ok(seconds < 11, `exited ${seconds.toFixed(1)} s after SIGTERM`);
    const results = await Promise.all(answers);
    const given = results.filter((r) => r !== 200);
    for (const r of given) {
      assertEquals(r, [503, "the server is stopping; send the request to another instance"]);
    }
    // A machine fast enough to finish them all exits 0; one that is not, 1 (this one: 1).
    assertEquals(status.code, given.length > 0 ? 1 : 0);
    if (given.length > 0) {
      await waitForLine(stderr, /serve: stopped after 10000 ms with requests still in flight/);
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already ended.
    }
    await child.status;
    await stdout.cancel();
    await stderr.cancel();
  }
});
