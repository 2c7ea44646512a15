/**
 * `deno task sample`: samples an ONNX generator to a PNG grid, one PNG per sample, or a `.npy` array; or walks
 * the latent space between two seeds (a strip, optionally an animated GIF). Same arguments ⇒ same bytes.
 * @module
 */
import { join } from "node:path";
import { FileWriteError, makeFolder, writeFileAtomic } from "../src/fsio/mod.ts";
import { parseCommandLine, ProgressBar, runCli, UsageError } from "../src/cli/mod.ts";
import {
  createGenerator,
  type GeneratedImages,
  type Generator,
  imagesToGif,
  imagesToNpy,
  imagesToPng,
  imagesToPngs,
  InferenceError,
  type InterpolationMode,
  MAX_SAMPLES,
  PROVIDER_NAMES,
  seedLatents,
} from "../src/infer/mod.ts";

const HELP = `Sample digits from an ONNX generator.

Usage: deno task sample [options]

  --model FILE         the .onnx generator                          [models/generator.onnx]
  -n, --count N        number of samples, 1–${MAX_SAMPLES}                                [64]
  --seed S             seed of the latents (same seed, same digits everywhere)          [0]
  --provider NAME      ${PROVIDER_NAMES.join(" | ")}                  [auto]
  --out PATH           output file (png, npy) or folder (png-dir)      [samples.png, samples.npy, samples/]
  --format F           png (one grid) | png-dir (one PNG per sample) | npy (float32 in [0, 1])   [png]
  --cols N             grid columns                                       [ceil(sqrt(n)); walk: steps]
  --scale N            integer magnification of every image                                      [1]
  --padding N          pixels between grid tiles                                                 [2]
  --interpolate A,B    walk from the first latent of seed A to that of seed B instead of sampling
  --steps N            images along the walk, both ends included                                [10]
  --mode M             slerp (spherical) | lerp (linear)                                     [slerp]
  --gif                with --interpolate: also write an animated GIF next to --out (.gif)
  --threads N          onnxruntime-node cpu: intra-op threads              [logical CPU count]
  --max-batch N        split larger batches                              [provider's default]
  -h, --help           show this help

Exit status: 0 ok, 2 bad input (arguments, model file, unavailable provider), 1 anything else.
WebGPU on Linux without a GPU: run with LD_LIBRARY_PATH=/usr/lib/chromium
VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader; slow).`;

type Format = "png" | "png-dir" | "npy";

interface SampleArgs {
  model: string;
  count: number;
  seed: number;
  provider: string;
  out: string;
  format: Format;
  cols?: number;
  scale: number;
  padding: number;
  walk: [number, number] | null;
  steps: number;
  mode: InterpolationMode;
  gif: boolean;
  threads?: number;
  maxBatch?: number;
}

