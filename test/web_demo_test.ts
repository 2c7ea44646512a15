/**
 * The browser demo end to end in a real Chromium (WASM and WebGPU backends): its pixels must match
 * onnxruntime-node's cpu output for the generator the site ships, a first visit fetches only what the build says,
 * and Walk, the enlarged view, Save PNG and the README link work. The build: `web_demo_build_test.ts`; the server
 * and page logic: `web_demo_page_test.ts`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import type { Page } from "playwright-core";
import { createGenerator } from "../src/infer/mod.ts";
import {
  type BuildReport,
  buildSite,
  CHROMIUM_PATH,
  haveChromium,
  openBrowser,
  REPO_ROOT,
  serveCounting,
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

// ---- end to end in Chromium ---------------------------------------------------------------------

const SEED = 7;

/**
 * `0.5·G(z) + 0.5` for the `count` latents of `seed`'s grid (of one digit), from onnxruntime-node cpu running the
 * model the site ships.
 */
async function referenceImages(
  model: Uint8Array,
  seed: number,
  count: number,
  digit?: number,
): Promise<Float32Array> {
  const generator = await createGenerator(model, { provider: "cpu" });
  try {
    return (await generator.sample(count, { seed, digit })).data;
  } finally {
    await generator.dispose();
  }
}

/** The site paths a browser fetched (a body or a revalidation), from the counting server. */
function fetchedPaths(sent: Map<string, unknown>): string[] {
  return [...sent.keys()].sort();
}

