/**
 * `deno task sample`: samples an ONNX generator to a PNG grid, one PNG per sample, or a `.npy` array, optionally
 * of one chosen digit; or walks the latent space between two seeds or two digits (a strip, optionally an animated
 * GIF). Same arguments ⇒ same bytes.
 * @module
 */
import { join } from "node:path";
import { FileWriteError, makeFolder, writeFileAtomic } from "../src/fsio/mod.ts";
import { parseCommandLine, ProgressBar, runCli, UsageError } from "../src/cli/mod.ts";
import {
  createGenerator,
  DEFAULT_DIGIT_THRESHOLD,
  type GeneratedImages,
  type Generator,
  imagesToGif,
  imagesToNpy,
  imagesToPng,
  imagesToPngs,
  InferenceError,
  type InterpolationMode,
  latentsForSeed,
  MAX_SAMPLES,
  PROVIDER_NAMES,
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
  --scale N            integer magnification of every image                        [1; walk GIF: 4]
  --padding N          pixels between grid tiles                                                 [2]
  --digit D            only samples the classifier reads as digit D (0–9): the seed's latents are kept
                       in order when its probability is ≥ --threshold; fails if too few are found
  --threshold P        classifier probability a sample needs to count as the digit             [${DEFAULT_DIGIT_THRESHOLD}]
  --classifier FILE    the digit classifier .onnx                              [models/classifier.onnx]
  --walk-seeds A,B     walk from the first latent of seed A to that of seed B instead of sampling
                       (with --digit: from seed A's first D to seed B's first D)
  --walk-digits D,E    walk from the first latent of --seed that is digit D to its first that is E
  --steps N            images along the walk, both ends included                                [10]
  --mode M             slerp (spherical) | lerp (linear)                                     [slerp]
  --gif                with a walk: also write an animated GIF next to --out; --out X.gif writes the
                       GIF alone
  --threads N          onnxruntime-node cpu: intra-op threads              [logical CPU count]
  --max-batch N        split larger batches                              [provider's default]
  -h, --help           show this help

Exit status: 0 ok, 2 bad input (arguments, model file, unavailable provider), 1 anything else.
WebGPU on Linux without a GPU: run with LD_LIBRARY_PATH=/usr/lib/chromium
VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader; slow).`;

type Format = "png" | "png-dir" | "npy";

/** A latent walk: between the first latents of two seeds (of one digit, or any), or of two digits of one seed. */
type Walk = { seeds: [number, number]; digit: number | null } | {
  seed: number;
  digits: [number, number];
};

interface SampleArgs {
  model: string;
  count: number;
  seed: number;
  provider: string;
  out: string;
  format: Format;
  cols?: number;
  /** Magnification; unset: 1 for PNGs, {@link GIF_SCALE} for the walk GIF. */
  scale?: number;
  padding: number;
  digit: number | null;
  threshold: number;
  classifier?: string;
  walk: Walk | null;
  steps: number;
  mode: InterpolationMode;
  /** Also write an animated GIF of the walk; `gifOnly`: --out is that GIF, and nothing else is written. */
  gif: boolean;
  gifOnly: boolean;
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

/** The walk GIF's magnification unless --scale is given: 28 × 28 frames are too small to watch. */
const GIF_SCALE = 4;

/** Two integers from 0 to `max` written as A,B. */
function pair(name: string, text: string, max: number): [number, number] {
  const parts = text.split(",");
  if (parts.length !== 2) {
    throw new UsageError(`--${name} takes two ${name.slice(5)} as A,B, got "${text}"`);
  }
  return [integer(name, parts[0], 0, max)!, integer(name, parts[1], 0, max)!];
}

function probability(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  if (text.trim() === "" || !(p > 0 && p <= 1)) {
    throw new UsageError(`--${name} must be a probability above 0 and at most 1, got "${text}"`);
  }
  return p;
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
      scale: { type: "string" },
      padding: { type: "string", default: "2" },
      digit: { type: "string" },
      threshold: { type: "string" },
      classifier: { type: "string" },
      "walk-seeds": { type: "string" },
      "walk-digits": { type: "string" },
      // Renamed: its seeds read like digits. Kept only to name the new flags.
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
  if (values.interpolate !== undefined) {
    throw new UsageError(
      "--interpolate was renamed: use --walk-seeds A,B (two seeds) or --walk-digits D,E (two digits)",
    );
  }
  const seed = integer("seed", values.seed, 0, Number.MAX_SAFE_INTEGER)!;
  const digit = integer("digit", values.digit, 0, 9) ?? null;
  let walk: Walk | null = null;
  if (values["walk-seeds"] !== undefined && values["walk-digits"] !== undefined) {
    throw new UsageError("give --walk-seeds or --walk-digits, not both");
  }
  if (values["walk-seeds"] !== undefined) {
    walk = { seeds: pair("walk-seeds", values["walk-seeds"], Number.MAX_SAFE_INTEGER), digit };
  } else if (values["walk-digits"] !== undefined) {
    if (digit !== null) {
      throw new UsageError(
        "--walk-digits D,E names its digits; drop --digit (or use --walk-seeds A,B)",
      );
    }
    walk = { seed, digits: pair("walk-digits", values["walk-digits"], 9) };
  }
  const out = values.out ??
    (format === "png" ? "samples.png" : format === "npy" ? "samples.npy" : "samples");
  const gifOnly = format === "png" && /\.gif$/i.test(out);
  if ((values.gif || gifOnly) && walk === null) {
    throw new UsageError(
      values.gif
        ? "--gif needs a walk: --walk-seeds A,B or --walk-digits D,E"
        : `--out ${out}: a GIF is written for a walk only (--walk-seeds A,B or --walk-digits D,E)`,
    );
  }
  return {
    model: values.model,
    count: integer("count", values.count, 1, MAX_SAMPLES)!,
    seed,
    provider: values.provider,
    out,
    format,
    cols: integer("cols", values.cols, 1, MAX_SAMPLES),
    scale: integer("scale", values.scale, 1, 32),
    padding: integer("padding", values.padding, 0, 64)!,
    digit,
    threshold: probability("threshold", values.threshold) ?? DEFAULT_DIGIT_THRESHOLD,
    classifier: values.classifier,
    walk,
    steps: integer("steps", values.steps, 2, MAX_SAMPLES)!,
    mode,
    gif: values.gif || gifOnly,
    gifOnly,
    threads: integer("threads", values.threads, 1, 1024),
    maxBatch: integer("max-batch", values["max-batch"], 1, MAX_SAMPLES),
  };
}

/** The first latent of `seed`, or its first of `digit`. */
async function firstLatent(
  generator: Generator,
  seed: number,
  digit: number | null,
  threshold: number,
): Promise<Float32Array> {
  if (digit === null) return latentsForSeed(seed, 1, generator.latentDim);
  return (await generator.findDigits(1, { seed, digit, threshold })).latents;
}

async function generateImages(generator: Generator, args: SampleArgs): Promise<GeneratedImages> {
  const label = args.walk ? "walk" : args.digit === null ? "sample" : `digit ${args.digit}`;
  const bar = new ProgressBar({ label, unit: "samples" });
  const onProgress = (done: number, total: number) => bar.update(done, { total });
  const { walk, threshold } = args;
  try {
    if (walk) {
      const ends = "seeds" in walk
        ? walk.seeds.map((seed) => [seed, walk.digit] as const)
        : walk.digits.map((digit) => [walk.seed, digit] as const);
      const [a, b] = [
        await firstLatent(generator, ends[0][0], ends[0][1], threshold),
        await firstLatent(generator, ends[1][0], ends[1][1], threshold),
      ];
      return await generator.interpolate(a, b, args.steps, { mode: args.mode, onProgress });
    }
    const digit = args.digit ?? undefined;
    return await generator.sample(args.count, { seed: args.seed, digit, threshold, onProgress });
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
  if (args.gifOnly) {
    // --out walk.gif: the GIF is the output (no strip written to the same path first).
  } else if (args.format === "png-dir") {
    makeFolder(args.out);
    const digits = String(images.count - 1).length;
    const stem = args.walk ? "step" : "sample";
    const pngs = imagesToPngs(images, args.scale ?? 1);
    for (const [i, png] of pngs.entries()) {
      const path = join(args.out, `${stem}-${String(i).padStart(Math.max(4, digits), "0")}.png`);
      writeFileAtomic(path, png);
    }
    written.push(`${args.out.replace(/\/+$/, "")}/ (${pngs.length} PNG files)`);
  } else {
    const cols = args.cols ?? (args.walk ? images.count : undefined);
    const bytes = args.format === "npy"
      ? imagesToNpy(images)
      : imagesToPng(images, { cols, scale: args.scale ?? 1, padding: args.padding });
    writeFileAtomic(args.out, bytes);
    written.push(args.out);
  }
  if (args.gif) {
    const gifPath = args.gifOnly ? args.out : args.out.replace(/(\.[^./]*)?$/, ".gif");
    writeFileAtomic(
      gifPath,
      imagesToGif(images, { scale: args.scale ?? GIF_SCALE, delayMs: 120, holdLastMs: 600 }),
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
    classifier: args.classifier,
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