function integer(
  name: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function parse(argv: string[]): SampleArgs | null {
  const { values } = parseCommandLine({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      model: { type: "string", default: "models/generator.onnx" },
      count: { type: "string", short: "n", default: "64" },
      seed: { type: "string", default: "0" },
      provider: { type: "string", default: "auto" },
      out: { type: "string" },
      format: { type: "string", default: "png" },
      cols: { type: "string" },
      scale: { type: "string", default: "1" },
      padding: { type: "string", default: "2" },
      interpolate: { type: "string" },
      steps: { type: "string", default: "10" },
      mode: { type: "string", default: "slerp" },
      gif: { type: "boolean", default: false },
      threads: { type: "string" },
      "max-batch": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return null;
  const format = values.format;
  if (format !== "png" && format !== "png-dir" && format !== "npy") {
    throw new UsageError(`--format must be png, png-dir or npy, got "${format}"`);
  }
  const mode = values.mode;
  if (mode !== "slerp" && mode !== "lerp") {
    throw new UsageError(`--mode must be slerp or lerp, got "${mode}"`);
  }
  if (!(PROVIDER_NAMES as readonly string[]).includes(values.provider)) {
    throw new UsageError(
      `unknown provider "${values.provider}"; use one of: ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  let walk: [number, number] | null = null;
  if (values.interpolate !== undefined) {
    const parts = values.interpolate.split(",");
    if (parts.length !== 2) {
      throw new UsageError(`--interpolate takes two seeds as A,B, got "${values.interpolate}"`);
    }
    walk = [
      integer("interpolate", parts[0], 0, Number.MAX_SAFE_INTEGER)!,
      integer("interpolate", parts[1], 0, Number.MAX_SAFE_INTEGER)!,
    ];
  }
  if (values.gif && walk === null) throw new UsageError("--gif needs --interpolate A,B");
  const defaultOut = format === "png"
    ? "samples.png"
    : format === "npy"
    ? "samples.npy"
    : "samples";
  return {
    model: values.model,
    count: integer("count", values.count, 1, MAX_SAMPLES)!,
    seed: integer("seed", values.seed, 0, Number.MAX_SAFE_INTEGER)!,
    provider: values.provider,
    out: values.out ?? defaultOut,
    format,
    cols: integer("cols", values.cols, 1, MAX_SAMPLES),
    scale: integer("scale", values.scale, 1, 32)!,
    padding: integer("padding", values.padding, 0, 64)!,
    walk,
    steps: integer("steps", values.steps, 2, MAX_SAMPLES)!,
    mode,
    gif: values.gif,
    threads: integer("threads", values.threads, 1, 1024),
    maxBatch: integer("max-batch", values["max-batch"], 1, MAX_SAMPLES),
  };
}

async function generateImages(generator: Generator, args: SampleArgs): Promise<GeneratedImages> {
  const bar = new ProgressBar({ label: args.walk ? "walk" : "sample", unit: "samples" });
  const onProgress = (done: number, total: number) => bar.update(done, { total });
  try {
    if (args.walk) {
      const [a, b] = args.walk.map((seed) => seedLatents(seed, 1, generator.latentDim));
      return await generator.interpolate(a, b, args.steps, { mode: args.mode, onProgress });
    }
    return await generator.sample(args.count, { seed: args.seed, onProgress });
  } finally {
    bar.done();
  }
}

/** Refuses images holding NaN or ±Infinity (a broken or diverged generator): nothing is written. */
function checkFinite(images: GeneratedImages, model: string): void {
  const bad = images.data.reduce((n, x) => Number.isFinite(x) ? n : n + 1, 0);
  if (bad > 0) {
    throw new UsageError(
      `${model}: the generator produced ${bad} of ${images.data.length} values that are not ` +
        `finite numbers (NaN or infinite weights?); nothing was written`,
    );
  }
}

/** Writes the outputs, each file atomically (a full disk leaves the old file, never a truncated one). */
function writeOutputs(images: GeneratedImages, args: SampleArgs): string[] {
  const written: string[] = [];
  if (args.format === "png-dir") {
    makeFolder(args.out);
    const digits = String(images.count - 1).length;
    const stem = args.walk ? "step" : "sample";
    const pngs = imagesToPngs(images, args.scale);
    for (const [i, png] of pngs.entries()) {
      const path = join(args.out, `${stem}-${String(i).padStart(Math.max(4, digits), "0")}.png`);
      writeFileAtomic(path, png);
    }
    written.push(`${args.out}/ (${pngs.length} PNG files)`);
  } else {
    const cols = args.cols ?? (args.walk ? images.count : undefined);
    const bytes = args.format === "npy"
      ? imagesToNpy(images)
      : imagesToPng(images, { cols, scale: args.scale, padding: args.padding });
    writeFileAtomic(args.out, bytes);
    written.push(args.out);
  }
  if (args.gif) {
    const gifPath = args.out.replace(/(\.[^./]*)?$/, ".gif");
    writeFileAtomic(
      gifPath,
      imagesToGif(images, { scale: args.scale, delayMs: 120, holdLastMs: 600 }),
    );
    written.push(gifPath);
  }
  return written;
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === null) {
    console.log(HELP);
    return 0;
  }
  const generator = await createGenerator(args.model, {
    provider: args.provider,
    threads: args.threads,
    maxBatch: args.maxBatch,
  });
  try {
    console.error(`provider: ${generator.provider.name} (${generator.provider.reason})`);
    const images = await generateImages(generator, args);
    checkFinite(images, args.model);
    for (const path of writeOutputs(images, args)) console.log(`wrote ${path}`);
  } finally {
    await generator.dispose();
  }
  return 0;
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), {
    inputErrors: [InferenceError, FileWriteError],
    failures: [Error],
  });
}
