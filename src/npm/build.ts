/**
 * Builds the inference module as an npm package for Node (and bundlers for browsers): ESM bundles made by
 * `deno bundle` with every npm dependency left as an import (and declared in `package.json` at the version
 * pinned in `deno.json`), type declarations emitted by TypeScript, and the shipped models; then `npm pack`s it.
 *
 * Layout of the package:
 *
 * ```text
 * package.json          name and version from deno.json; exports "." (Node) and "./browser"
 * README.md             models/README.md: snippets for Deno, Node, browsers, Python and curl
 * dist/node/mod.js      src/infer/mod.ts bundled (two folders deep: it finds ../../models/ as in the repo)
 * dist/browser/mod.js   src/infer/browser.ts bundled for browsers
 * types/src/…           .d.ts of src/infer and what its API names
 * models/               generator.onnx and classifier.onnx
 * ```
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);
/** Where `deno task build:npm` writes the package folder and its tarball by default. */
export const DEFAULT_NPM_OUT: string = join(REPO_ROOT, "dist", "npm");

/** The entries of the package: export path, source, bundle platform. */
const ENTRIES = [
  { exportPath: ".", source: "src/infer/mod.ts", folder: "node", platform: "deno" },
  {
    exportPath: "./browser",
    source: "src/infer/browser.ts",
    folder: "browser",
    platform: "browser",
  },
] as const;
/** The files of `models/` that travel with the package. */
const MODEL_FILES = ["generator.onnx", "classifier.onnx"];
/**
 * The lowest Node with what the bundle uses (global `fetch`, `os.availableParallelism`); float16 models
 * also need `Float16Array` (Node ≥ 24).
 */
const NODE_ENGINE = ">=20";

/** A problem that stops the build; the message says what went wrong. */
export class NpmBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NpmBuildError";
  }
}

/** What {@link buildNpmPackage} made. */
export interface NpmBuild {
  /** The package folder (what was packed). */
  packageDir: string;
  /** The `.tgz` written by `npm pack`. */
  tarball: string;
  /** The package's `dependencies`: npm name → exact version. */
  dependencies: Record<string, string>;
}

interface DenoConfig {
  name: string;
  version: string;
  imports: Record<string, string>;
}

async function readDenoConfig(): Promise<DenoConfig> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  if (typeof config.name !== "string" || typeof config.version !== "string") {
    throw new NpmBuildError("deno.json has no package name and version");
  }
  return config;
}

async function run(command: string, args: string[], cwd: string): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const detail = new TextDecoder().decode(stderr).trim();
    throw new NpmBuildError(`${command} ${args[0]} failed (exit ${code}):\n${detail}`);
  }
  return new TextDecoder().decode(stdout);
}

/** Bundles one entry with every import-map package left external. */
async function bundle(
  source: string,
  outFile: string,
  platform: "deno" | "browser",
  imports: Record<string, string>,
): Promise<void> {
  const externals = Object.keys(imports).flatMap((
    name,
  ) => ["--external", name, "--external", `${name}/*`]);
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--format",
    "esm",
    "--platform",
    platform,
    ...externals,
    "-o",
    outFile,
    source,
  ], REPO_ROOT);
}

