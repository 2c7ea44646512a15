import { interpolateLatents } from "../../src/infer/browser.ts";
import type { GreyBatch } from "./digit_grid.ts";

/** Smooth start and stop (cubic smoothstep) so a walk lingers on each seed's own digits. */
export function easeInOut(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}

/** Path points per frame: the eased frames pick the nearest of these evenly spaced slerp points. */
const POINTS_PER_FRAME = 4;

/**
 * The frames of a walk from one batch of latents to another (`count` rows of `dim` values), every row
 * along its own great circle (the inference module's `interpolateLatents`, slerp), with eased timing:
 * frame 0 is `a`, frame `frames` is `b`.
 */
export class LatentWalk {
  readonly #paths: Float32Array[] = [];
  readonly #points: number;

  constructor(a: Float32Array, b: Float32Array, readonly dim: number, readonly frames: number) {
    if (a.length !== b.length || a.length % dim !== 0 || !(frames >= 1)) {
      throw new RangeError(`a walk needs two batches of rows of ${dim} values and frames ≥ 1`);
    }
    this.#points = frames * POINTS_PER_FRAME + 1;
    for (let row = 0; row < a.length; row += dim) {
      const end = row + dim;
      this.#paths.push(
        interpolateLatents(a.subarray(row, end), b.subarray(row, end), this.#points),
      );
    }
  }

  /** The latents of frame `k` (0 … `frames`), row-major like the endpoints. */
  frame(k: number): Float32Array {
    const point = Math.round(easeInOut(k / this.frames) * (this.#points - 1));
    const out = new Float32Array(this.#paths.length * this.dim);
    this.#paths.forEach((path, row) => {
      out.set(path.subarray(point * this.dim, (point + 1) * this.dim), row * this.dim);
    });
    return out;
  }
}

/** Time a walk should take from one seed to the next, and its bounds in frames. */
const SECONDS_PER_SEED = 3;
const MIN_FRAMES = 6;
const MAX_FRAMES = 45;

/** Frames of one leg of a walk (one seed to the next) when a frame takes `frameMs`. */
export function framesPerLeg(frameMs: number): number {
  return Math.round(Math.min(MAX_FRAMES, Math.max(MIN_FRAMES, SECONDS_PER_SEED * 1000 / frameMs)));
}

/** What a {@link WalkPlayer} needs from the page. */
export interface WalkStage {
  latentDim: number;
  /** The `count` latents of `seed` (of the chosen digit, if any). */
  latents(seed: number, count: number): Promise<Float32Array>;
  /** The images of `latents`, one grey image per row of `latentDim` values. */
  generate(latents: Float32Array): Promise<GreyBatch>;
  /** A leg of `frames` frames from seed `from` to `from + 1` begins. */
  startLeg(from: number, frames: number): void;
  /** Shows one frame of the leg from `from`; `framesPerSecond` is the rate the frames arrive at. */
  drawFrame(batch: GreyBatch, from: number, framesPerSecond: number): void;
  /** The walk has arrived at `seed`'s own latents. */
  reachedSeed(seed: number): void;
}

/**
 * Plays a walk from seed to seed (each leg a {@link LatentWalk}) as fast as the device generates it: the next
 * frame is computed while the current one is shown, and the frames per leg follow the measured frame time so that
 * a leg takes about three seconds. A player plays once.
 */
export class WalkPlayer {
  #stopped = false;

  constructor(readonly stage: WalkStage) {}

  /** Asks the walk to stop after the frame being computed (it is not shown); before {@link play}, at once. */
  stop(): void {
    this.#stopped = true;
  }

  /**
   * Walks `count` digits from `seed` until {@link stop}; resolves with the seed nearest to where it stopped (the
   * leg's start before its middle, its end after). `msPerDigit` is the first guess of the frame time.
   */
  async play(seed: number, count: number, msPerDigit: number): Promise<number> {
    const { stage } = this;
    let from = seed;
    let progress = 0;
    let frameMs = msPerDigit * count;
    while (!this.#stopped) {
      const frames = framesPerLeg(frameMs);
      const path = new LatentWalk(
        await stage.latents(from, count),
        await stage.latents(from + 1, count),
        stage.latentDim,
        frames,
      );
      stage.startLeg(from, frames);
      let next = stage.generate(path.frame(1));
      let last = performance.now();
      for (let frame = 1; frame <= frames; frame++) {
        const batch = await next;
        if (this.#stopped) break;
        if (frame < frames) next = stage.generate(path.frame(frame + 1));
        const now = performance.now();
        frameMs = now - last;
        last = now;
        stage.drawFrame(batch, from, 1000 / frameMs);
        progress = frame / frames;
      }
      if (this.#stopped) break;
      from += 1;
      progress = 0;
      stage.reachedSeed(from);
    }
    return progress >= 0.5 ? from + 1 : from;
  }
}
