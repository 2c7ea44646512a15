/**
 * `deno task web` builds the browser demo into `web-demo/dist/` and serves it on 127.0.0.1;
 * `deno task web:build` only builds (the folder is then a static site to publish as it is).
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { FileWriteError, NotOwnedFolderError } from "../src/fsio/mod.ts";
import { relative, resolve } from "node:path";
import {
  type BuildReport,
  buildSite,
  DEFAULT_DIST_DIR,
  DEFAULT_MODEL_PATH,
  DEFAULT_WEB_WEIGHTS,
  formatBytes,
  serveSite,
  SiteBuildError,
  WEB_WEIGHTS,
  type WebWeights,
} from "../web-demo/tools/mod.ts";
import { SHIPPED_MODEL_PATHS } from "../src/infer/mod.ts";

const OPTIONS = {
  "build-only": { kind: "flag", help: 'build the site and exit (what "deno task web:build" runs)' },
  "no-build": { kind: "flag", help: "serve the existing build without rebuilding" },
  port: {
    kind: "integer",
    min: 0,
    max: 65535,
    default: 8000,
    help: "port to serve on, on 127.0.0.1 (0 picks a free port)",
  },
  model: {
    kind: "string",
    arg: "FILE",
    defaultHelp: SHIPPED_MODEL_PATHS.generator,
    help: "the ONNX generator to ship, for example one exported from a training run",
  },
  weights: {
    kind: "string",
    arg: "FORMAT",
    choices: Object.keys(WEB_WEIGHTS),
    default: DEFAULT_WEB_WEIGHTS,
    help: "how the site's copy of the generator stores its weights (float32: as the file has them)",
  },
  out: { kind: "string", arg: "DIR", defaultHelp: "web-demo/dist/", help: "output folder" },
  "no-minify": { kind: "flag", help: "keep the bundle readable" },
} as const satisfies OptionTable;

const HELP = `Build the browser demo (and serve it).

Usage:
  deno task web [--port 8000] [--model models/generator.onnx] [--no-build]
  deno task web:build [--model models/generator.onnx] [--out web-demo/dist]

${optionsHelp(OPTIONS)}

The site is self-contained: app.js (page + onnxruntime-web), ort/*.wasm, models/generator.onnx
(the generator with its weights stored as --weights says).
Open http://127.0.0.1:8000/?seed=7 for the grid of "deno task sample --seed 7";
add &backend=wasm or &backend=webgpu to force a backend.`;

function printReport(report: BuildReport): void {
  const dir = relative(Deno.cwd(), report.outDir) || ".";
  console.log(`built ${dir}/`);
  console.log(
    `  ${"file".padEnd(44)} ${"size".padStart(9)} ${"gzip".padStart(9)}  fetched`,
  );
  for (const file of report.files.filter((f) => f.fetched !== "never")) {
    console.log(
      `  ${file.path.padEnd(44)} ${formatBytes(file.bytes).padStart(9)} ${
        formatBytes(file.gzipBytes).padStart(9)
      }  ${file.fetched}`,
    );
  }
  console.log(
    `  bundle ${formatBytes(report.bundleBytes)}; a first visit on WebAssembly downloads ${
      formatBytes(report.firstVisitBytes)
    } (${formatBytes(report.firstVisitGzipBytes)} from a host that gzips); WebGPU fetches ${
      formatBytes(report.webGpuBytes)
    } more (${formatBytes(report.webGpuGzipBytes)})`,
  );
}

async function main(): Promise<void> {
  const args = parseOptions(OPTIONS, Deno.args).values;
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (args["build-only"] && args["no-build"]) {
    throw new UsageError("--build-only and --no-build contradict");
  }
  const port = args.port;
  const outDir = args.out ? resolve(args.out) : DEFAULT_DIST_DIR;
  const modelPath = args.model ? resolve(args.model) : DEFAULT_MODEL_PATH;

  if (!args["no-build"]) {
    const weights = args.weights as WebWeights;
    printReport(await buildSite({ outDir, modelPath, weights, minify: !args["no-minify"] }));
  } else {
    try {
      await Deno.stat(`${outDir}/index.html`);
    } catch {
      throw new UsageError(`${outDir}/index.html not found; run without --no-build first`);
    }
  }
  if (args["build-only"]) return;

  try {
    serveSite({
      root: outDir,
      port,
      onListen: (url) => console.log(`serving ${url}  (Ctrl+C to stop)`),
    });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(
        `port ${port} is already in use; pass --port with another number (or 0 for any)`,
      );
    }
    throw error;
  }
}

await runCli(main, {
  prefix: "web",
  inputErrors: [SiteBuildError, NotOwnedFolderError, FileWriteError],
});
