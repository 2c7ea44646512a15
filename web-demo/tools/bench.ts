import { join } from "node:path";
import type { Page } from "playwright-core";
import { createGenerator, latentsForSeed } from "../../src/infer/mod.ts";
import { median } from "../../src/bench/mod.ts";
import { openBrowser } from "./browser.ts";
import { gzipSize } from "./build.ts";
import { type SentFile, serveCounting } from "./server.ts";

/** Options of {@link benchWebDemo}. */
export interface WebBenchOptions {
  /** A built site (`deno task web:build`). */
  siteDir: string;
  /** Timed generations of the full grid on WebAssembly, and of the model on onnxruntime-node (default 5). */
  runs?: number;
  /** How long each walk is watched, in seconds (default 6). */
  walkSeconds?: number;
  /** Also time WebGPU, on this many rows of 8 (default 1: a software adapter takes seconds a digit); 0: skip. */
  webgpuRows?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Time of one kind of generation: every run's milliseconds, their median and the digits per second. */
export interface GenerationTiming {
  digits: number;
  runsMs: number[];
  medianMs: number;
  digitsPerSecond: number;
}

/** One file as a first visit fetched it. */
export interface FetchedFile {
  path: string;
  /** Bytes sent, summed over the fetches that sent a body. */
  bytes: number;
  /** The same files gzip-compressed (level of `CompressionStream`), what a host that compresses sends. */
  gzipBytes: number;
  /** Requests for the path (revalidations included). */
  requests: number;
}

/** Walk on a grid of `rows` rows: the rows it animated, the frames it drew and their rate. */
export interface WalkTiming {
  rows: number;
  walkingRows: number;
  frames: number;
  fps: number;
}

/** What `deno task bench:web` measures. */
export interface WebBenchResult {
  browser: string;
  /** Logical CPUs the page sees, and whether it is cross-origin isolated (threads allowed). */
  hardwareConcurrency: number;
  crossOriginIsolated: boolean;
  /** The page's WebAssembly workers (the grid's `data-workers`), or null when the page does not say. */
  wasmWorkers: number | null;
  /** Everything the browser fetched from the server until the first grid was drawn, `?seed=7&backend=wasm`. */
  firstVisit: { requests: number; bytes: number; gzipBytes: number; files: FetchedFile[] };
  /** From navigation start to the first grid drawn, on a first visit (empty cache). */
  loadToFirstGridMs: number;
  /** 64 digits on WebAssembly: from pressing Draw to the grid drawn (latents, inference and drawing). */
  wasm: GenerationTiming;
  /** The same on WebGPU, on fewer rows, or why it was not measured. */
  webgpu: (GenerationTiming & { adapter: string }) | { skipped: string };
  /** Frames per second of Walk on WebAssembly, with `?rows=1` and with the full grid. */
  walk: WalkTiming[];
  /** The same 64 digits on onnxruntime-node's cpu provider (the site's model, all logical CPUs). */
  node: GenerationTiming;
  /** Browser WebAssembly throughput over onnxruntime-node cpu throughput. */
  wasmVsNode: number;
}

const SEED = 7;
const READY_MS = 240_000;

/** Records, inside the page, when the first grid is drawn and when each walk frame is. */
const OBSERVER = `
globalThis.__bench = { firstGrid: null, walkFrames: [] };
new MutationObserver((records) => {
  for (const record of records) {
    const grid = record.target;
    if (grid.id !== "grid") continue;
    const now = performance.now();
    if (record.attributeName === "data-seed" && grid.dataset.seed !== undefined) {
      globalThis.__bench.firstGrid ??= now;
    }
    if (record.attributeName === "data-label" && (grid.dataset.label ?? "").startsWith("walk")) {
      globalThis.__bench.walkFrames.push(now);
    }
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-seed", "data-label"] });
`;

/** In the page: draws `seed` through the seed field and resolves with the milliseconds until it is drawn. */
const DRAW_SEED = `async (seed) => {
  const grid = document.getElementById("grid");
  const drawn = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (grid.dataset.seed === String(seed) && grid.getAttribute("aria-busy") === "false") {
        observer.disconnect();
        resolve(performance.now());
      }
    });
    observer.observe(grid, { attributes: true });
  });
  const started = performance.now();
  document.getElementById("seed").value = String(seed);
  document.getElementById("controls").requestSubmit();
  return (await drawn) - started;
}`;

function timing(digits: number, runsMs: number[]): GenerationTiming {
  const medianMs = median(runsMs);
  return { digits, runsMs, medianMs, digitsPerSecond: digits / (medianMs / 1000) };
}

async function openPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector(`body[data-state="ready"] #grid[data-seed="${SEED}"]`, {
    timeout: READY_MS,
  });
}

async function timeDraws(page: Page, runs: number, digits: number): Promise<GenerationTiming> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    ms.push(await page.evaluate(`(${DRAW_SEED})(${100 + i})`) as number);
  }
  return timing(digits, ms);
}

