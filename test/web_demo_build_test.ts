/**
 * The browser demo's build: a self-contained static folder, what a first visit downloads (at most 6 MB gzip on
 * WebAssembly), the generator the site ships (derived from models/generator.onnx, every pixel within 2/255 of
 * it), and the README as HTML pages whose links lead somewhere. In Chromium: `web_demo_test.ts`.
 */
import assert from "node:assert/strict";
import { dirname, join, posix } from "node:path";
import { createGenerator, latentsForSeed } from "../src/infer/mod.ts";
import { decodeModel } from "../src/onnx/mod.ts";
import {
  buildSite,
  DEFAULT_MODEL_PATH,
  REPO_ROOT,
  SiteBuildError,
  webModel,
} from "../web-demo/tools/mod.ts";

const dir = await Deno.makeTempDir({ prefix: "web-demo-build-" });
const report = await buildSite({ outDir: join(dir, "site") });
const site = join(dir, "site");
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

const FIRST_VISIT_GZIP_LIMIT = 6e6;

Deno.test("web build: a self-contained static folder with the bundle, ORT's wasm and the model", async () => {
  const paths = report.files.map((f) => f.path);
  const shipped = ["index.html", "styles.css", "icon.svg", "app.js", "models/generator.onnx"];
  for (const path of [...shipped, "models/classifier.onnx", "readme.html", "models/readme.html"]) {
    assert.ok(paths.includes(path), `${path} missing from ${paths.join(", ")}`);
  }
  assert.ok(!paths.includes("README.md"), "the README ships as HTML, not Markdown");
  const html = await Deno.readTextFile(join(site, "index.html"));
  assert.doesNotMatch(
    html,
    /(src|href)="(https?:)?\/\//,
    "index.html must not load from other hosts",
  );
  assert.match(html, /href="readme\.html">project README</);
  assert.ok(report.bundleBytes > 0 && report.bundleBytes < 1_000_000, `${report.bundleBytes}`);
  await assert.rejects(
    buildSite({ outDir: join(dir, "never"), modelPath: join(REPO_ROOT, "README.md") }),
    (e: Error) =>
      e instanceof SiteBuildError && /README\.md is not a grey-image generator/.test(e.message),
  );
  await assert.rejects(
    buildSite({ outDir: join(dir, "never"), modelPath: join(dir, "missing.onnx") }),
    (e: Error) => e instanceof SiteBuildError && /missing\.onnx not found/.test(e.message),
  );
});

Deno.test("web build: a first visit on WebAssembly fetches the plain runtime, at most 6 MB gzip", () => {
  const when = (fetched: string) =>
    report.files.filter((f) => f.fetched === fetched).map((f) => f.path);
  const first = when("first visit");
  assert.ok(first.includes("ort/ort-wasm-simd-threaded.wasm"), first.join(", "));
  assert.ok(first.includes("app.js") && first.includes("models/generator.onnx"));
  assert.ok(first.every((p) => !p.includes("asyncify") && !p.includes("webgpu")), first.join(", "));
  // WebGPU's runtime and onnxruntime-web's WebGPU build (a chunk of the bundle) come only with WebGPU.
  const webgpu = when("webgpu");
  assert.ok(webgpu.includes("ort/ort-wasm-simd-threaded.asyncify.wasm"), webgpu.join(", "));
  assert.ok(webgpu.some((p) => /^ort\.webgpu\.bundle\.min-\w+\.js$/.test(p)), webgpu.join(", "));
  assert.deepEqual(when("on demand").filter((p) => p.endsWith(".onnx")), [
    "models/classifier.onnx",
  ]);
  assert.ok(when("never").every((p) => p.endsWith(".map")));
  const sum = (paths: string[], key: "bytes" | "gzipBytes") =>
    report.files.filter((f) => paths.includes(f.path)).reduce((total, f) => total + f[key], 0);
  assert.equal(report.firstVisitBytes, sum(first, "bytes"));
  assert.equal(report.firstVisitGzipBytes, sum(first, "gzipBytes"));
  assert.equal(report.webGpuGzipBytes, sum(webgpu, "gzipBytes"));
  assert.ok(
    report.firstVisitGzipBytes <= FIRST_VISIT_GZIP_LIMIT,
    `a first visit downloads ${report.firstVisitGzipBytes} bytes gzip`,
  );
});

