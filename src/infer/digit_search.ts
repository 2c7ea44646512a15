/**
 * Choosing the digit on an unconditional generator: walk the latents of a seed in order and keep those the
 * digit classifier assigns the wanted digit with at least a given confidence, until enough are found. The
 * search is bounded, and the same seed gives the same latents (a subsequence of `latentsForSeed(seed, …)`).
 * @module
 */
import { Rng } from "../random/mod.ts";
import { DIGIT_COUNT } from "./digit_classifier.ts";
import { InputError } from "./errors.ts";
import type { GeneratedImages } from "./generator.ts";
import { checkCount, checkSeed } from "./latents.ts";

/**
 * The default confidence a latent's image needs to count as the digit: the classifier's probability of that
 * digit. At 0.9, 78 % of the reference generator's samples pass for some digit, 4.8–9.8 % for each one
 * (`deno task digit-rates`; the table is in models/README.md).
 */
export const DEFAULT_DIGIT_THRESHOLD = 0.9;

/** The default bound of the search: this many latents per sample asked for, and at least 10,000. */
const CANDIDATES_PER_SAMPLE = 100;
const MIN_CANDIDATES = 10_000;

/**
 * The most samples one digit search may ask for. With the default bound of 100 latents a sample, a search looks
 * at up to 409,600 latents (the rarest digit needs about 21 a sample at the default threshold, so most end far
 * sooner): minutes on a CPU, where 100,000 samples would be 10 million latents, hours.
 */
export const MAX_DIGIT_SAMPLES = 4096;

/** The most latents one search may look at (an explicit `maxCandidates` included). */
export const MAX_DIGIT_CANDIDATES = CANDIDATES_PER_SAMPLE * MAX_DIGIT_SAMPLES;

/** What to search for. */
export interface DigitSearch {
  /** The digit, 0–9. */
  digit: number;
  /** The classifier's probability the digit needs (default {@link DEFAULT_DIGIT_THRESHOLD}). */
  threshold?: number;
  /** Give up after this many latents (default 100 per sample asked for, at least 10,000). */
  maxCandidates?: number;
  /** Stops the search between chunks when aborted (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** What a search found. */
export interface DigitSearchResult {
  /** The kept latents, row-major `[n, latentDim]`, in the order the seed draws them. */
  latents: Float32Array;
  /** Their images, as classified. */
  images: GeneratedImages;
  /** The classifier's probability of the digit for each kept image. */
  confidence: Float32Array;
  /** How many of the seed's latents were looked at. */
  candidates: number;
}

/**
 * Checks a digit search's options and returns the threshold and bound in force.
 * @throws {InputError} for a digit outside 0–9, a threshold outside (0, 1], a bad bound, or more than
 * {@link MAX_DIGIT_SAMPLES} samples.
 */
export function checkDigitSearch(
  search: DigitSearch,
  n: number,
): { threshold: number; maxCandidates: number } {
  const { digit, threshold = DEFAULT_DIGIT_THRESHOLD } = search;
  if (!Number.isInteger(digit) || digit < 0 || digit >= DIGIT_COUNT) {
    throw new InputError(`digit must be an integer from 0 to ${DIGIT_COUNT - 1}, got ${digit}`);
  }
  if (!(threshold > 0 && threshold <= 1)) {
    throw new InputError(`threshold must be a probability above 0 and at most 1, got ${threshold}`);
  }
  if (n > MAX_DIGIT_SAMPLES) {
    throw new InputError(
      `a digit search finds at most ${MAX_DIGIT_SAMPLES.toLocaleString("en-US")} samples, got ` +
        `${n.toLocaleString("en-US")}; ask for fewer, or run several seeds`,
    );
  }
  const maxCandidates = search.maxCandidates ?? Math.max(MIN_CANDIDATES, CANDIDATES_PER_SAMPLE * n);
  if (!Number.isSafeInteger(maxCandidates) || maxCandidates < n) {
    throw new InputError(
      `maxCandidates must be an integer of at least n (${n}), got ${maxCandidates}`,
    );
  }
  if (maxCandidates > MAX_DIGIT_CANDIDATES) {
    throw new InputError(
      `maxCandidates must be at most ${
        MAX_DIGIT_CANDIDATES.toLocaleString("en-US")
      }, got ${maxCandidates}`,
    );
  }
  return { threshold, maxCandidates };
}

/**
 * Finds `n` latents of `seed` whose images `classify` assigns `search.digit` with probability ≥ the threshold,
 * looking at the seed's latents in order, in chunks. Between chunks it lets the event loop turn (a message or
 * timer waiting gets its turn) and stops when `search.signal` is aborted.
 * @throws {InputError} when the bound is reached first (the message says how many were found).
 * @throws the signal's reason when `search.signal` is aborted.
 */
export async function searchDigit(
  seed: number,
  n: number,
  dim: number,
  search: DigitSearch,
  generate: (latents: Float32Array) => Promise<GeneratedImages>,
  classify: (images: GeneratedImages) => Promise<Float32Array>,
  onProgress?: (found: number, total: number) => void,
): Promise<DigitSearchResult> {
  checkSeed(seed);
  checkCount(n);
  const { threshold, maxCandidates } = checkDigitSearch(search, n);
  const rng = new Rng(seed);
  const latents = new Float32Array(n * dim);
  const confidence = new Float32Array(n);
  let data: Float32Array | null = null;
  let shape: Omit<GeneratedImages, "data" | "count"> | null = null;
  let found = 0, candidates = 0;
  while (found < n && candidates < maxCandidates) {
    search.signal?.throwIfAborted();
    // About 12 latents per digit still missing: most digits pass at a rate near 1 in 10 at the default.
    const size = Math.min(
      maxCandidates - candidates,
      Math.max(64, Math.min(2048, 12 * (n - found))),
    );
    const chunk = rng.normals(size * dim);
    const images = await generate(chunk);
    const probs = await classify(images);
    const per = images.height * images.width * images.channels;
    data ??= new Float32Array(n * per);
    shape ??= images;
    for (let i = 0; i < size && found < n; i++) {
      const p = probs[i * DIGIT_COUNT + search.digit];
      if (p < threshold) continue;
      latents.set(chunk.subarray(i * dim, (i + 1) * dim), found * dim);
      data.set(images.data.subarray(i * per, (i + 1) * per), found * per);
      confidence[found++] = p;
    }
    candidates += size;
    onProgress?.(found, n);
    await nextTurn();
  }
  if (found < n) {
    throw new InputError(
      `only ${found} of the first ${candidates.toLocaleString("en-US")} latents of seed ${seed} ` +
        `are a ${search.digit} with confidence ≥ ${threshold} (${n} asked for); ` +
        "ask for fewer, lower the threshold or raise the search bound",
    );
  }
  const { height, width, channels, layout } = shape!;
  return {
    latents,
    images: { data: data!, count: n, height, width, channels, layout },
    confidence,
    candidates,
  };
}

/** Resolves on a later turn of the event loop, after the timers and messages waiting now. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
