import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { createGenerator, type Generator, latentsForSeed } from "../src/infer/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";
import { inferBody, metric, post, withServer } from "./serve_fixtures.ts";

async function getJson(url: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, json: text === "" ? null : JSON.parse(text) };
}

async function withLocal(body: (g: Generator) => Promise<void>): Promise<void> {
  const local = await createGenerator(MODEL_PATH, { provider: "cpu" });
  try {
    await body(local);
  } finally {
    await local.dispose();
  }
}

Deno.test("serve: health, metadata and configuration follow the v2 protocol's JSON", async () => {
  await withServer({}, async (server) => {
    const base = server.url;
    for (const path of ["/v2/health/live", "/v2/health/ready", "/v2/models/generator/ready"]) {
      const response = await fetch(base + path);
      assertEquals([path, response.status, await response.text()], [path, 200, ""]);
    }
    assertEquals(await getJson(`${base}/v2`), {
      status: 200,
      json: { name: "dcgan-deno", version: "1.0.0", extensions: ["model_configuration"] },
    });
    const metadata = {
      name: "generator",
      versions: ["1"],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "latent", datatype: "FP32", shape: [-1, 100] }],
      outputs: [{ name: "image", datatype: "FP32", shape: [-1, 1, 28, 28] }],
    };
    assertEquals(await getJson(server.modelUrl), { status: 200, json: metadata });
    assertEquals(await getJson(`${server.modelUrl}/versions/1`), { status: 200, json: metadata });
    assertEquals((await fetch(`${server.modelUrl}/versions/1/ready`)).status, 200);
    const config = await getJson(`${server.modelUrl}/config`);
    assertEquals(config.status, 200);
    const c = config.json as Record<string, unknown>;
    assertEquals(
      [c.name, c.platform, c.max_batch_size, c.input, c.output, c.dynamic_batching, c.parameters],
      [
        "generator",
        "onnxruntime_onnx",
        1024,
        [{ name: "latent", data_type: "TYPE_FP32", dims: [100] }],
        [{ name: "image", data_type: "TYPE_FP32", dims: [1, 28, 28] }],
        { max_queue_delay_microseconds: 2000 },
        {
          value_range: { string_value: "[-1,1]" },
          output_layout: { string_value: "nchw" },
          image_shape: { string_value: "[1,28,28]" },
        },
      ],
    );
  });
});

Deno.test("serve: infer answers the model's raw output rows, data flat or nested, id echoed", async () => {
  await withLocal(async (local) => {
    await withServer({}, async (server) => {
      const latents = latentsForSeed(11, 3, 100);
      const expected = Array.from(await local.outputs(latents));
      const flat = await post(`${server.modelUrl}/infer`, inferBody(latents, 3, { id: "req-1" }));
      assertEquals(flat.status, 200);
      assertEquals(flat.json, {
        model_name: "generator",
        model_version: "1",
        id: "req-1",
        outputs: [{ name: "image", datatype: "FP32", shape: [3, 1, 28, 28], data: expected }],
      });
      const rows = [0, 1, 2].map((r) => Array.from(latents.subarray(r * 100, (r + 1) * 100)));
      const nested = await post(
        `${server.modelUrl}/versions/1/infer`,
        JSON.stringify({
          inputs: [{ name: "latent", shape: [3, 100], datatype: "FP32", data: rows }],
          outputs: [{ name: "image" }],
        }),
      );
      assertEquals(nested.status, 200);
      const answer = nested.json as { id?: string; outputs: Array<{ data: number[] }> };
      assertEquals(answer.id, undefined);
      assertEquals(answer.outputs[0].data, expected);
    });
  });
});

Deno.test("serve: /v1/sample.png is byte-identical to deno task sample --seed 7 -n 64 (and with --digit)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sample = async (args: string[]) => {
      const out = `${dir}/${args.join("_")}.png`;
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["task", "sample", "--model", MODEL_PATH, ...args, "--out", out],
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "null",
        stderr: "piped",
      }).output();
      assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
      return await Deno.readFile(out);
    };
    const expected = await sample(["--seed", "7", "-n", "64"]);
    const threes = await sample(["--seed", "7", "-n", "4", "--digit", "3"]);
    await withServer({}, async (server) => {
      const response = await fetch(`${server.url}/v1/sample.png?seed=7&n=64`);
      assertEquals(response.headers.get("content-type"), "image/png");
      assertEquals(new Uint8Array(await response.arrayBuffer()), expected);
      const digit = await fetch(`${server.url}/v1/sample.png?seed=7&n=4&digit=3`);
      assertEquals(new Uint8Array(await digit.arrayBuffer()), threes);
      const small = await fetch(`${server.url}/v1/sample.png?n=4`);
      const png = new Uint8Array(await small.arrayBuffer());
      const view = new DataView(png.buffer);
      // 2 × 2 grid of 28-pixel tiles with 2-pixel padding: 62 × 62.
      assertEquals([small.status, view.getUint32(16), view.getUint32(20)], [200, 62, 62]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve: /metrics is Prometheus text with requests, errors, latency, batch sizes and queue depth", async () => {
  await withServer({}, async (server) => {
    await post(`${server.modelUrl}/infer`, inferBody(latentsForSeed(1, 2, 100), 2));
    await post(`${server.modelUrl}/infer`, "{");
    await fetch(`${server.url}/v2/health/live`).then((r) => r.body?.cancel());
    const response = await fetch(`${server.url}/metrics`);
    ok(response.headers.get("content-type")?.startsWith("text/plain; version=0.0.4"));
    const text = await response.text();
    for (
      const type of [
        "# TYPE dcgan_serve_requests_total counter",
        "# TYPE dcgan_serve_errors_total counter",
        "# TYPE dcgan_serve_request_duration_seconds histogram",
        "# TYPE dcgan_serve_batch_rows histogram",
        "# TYPE dcgan_serve_batch_requests histogram",
        "# TYPE dcgan_serve_queue_depth gauge",
      ]
    ) ok(text.includes(type), type);
    const base = server.url;
    assertEquals(
      await metric(base, 'dcgan_serve_requests_total{endpoint="infer",status="200"}'),
      1,
    );
    assertEquals(
      await metric(base, 'dcgan_serve_requests_total{endpoint="infer",status="400"}'),
      1,
    );
    assertEquals(await metric(base, 'dcgan_serve_errors_total{endpoint="infer",status="400"}'), 1);
    assertEquals(
      await metric(base, 'dcgan_serve_requests_total{endpoint="health_live",status="200"}'),
      1,
    );
    assertEquals(await metric(base, "dcgan_serve_batch_rows_sum"), 2);
    assertEquals(await metric(base, "dcgan_serve_batch_rows_count"), 1);
    assertEquals(await metric(base, 'dcgan_serve_batch_rows_bucket{le="1"}'), 0);
    assertEquals(await metric(base, 'dcgan_serve_batch_rows_bucket{le="2"}'), 1);
    assertEquals(await metric(base, "dcgan_serve_queue_depth"), 0);
    assertEquals(
      await metric(base, 'dcgan_serve_request_duration_seconds_count{endpoint="infer"}'),
      2,
    );
  });
});
