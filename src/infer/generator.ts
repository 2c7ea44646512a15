/**
 * The runtime-neutral `Generator`: latents in, images in [0, 1] out, on any provider, in batches.
 * @module
 */
import type { ImageBatch } from "../image/mod.ts";
import { DigitClassifier } from "./digit_classifier.ts";
import { type DigitSearch, type DigitSearchResult, searchDigit } from "./digit_search.ts";
import { InputError, ModelError } from "./errors.ts";
import {
  checkCount,
  interpolateLatents,
  type InterpolationMode,
  latentsForSeed,
} from "./latents.ts";
import { type ModelInfo, readModelInfo } from "./model_info.ts";
import {
  openSession,
  type Provider,
  type ProviderChoice,
  type Session,
  type SessionTuning,
} from "./provider.ts";

/** A batch of generated images: pixel values in [0, 1] with their shape; pass it to `toGrid` or `imagesToPng`. */
export interface GeneratedImages extends ImageBatch {
  layout: "nchw" | "nhwc";
}

/** Options of `createGenerator`. */
export interface GeneratorOptions extends SessionTuning {
  /** Which provider to run on (default `auto`: the best one that works here; see `Generator.provider`). */
  provider?: string;
  /** Split batches larger than this (default: the provider's comfortable size). */
  maxBatch?: number;
  /**
   * The digit classifier for `sample(n, { digit })`, loaded on first use only: a path or URL, or the bytes of
   * the `.onnx` file (Deno/Node default: the `models/classifier.onnx` shipped with the package; browsers: none).
   */
  classifier?: string | URL | Uint8Array | ArrayBuffer;
  /**
   * The `http` provider: how long one request to the server may take, answer included, in milliseconds (default
   * 60,000).
   */
  timeoutMs?: number;
}

/** Options of {@link Generator.generate}. */
export interface GenerateOptions {
  /** Called after each batch with the number of images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between batches when aborted (the call rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Options of {@link Generator.sample}. */
export interface SampleOptions extends GenerateOptions, Partial<DigitSearch> {
  /** Seed of the latents (default 0): the same seed gives the same digits on every platform. */
  seed?: number;
}

/** Options of {@link Generator.findDigits}. */
export interface FindDigitsOptions extends DigitSearch {
  /** Seed of the latents searched (default 0). */
  seed?: number;
  /** Called after each searched chunk with the number of latents kept so far and the number asked for. */
  onProgress?: (found: number, total: number) => void;
}

/** Where a generator finds its digit classifier: the bytes (loaded on first use) and the provider to run it on. */
export interface ClassifierSource {
  load: () => Promise<Uint8Array>;
  provider: Provider;
  tuning: SessionTuning;
}

/** Options of {@link Generator.interpolate}. */
export interface InterpolateOptions extends GenerateOptions {
  /** `slerp` (default) or `lerp`. */
  mode?: InterpolationMode;
}

/** A generator model opened on one provider. Create it with `createGenerator`; call {@link dispose} when done. */
export class Generator {
  /** What the model takes and gives. */
  readonly info: ModelInfo;
  /** The provider in use and why it was chosen. */
  readonly provider: ProviderChoice;
  /** Batches larger than this are run in parts. */
  readonly maxBatch: number;
  #session: Session | null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #classifierSource: ClassifierSource | null;
  #classifier: Promise<DigitClassifier> | null = null;

  constructor(
    info: ModelInfo,
    session: Session,
    provider: ProviderChoice,
    maxBatch: number,
    classifier: ClassifierSource | null = null,
  ) {
    this.info = info;
    this.provider = provider;
    this.maxBatch = info.fixedBatch ?? maxBatch;
    this.#session = session;
    this.#classifierSource = classifier;
  }

  /** Size of one latent vector. */
  get latentDim(): number {
    return this.info.latentDim;
  }

