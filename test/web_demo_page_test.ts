/**
 * The browser demo without a browser: its static servers, the README pages, URL parameters, the latent walk and
 * its player, the saved PNG and the WebAssembly probe.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import {
  renderDoc,
  resolveUrlPath,
  serveCounting,
  staticSiteHandler,
} from "../web-demo/tools/mod.ts";
import { countInWords, paramsToSearch, parseSeed, readParams } from "../web-demo/app/params.ts";
import {
  easeInOut,
  framesPerLeg,
  LatentWalk,
  WalkPlayer,
  type WalkStage,
} from "../web-demo/app/latent_walk.ts";
import { gridFileName, gridPng } from "../web-demo/app/grid_png.ts";
import type { GreyBatch } from "../web-demo/app/digit_grid.ts";
import { SIMD_PROBE, wasmUnsupportedReason } from "../web-demo/app/wasm_support.ts";
import { latentsForSeed } from "../src/random/mod.ts";

/** The address the page is at, as `location.href` gives it. */
const PAGE = "https://example.org/demo/?seed=1";

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

Deno.test("counting server: what it sent per path, revalidations included, since the last take", async () => {
  await withSiteFolder(async (root) => {
    const counting = serveCounting(root);
    try {
      for (const path of ["", "app.js", "app.js", "nope.onnx"]) {
        await (await fetch(`${counting.base}${path}`)).body?.cancel();
      }
      const modified = (await fetch(`${counting.base}app.js`, { method: "HEAD" })).headers
        .get("last-modified")!;
      const cached = await fetch(`${counting.base}app.js`, {
        headers: { "if-modified-since": modified },
      });
      assert.equal(cached.status, 304);
      await cached.body?.cancel();
      assert.deepEqual(Object.fromEntries(counting.take()), {
        "index.html": { requests: 1, bytes: 24 },
        "app.js": { requests: 4, bytes: 30 },
        "nope.onnx": { requests: 1, bytes: 0 },
      });
      assert.equal(counting.take().size, 0);
    } finally {
      await counting.server.shutdown();
    }
  });
});

Deno.test("README pages: links to other pages and images stay on the site, other files are named", () => {
  const markdown = [
    "# Title",
    "",
    "See [the models](models/README.md#using), ![a grid](models/grid.png), [code](src/x.ts),",
    "[far](https://example.com/a) and [here](#part).",
    "",
    "| a | b |",
    "| - | - |",
    "| 1 | 2 |",
  ].join("\n");
  const { html, files } = renderDoc(markdown, "README.md");
  assert.match(html, /<title>Title — DCGAN digits<\/title>/);
  assert.match(html, /<a href="models\/readme\.html#using">the models<\/a>/);
  assert.match(html, /<img src="models\/grid\.png" alt="a grid">/);
  assert.match(html, /<span class="repo-file" title="in the repository: src\/x\.ts">code<\/span>/);
  assert.match(html, /<a href="https:\/\/example\.com\/a">far<\/a>/);
  assert.match(html, /<a href="#part">here<\/a>/);
  assert.match(html, /<table>/);
  assert.match(html, /href="\.\/readme\.css"/);
  assert.deepEqual(files, ["models/grid.png"]);
  // From a page one folder down, the links climb back to the site's root.
  const nested = renderDoc("[home](../README.md) ![x](pic.png)", "models/README.md");
  assert.match(nested.html, /<a href="\.\.\/readme\.html">home<\/a>/);
  assert.match(nested.html, /href="\.\.\/index\.html"/);
  assert.deepEqual(nested.files, ["models/pic.png"]);
});

// ---- page logic ---------------------------------------------------------------------------------

