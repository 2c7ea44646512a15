/**
 * `deno task sample`: samples an ONNX generator to a PNG grid, one PNG per sample, or a `.npy` array, optionally
 * of one chosen digit; or walks the latent space between two seeds or two digits (a strip, optionally an animated
 * GIF). Same arguments ⇒ same bytes.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  FileWriteError,
  NotOwnedFolderError,
  refuseOutputOverInput,
  replaceFolder,
  writeFileAtomic,
  type WriteMode,
  writeNewFile,
} from "../src/fsio/mod.ts";
import {
  optionsHelp,
  type OptionTable,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
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
  SHIPPED_CLASSIFIER,
  SHIPPED_MODEL_PATHS,
} from "../src/infer/mod.ts";

/** The walk GIF's magnification unless --scale is given: 28 × 28 frames are too small to watch. */
const GIF_SCALE = 4;
const MAX_SEED = Number.MAX_SAFE_INTEGER;

const OPTIONS = {
  model: {
    kind: "string",
    arg: "FILE",
    default: SHIPPED_MODEL_PATHS.generator,
    help: "the .onnx generator",
  },
  count: {
    kind: "integer",
    short: "n",
    max: MAX_SAMPLES,
    default: 64,
    help: `number of samples, 1–${MAX_SAMPLES}`,
  },
  seed: {
    kind: "integer",
    arg: "S",
    min: 0,
    max: MAX_SEED,
    default: 0,
    help: "seed of the latents (same seed, same digits everywhere)",
  },
  provider: {
    kind: "string",
    arg: "NAME",
    default: "auto",
    help: PROVIDER_NAMES.join(" | "),
  },
  out: {
    kind: "string",
    arg: "PATH",
    defaultHelp: "samples.png, samples.npy, samples/",
    help: "output file (png, npy) or folder (png-dir)",
  },
  format: {
    kind: "string",
    arg: "F",
    choices: ["png", "png-dir", "npy"],
    default: "png",
    help: "png (one grid) | png-dir (one PNG per sample) | npy (float32 in [0, 1])",
  },
  cols: {
    kind: "integer",
    max: MAX_SAMPLES,
    defaultHelp: "ceil(sqrt(n)); walk: steps",
    help: "grid columns",
  },
  scale: {
    kind: "integer",
    max: 32,
    defaultHelp: `1; walk GIF: ${GIF_SCALE}`,
    help: "integer magnification of every image",
  },
  padding: { kind: "integer", min: 0, max: 64, default: 2, help: "pixels between grid tiles" },
  digit: {
    kind: "integer",
    arg: "D",
    min: 0,
    max: 9,
    help: "only samples the classifier reads as digit D (0–9): the seed's latents are kept\n" +
      "in order when its probability is ≥ --threshold; fails if too few are found",
  },
  threshold: {
    kind: "number",
    arg: "P",
    check: (p) => p > 0 && p <= 1 ? null : "a probability above 0 and at most 1",
    default: DEFAULT_DIGIT_THRESHOLD,
    help: "classifier probability a sample needs to count as the digit",
  },
  classifier: {
    kind: "string",
    arg: "FILE",
    defaultHelp: SHIPPED_MODEL_PATHS.classifier,
    help: "the digit classifier .onnx",
  },
  "walk-seeds": {
    kind: "string",
    arg: "A,B",
    help: "walk from the first latent of seed A to that of seed B instead of sampling\n" +
      "(with --digit: from seed A's first D to seed B's first D)",
  },
  "walk-digits": {
    kind: "string",
    arg: "D,E",
    help: "walk from the first latent of --seed that is digit D to its first that is E",
  },
  // Renamed: its seeds read like digits. Kept only to name the new flags.
  interpolate: { kind: "string", hidden: true, help: "renamed: --walk-seeds or --walk-digits" },
  steps: {
    kind: "integer",
    min: 2,
    max: MAX_SAMPLES,
    default: 10,
    help: "images along the walk, both ends included",
  },
  mode: {
    kind: "string",
    arg: "M",
    choices: ["slerp", "lerp"],
    default: "slerp",
    help: "slerp (spherical) | lerp (linear)",
  },
  gif: {
    kind: "flag",
    help:
      "with a walk: also write an animated GIF next to --out; --out X.gif writes the\nGIF alone",
  },
  threads: {
    kind: "integer",
    max: 1024,
    defaultHelp: "logical CPU count",
    help: "onnxruntime-node cpu: intra-op threads",
  },
  "max-batch": {
    kind: "integer",
    max: MAX_SAMPLES,
    defaultHelp: "provider's default",
    help: "split larger batches",
  },
} as const satisfies OptionTable;

