import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelError, readModelInfo, SHIPPED_MODEL_PATHS } from "../../src/infer/browser.ts";
import {
  INPUT_LIMITS,
  InputTooLargeError,
  OWNED_STAMP,
  readFileBounded,
  replaceFolder,
  stampFolder,
} from "../../src/fsio/mod.ts";
import { DEFAULT_WEB_WEIGHTS, webModel, type WebWeights } from "./web_model.ts";
import { DOC_STYLESHEET, writeDocs } from "./docs.ts";

/** The repository root (two folders above this file). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);
/** The demo's source folder. */
export const WEB_DEMO_DIR: string = join(REPO_ROOT, "web-demo");
/** Where `deno task web:build` writes the site by default. */
export const DEFAULT_DIST_DIR: string = join(WEB_DEMO_DIR, "dist");
/** The generator shipped with the repository. */
export const DEFAULT_MODEL_PATH: string = join(REPO_ROOT, SHIPPED_MODEL_PATHS.generator);
/** The digit classifier the page loads when a digit is chosen. */
const CLASSIFIER_PATH = join(REPO_ROOT, SHIPPED_MODEL_PATHS.classifier);

/** Static files copied as they are from `web-demo/` into the site. */
const STATIC_FILES = ["index.html", "styles.css", "icon.svg", DOC_STYLESHEET];
/** The page's script (`index.html` loads it). */
const BUNDLE_NAME = "app.js";
/** The script of the page's WebAssembly workers, bundled as `wasm_worker.js` beside `app.js`. */
const WORKER_ENTRY = "wasm_worker.ts";
/** Where onnxruntime-web keeps its WebAssembly binaries and their JS loaders. */
const ORT_DIST = join(REPO_ROOT, "node_modules", "onnxruntime-web", "dist");
/** File names of onnxruntime-web's runtime files as they appear inside its bundle. */
const ORT_FILE_PATTERN = /ort-wasm-simd-threaded(?:\.[a-z]+)?\.(?:wasm|mjs)/g;

/** A problem that stops the build; the message says what is wrong and what to do. */
export class SiteBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SiteBuildError";
  }
}

/** Options for {@link buildSite}. */
export interface BuildOptions {
  /**
   * Output folder, replaced as a whole once the build succeeds. It must be missing, empty, or a folder an
   * earlier build created (it holds the stamp file); anything else is refused. Default `web-demo/dist/`.
   */
  outDir?: string;
  /** ONNX generator to ship as `models/generator.onnx`. Default `models/generator.onnx`. */
  modelPath?: string;
  /** How the shipped copy of the generator stores its weights (default {@link DEFAULT_WEB_WEIGHTS}). */
  weights?: WebWeights;
  /** Minify the bundle (default true). */
  minify?: boolean;
}

/**
 * When a visitor's browser fetches a file of the site: on the `first visit` (on WebAssembly), only for `webgpu`
 * (onnxruntime-web's WebGPU build and runtime), `on demand` (the digit classifier once a digit is chosen, the
 * document pages), or `never` (source maps).
 */
export type FetchedWhen = "first visit" | "webgpu" | "on demand" | "never";

/** One file of the built site. */
export interface SiteFile {
  /** Path relative to the site root, with `/` separators. */
  path: string;
  bytes: number;
  /** Size after gzip (level of `CompressionStream`), what a static host that compresses sends. */
  gzipBytes: number;
  fetched: FetchedWhen;
}

/** What {@link buildSite} wrote. */
export interface BuildReport {
  outDir: string;
  files: SiteFile[];
  /**
   * Size of the scripts a first visit loads (`app.js`, the workers' script and their shared chunks: app code,
   * inference module, onnxruntime-web's JS).
   */
  bundleBytes: number;
  /** Every file a first visit on WebAssembly downloads (`fetched: "first visit"`). */
  firstVisitBytes: number;
  /** The same, gzip-compressed. */
  firstVisitGzipBytes: number;
  /** What a page on WebGPU fetches on top (`fetched: "webgpu"`). */
  webGpuBytes: number;
  /** The same, gzip-compressed. */
  webGpuGzipBytes: number;
}

