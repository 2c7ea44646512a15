import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import {
  createGenerator,
  type Generator,
  InputError,
  latentsForSeed,
  ModelError,
  ProviderError,
} from "../src/infer/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";
import { withServer } from "./serve_fixtures.ts";

async function both(
  modelUrl: string,
  options: Parameters<typeof createGenerator>[1],
  body: (remote: Generator, local: Generator) => Promise<void>,
): Promise<void> {
  const remote = await createGenerator(modelUrl, options);
  const local = await createGenerator(MODEL_PATH, { provider: "cpu" });
  try {
    await body(remote, local);
  } finally {
    await remote.dispose();
    await local.dispose();
  }
}

Deno.test("http provider: a v2 model URL samples, generates and interpolates like the local cpu", async () => {
  await withServer({}, async (server) => {
    await both(server.modelUrl, {}, async (remote, local) => {
      assertEquals(remote.provider, { name: "http", reason: "auto: a v2 model URL" });
      const { opset: _a, metadata: _b, ...remoteInfo } = remote.info;
      const { opset: _c, metadata: _d, ...localInfo } = local.info;
      assertEquals(remoteInfo, localInfo);
      assertEquals(remote.maxBatch, 1024);
      assertEquals(await remote.sample(10, { seed: 7 }), await local.sample(10, { seed: 7 }));
      const latents = latentsForSeed(3, 5, 100);
      assertEquals(await remote.generate(latents), await local.generate(latents));
      const [a, b] = [latentsForSeed(1, 1, 100), latentsForSeed(2, 1, 100)];
      assertEquals(await remote.interpolate(a, b, 6), await local.interpolate(a, b, 6));
    });
  });
});

Deno.test("http provider: explicit provider, versioned URL, batches split at maxBatch", async () => {
  await withServer({ maxRequestRows: 4 }, async (server) => {
    await both(
      `${server.modelUrl}/versions/1`,
      { provider: "http" },
      async (remote, local) => {
        assertEquals(remote.provider, { name: "http", reason: "requested" });
        // The server's max_batch_size (its --max-request-rows) splits a 10-sample call into 4 + 4 + 2.
        assertEquals(remote.maxBatch, 4);
        const done: number[] = [];
        const images = await remote.sample(10, { seed: 9, onProgress: (d) => done.push(d) });
        assertEquals(done, [4, 8, 10]);
        assertEquals(images, await local.sample(10, { seed: 9 }));
      },
    );
    await both(server.modelUrl, { maxBatch: 8 }, async (remote) => {
      await rejects(
        remote.sample(8),
        (e: Error) => e instanceof InputError && /8 rows are too many/.test(e.message),
      );
    });
  });
});

Deno.test("http provider: bad URLs and unreachable servers fail with clear errors", async () => {
  await withServer({}, async (server) => {
    await rejects(
      createGenerator(`${server.url}/v2/models/other`),
      (e: Error) => e instanceof ModelError && /HTTP 404: unknown model "other"/.test(e.message),
    );
    await rejects(
      createGenerator(server.modelUrl, { provider: "cpu" }),
      (e: Error) =>
        e instanceof ProviderError && /runs on provider http \(or auto\), not cpu/.test(e.message),
    );
  });
  await rejects(
    createGenerator(MODEL_PATH, { provider: "http" }),
    (e: Error) => e instanceof InputError && /provider http needs the URL/.test(e.message),
  );
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await rejects(
    createGenerator(`http://127.0.0.1:${port}/v2/models/generator`),
    (e: Error) => e instanceof ProviderError && /cannot reach/.test(e.message),
  );
});

Deno.test("http provider: a server without the value range in its configuration is refused", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/v2/models/bare") {
      return Response.json({
        name: "bare",
        platform: "onnxruntime_onnx",
        inputs: [{ name: "z", datatype: "FP32", shape: [-1, 100] }],
        outputs: [{ name: "x", datatype: "FP32", shape: [-1, 1, 28, 28] }],
      });
    }
    return Response.json({ error: "no such endpoint" }, { status: 404 });
  });
  try {
    await rejects(
      createGenerator(`http://127.0.0.1:${server.addr.port}/v2/models/bare`),
      (e: Error) => e instanceof ModelError && /has no value_range parameter/.test(e.message),
    );
  } finally {
    await server.shutdown();
  }
});

/**
 * A v2 server that answers metadata like `real` but misbehaves on `/infer`: `hang` never answers, `endless`
 * streams a body that never ends.
 */
async function misbehaving(
  realModelUrl: string,
  mode: "hang" | "endless",
  body: (modelUrl: string) => Promise<void>,
): Promise<void> {
  const metadata = await (await fetch(realModelUrl)).text();
  const config = await (await fetch(`${realModelUrl}/config`)).text();
  const stop = new AbortController();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: stop.signal,
    onListen: () => {},
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (!path.endsWith("/infer")) {
      return new Response(path.endsWith("/config") ? config : metadata, {
        headers: { "content-type": "application/json" },
      });
    }
    await request.body?.cancel();
    if (mode === "hang") {
      await new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
      return new Response(null, { status: 503 });
    }
    const chunk = new TextEncoder().encode("[0.5," + "0.25,".repeat(16_000));
    return new Response(
      new ReadableStream({
        pull: (controller) =>
          new Promise((resolve) => {
            const timer = setTimeout(() => {
              timers.delete(timer);
              controller.enqueue(chunk);
              resolve();
            }, 1);
            timers.add(timer);
          }),
      }),
      { headers: { "content-type": "application/json" } },
    );
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}/v2/models/generator`);
  } finally {
    stop.abort();
    for (const timer of timers) clearTimeout(timer);
    await server.finished;
  }
}

Deno.test("http provider: a server that never answers times out; an endless answer is cut off at its bound", async () => {
  await withServer({}, async (real) => {
    await misbehaving(real.modelUrl, "hang", async (url) => {
      const remote = await createGenerator(url, { timeoutMs: 500 });
      try {
        await rejects(
          remote.sample(2, { seed: 1 }),
          (e: Error) =>
            e instanceof ProviderError &&
            /did not answer the inference of 2 rows within 0\.5 s/.test(e.message),
        );
      } finally {
        await remote.dispose();
      }
    });
    await misbehaving(real.modelUrl, "endless", async (url) => {
      const remote = await createGenerator(url);
      try {
        // 2 rows of 784 values: at most 2 × 784 × 32 + 65,536 = 115,712 bytes.
        await rejects(
          remote.sample(2, { seed: 1 }),
          (e: Error) =>
            e instanceof ProviderError &&
            /sent more than 115712 bytes for the inference of 2 rows/.test(e.message),
        );
      } finally {
        await remote.dispose();
      }
    });
  });
});