Deno.test("web page parameters: seeds, backends, rows and the model path", () => {
  assert.deepEqual(parseSeed(" 42 "), { ok: true, seed: 42 });
  for (const bad of ["", "abc", "-1", "1.5", "1e3", "9007199254740993"]) {
    assert.equal(parseSeed(bad).ok, false, bad);
  }
  const good = readParams("?seed=7&backend=webgpu&rows=2", PAGE);
  assert.deepEqual(good, {
    seed: 7,
    digit: null,
    backend: "webgpu",
    modelUrl: "models/generator.onnx",
    rows: 2,
    problems: [],
  });
  assert.equal(paramsToSearch(good), "?seed=7&backend=webgpu&rows=2");
  assert.equal(paramsToSearch(readParams("", PAGE)), "?seed=0");
  assert.equal(readParams("?digit=3", PAGE).digit, 3);
  assert.equal(paramsToSearch(readParams("?seed=2&digit=0", PAGE)), "?seed=2&digit=0");

  const bad = readParams(
    "?seed=abc&backend=cuda&rows=9&model=https://example.com/g.onnx&digit=x",
    PAGE,
  );
  assert.equal(bad.seed, 0);
  assert.equal(bad.backend, "auto");
  assert.equal(bad.rows, 8);
  assert.equal(bad.modelUrl, "models/generator.onnx");
  assert.equal(bad.digit, null);
  assert.equal(bad.problems.length, 5);
  assert.match(bad.problems[0], /"abc" is not a seed/);
  assert.equal(readParams("?model=//evil/g.onnx", PAGE).modelUrl, "models/generator.onnx");
  assert.equal(readParams("?model=runs/g.onnx", PAGE).modelUrl, "runs/g.onnx");
  assert.equal(readParams("?model=/demo/models/g.onnx", PAGE).modelUrl, "/demo/models/g.onnx");
  // Spaces, tabs and newlines the URL parser strips, backslashes it reads as slashes, and schemes:
  // each leads to another origin and is refused.
  for (
    const model of [
      "%20//127.0.0.1:18098/evil.onnx",
      "/%09/127.0.0.1:18098/evil.onnx",
      "%0a//127.0.0.1:18098/evil.onnx",
      "%0d%0a//evil/g.onnx",
      "/\\evil/g.onnx",
      "\\\\evil/g.onnx",
      "http://evil/g.onnx",
      "http:127.0.0.1/g.onnx",
      "data:application/octet-stream,x",
      "%20",
    ]
  ) {
    const read = readParams(`?model=${model}`, PAGE);
    assert.equal(read.modelUrl, "models/generator.onnx", model);
    assert.match(read.problems[0], /The model must be a file on this site/, model);
  }
});

Deno.test("the page forbids fetching from other origins (Content-Security-Policy)", async () => {
  const html = await Deno.readTextFile(new URL("../web-demo/index.html", import.meta.url));
  const csp = /<meta http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  assert.ok(csp, "index.html has no Content-Security-Policy");
  const rules = new Map(
    csp.split(";").map((r) => r.trim().split(/\s+/)).map(([k, ...v]) => [k, v]),
  );
  assert.deepEqual(rules.get("connect-src"), ["'self'"]);
  assert.deepEqual(rules.get("default-src"), ["'self'"]);
  assert.deepEqual(rules.get("object-src"), ["'none'"]);
});

Deno.test("the headline counts the digits of ?rows= in words", () => {
  const words = [1, 2, 3, 4, 5, 6, 7, 8].map((rows) => countInWords(8 * rows));
  assert.deepEqual(words, [
    "Eight",
    "Sixteen",
    "Twenty-four",
    "Thirty-two",
    "Forty",
    "Forty-eight",
    "Fifty-six",
    "Sixty-four",
  ]);
  assert.equal(countInWords(1), "One");
  assert.equal(countInWords(18), "Eighteen");
  assert.equal(countInWords(21), "Twenty-one");
  assert.throws(() => countInWords(65), RangeError);
});