/**
 * Bundles the page into `outDir` as `app.js` and its WebAssembly workers' script (`worker`, named after its
 * source), with code splitting: what both use goes into shared chunks, and what only WebGPU needs
 * (onnxruntime-web's WebGPU build, imported dynamically) into chunks that a page on WebAssembly never fetches.
 * Returns the names of the JavaScript files written.
 */
async function bundleApp(
  entry: string,
  worker: string,
  outDir: string,
  minify: boolean,
): Promise<string[]> {
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--code-splitting",
    "--sourcemap",
    "linked",
    "--outdir",
    outDir,
  ];
  if (minify) args.push("--minify");
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, entry, worker],
    cwd: REPO_ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const detail = new TextDecoder().decode(stderr).trim();
    throw new SiteBuildError(`bundling ${relative(REPO_ROOT, entry)} failed:\n${detail}`);
  }
  // deno bundle names the entry's output after it (main.js); the page loads app.js. Chunks never import
  // the entry, so renaming it breaks no import.
  const name = basename(entry).replace(/\.ts$/, "");
  const app = join(outDir, BUNDLE_NAME);
  await Deno.rename(join(outDir, `${name}.js`), app);
  await Deno.rename(join(outDir, `${name}.js.map`), `${app}.map`);
  const bundled = await Deno.readTextFile(app);
  await Deno.writeTextFile(
    app,
    bundled.replace(
      `//# sourceMappingURL=${name}.js.map`,
      `//# sourceMappingURL=${BUNDLE_NAME}.map`,
    ),
  );
  const scripts: string[] = [];
  for await (const entry of Deno.readDir(outDir)) {
    if (entry.isFile && entry.name.endsWith(".js")) scripts.push(entry.name);
  }
  return scripts.sort();
}

/** The onnxruntime-web runtime files (`.wasm` / `.mjs`) the bundle's scripts refer to and that exist. */
async function ortRuntimeFiles(scripts: string[]): Promise<string[]> {
  const names = [...new Set(scripts.flatMap((code) => code.match(ORT_FILE_PATTERN) ?? []))].sort();
  const present: string[] = [];
  for (const name of names) {
    try {
      await Deno.stat(join(ORT_DIST, name));
      present.push(name);
    } catch {
      // The bundle mentions a build variant this package version does not ship; it never loads it.
    }
  }
  if (!present.some((name) => name.endsWith(".wasm"))) {
    throw new SiteBuildError(
      `no onnxruntime-web .wasm file found in ${ORT_DIST}; run "deno install" to fetch npm packages`,
    );
  }
  return present;
}

/** Bytes of the file at `path` after gzip (the level of `CompressionStream`). */
export async function gzipSize(path: string): Promise<number> {
  const file = await Deno.open(path, { read: true });
  let bytes = 0;
  for await (const chunk of file.readable.pipeThrough(new CompressionStream("gzip"))) {
    bytes += chunk.length;
  }
  return bytes;
}

async function listFiles(root: string, onDemand: Set<string>, dir = root): Promise<SiteFile[]> {
  const out: SiteFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(root, onDemand, path));
    else {
      const bytes = (await Deno.stat(path)).size;
      const site = relative(root, path);
      const fetched: FetchedWhen = site.endsWith(".map")
        ? "never"
        : isWebGpuOnly(site)
        ? "webgpu"
        : onDemand.has(site)
        ? "on demand"
        : "first visit";
      out.push({ path: site, bytes, gzipBytes: await gzipSize(path), fetched });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Fails with a {@link SiteBuildError} unless `path` is an ONNX generator the page can run. */
async function checkModel(path: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, INPUT_LIMITS.model, "a model");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new SiteBuildError(e.message);
    throw new SiteBuildError(
      `model file ${path} not found; export one first (deno task export) or pass --model FILE`,
    );
  }
  try {
    const info = readModelInfo(bytes);
    if (info.channels !== 1) throw new ModelError(`it makes ${info.channels}-channel images`);
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    throw new SiteBuildError(
      `${path} is not a grey-image generator the page can run: ${error.message}`,
    );
  }
}

