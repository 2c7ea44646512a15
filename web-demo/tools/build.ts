import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelError, readModelInfo, SHIPPED_MODEL_PATHS } from "../../src/infer/browser.ts";
import { OWNED_STAMP, replaceFolder, stampFolder } from "../../src/fsio/mod.ts";

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
const STATIC_FILES = ["index.html", "styles.css", "icon.svg"];
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
  /** Minify the bundle (default true). */
  minify?: boolean;
}

/** One file of the built site. */
export interface SiteFile {
  /** Path relative to the site root, with `/` separators. */
  path: string;
  bytes: number;
  /** Size after gzip (level of `CompressionStream`), what a static host that compresses sends. */
  gzipBytes: number;
}

/** What {@link buildSite} wrote. */
export interface BuildReport {
  outDir: string;
  files: SiteFile[];
  /** Size of the page's own bundle (`app.js`: app code, inference module, onnxruntime-web's JS). */
  bundleBytes: number;
  /** Every file a first visit downloads (all files but source maps and README.md). */
  totalBytes: number;
  /** The same, gzip-compressed. */
  totalGzipBytes: number;
}

async function bundleApp(entry: string, outFile: string, minify: boolean): Promise<void> {
  const args = [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--sourcemap",
    "linked",
    "-o",
    outFile,
  ];
  if (minify) args.push("--minify");
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, entry],
    cwd: REPO_ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const detail = new TextDecoder().decode(stderr).trim();
    throw new SiteBuildError(`bundling ${relative(REPO_ROOT, entry)} failed:\n${detail}`);
  }
}

/** The onnxruntime-web runtime files (`.wasm` / `.mjs`) the bundle refers to and that exist. */
async function ortRuntimeFiles(bundle: string): Promise<string[]> {
  const names = [...new Set(bundle.match(ORT_FILE_PATTERN) ?? [])].sort();
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

async function listFiles(root: string, dir = root): Promise<SiteFile[]> {
  const out: SiteFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(root, path));
    else {
      const bytes = (await Deno.stat(path)).size;
      out.push({ path: relative(root, path), bytes, gzipBytes: await gzipSize(path) });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Fails with a {@link SiteBuildError} unless `path` is an ONNX generator the page can run. */
async function checkModel(path: string): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch {
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
 * generator (into `models/generator.onnx`) and the digit classifier (`models/classifier.onnx`), so the
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
    await writeSite(tmp, modelPath, options.minify ?? true);
    files = (await listFiles(tmp)).filter((f) => f.path !== OWNED_STAMP);
  });
  const bundleBytes = files.find((f) => f.path === "app.js")?.bytes ?? 0;
  const loaded = files.filter((f) => isLoadedByPage(f.path));
  const totalBytes = loaded.reduce((sum, f) => sum + f.bytes, 0);
  const totalGzipBytes = loaded.reduce((sum, f) => sum + f.gzipBytes, 0);
  return { outDir, files, bundleBytes, totalBytes, totalGzipBytes };
}

async function writeSite(outDir: string, modelPath: string, minify: boolean): Promise<void> {
  await Deno.mkdir(join(outDir, "ort"), { recursive: true });
  await Deno.mkdir(join(outDir, "models"), { recursive: true });
  const bundlePath = join(outDir, "app.js");
  await bundleApp(join(WEB_DEMO_DIR, "app", "main.ts"), bundlePath, minify);
  for (const name of STATIC_FILES) {
    await Deno.copyFile(join(WEB_DEMO_DIR, name), join(outDir, name));
  }
  await Deno.copyFile(join(REPO_ROOT, "README.md"), join(outDir, "README.md"));
  for (const name of await ortRuntimeFiles(await Deno.readTextFile(bundlePath))) {
    await Deno.copyFile(join(ORT_DIST, name), join(outDir, "ort", name));
  }
  await Deno.copyFile(modelPath, join(outDir, "models", "generator.onnx"));
  await Deno.copyFile(CLASSIFIER_PATH, join(outDir, "models", "classifier.onnx"));
}

/** True for the files a first visit downloads (not source maps, the README or the digit classifier). */
export function isLoadedByPage(path: string): boolean {
  return !path.endsWith(".map") && path !== "README.md" && path !== "models/classifier.onnx";
}

/** Formats a byte count for people (`12.3 MB`, `45.6 kB`). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
