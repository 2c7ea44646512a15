/**
 * `deno task bench:web`: builds the browser demo into a temporary folder and measures it in headless Chromium
 * (`/usr/bin/chromium`): the bytes of a first visit, the time to the first grid, 64 digits on WebAssembly (and on
 * WebGPU), Walk's frame rate, and the same 64 digits on onnxruntime-node's cpu provider. Prints JSON. With
 * `--layers`, times each layer of the generator on one thread in onnxruntime-web's WebAssembly and in
 * onnxruntime-node instead (no browser needed).
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { resolve } from "node:path";
import {
  benchLayers,
  benchWebDemo,
  buildSite,
  CHROMIUM_PATH,
  DEFAULT_MODEL_PATH,
  haveChromium,
  SiteBuildError,
} from "../web-demo/tools/mod.ts";

const OPTIONS = {
  runs: {
    kind: "integer",
    default: 5,
    help: "timed runs per runtime (median shown): 64-digit generations, or with --layers\n" +
      "runs of each layer",
  },
  "walk-seconds": { kind: "integer", default: 6, help: "how long each walk is watched" },
  "webgpu-rows": {
    kind: "integer",
    min: 0,
    max: 8,
    default: 1,
    help: "rows of 8 digits timed on WebGPU (0 skips it; a software adapter takes seconds a digit)",
  },
  site: {
    kind: "string",
    arg: "DIR",
    help: "measure this built site instead of building one (deno task web:build --out DIR)",
  },
  layers: {
    kind: "flag",
    help: "instead of the page: time each layer of --model on one thread, onnxruntime-web's\n" +
      "WebAssembly (in Deno's V8) against onnxruntime-node's cpu provider",
  },
  model: {
    kind: "string",
    arg: "FILE",
    default: DEFAULT_MODEL_PATH,
    defaultHelp: "models/generator.onnx",
    help: "with --layers: the generator to time",
  },
  batch: { kind: "integer", min: 1, default: 32, help: "with --layers: latents per run" },
} as const satisfies OptionTable;

const HELP = `Measure the browser demo in headless Chromium; prints JSON.

Usage: deno task bench:web [options]

${optionsHelp(OPTIONS)}`;

async function main(): Promise<void> {
  const { values } = parseOptions(OPTIONS, Deno.args);
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.layers) {
    const bytes = await Deno.readFile(values.model);
    const result = await benchLayers(bytes, { batch: values.batch, runs: values.runs });
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  if (!haveChromium()) {
    throw new UsageError(
      `no Chromium at ${CHROMIUM_PATH}; install it: apt-get install -y chromium`,
    );
  }
  const log = (line: string) => console.error(`bench:web: ${line}`);
  let siteDir = values.site === undefined ? null : resolve(values.site);
  const temporary = siteDir === null;
  if (siteDir === null) {
    siteDir = await Deno.makeTempDir({ prefix: "bench-web-" });
    log(`building the site into ${siteDir}`);
    await buildSite({ outDir: siteDir });
  }
  try {
    const result = await benchWebDemo({
      siteDir,
      runs: values.runs,
      walkSeconds: values["walk-seconds"],
      webgpuRows: values["webgpu-rows"],
      log,
    });
    console.log(JSON.stringify(result, null, 2));
  } finally {
    if (temporary) await Deno.remove(siteDir, { recursive: true });
  }
}

await runCli(main, { prefix: "bench:web", inputErrors: [SiteBuildError] });