async function watchWalk(page: Page, seconds: number): Promise<Omit<WalkTiming, "rows">> {
  await page.evaluate("globalThis.__bench.walkFrames = []");
  await page.focus("#grid .digit");
  await page.keyboard.press("w");
  await page.waitForFunction("globalThis.__bench.walkFrames.length >= 1", null, {
    timeout: READY_MS,
  });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const resting = await page.locator("#grid .digit.resting").count();
  const digits = await page.locator("#grid .digit").count();
  await page.keyboard.press("w");
  const frames = await page.evaluate("globalThis.__bench.walkFrames") as number[];
  const span = frames[frames.length - 1] - frames[0];
  return {
    walkingRows: (digits - resting) / 8,
    frames: frames.length,
    fps: frames.length > 1 ? (frames.length - 1) / (span / 1000) : 0,
  };
}

/** onnxruntime-node cpu on the site's model: the 64 latents of a seed, after two warm-up runs. */
async function timeNode(siteDir: string, runs: number): Promise<GenerationTiming> {
  const generator = await createGenerator(join(siteDir, "models", "generator.onnx"), {
    provider: "cpu",
  });
  try {
    const latents = latentsForSeed(SEED, 64, generator.latentDim);
    for (let i = 0; i < 2; i++) await generator.generate(latents);
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await generator.generate(latents);
      ms.push(performance.now() - started);
    }
    return timing(64, ms);
  } finally {
    await generator.dispose();
  }
}

async function fetchedFiles(root: string, sent: Map<string, SentFile>): Promise<FetchedFile[]> {
  const files: FetchedFile[] = [];
  for (const [path, { bytes, requests }] of [...sent].sort(([a], [b]) => a.localeCompare(b))) {
    const whole = (await Deno.stat(join(root, path))).size;
    const bodies = whole === 0 ? 0 : Math.round(bytes / whole);
    files.push({ path, bytes, gzipBytes: bodies * await gzipSize(join(root, path)), requests });
  }
  return files;
}

/**
 * Measures the built demo in headless Chromium as a visitor meets it: a first visit (bytes fetched, time to the
 * first grid), 64-digit generations on WebAssembly (and WebGPU where asked), Walk's frame rate, and the same
 * generation on onnxruntime-node's cpu provider for comparison.
 */
export async function benchWebDemo(options: WebBenchOptions): Promise<WebBenchResult> {
  const { siteDir } = options;
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => {});
  const webgpuRows = options.webgpuRows ?? 1;
  const counting = serveCounting(siteDir);
  const browser = await openBrowser();
  try {
    await browser.context.addInitScript(OBSERVER);
    const page = await browser.context.newPage();
    log("first visit, ?seed=7&backend=wasm");
    await openPage(page, `${counting.base}?seed=${SEED}&backend=wasm`);
    const loadToFirstGridMs = await page.evaluate("globalThis.__bench.firstGrid") as number;
    const files = await fetchedFiles(siteDir, counting.take());
    const facts = await page.evaluate(`({
      browser: navigator.userAgent.match(/(?:Headless)?Chrom(?:e|ium)\\/[\\d.]+/)?.[0] ?? navigator.userAgent,
      hardwareConcurrency: navigator.hardwareConcurrency,
      crossOriginIsolated,
      workers: document.getElementById("grid").dataset.workers ?? null,
    })`) as {
      browser: string;
      hardwareConcurrency: number;
      crossOriginIsolated: boolean;
      workers: string | null;
    };
    log(`${runs} × 64 digits on WebAssembly`);
    const wasm = await timeDraws(page, runs, 64);
    const walk = [];
    for (const rows of [1, 8]) {
      log(`walk, ${rows} row${rows === 1 ? "" : "s"}`);
      await openPage(page, `${counting.base}?seed=${SEED}&backend=wasm&rows=${rows}`);
      walk.push({ rows, ...await watchWalk(page, options.walkSeconds ?? 6) });
    }
    let webgpu: WebBenchResult["webgpu"] = { skipped: "--webgpu-rows 0" };
    if (webgpuRows > 0) {
      log(`WebGPU, ${webgpuRows} row${webgpuRows === 1 ? "" : "s"}`);
      await openPage(page, `${counting.base}?seed=${SEED}&backend=webgpu&rows=${webgpuRows}`);
      const backend = await page.textContent("#backend-text") ?? "";
      if (backend.startsWith("WebGPU")) {
        const adapter = await page.evaluate(`navigator.gpu.requestAdapter().then((a) =>
          [a.info?.vendor, a.info?.architecture, a.info?.description].filter(Boolean).join(" "))`) as string;
        webgpu = { adapter, ...await timeDraws(page, Math.min(runs, 2), 8 * webgpuRows) };
      } else webgpu = { skipped: backend };
    }
    await page.close();
    log(`${runs} × 64 digits on onnxruntime-node cpu`);
    const node = await timeNode(siteDir, runs);
    return {
      browser: facts.browser,
      hardwareConcurrency: facts.hardwareConcurrency,
      crossOriginIsolated: facts.crossOriginIsolated,
      wasmWorkers: facts.workers === null ? null : Number(facts.workers),
      firstVisit: {
        requests: files.reduce((sum, f) => sum + f.requests, 0),
        bytes: files.reduce((sum, f) => sum + f.bytes, 0),
        gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0),
        files,
      },
      loadToFirstGridMs,
      wasm,
      webgpu,
      walk,
      node,
      wasmVsNode: wasm.digitsPerSecond / node.digitsPerSecond,
    };
  } finally {
    await browser.close();
    await counting.server.shutdown();
  }
}