Deno.test("Save PNG: the grid as on screen, 8 digits a row with 2 black pixels around each", () => {
  const count = 16, side = 28;
  const data = Float32Array.from({ length: count * side * side }, (_, i) => (i % 251) / 250);
  const batch: GreyBatch = { data, count, height: side, width: side };
  const image = decode(gridPng(batch, 8));
  assert.deepEqual([image.width, image.height, image.channels], [242, 62, 1]);
  for (const i of [0, 7, 8, 15]) {
    const x0 = 2 + (i % 8) * 30, y0 = 2 + Math.floor(i / 8) * 30;
    for (const p of [0, 29, 400, 783]) {
      const pixel = image.data[(y0 + Math.floor(p / side)) * 242 + x0 + (p % side)];
      assert.equal(pixel, Math.round(data[i * side * side + p] * 255), `digit ${i} pixel ${p}`);
    }
  }
  assert.equal(image.data[0], 0);
  assert.equal(image.data[31 * 242 + 31], 0, "the padding between rows is black");
  assert.equal(gridFileName(7, null), "dcgan-seed-7.png");
  assert.equal(gridFileName(7, 3), "dcgan-seed-7-digit-3.png");
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

/** A walk stage that records what the player asks for; `stopAfter` frames drawn, it stops the player. */
function recordingStage(stopAfter: number) {
  const events: string[] = [];
  const generated: Float32Array[] = [];
  const reached: number[] = [];
  let drawn = 0;
  let player: WalkPlayer | null = null;
  const stage: WalkStage = {
    latentDim: 100,
    latents: (seed, count) => Promise.resolve(latentsForSeed(seed, count, 100)),
    generate(latents) {
      generated.push(latents);
      events.push(`generate ${generated.length}`);
      const batch = { data: new Float32Array(latents.length), count: 1, height: 10, width: 10 };
      return new Promise((resolve) => setTimeout(() => resolve(batch), 1));
    },
    startLeg: (from, frames) => events.push(`leg ${from} in ${frames}`),
    drawFrame: (_batch, from) => {
      events.push(`draw ${++drawn} from ${from}`);
      if (drawn === stopAfter) player!.stop();
    },
    reachedSeed: (seed) => reached.push(seed),
  };
  player = new WalkPlayer(stage);
  return { player, events, generated, reached };
}

Deno.test("walk player: each frame is computed while the last is shown; a stop settles on the nearer seed", async () => {
  // 10 ms a digit × 8 digits: 80 ms frames, so the first leg has 3000 / 80 ≈ 38 frames.
  assert.equal(framesPerLeg(80), 38);
  assert.equal(framesPerLeg(5), 45);
  assert.equal(framesPerLeg(2000), 6);
  const early = recordingStage(3);
  assert.equal(await early.player.play(5, 8, 10), 5, "stopped early in the leg: its start");
  assert.deepEqual(early.events, [
    "leg 5 in 38",
    "generate 1",
    "generate 2",
    "draw 1 from 5",
    "generate 3",
    "draw 2 from 5",
    "generate 4",
    "draw 3 from 5",
  ]);
  // The frames are the leg's own: frame k of the slerp from seed 5's latents to seed 6's.
  const leg = new LatentWalk(latentsForSeed(5, 8, 100), latentsForSeed(6, 8, 100), 100, 38);
  early.generated.forEach((latents, k) => assert.deepEqual(latents, leg.frame(k + 1)));

  // Past the middle of a leg, the walk settles on the leg's end; seeds it passed are reported.
  const late = recordingStage(38 + 30);
  const nearest = await late.player.play(5, 8, 10);
  assert.deepEqual(late.reached, [6]);
  const second = late.events.find((e) => e.startsWith("leg 6 in "))!;
  const frames = Number(second.split(" ").pop());
  assert.equal(nearest, 30 / frames >= 0.5 ? 7 : 6, `${second}, stopped 30 frames in`);
  assert.ok(frames > 38, "frames that arrive faster make the next leg longer");

  // Stopped before it plays, a walk draws nothing and stays on its seed.
  const never = recordingStage(1);
  never.player.stop();
  assert.equal(await never.player.play(9, 8, 10), 9);
  assert.deepEqual(never.events, []);
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