  /**
   * Runs the model on latent vectors (row-major `[n, latentDim]`, n = `latents.length / latentDim`).
   * @throws {InputError} when the length is not a positive multiple of the latent size or n is too large.
   */
  async generate(latents: Float32Array, options: GenerateOptions = {}): Promise<GeneratedImages> {
    const data = await this.outputs(latents, options);
    const [lo, hi] = this.info.valueRange;
    const scale = 1 / (hi - lo);
    for (let i = 0; i < data.length; i++) {
      const v = (data[i] - lo) * scale;
      data[i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    const { height, width, channels, layout } = this.info;
    return {
      data,
      count: data.length / (height * width * channels),
      height,
      width,
      channels,
      layout,
    };
  }

  /**
   * The model's own output values for latent vectors, before {@link generate} maps them to [0, 1]: the value
   * range `info.valueRange` (tanh: [-1, 1]) in the layout `info.layout`, `[n, ...image]` row-major. This is what
   * an inference server returns for the model.
   * @throws {InputError} like {@link generate}.
   */
  async outputs(latents: Float32Array, options: GenerateOptions = {}): Promise<Float32Array> {
    const dim = this.info.latentDim;
    if (!(latents instanceof Float32Array) || latents.length === 0 || latents.length % dim !== 0) {
      throw new InputError(
        `latents must be a Float32Array of n × ${dim} values (the model's latent size), ` +
          `got ${latents?.length ?? 0} values`,
      );
    }
    const count = latents.length / dim;
    checkCount(count, "the number of latent vectors");
    const run = this.#queue.then(() => this.#run(latents, count, options));
    this.#queue = run.catch(() => {});
    return await run;
  }

  /**
   * `n` images from the latents of `seed`: exactly `generate(latentsForSeed(seed, n, latentDim))`. With `digit`,
   * the images of the first `n` latents of the seed that the classifier assigns that digit with probability
   * ≥ `threshold` (see {@link findDigits}).
   * @throws {InputError} for bad arguments, or when the search for the digit reaches its bound.
   */
  async sample(n: number, options: SampleOptions = {}): Promise<GeneratedImages> {
    const { seed = 0, digit } = options;
    if (digit === undefined) {
      return await this.generate(latentsForSeed(seed, n, this.info.latentDim), options);
    }
    return (await this.findDigits(n, { ...options, seed, digit })).images;
  }

  /**
   * Searches the latents of `seed` in order for `n` whose images the digit classifier assigns `digit` with
   * probability ≥ `threshold` (default 0.9), and returns them with their images. Deterministic per seed (on one
   * provider; another provider may differ on a latent whose probability lies within ~1e-6 of the threshold).
   * The classifier is loaded on the first call.
   * @throws {InputError} for bad arguments, no classifier, or when `maxCandidates` latents gave fewer than `n`.
   */
  async findDigits(n: number, options: FindDigitsOptions): Promise<DigitSearchResult> {
    const classifier = await this.#digitClassifier();
    return await searchDigit(
      options.seed ?? 0,
      n,
      this.info.latentDim,
      options,
      (latents) => this.generate(latents, { signal: options.signal }),
      (images) => classifier.probabilities(images),
      options.onProgress,
    );
  }

  /**
   * The digit classifier's probabilities of the digits 0–9 for each image (row-major `[count, 10]`), the
   * figures `findDigits` compares with its threshold. The classifier is loaded on the first call.
   */
  async digitProbabilities(images: GeneratedImages): Promise<Float32Array> {
    return await (await this.#digitClassifier()).probabilities(images);
  }

  #digitClassifier(): Promise<DigitClassifier> {
    const source = this.#classifierSource;
    if (source === null) {
      return Promise.reject(
        new InputError(
          'choosing a digit needs the digit classifier: pass { classifier: "models/classifier.onnx" } ' +
            "(a URL or the file's bytes) to createGenerator",
        ),
      );
    }
    this.#classifier ??= source.load().then((bytes) =>
      DigitClassifier.open(bytes, source.provider, source.tuning)
    );
    this.#classifier.catch(() => (this.#classifier = null));
    return this.#classifier;
  }

  /** `steps` images along the walk from latent `a` to latent `b`, both included (see `interpolateLatents`). */
  async interpolate(
    a: Float32Array,
    b: Float32Array,
    steps: number,
    options: InterpolateOptions = {},
  ): Promise<GeneratedImages> {
    const dim = this.info.latentDim;
    if (a.length !== dim || b.length !== dim) {
      throw new InputError(
        `interpolation endpoints must have ${dim} values (the model's latent size), got ${a.length} and ${b.length}`,
      );
    }
    return await this.generate(interpolateLatents(a, b, steps, options.mode ?? "slerp"), options);
  }

  /** Frees the session. The generator cannot be used afterwards. */
  async dispose(): Promise<void> {
    const session = this.#session;
    const classifier = this.#classifier;
    this.#session = null;
    this.#classifier = null;
    await this.#queue;
    await session?.release();
    await classifier?.then((c) => c.release(), () => {});
  }

  async #run(
    latents: Float32Array,
    count: number,
    options: GenerateOptions,
  ): Promise<Float32Array> {
    const session = this.#session;
    if (session === null) throw new InputError("this generator has been disposed");
    const { latentDim: dim, height, width, channels, fixedBatch } = this.info;
    const perImage = height * width * channels;
    const data = new Float32Array(count * perImage);
    for (let start = 0; start < count; start += this.maxBatch) {
      if (options.signal) {
        // A run may hold the thread while it computes: let a cancelling message or timer in before the next.
        if (start > 0) await new Promise((resolve) => setTimeout(resolve, 0));
        options.signal.throwIfAborted();
      }
      const n = Math.min(this.maxBatch, count - start);
      // A model with a fixed batch size gets full batches; the padding rows are zeros and are dropped.
      // A copy either way: onnxruntime-web's proxy worker takes (detaches) the buffer it is given, and the
      // caller's latents must stay readable (the digit search keeps the ones it accepts).
      const rows = fixedBatch ?? n;
      const chunk = rows === n
        ? latents.slice(start * dim, (start + n) * dim)
        : padRows(latents.subarray(start * dim, (start + n) * dim), rows * dim);
      const raw = await session.run(chunk, rows);
      if (raw.length !== rows * perImage) {
        throw new ModelError(
          `the model returned ${raw.length} values for ${rows} latents, expected ${
            rows * perImage
          }`,
        );
      }
      data.set(raw.subarray(0, n * perImage), start * perImage);
      options.onProgress?.(start + n, count);
    }
    return data;
  }
}

function padRows(values: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(values);
  return out;
}

/**
 * Checks the `maxBatch` option: absent or a positive integer.
 * @throws {InputError} otherwise.
 */
export function checkMaxBatch(maxBatch: number | undefined): void {
  if (maxBatch !== undefined && (!Number.isInteger(maxBatch) || maxBatch < 1)) {
    throw new InputError(`maxBatch must be a positive integer, got ${maxBatch}`);
  }
}

/**
 * Reads a generator's bytes, opens a session on the requested provider (or the first working one of `autoOrder`)
 * and returns the {@link Generator}. The runtime entries (`mod.ts`, `browser.ts`) pass their providers and how
 * to load the digit classifier (null: there is none).
 */
export async function openGenerator(
  bytes: Uint8Array,
  providers: readonly Provider[],
  autoOrder: readonly Provider[],
  options: GeneratorOptions,
  loadClassifier: (() => Promise<Uint8Array>) | null,
): Promise<Generator> {
  const info = readModelInfo(bytes);
  const maxBatch = options.maxBatch;
  checkMaxBatch(maxBatch);
  const { session, provider, choice } = await openSession(
    providers,
    autoOrder,
    options.provider ?? "auto",
    bytes,
    info,
    options,
  );
  const classifier = loadClassifier && { load: loadClassifier, provider, tuning: options };
  return new Generator(info, session, choice, maxBatch ?? provider.maxBatch, classifier);
}
