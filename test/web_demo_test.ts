/**
 * The browser demo's build, and an end-to-end run in a real Chromium (WASM and WebGPU backends) whose
 * pixels must match onnxruntime-node's cpu output. Its server and page logic: `web_demo_page_test.ts`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { createGenerator } from "../src/infer/mod.ts";
import {
  type BuildReport,
  buildSite,
  CHROMIUM_PATH,
  DEFAULT_MODEL_PATH,
  haveChromium,
  openBrowser,
  REPO_ROOT,
  serveSite,
  SiteBuildError,
} from "../web-demo/tools/mod.ts";

const ARTIFACTS = join(REPO_ROOT, ".test-artifacts");
const REQUIRE_BROWSER = Deno.env.get("DCGAN_REQUIRE_BROWSER") === "1";
const HAVE_CHROMIUM = haveChromium();
if (!HAVE_CHROMIUM && !REQUIRE_BROWSER) {
  console.log(
    `web demo browser test skipped: no Chromium at ${CHROMIUM_PATH}; install it with ` +
      `"sudo apt-get install -y chromium" (DCGAN_REQUIRE_BROWSER=1 makes this a failure)`,
  );
}

// ---- build --------------------------------------------------------------------------------------

let built: Promise<{ dir: string; report: BuildReport }> | null = null;
let builtDir: string | null = null;

/** Builds the site once into a temporary folder, shared by the tests below. */
function builtSite(): Promise<{ dir: string; report: BuildReport }> {
  built ??= (async () => {
    const dir = builtDir = await Deno.makeTempDir({ prefix: "web-demo-dist-" });
    return { dir, report: await buildSite({ outDir: dir }) };
  })();
  return built;
}

globalThis.addEventListener("unload", () => {
  if (builtDir !== null) Deno.removeSync(builtDir, { recursive: true });
});

Deno.test("web build: a self-contained static folder with the bundle, ORT's wasm and the model", async () => {
  const { dir, report } = await builtSite();
  const paths = report.files.map((f) => f.path);
  const shipped = ["index.html", "styles.css", "icon.svg", "app.js", "models/generator.onnx"];
  for (const path of [...shipped, "models/classifier.onnx"]) {
    assert.ok(paths.includes(path), `${path} missing from ${paths.join(", ")}`);
  }
  const wasm = paths.filter((p) => /^ort\/ort-wasm-simd-threaded.*\.wasm$/.test(p));
  assert.ok(wasm.length >= 1, "no onnxruntime-web .wasm copied");
  const model = await Deno.readFile(join(dir, "models", "generator.onnx"));
  assert.deepEqual(model, await Deno.readFile(DEFAULT_MODEL_PATH));
  const html = await Deno.readTextFile(join(dir, "index.html"));
  assert.doesNotMatch(
    html,
    /(src|href)="(https?:)?\/\//,
    "index.html must not load from other hosts",
  );
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
  // The classifier is fetched only when a digit is chosen.
  const loaded = report.files.filter((f) =>
    !f.path.endsWith(".map") && f.path !== "README.md" && f.path !== "models/classifier.onnx"
  );
  assert.equal(report.totalBytes, loaded.reduce((sum, f) => sum + f.bytes, 0));
  assert.ok(report.totalGzipBytes < report.totalBytes);
});

// ---- end to end in Chromium ---------------------------------------------------------------------

const SEED = 7;

/** `0.5·G(z) + 0.5` for the `count` latents of `seed`'s grid (of one digit), from onnxruntime-node cpu. */
async function referenceImages(seed: number, count: number, digit?: number): Promise<Float32Array> {
  const generator = await createGenerator(DEFAULT_MODEL_PATH, { provider: "cpu" });
  try {
    return (await generator.sample(count, { seed, digit })).data;
  } finally {
    await generator.dispose();
  }
}

