import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { createGenerator, latentsForSeed } from "../src/infer/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";
import { inferBody, metric, post, withServer } from "./serve_fixtures.ts";

/** 24 requests of 1 to 3 rows, each from its own seed. */
const REQUESTS = Array.from({ length: 24 }, (_, i) => ({ seed: 100 + i, rows: 1 + (i % 3) }));

/** Fires every request at once; each answer must be exactly the local generator's rows for its latents. */
async function concurrentClients(modelUrl: string): Promise<void> {
  const local = await createGenerator(MODEL_PATH, { provider: "cpu" });
  try {
    const answers = await Promise.all(
      REQUESTS.map(({ seed, rows }) =>
        post(
          `${modelUrl}/infer`,
          inferBody(latentsForSeed(seed, rows, 100), rows, { id: `c${seed}` }),
        )
      ),
    );
    for (const [i, { seed, rows }] of REQUESTS.entries()) {
      const answer = answers[i].json as {
        id: string;
        outputs: Array<{ shape: number[]; data: number[] }>;
      };
      assertEquals([answers[i].status, answer.id], [200, `c${seed}`]);
      assertEquals(answer.outputs[0].shape, [rows, 1, 28, 28]);
      const expected = Array.from(await local.outputs(latentsForSeed(seed, rows, 100)));
      assertEquals(answer.outputs[0].data, expected, `request ${i} got other rows`);
    }
  } finally {
    await local.dispose();
  }
}

const totalRows = REQUESTS.reduce((s, r) => s + r.rows, 0);

Deno.test("serve: concurrent clients each get exactly their own rows, coalesced into fewer runs", async () => {
  await withServer({ maxBatch: 64, maxDelayMs: 50 }, async (server) => {
    await concurrentClients(server.modelUrl);
    const runs = await metric(server.url, "dcgan_serve_batch_requests_count");
    assertEquals(await metric(server.url, "dcgan_serve_batch_requests_sum"), REQUESTS.length);
    assertEquals(await metric(server.url, "dcgan_serve_batch_rows_sum"), totalRows);
    ok(runs < REQUESTS.length / 2, `${REQUESTS.length} requests ran in ${runs} runs`);
    // Some run took more than 8 requests at once.
    ok(await metric(server.url, 'dcgan_serve_batch_requests_bucket{le="8"}') < runs);
  });
});

Deno.test("serve: runs hold at most --max-batch rows; a larger request runs alone", async () => {
  await withServer({ maxBatch: 4, maxDelayMs: 50 }, async (server) => {
    await concurrentClients(server.modelUrl);
    const runs = await metric(server.url, "dcgan_serve_batch_rows_count");
    assertEquals(await metric(server.url, 'dcgan_serve_batch_rows_bucket{le="4"}'), runs);
    ok(runs < REQUESTS.length, `${runs} runs`);
    const big = await post(`${server.modelUrl}/infer`, inferBody(latentsForSeed(1, 9, 100), 9));
    assertEquals(big.status, 200);
    assertEquals(await metric(server.url, "dcgan_serve_batch_rows_count"), runs + 1);
    assertEquals(await metric(server.url, 'dcgan_serve_batch_rows_bucket{le="8"}'), runs);
  });
});

Deno.test("serve: --max-batch 1 turns batching off (one run per request)", async () => {
  await withServer({ maxBatch: 1, maxDelayMs: 50 }, async (server) => {
    await concurrentClients(server.modelUrl);
    assertEquals(await metric(server.url, "dcgan_serve_batch_requests_count"), REQUESTS.length);
    assertEquals(await metric(server.url, "dcgan_serve_batch_requests_sum"), REQUESTS.length);
    assertEquals(await metric(server.url, "dcgan_serve_batch_rows_sum"), totalRows);
  });
});