/** The npm packages a bundle imports (bare specifiers), with the versions `deno.json` pins. */
function bundleDependencies(code: string, imports: Record<string, string>): Record<string, string> {
  const specifiers = [
    ...code.matchAll(/(?:^|[\s;])(?:import|export)\b[^"']*?from\s*["']([^"']+)["']/gm),
    ...code.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]).filter((s) => !s.startsWith(".") && !s.startsWith("node:"));
  const dependencies: Record<string, string> = {};
  for (const specifier of specifiers) {
    const parts = specifier.split("/");
    const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
    const pinned = /^npm:(@?[^@]+)@(.+)$/.exec(imports[name] ?? "");
    if (!pinned || pinned[1] !== name) {
      throw new NpmBuildError(
        `the bundle imports "${specifier}", which deno.json does not pin as npm:${name}@…`,
      );
    }
    dependencies[name] = pinned[2];
  }
  return Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Emits `.d.ts` files for the entries into `outDir` (mirroring the repository's folders). Type checking is
 * `deno check`'s job; this only writes declarations. Imports keep their `.ts` paths, rewritten to `.js`.
 */
function emitDeclarations(sources: string[], outDir: string): void {
  const program = ts.createProgram(sources.map((s) => join(REPO_ROOT, s)), {
    declaration: true,
    emitDeclarationOnly: true,
    noCheck: true,
    skipLibCheck: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    rootDir: REPO_ROOT,
    outDir,
  });
  const result = program.emit(undefined, (fileName, text) => {
    Deno.mkdirSync(join(fileName, ".."), { recursive: true });
    Deno.writeTextFileSync(
      fileName,
      text.replace(/(from\s+["']\.{1,2}\/[^"']*)\.ts(["'])/g, "$1.js$2"),
    );
  });
  if (result.emitSkipped) {
    throw new NpmBuildError(
      `TypeScript wrote no declarations: ${
        ts.formatDiagnostics(result.diagnostics, {
          getCanonicalFileName: (f) => f,
          getCurrentDirectory: () => REPO_ROOT,
          getNewLine: () => "\n",
        })
      }`,
    );
  }
}

/** Empties `dir`, refusing a non-empty folder that is not an earlier build of this package. */
async function freshFolder(dir: string, packageName: string): Promise<void> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    entries = [];
  }
  if (entries.length > 0) {
    let ours = false;
    try {
      const manifest = JSON.parse(await Deno.readTextFile(join(dir, "package", "package.json")));
      ours = manifest.name === packageName;
    } catch {
      ours = false;
    }
    if (!ours) {
      throw new NpmBuildError(
        `${dir} is not empty and is not an earlier build of ${packageName}; choose another --out`,
      );
    }
    await Deno.remove(dir, { recursive: true });
  }
  await Deno.mkdir(dir, { recursive: true });
}

/**
 * Builds the npm package into `outDir/package/` and packs it into `outDir/` (default `dist/npm/`).
 * @throws {NpmBuildError} when a step fails (the message names it).
 */
export async function buildNpmPackage(outDir: string = DEFAULT_NPM_OUT): Promise<NpmBuild> {
  const config = await readDenoConfig();
  await freshFolder(outDir, config.name);
  const packageDir = join(outDir, "package");
  const dependencies: Record<string, string> = {};
  const exports: Record<string, { types: string; default: string }> = {};
  for (const entry of ENTRIES) {
    const file = join(packageDir, "dist", entry.folder, "mod.js");
    await bundle(entry.source, file, entry.platform, config.imports);
    Object.assign(dependencies, bundleDependencies(await Deno.readTextFile(file), config.imports));
    exports[entry.exportPath] = {
      types: `./types/${entry.source.replace(/\.ts$/, ".d.ts")}`,
      default: `./${relative(packageDir, file)}`,
    };
  }
  emitDeclarations(ENTRIES.map((e) => e.source), join(packageDir, "types"));
  await Deno.mkdir(join(packageDir, "models"));
  for (const name of MODEL_FILES) {
    await Deno.copyFile(join(REPO_ROOT, "models", name), join(packageDir, "models", name));
  }
  await Deno.copyFile(join(REPO_ROOT, "models", "README.md"), join(packageDir, "README.md"));
  const manifest = {
    name: config.name,
    version: config.version,
    description:
      "Seeded MNIST digits from an ONNX DCGAN generator on ONNX Runtime: grids, latent walks, and choosing the digit",
    type: "module",
    exports,
    main: exports["."].default,
    types: exports["."].types,
    files: ["dist/", "types/", "models/"],
    engines: { node: NODE_ENGINE },
    dependencies,
  };
  await Deno.writeTextFile(
    join(packageDir, "package.json"),
    JSON.stringify(manifest, null, 2) + "\n",
  );
  const packed = JSON.parse(
    await run("npm", ["pack", "--json", "--pack-destination", outDir], packageDir),
  ) as Array<{ filename: string }>;
  return { packageDir, tarball: join(outDir, packed[0].filename), dependencies };
}