/** Everything that went wrong on a page: console errors, uncaught exceptions, failed requests. */
function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`uncaught: ${e.message}`));
  page.on(
    "requestfailed",
    (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`),
  );
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

/** Browser-side script: each digit canvas's grey bytes, and how many pixels are not opaque grey. */
const READ_GRID = `(() => {
  const grid = document.getElementById("grid");
  let notGrey = 0;
  const grey = [...grid.querySelectorAll("canvas")].map((canvas) => {
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const out = [];
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== data[i + 1] || data[i] !== data[i + 2] || data[i + 3] !== 255) notGrey++;
      out.push(data[i]);
    }
    return out;
  });
  return { grey, notGrey, seed: grid.dataset.seed };
})()`;

function readGrid(page: Page): Promise<{ grey: number[][]; notGrey: number; seed?: string }> {
  return page.evaluate(READ_GRID);
}

function assertMatchesReference(grey: number[][], reference: Float32Array, label: string): void {
  const per = 28 * 28;
  assert.equal(grey.length * per, reference.length, `${label}: digit count`);
  let worst = 0;
  for (let i = 0; i < grey.length; i++) {
    for (let p = 0; p < per; p++) {
      worst = Math.max(worst, Math.abs(grey[i][p] - reference[i * per + p] * 255));
    }
  }
  assert.ok(worst <= 2, `${label}: a pixel differs from onnxruntime-node cpu by ${worst}/255`);
}

Deno.test({
  name: "web demo in Chromium: ?seed=7 on WASM and WebGPU matches onnxruntime-node cpu",
  ignore: !HAVE_CHROMIUM && !REQUIRE_BROWSER,
  async fn(t) {
    assert.ok(
      HAVE_CHROMIUM,
      `no Chromium at ${CHROMIUM_PATH}; install it: apt-get install -y chromium`,
    );
    const { dir } = await builtSite();
    const server = serveSite({ root: dir, port: 0 });
    const base = `http://127.0.0.1:${server.addr.port}/`;
    const browser = await openBrowser();
    const { context } = browser;
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    try {
      const reference = await referenceImages(SEED, 64);
      const threes = await referenceImages(SEED, 64, 3);

      await t.step("WASM: the full 8 × 8 grid, keyboard and a bad seed", async () => {
        const page = await context.newPage();
        const problems = watchPage(page);
        await page.goto(`${base}?seed=${SEED}&backend=wasm`);
        await page.waitForSelector(`body[data-state="ready"] #grid[data-seed="${SEED}"]`, {
          timeout: 180_000,
        });
        const { grey, notGrey } = await readGrid(page);
        assert.equal(notGrey, 0, "pixels that are not opaque grey");
        assertMatchesReference(grey, reference, "wasm");
        assert.match(await page.textContent("#backend-text") ?? "", /WebAssembly/);
        // COOP/COEP took effect: the page may use SharedArrayBuffer (onnxruntime-web's threads).
        assert.equal(await page.evaluate("crossOriginIsolated"), true);
        await page.screenshot({ path: join(ARTIFACTS, "web-demo-wasm.png"), fullPage: true });

        // Keyboard: into the grid, two steps right, one down, Enter enlarges digit index 10.
        await page.focus("#grid .digit");
        await page.keyboard.press("ArrowRight");
        await page.keyboard.press("ArrowRight");
        await page.keyboard.press("ArrowDown");
        await page.keyboard.press("Enter");
        await page.waitForSelector("#zoom[open]");
        assert.equal(await page.textContent("#zoom-title"), "Seed 7 · index 10");
        assert.match(await page.textContent("#zoom-caption") ?? "", /^Row 2, column 3\./);
        await page.screenshot({ path: join(ARTIFACTS, "web-demo-zoom.png") });
        await page.keyboard.press("Escape");
        assert.equal(
          await page.evaluate("document.activeElement.dataset.index"),
          "10",
        );

        // A non-numeric seed is explained and leaves the grid as it was.
        await page.fill("#seed", "abc");
        await page.press("#seed", "Enter");
        assert.match(await page.textContent("#seed-note") ?? "", /"abc" is not a seed/);
        assert.equal(await page.getAttribute("#seed", "aria-invalid"), "true");
        assert.equal((await readGrid(page)).seed, String(SEED));

        // W starts the walk towards seed 8 (frames drawn between the seeds), W again stops it.
        await page.focus("#grid .digit");
        await page.keyboard.press("w");
        assert.equal(await page.getAttribute("#walk", "aria-pressed"), "true");
        await page.waitForSelector(`#grid[data-label="walk ${SEED}"]`, { timeout: 120_000 });
        assert.equal((await readGrid(page)).seed, undefined);
        await page.keyboard.press("w");
        assert.equal(await page.getAttribute("#walk", "aria-pressed"), "false");

        // The digit buttons: the classifier is fetched only once one is pressed; "3" draws the grid
        // of "deno task sample --seed 7 --digit 3", and "Any" goes back to the plain seed.
        const classifierLoaded = () =>
          page.evaluate(
            `performance.getEntriesByType("resource").some((e) => e.name.endsWith("classifier.onnx"))`,
          );
        assert.equal(await classifierLoaded(), false);
        await page.click('#digits button[data-digit="3"]');
        await page.waitForSelector(`#grid[data-seed="${SEED}"][data-digit="3"]`, {
          timeout: 120_000,
        });
        assert.equal(await classifierLoaded(), true);
        assert.equal(
          await page.getAttribute('#digits button[data-digit="3"]', "aria-pressed"),
          "true",
        );
        assertMatchesReference((await readGrid(page)).grey, threes, "wasm digit 3");
        assert.match(page.url(), /[?&]digit=3\b/);
        await page.click('#digits button[data-digit=""]');
        await page.waitForSelector(`#grid[data-seed="${SEED}"][data-digit="any"]`);
        assertMatchesReference((await readGrid(page)).grey, reference, "wasm any digit");
        assert.deepEqual(problems, []);
        await page.close();
      });

      await t.step("WebGPU (one row on the SwiftShader adapter): the same pixels", async () => {
        const page = await context.newPage();
        const problems = watchPage(page);
        await page.goto(`${base}?seed=${SEED}&backend=webgpu&rows=1`);
        await page.waitForSelector(`body[data-state="ready"] #grid[data-seed="${SEED}"]`, {
          timeout: 240_000,
        });
        const { grey, notGrey } = await readGrid(page);
        assert.equal(notGrey, 0);
        assertMatchesReference(grey, reference.subarray(0, 8 * 28 * 28), "webgpu");
        assert.match(await page.textContent("#backend-text") ?? "", /WebGPU/);
        await page.screenshot({ path: join(ARTIFACTS, "web-demo-webgpu.png"), fullPage: true });
        assert.deepEqual(problems, []);
        await page.close();
      });

      await t.step(
        "WebGPU asked for in a browser without it: WASM draws the same grid",
        async () => {
          const page = await context.newPage();
          await page.addInitScript("delete Navigator.prototype.gpu");
          const problems = watchPage(page);
          await page.goto(`${base}?seed=${SEED}&backend=webgpu&rows=1`);
          await page.waitForSelector(`body[data-state="ready"] #grid[data-seed="${SEED}"]`, {
            timeout: 180_000,
          });
          assertMatchesReference(
            (await readGrid(page)).grey,
            reference.subarray(0, 8 * 28 * 28),
            "fallback",
          );
          assert.match(
            await page.textContent("#backend-text") ?? "",
            /^WebAssembly \(WebGPU was asked for, but this browser has no WebGPU\)/,
          );
          assert.match(
            await page.textContent("#message") ?? "",
            /WebAssembly draws the digits instead/,
          );
          assert.deepEqual(problems, []);
          await page.close();
        },
      );

      await t.step("a missing or corrupt model is explained in plain words", async () => {
        const page = await context.newPage();
        const problems = watchPage(page);
        await page.goto(`${base}?seed=1&backend=wasm&model=missing.onnx`);
        await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
        const message = await page.textContent("#message") ?? "";
        assert.match(message, /missing\.onnx could not be downloaded \(HTTP 404/);
        assert.ok(
          problems.every((p) => p.includes("missing.onnx") || p.includes("404")),
          problems.join("; "),
        );
        await page.screenshot({ path: join(ARTIFACTS, "web-demo-missing-model.png") });

        // A file that is not ONNX (the README) is refused with the inference module's reason.
        const corrupt = watchPage(page);
        await page.goto(`${base}?seed=1&backend=wasm&model=README.md`);
        await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
        assert.match(
          await page.textContent("#message") ?? "",
          /README\.md could not be opened: .*not an ONNX model/,
        );
        assert.deepEqual(corrupt, []);
        await page.close();
      });
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
