import { interpolateLatents } from "../../src/infer/browser.ts";

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
