/**
 * The runtime-neutral `Generator`: latents in, images in [0, 1] out, on any provider, in batches.
 * @module
 */
import type { ImageBatch } from "../image/mod.ts";
import { InputError, ModelError } from "./errors.ts";
import { checkCount, interpolateLatents, type InterpolationMode, seedLatents } from "./latents.ts";
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
}

/** Options of {@link Generator.generate}. */
export interface GenerateOptions {
  /** Called after each batch with the number of images done so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of {@link Generator.sample}. */
export interface SampleOptions extends GenerateOptions {
  /** Seed of the latents (default 0): the same seed gives the same digits on every platform. */
  seed?: number;
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

  constructor(info: ModelInfo, session: Session, provider: ProviderChoice, maxBatch: number) {
    this.info = info;
    this.provider = provider;
    this.maxBatch = info.fixedBatch ?? maxBatch;
    this.#session = session;
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

  /** `n` images from the latents of `seed`: exactly `generate(latentsForSeed(seed, n, latentDim))`. */
  async sample(n: number, options: SampleOptions = {}): Promise<GeneratedImages> {
    return await this.generate(seedLatents(options.seed ?? 0, n, this.info.latentDim), options);
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
    this.#session = null;
    await this.#queue;
    await session?.release();
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
      const n = Math.min(this.maxBatch, count - start);
      // A model with a fixed batch size gets full batches; the padding rows are zeros and are dropped.
      const rows = fixedBatch ?? n;
      const chunk = rows === n
        ? latents.subarray(start * dim, (start + n) * dim)
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
 * and returns the {@link Generator}. The runtime entries (`mod.ts`, `browser.ts`) pass their providers.
 */
export async function openGenerator(
  bytes: Uint8Array,
  providers: readonly Provider[],
  autoOrder: readonly Provider[],
  options: GeneratorOptions,
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
  return new Generator(info, session, choice, maxBatch ?? provider.maxBatch);
}