const HELP = `Sample digits from an ONNX generator.

Usage: deno task sample [options]

${optionsHelp(OPTIONS)}

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

/** Two integers from 0 to `max` written as A,B. */
function pair(name: string, text: string, max: number): [number, number] {
  const parts = text.split(",");
  if (parts.length !== 2) {
    throw new UsageError(`--${name} takes two ${name.slice(5)} as A,B, got "${text}"`);
  }
  const one = (part: string) => {
    const n = Number(part);
    if (!/^\d+$/.test(part.trim()) || !Number.isSafeInteger(n) || n > max) {
      throw new UsageError(`--${name} must be an integer from 0 to ${max}, got "${part}"`);
    }
    return n;
  };
  return [one(parts[0]), one(parts[1])];
}

function parse(argv: string[]): SampleArgs | null {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) return null;
  const format = values.format as Format;
  const mode = values.mode as InterpolationMode;
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
  const seed = values.seed;
  const digit = values.digit ?? null;
  let walk: Walk | null = null;
  if (values["walk-seeds"] !== undefined && values["walk-digits"] !== undefined) {
    throw new UsageError("give --walk-seeds or --walk-digits, not both");
  }
  if (values["walk-seeds"] !== undefined) {
    walk = { seeds: pair("walk-seeds", values["walk-seeds"], MAX_SEED), digit };
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
    count: values.count,
    seed,
    provider: values.provider,
    out,
    format,
    cols: values.cols,
    scale: values.scale,
    padding: values.padding,
    digit,
    threshold: values.threshold,
    classifier: values.classifier,
    walk,
    steps: values.steps,
    mode,
    gif: values.gif || gifOnly,
    gifOnly,
    threads: values.threads,
    maxBatch: values["max-batch"],
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

/** One output written: its path (as said to the user) and whether it went into a device or FIFO. */
interface Written {
  path: string;
  mode: WriteMode;
}

/**
 * Writes the outputs, each file atomically (a full disk leaves the old file, never a truncated one); a
 * `png-dir` is filled as a temporary folder renamed into place, so a failure leaves no part of it.
 */
async function writeOutputs(images: GeneratedImages, args: SampleArgs): Promise<Written[]> {
  const written: Written[] = [];
  if (args.gifOnly) {
    // --out walk.gif: the GIF is the output (no strip written to the same path first).
  } else if (args.format === "png-dir") {
    const digits = String(images.count - 1).length;
    const stem = args.walk ? "step" : "sample";
    const pngs = imagesToPngs(images, args.scale ?? 1);
    await replaceFolder(args.out, "deno task sample --format png-dir", (tmp) => {
      for (const [i, png] of pngs.entries()) {
        writeNewFile(join(tmp, `${stem}-${String(i).padStart(Math.max(4, digits), "0")}.png`), png);
      }
      return Promise.resolve();
    });
    written.push({
      path: `${args.out.replace(/\/+$/, "")}/ (${pngs.length} PNG files)`,
      mode: "replaced",
    });
  } else {
    const cols = args.cols ?? (args.walk ? images.count : undefined);
    const bytes = args.format === "npy"
      ? imagesToNpy(images)
      : imagesToPng(images, { cols, scale: args.scale ?? 1, padding: args.padding });
    written.push({ path: args.out, mode: writeFileAtomic(args.out, bytes) });
  }
  if (args.gif) {
    const gifPath = args.gifOnly ? args.out : args.out.replace(/(\.[^./]*)?$/, ".gif");
    const gif = imagesToGif(images, {
      scale: args.scale ?? GIF_SCALE,
      delayMs: 120,
      holdLastMs: 600,
    });
    written.push({ path: gifPath, mode: writeFileAtomic(gifPath, gif) });
  }
  return written;
}

/** Refuses an `--out` (or its GIF) that would overwrite the model or the classifier. */
function refuseInputsAsOutputs(args: SampleArgs): void {
  const inputs = {
    "--model": args.model,
    "--classifier": args.classifier ?? fileURLToPath(SHIPPED_CLASSIFIER),
  };
  refuseOutputOverInput(args.out, inputs);
  if (args.gif) refuseOutputOverInput(args.out.replace(/(\.[^./]*)?$/, ".gif"), inputs);
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === null) {
    console.log(HELP);
    return 0;
  }
  refuseInputsAsOutputs(args);
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
    const written = await writeOutputs(images, args);
    // `--out /dev/stdout`: stdout holds the image, so the report goes to stderr.
    const say = written.some((w) => w.mode === "in place") ? console.error : console.log;
    for (const { path } of written) say(`wrote ${path}`);
  } finally {
    await generator.dispose();
  }
  return 0;
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), {
    inputErrors: [InferenceError, FileWriteError, NotOwnedFolderError],
    failures: [Error],
  });
}
