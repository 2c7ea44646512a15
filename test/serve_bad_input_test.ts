import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { latentsForSeed } from "../src/infer/mod.ts";
import { inferBody, post, withServer } from "./serve_fixtures.ts";

const latents = latentsForSeed(5, 2, 100);
const good = JSON.parse(inferBody(latents, 2));

/** The request `good` with its input's fields replaced. */
function withInput(fields: Record<string, unknown>): string {
  return JSON.stringify({ inputs: [{ ...good.inputs[0], ...fields }] });
}

Deno.test("serve: each bad request gets a 4xx with one {error} line, and the server keeps serving", async () => {
  await withServer({ maxRequestRows: 8 }, async (server) => {
    const infer = `${server.modelUrl}/infer`;
    const nested = [Array.from(latents.subarray(0, 100)), Array.from(latents.subarray(100, 199))];
    const cases: Array<[string, string, number, RegExp]> = [
      ["malformed JSON", '{"inputs": [', 400, /^malformed JSON/],
      ["not an object", "[1, 2]", 400, /must be a JSON object/],
      ["no inputs", "{}", 400, /"inputs" must be an array of one input, "latent"/],
      ["wrong input name", withInput({ name: "z" }), 400, /unknown input "z".*"latent"/],
      ["wrong datatype", withInput({ datatype: "INT32" }), 400, /datatype "INT32"; .* FP32/],
      [
        "wrong row size",
        withInput({ shape: [2, 99] }),
        400,
        /99 values per row; the model takes 100/,
      ],
      ["wrong rank", withInput({ shape: [200] }), 400, /"shape" must be \[rows, 100\]/],
      ["no rows", withInput({ shape: [0, 100], data: [] }), 400, /has no rows/],
      [
        "shape vs flat data",
        withInput({ shape: [3, 100] }),
        400,
        /needs 300 values, but data has 200/,
      ],
      [
        "shape vs nested data",
        withInput({ data: nested }),
        400,
        /dimension 1 should have 100 entries, got 99 entries/,
      ],
      [
        "non-numeric data",
        withInput({ data: [...good.inputs[0].data.slice(0, 199), "x"] }),
        400,
        /data\[199\] is "x", not a number/,
      ],
      [
        "null in data",
        withInput({ data: [null, ...good.inputs[0].data.slice(1)] }),
        400,
        /data\[0\] is null/,
      ],
      [
        "non-finite data (1e999 parses to Infinity)",
        `{"inputs":[{"name":"latent","shape":[1,100],"datatype":"FP32","data":[1e999${
          ",0".repeat(99)
        }]}]}`,
        400,
        /data\[0\] = Infinity is not a finite float32/,
      ],
      [
        "beyond float32",
        withInput({ data: [1e39, ...good.inputs[0].data.slice(1)] }),
        400,
        /data\[0\] = 1e\+39 is not a finite float32/,
      ],
      [
        "too many rows",
        withInput({ shape: [9, 100], data: new Array(900).fill(0) }),
        400,
        /9 rows are too many; this server takes at most 8/,
      ],
      ["non-string id", JSON.stringify({ ...good, id: 7 }), 400, /"id" must be a string/],
      [
        "unknown output",
        JSON.stringify({ ...good, outputs: [{ name: "logits" }] }),
        400,
        /unknown output "logits"; .* "image"/,
      ],
      [
        "binary data",
        withInput({ parameters: { binary_data_size: 800 } }),
        400,
        /binary tensor data is not supported/,
      ],
      ["not UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]) as unknown as string, 400, /not UTF-8/],
    ];
    for (const [what, body, status, message] of cases) {
      const r = await post(infer, body);
      assertEquals([what, r.status, r.type], [what, status, "application/json"]);
      const error = (r.json as { error: string }).error;
      ok(message.test(error), `${what}: ${error}`);
      assertEquals(Object.keys(r.json as object), ["error"]);
    }
    const unknownModel = await post(`${server.url}/v2/models/other/infer`, JSON.stringify(good));
    assertEquals(unknownModel.status, 404);
    ok(/unknown model "other"; this server serves "generator"/.test(
      (unknownModel.json as { error: string }).error,
    ));
    for (
      const path of [
        "/v2/models/other",
        "/v2/models/other/ready",
        "/v2/models/generator/versions/2",
      ]
    ) {
      const response = await fetch(server.url + path);
      assertEquals([path, response.status], [path, 404]);
      ok("error" in await response.json());
    }
    const route = await fetch(`${server.url}/v3/anything`);
    assertEquals([route.status, Object.keys(await route.json())], [404, ["error"]]);
    const method = await fetch(infer);
    assertEquals([method.status, method.headers.get("allow")], [405, "POST"]);
    ok(/takes POST, not GET/.test((await method.json()).error));
    const put = await fetch(`${server.url}/v2`, { method: "PUT" });
    assertEquals([put.status, put.headers.get("allow")], [405, "GET, HEAD"]);
    await put.body?.cancel();
    for (
      const [query, message] of [
        ["digit=10", /digit must be an integer from 0 to 9/],
        ["digit=3&n=8&seed=0&threshold=1", /unknown query parameter "threshold"/],
        ["n=0", /n must be an integer from 1 to 8/],
        ["n=9", /n must be an integer from 1 to 8/],
        ["seed=-1", /seed must be an integer/],
        ["size=2", /unknown query parameter "size"/],
      ] as const
    ) {
      const r = await fetch(`${server.url}/v1/sample.png?${query}`);
      assertEquals([query, r.status], [query, 400]);
      ok(message.test((await r.json()).error), query);
    }
    // After all that, the server still answers correctly.
    const after = await post(infer, JSON.stringify(good));
    assertEquals(after.status, 200);
  });
});

Deno.test("serve: a body over the cap is 413, by Content-Length or while streaming", async () => {
  await withServer({ maxRequestRows: 2 }, async (server) => {
    const infer = `${server.modelUrl}/infer`;
    const cap = server.bodyLimit;
    assertEquals(cap, 2 * 100 * 32 + 65_536);
    const declared = await post(infer, " ".repeat(cap + 1));
    assertEquals(declared.status, 413);
    ok(
      /larger than this server's limit of 71936 bytes/.test(
        (declared.json as { error: string }).error,
      ),
    );
    // No Content-Length: a chunked stream of up to 256 MiB is cut off soon after it passes the cap.
    const chunk = new TextEncoder().encode(" ".repeat(65_536));
    const most = 256 * 1024 * 1024;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= most) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const streamed = await post(infer, stream);
    assertEquals(streamed.status, 413);
    ok(sent < most / 16, `the client sent ${sent} bytes before the 413`);
    // A body just under the cap is read and served.
    const padded = JSON.stringify(good) + " ".repeat(cap - JSON.stringify(good).length);
    assertEquals((await post(infer, padded)).status, 200);
  });
});