Deno.test("web build: the site's generator is derived from models/generator.onnx, within 2/255 of it", async () => {
  const shipped = await Deno.readFile(join(site, "models", "generator.onnx"));
  const original = await Deno.readFile(DEFAULT_MODEL_PATH);
  assert.deepEqual(shipped, new Uint8Array(webModel(original, "int11")));
  assert.ok(shipped.length < 0.4 * original.length, `${shipped.length} of ${original.length}`);
  const float32 = await buildSite({ outDir: join(dir, "float32"), weights: "float32" });
  const float32Model = await Deno.readFile(join(dir, "float32", "models", "generator.onnx"));
  assert.deepEqual(float32Model, new Uint8Array(webModel(original, "float32")));
  // Both carry the web form of the rewrites: ConvTranspose upsampling, the image layer as a ConvTranspose.
  for (const bytes of [shipped, float32Model]) {
    const ops = decodeModel(bytes).graph.node.map((n) => n.opType);
    assert.equal(ops.filter((op) => op === "ConvTranspose").length, 3, ops.join(", "));
    assert.equal(ops.includes("DepthToSpace"), false, ops.join(", "));
  }
  assert.ok(float32.firstVisitGzipBytes > report.firstVisitGzipBytes + 3e6);

  const [web, reference] = await Promise.all(
    [shipped, original].map((bytes) => createGenerator(bytes, { provider: "cpu" })),
  );
  try {
    const latents = new Float32Array([
      ...latentsForSeed(7, 64, 100),
      ...latentsForSeed(2024, 512, 100),
    ]);
    const [a, b] = await Promise.all([web.generate(latents), reference.generate(latents)]);
    let worst = 0;
    a.data.forEach((v, i) => worst = Math.max(worst, Math.abs(v - b.data[i]) * 255));
    assert.ok(worst <= 2, `a pixel differs from the float32 model's by ${worst}/255`);
    assert.ok(worst > 0, "the weights really are stored with fewer bits");
    assert.equal(
      web.info.metadata.weight_storage,
      "int11, one scale per output channel (Cast, Mul)",
    );
    assert.equal(web.info.metadata.training_steps, reference.info.metadata.training_steps);
  } finally {
    await Promise.all([web.dispose(), reference.dispose()]);
  }
});

Deno.test("web build: the README pages are HTML whose links and images stay on the site", async () => {
  for (const page of ["readme.html", "models/readme.html"]) {
    const html = await Deno.readTextFile(join(site, page));
    assert.match(html, /^<!doctype html>/);
    const prose = html.replace(/<pre>[\s\S]*?<\/pre>/g, "");
    assert.doesNotMatch(prose, /\]\(|^#+ |^\|/m, `${page} still holds Markdown`);
    const local = [...html.matchAll(/(?:src|href)="([^"#]+)(?:#[^"]*)?"/g)]
      .map((m) => m[1])
      .filter((href) => !/^[a-z]+:/i.test(href));
    assert.ok(local.length >= 4, `${page}: ${local.join(", ")}`);
    for (const href of local) {
      const path = posix.normalize(posix.join(dirname(page), href));
      assert.ok(
        report.files.some((f) => f.path === path),
        `${page} links to ${href}, not on the site`,
      );
    }
  }
  const readme = await Deno.readTextFile(join(site, "readme.html"));
  assert.match(readme, /<h1>dcgan-deno<\/h1>/);
  assert.match(readme, /<table>/);
  assert.match(readme, /<img src="models\/generator-samples\.png"/);
  assert.match(readme, /<a href="models\/readme\.html"><code>models\/README\.md<\/code><\/a>/);
  // A link to a file the site does not carry names it instead.
  assert.match(
    readme,
    /<span class="repo-file" title="in the repository: src\/model\/README\.md">/,
  );
});