/** The paths the build says a first visit on WebAssembly downloads. */
function firstVisitPaths(report: BuildReport): string[] {
  return report.files.filter((f) => f.fetched === "first visit").map((f) => f.path).sort();
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

/** Browser-side script: the grey bytes of each digit canvas, as the page drew them. */
const GRID_BYTES = `[...document.querySelectorAll("#grid canvas")].map((canvas) =>
  [...canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data]
    .filter((_, i) => i % 4 === 0))`;

/** Checks that a saved PNG is the grid on screen: 8 digits a row, 2 black pixels between and around them. */
function assertPngIsGrid(png: Uint8Array, grid: number[][]): void {
  const image = decode(png);
  const rows = grid.length / 8;
  assert.deepEqual([image.width, image.height, image.channels], [8 * 30 + 2, rows * 30 + 2, 1]);
  const expected = new Uint8Array(image.width * image.height);
  grid.forEach((digit, i) => {
    const x0 = 2 + (i % 8) * 30, y0 = 2 + Math.floor(i / 8) * 30;
    digit.forEach((v, p) => expected[(y0 + Math.floor(p / 28)) * image.width + x0 + (p % 28)] = v);
  });
  assert.deepEqual(new Uint8Array(image.data), expected);
}

const READY = `body[data-state="ready"] #grid[data-seed="${SEED}"]`;

Deno.test({
  name: "web demo in Chromium: ?seed=7 on WASM and WebGPU matches onnxruntime-node cpu",
  ignore: !HAVE_CHROMIUM && !REQUIRE_BROWSER,
  async fn(t) {
    assert.ok(
      HAVE_CHROMIUM,
      `no Chromium at ${CHROMIUM_PATH}; install it: apt-get install -y chromium`,
    );
    const dir = await Deno.makeTempDir({ prefix: "web-demo-dist-" });
    const report = await buildSite({ outDir: join(dir, "site") });
    const site = join(dir, "site");
    const counting = serveCounting(site);
    const base = counting.base;
    const browser = await openBrowser();
    const { context } = browser;
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    try {
      const model = await Deno.readFile(join(site, "models", "generator.onnx"));
      const reference = await referenceImages(model, SEED, 64);
      const next = await referenceImages(model, SEED + 1, 64);
      const threes = await referenceImages(model, SEED, 64, 3);

      await t.step(
        "WASM: the full grid, what a first visit fetches, keyboard and a bad seed",
        async () => {
          const page = await context.newPage();
          const problems = watchPage(page);
          await page.goto(`${base}?seed=${SEED}&backend=wasm`);
          await page.waitForSelector(READY, { timeout: 180_000 });
          // The plain WebAssembly runtime, not WebGPU's: exactly the files the build counts as a first visit.
          assert.deepEqual(fetchedPaths(counting.take()), firstVisitPaths(report));
          const { grey, notGrey } = await readGrid(page);
          assert.equal(notGrey, 0, "pixels that are not opaque grey");
          assertMatchesReference(grey, reference, "wasm");
          assert.match(await page.textContent("#backend-text") ?? "", /WebAssembly/);
          assert.match(await page.textContent("#tagline") ?? "", /^Sixty-four handwritten digits/);
          // COOP/COEP took effect, and the model runs in one worker a core (up to 4).
          assert.equal(await page.evaluate("crossOriginIsolated"), true);
          assert.equal(
            await page.getAttribute("#grid", "data-workers"),
            String(await page.evaluate("Math.min(4, navigator.hardwareConcurrency)")),
          );
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
          await page.fill("#seed", String(SEED));
          assert.deepEqual(problems, []);
          await page.close();
        },
      );

      await t.step(
        "Walk: frames between the seeds on the rows this machine keeps up with, then a seed",
        async () => {
          const page = await context.newPage();
          const problems = watchPage(page);
          await page.goto(`${base}?seed=${SEED}&backend=wasm`);
          await page.waitForSelector(READY, { timeout: 180_000 });
          await page.focus("#grid .digit");
          await page.keyboard.press("w");
          assert.equal(await page.getAttribute("#walk", "aria-pressed"), "true");
          await page.waitForSelector(`#grid[data-label="walk ${SEED}"]`, { timeout: 120_000 });
          assert.equal((await readGrid(page)).seed, undefined);
          // The rows that do not walk rest, dimmed: whole rows, and at least the first one walks.
          const resting = await page.locator("#grid .digit.resting").count();
          assert.ok(resting % 8 === 0 && resting < 64, `${resting} resting digits`);
          await page.keyboard.press("w");
          assert.equal(await page.getAttribute("#walk", "aria-pressed"), "false");
          // Stopped, the grid settles on the nearer seed: the full grid of it, the seed field and the URL agree.
          await page.waitForSelector("#grid[data-seed]:not([aria-busy=true])", {
            timeout: 120_000,
          });
          const { seed, grey } = await readGrid(page);
          assert.ok(seed === String(SEED) || seed === String(SEED + 1), `settled on ${seed}`);
          assert.equal(await page.inputValue("#seed"), seed);
          assert.match(page.url(), new RegExp(`[?&]seed=${seed}\\b`));
          assertMatchesReference(grey, seed === String(SEED) ? reference : next, "after the walk");
          assert.equal(await page.locator("#grid .digit.resting").count(), 0);
          // The enlarged view names the seed.
          await page.click('#grid .digit[data-index="3"]');
          await page.waitForSelector("#zoom[open]");
          assert.equal(await page.textContent("#zoom-title"), `Seed ${seed} · index 3`);
          assert.match(
            await page.textContent("#zoom-caption") ?? "",
            new RegExp(`--seed ${seed}"`),
          );
          await page.keyboard.press("Escape");

          // Save PNG downloads the grid on screen.
          const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.click("#save-png"),
          ]);
          assert.equal(download.suggestedFilename(), `dcgan-seed-${seed}.png`);
          const path = await download.path();
          assertPngIsGrid(await Deno.readFile(path), await page.evaluate(GRID_BYTES) as number[][]);
          assert.deepEqual(problems, []);
          await page.close();
        },
      );

      await t.step(
        "digits and the README: the classifier on demand, the README as a page",
        async () => {
          const page = await context.newPage();
          const problems = watchPage(page);
          await page.goto(`${base}?seed=${SEED}&backend=wasm`);
          await page.waitForSelector(READY, { timeout: 180_000 });
          // The digit buttons: the classifier is fetched only once one is pressed; "3" draws the grid
          // of "deno task sample --seed 7 --digit 3", and "Any" goes back to the plain seed.
          // (The counting server sees what the page's workers fetch too.)
          assert.ok(!counting.take().has("models/classifier.onnx"));
          await page.click('#digits button[data-digit="3"]');
          await page.waitForSelector(`#grid[data-seed="${SEED}"][data-digit="3"]`, {
            timeout: 120_000,
          });
          assert.ok(counting.take().has("models/classifier.onnx"));
          assert.equal(
            await page.getAttribute('#digits button[data-digit="3"]', "aria-pressed"),
            "true",
          );
          assertMatchesReference((await readGrid(page)).grey, threes, "wasm digit 3");
          assert.match(page.url(), /[?&]digit=3\b/);
          await page.click('#digits button[data-digit=""]');
          await page.waitForSelector(`#grid[data-seed="${SEED}"][data-digit="any"]`);
          assertMatchesReference((await readGrid(page)).grey, reference, "wasm any digit");

          // "project README" opens the README as an HTML page, its image and styles from the site.
          await page.click("text=project README");
          await page.waitForURL(/readme\.html$/);
          await page.waitForLoadState("load");
          assert.equal(await page.evaluate("document.contentType"), "text/html");
          assert.equal(await page.textContent("h1"), "dcgan-deno");
          assert.ok(await page.evaluate("document.querySelector('.doc img').naturalWidth > 0"));
          assert.ok(await page.locator(".doc table").count() >= 3);
          await page.screenshot({ path: join(ARTIFACTS, "web-demo-readme.png") });
          assert.deepEqual(problems, []);
          await page.close();
        },
      );

      await t.step("WebGPU (one row on the SwiftShader adapter): the same pixels", async () => {
        const page = await context.newPage();
        const problems = watchPage(page);
        counting.take();
        await page.goto(`${base}?seed=${SEED}&backend=webgpu&rows=1`);
        await page.waitForSelector(READY, { timeout: 240_000 });
        const { grey, notGrey } = await readGrid(page);
        assert.equal(notGrey, 0);
        assertMatchesReference(grey, reference.subarray(0, 8 * 28 * 28), "webgpu");
        assert.match(await page.textContent("#backend-text") ?? "", /WebGPU/);
        assert.match(await page.textContent("#tagline") ?? "", /^Eight handwritten digits/);
        // WebGPU brings its own runtime: onnxruntime-web's WebGPU build and its .wasm, on demand.
        const fetched = fetchedPaths(counting.take());
        assert.ok(fetched.includes("ort/ort-wasm-simd-threaded.asyncify.wasm"), fetched.join(", "));
        assert.ok(fetched.some((p) => p.startsWith("ort.webgpu.bundle.min-")), fetched.join(", "));
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
          await page.goto(`${base}?seed=${SEED}&backend=webgpu&rows=4`);
          await page.waitForSelector(READY, { timeout: 180_000 });
          assertMatchesReference(
            (await readGrid(page)).grey,
            reference.subarray(0, 32 * 28 * 28),
            "fallback",
          );
          assert.match(await page.textContent("#tagline") ?? "", /^Thirty-two handwritten digits/);
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

        // A file that is not ONNX (the README page) is refused with the inference module's reason.
        const corrupt = watchPage(page);
        await page.goto(`${base}?seed=1&backend=wasm&model=readme.html`);
        await page.waitForSelector('body[data-state="error"]', { timeout: 60_000 });
        assert.match(
          await page.textContent("#message") ?? "",
          /readme\.html could not be opened: .*not an ONNX model/,
        );
        assert.deepEqual(corrupt, []);
        await page.close();
      });
    } finally {
      await browser.close();
      await counting.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