/** Marks the default output folder, which only builds write, as the project's (builds before stamps). */
async function adoptDefaultDist(outDir: string): Promise<void> {
  if (outDir !== DEFAULT_DIST_DIR) return;
  try {
    await Deno.stat(join(outDir, "index.html"));
    await Deno.stat(join(outDir, OWNED_STAMP)).catch(() =>
      stampFolder(outDir, "deno task web:build")
    );
  } catch {
    // Missing or not a build: left to the ownership check.
  }
}

/**
 * Builds the static demo site: bundles `web-demo/app/main.ts` (with `deno bundle`) into `app.js`, copies
 * the HTML/CSS, the onnxruntime-web `.wasm`/`.mjs` files the bundle loads (into `ort/`), the
 * generator with its weights stored as `options.weights` says (into `models/generator.onnx`) and the digit
 * classifier (`models/classifier.onnx`), so the
 * folder works offline from any static host. The site is built in a temporary sibling folder and renamed
 * into place, so a failed build leaves the old one.
 * @throws {import("../../src/fsio/mod.ts").NotOwnedFolderError} when `outDir` is not a build folder.
 */
export async function buildSite(options: BuildOptions = {}): Promise<BuildReport> {
  const outDir = options.outDir ?? DEFAULT_DIST_DIR;
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  await checkModel(modelPath);
  await adoptDefaultDist(outDir);
  let files: SiteFile[] = [];
  await replaceFolder(outDir, "deno task web:build", async (tmp) => {
    const weights = options.weights ?? DEFAULT_WEB_WEIGHTS;
    const onDemand = await writeSite(tmp, modelPath, weights, options.minify ?? true);
    files = (await listFiles(tmp, onDemand)).filter((f) => f.path !== OWNED_STAMP);
  });
  const bundleBytes = files.filter((f) => f.fetched === "first visit" && f.path.endsWith(".js"))
    .reduce((total, f) => total + f.bytes, 0);
  const sum = (when: FetchedWhen, key: "bytes" | "gzipBytes") =>
    files.filter((f) => f.fetched === when).reduce((total, f) => total + f[key], 0);
  return {
    outDir,
    files,
    bundleBytes,
    firstVisitBytes: sum("first visit", "bytes"),
    firstVisitGzipBytes: sum("first visit", "gzipBytes"),
    webGpuBytes: sum("webgpu", "bytes"),
    webGpuGzipBytes: sum("webgpu", "gzipBytes"),
  };
}

/** Writes the site into `outDir`; returns the paths a page fetches only on demand. */
async function writeSite(
  outDir: string,
  modelPath: string,
  weights: WebWeights,
  minify: boolean,
): Promise<Set<string>> {
  await Deno.mkdir(join(outDir, "ort"), { recursive: true });
  await Deno.mkdir(join(outDir, "models"), { recursive: true });
  const app = join(WEB_DEMO_DIR, "app");
  const scripts = await bundleApp(join(app, "main.ts"), join(app, WORKER_ENTRY), outDir, minify);
  for (const name of STATIC_FILES) {
    await Deno.copyFile(join(WEB_DEMO_DIR, name), join(outDir, name));
  }
  const docs = await writeDocs(REPO_ROOT, outDir);
  const code = await Promise.all(scripts.map((name) => Deno.readTextFile(join(outDir, name))));
  for (const name of await ortRuntimeFiles(code)) {
    await Deno.copyFile(join(ORT_DIST, name), join(outDir, "ort", name));
  }
  const model = webModel(await readFileBounded(modelPath, INPUT_LIMITS.model, "a model"), weights);
  await Deno.writeFile(join(outDir, "models", "generator.onnx"), model);
  await Deno.copyFile(CLASSIFIER_PATH, join(outDir, "models", "classifier.onnx"));
  return new Set([...docs, DOC_STYLESHEET, "models/classifier.onnx"]);
}

/**
 * True for the files that only a page running on WebGPU fetches: onnxruntime-web's WebGPU build (a chunk of the
 * bundle, imported when a WebGPU session is created) and its runtime `ort-wasm-simd-threaded.asyncify.*`.
 */
function isWebGpuOnly(path: string): boolean {
  return /(^|\/)ort\.webgpu\.|\.asyncify\./.test(path);
}

/** Formats a byte count for people (`12.3 MB`, `45.6 kB`). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
