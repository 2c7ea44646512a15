/** Series helpers for charts: smoothing and downsampling. */

/** A chart point. */
export type Point = [x: number, y: number];

/**
 * Exponential moving average with bias correction (as TensorBoard smooths): the first values are not pulled
 * toward 0. `weight` in [0, 1): 0 leaves the series unchanged. NaN values are skipped.
 */
export function smoothEma(values: number[], weight: number): number[] {
  let avg = 0;
  let norm = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return norm > 0 ? avg / norm : NaN;
    avg = weight * avg + (1 - weight) * v;
    norm = weight * norm + (1 - weight);
    return avg / norm;
  });
}

/** A smoothing weight that averages over roughly `span` points of a series of `count` (at least 0). */
export function weightForSpan(count: number, span = Math.max(1, count / 50)): number {
  return count < 3 ? 0 : Math.max(0, 1 - 1 / span);
}

/**
 * Reduces a series to at most `maxPoints` by averaging consecutive buckets (x and y), keeping its shape
 * while bounding the size of the SVG. Points with a non-finite y are dropped.
 */
export function downsample(points: Point[], maxPoints: number): Point[] {
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length <= maxPoints) return finite;
  const out: Point[] = [];
  const size = finite.length / maxPoints;
  for (let b = 0; b < maxPoints; b++) {
    const from = Math.floor(b * size);
    const to = Math.max(from + 1, Math.floor((b + 1) * size));
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += finite[i][0];
      sy += finite[i][1];
    }
    out.push([sx / (to - from), sy / (to - from)]);
  }
  return out;
}
