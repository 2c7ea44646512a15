/**
 * The browser demo without a browser: its static server, URL parameters, latent walk and WebAssembly probe.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveUrlPath, staticSiteHandler } from "../web-demo/tools/mod.ts";
import { paramsToSearch, parseSeed, readParams } from "../web-demo/app/params.ts";
import { easeInOut, LatentWalk } from "../web-demo/app/latent_walk.ts";
import { SIMD_PROBE, wasmUnsupportedReason } from "../web-demo/app/wasm_support.ts";
import { latentsForSeed } from "../src/random/mod.ts";

// ---- server -------------------------------------------------------------------------------------

async function withSiteFolder(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "web-demo-site-" });
  try {
    await Deno.writeTextFile(join(root, "index.html"), "<!doctype html><p>hi</p>");
    await Deno.mkdir(join(root, "ort"));
    await Deno.writeFile(join(root, "ort", "x.wasm"), new Uint8Array([0, 97, 115, 109]));
    await Deno.writeTextFile(join(root, "app.js"), "console.log(1);");
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("web server: index, MIME types, COOP/COEP headers on every response", async () => {
  await withSiteFolder(async (root) => {
    const handle = staticSiteHandler(root);
    const get = (path: string, method = "GET") =>
      handle(new Request(`http://127.0.0.1:8000${path}`, { method }));

    const index = await get("/");
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await index.text(), "<!doctype html><p>hi</p>");
    const wasm = await get("/ort/x.wasm");
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    assert.deepEqual(new Uint8Array(await wasm.arrayBuffer()), new Uint8Array([0, 97, 115, 109]));
    const js = await get("/app.js?v=1");
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    await js.body?.cancel();

    const head = await get("/app.js", "HEAD");
    assert.equal(head.headers.get("content-length"), "15");
    assert.equal(head.body, null);
    const modified = head.headers.get("last-modified") ?? "";
    assert.match(modified, /GMT$/);
    const cached = await handle(
      new Request("http://127.0.0.1:8000/app.js", { headers: { "if-modified-since": modified } }),
    );
    assert.equal(cached.status, 304);
    assert.equal(cached.body, null);
    const missing = await get("/nope.onnx");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const post = await get("/", "POST");
    assert.equal(post.status, 405);
    await post.body?.cancel();
    // ".." never leaves the site folder, and backslashes are refused.
    const dotted = await get("/%2e%2e/%2e%2e/etc/passwd");
    assert.equal(dotted.status, 404);
    await dotted.body?.cancel();
    assert.equal(resolveUrlPath(root, "/../../etc/passwd"), join(root, "etc", "passwd"));
    assert.equal(resolveUrlPath(root, "/..%2f..%2fetc"), join(root, "etc"));
    const backslash = await get("/ort%5c..%5c..%5cx");
    assert.equal(backslash.status, 400);
    await backslash.body?.cancel();

    for (const response of [index, wasm, missing, post]) {
      assert.equal(response.headers.get("cross-origin-opener-policy"), "same-origin");
      assert.equal(response.headers.get("cross-origin-embedder-policy"), "require-corp");
    }
  });
});

// ---- page logic ---------------------------------------------------------------------------------

Deno.test("web page parameters: seeds, backends, rows and the model path", () => {
  assert.deepEqual(parseSeed(" 42 "), { ok: true, seed: 42 });
  for (const bad of ["", "abc", "-1", "1.5", "1e3", "9007199254740993"]) {
    assert.equal(parseSeed(bad).ok, false, bad);
  }
  const good = readParams("?seed=7&backend=webgpu&rows=2");
  assert.deepEqual(good, {
    seed: 7,
    digit: null,
    backend: "webgpu",
    modelUrl: "models/generator.onnx",
    rows: 2,
    problems: [],
  });
  assert.equal(paramsToSearch(good), "?seed=7&backend=webgpu&rows=2");
  assert.equal(paramsToSearch(readParams("")), "?seed=0");
  assert.equal(readParams("?digit=3").digit, 3);
  assert.equal(paramsToSearch(readParams("?seed=2&digit=0")), "?seed=2&digit=0");

  const bad = readParams("?seed=abc&backend=cuda&rows=9&model=https://example.com/g.onnx&digit=x");
  assert.equal(bad.seed, 0);
  assert.equal(bad.backend, "auto");
  assert.equal(bad.rows, 8);
  assert.equal(bad.modelUrl, "models/generator.onnx");
  assert.equal(bad.digit, null);
  assert.equal(bad.problems.length, 5);
  assert.match(bad.problems[0], /"abc" is not a seed/);
  assert.equal(readParams("?model=//evil/g.onnx").modelUrl, "models/generator.onnx");
  assert.equal(readParams("?model=runs/g.onnx").modelUrl, "runs/g.onnx");
});

Deno.test("latent walk: starts and ends on the two seeds' latents, eased, on great circles", () => {
  const dim = 100, frames = 10;
  const a = latentsForSeed(1, 4, dim), b = latentsForSeed(2, 4, dim);
  const walk = new LatentWalk(a, b, dim, frames);
  const distance = (x: Float32Array, y: Float32Array) =>
    Math.max(...x.map((v, i) => Math.abs(v - y[i])));
  assert.ok(distance(walk.frame(0), a) < 1e-5);
  assert.ok(distance(walk.frame(frames), b) < 1e-5);
  // Eased: the first step is shorter than the middle one.
  const first = distance(walk.frame(1), walk.frame(0));
  const middle = distance(walk.frame(6), walk.frame(5));
  assert.ok(first < middle / 2, `${first} vs ${middle}`);
  const norm = (x: Float32Array, row: number) =>
    Math.hypot(...x.subarray(row * dim, (row + 1) * dim));
  const mid = walk.frame(frames / 2);
  for (let row = 0; row < 4; row++) {
    // A straight line's midpoint would be about 1/√2 as long; the great circle stays near both ends.
    const ends = (norm(a, row) + norm(b, row)) / 2;
    assert.ok(Math.abs(norm(mid, row) / ends - 1) < 0.05, `row ${row}`);
  }
  assert.equal(easeInOut(0), 0);
  assert.equal(easeInOut(0.5), 0.5);
  assert.equal(easeInOut(1), 1);
  assert.throws(() => new LatentWalk(a, b.subarray(0, 100), dim, frames), RangeError);
});

Deno.test("WebAssembly SIMD probe: valid here only through its v128 parts; engines without SIMD are told so", () => {
  assert.equal(wasmUnsupportedReason(), null);
  // The probe's twin with i32 in place of v128 (type `() -> i32`, body `i32.const 0`) is valid too, so the
  // probe's own validity hinges on SIMD alone.
  const scalarTwin = new Uint8Array([
    ...SIMD_PROBE.subarray(0, 8),
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f],
    ...[0x03, 0x02, 0x01, 0x00],
    ...[0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00, 0x0b],
  ]);
  assert.ok(WebAssembly.validate(scalarTwin));
  assert.ok(SIMD_PROBE.includes(0x7b) && SIMD_PROBE.includes(0xfd), "the probe uses v128");
  const noSimd = {
    validate: (bytes: BufferSource) => !new Uint8Array(bytes as Uint8Array).includes(0x7b),
  };
  assert.ok(noSimd.validate(scalarTwin) && !noSimd.validate(SIMD_PROBE));
  assert.match(wasmUnsupportedReason(noSimd) ?? "", /lacks SIMD/);
  assert.match(wasmUnsupportedReason({} as never) ?? "", /does not run WebAssembly/);
});
