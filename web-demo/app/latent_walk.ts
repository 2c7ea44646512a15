/**
 * Spherical interpolation between two batches of latent vectors (`count` rows of `dim` values each),
 * row by row: normal latents concentrate on a sphere, so walking along great circles keeps every frame
 * a typical latent (a straight line would pass through unusually short vectors near its middle).
 * `t = 0` gives `a`, `t = 1` gives `b`; nearly parallel rows fall back to linear interpolation.
 */
export function slerpRows(a: Float32Array, b: Float32Array, dim: number, t: number): Float32Array {
  if (a.length !== b.length || a.length % dim !== 0) {
    throw new RangeError(`latent batches differ or do not split into rows of ${dim}`);
  }
  const out = new Float32Array(a.length);
  for (let row = 0; row < a.length; row += dim) {
    let dot = 0, na = 0, nb = 0;
    for (let i = row; i < row + dim; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1)));
    const omega = Math.acos(cos);
    const sin = Math.sin(omega);
    const [wa, wb] = sin < 1e-6
      ? [1 - t, t]
      : [Math.sin((1 - t) * omega) / sin, Math.sin(t * omega) / sin];
    for (let i = row; i < row + dim; i++) out[i] = wa * a[i] + wb * b[i];
  }
  return out;
}

/** Smooth start and stop (cubic smoothstep) so a walk lingers on each seed's own digits. */
export function easeInOut(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}
