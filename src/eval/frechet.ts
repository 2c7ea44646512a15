/**
 * Fréchet distance between Gaussians fitted to feature vectors (the statistic behind FID).
 *
 * d² = |μ₁ − μ₂|² + Tr(Σ₁) + Tr(Σ₂) − 2·Tr((Σ₁Σ₂)^½). The trace of the square root is computed as
 * Σ √λᵢ over the eigenvalues of the symmetric positive semi-definite matrix Σ₁^½ Σ₂ Σ₁^½ (which has the same
 * eigenvalues as Σ₁Σ₂), so only symmetric eigendecompositions are needed: they are stable and real, unlike
 * the general square root of the non-symmetric product. The decompositions use ml-matrix's
 * EigenvalueDecomposition (Householder tridiagonalisation + QL, the JAMA algorithm) in float64.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/** Mean and covariance of `count` feature vectors of dimension `dim`. */
export interface FeatureStats {
  mean: Float64Array;
  /** Covariance, row-major `[dim, dim]`, unbiased (divided by count − 1). */
  cov: Float64Array;
  dim: number;
  count: number;
}

/** Mean and unbiased covariance of feature rows `features` (`[count, dim]`, row-major). */
export function featureStats(
  features: Float32Array | Float64Array,
  count: number,
  dim: number,
): FeatureStats {
  if (count < 2 || dim < 1 || features.length !== count * dim) {
    throw new RangeError(
      `features: ${features.length} values is not ${count} × ${dim} (count ≥ 2)`,
    );
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j];
  }
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dim; j++) row[j] = features[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * dim;
      for (let b = a; b < dim; b++) cov[base + b] += ra * row[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { mean, cov, dim, count };
}

function toMatrix(values: Float64Array, dim: number): Matrix {
  const rows: number[][] = [];
  for (let i = 0; i < dim; i++) rows.push(Array.from(values.subarray(i * dim, (i + 1) * dim)));
  return new Matrix(rows);
}

/** The symmetric square root of a symmetric positive semi-definite matrix (negative eigenvalues clamp to 0). */
export function sqrtSymmetric(m: Matrix): Matrix {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = evd.eigenvectorMatrix;
  const roots = evd.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  // ml-matrix arithmetic works in place: scale a copy of the eigenvectors.
  return v.clone().mulRowVector(roots).mmul(v.transpose());
}

/** Tr((Σ₁Σ₂)^½) for symmetric positive semi-definite Σ₁, Σ₂, via the eigenvalues of Σ₁^½ Σ₂ Σ₁^½. */
export function traceSqrtProduct(s1: Matrix, s2: Matrix): number {
  const r = sqrtSymmetric(s1);
  const inner = r.mmul(s2).mmul(r);
  const sym = inner.add(inner.transpose()).div(2);
  const evd = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  return evd.realEigenvalues.reduce((sum, l) => sum + Math.sqrt(Math.max(l, 0)), 0);
}

/** The Fréchet distance (squared, as FID reports it) between two feature statistics of the same dimension. */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) throw new RangeError(`feature dimensions differ: ${a.dim} vs ${b.dim}`);
  const dim = a.dim;
  let meanTerm = 0;
  let traces = 0;
  for (let j = 0; j < dim; j++) {
    meanTerm += (a.mean[j] - b.mean[j]) ** 2;
    traces += a.cov[j * dim + j] + b.cov[j * dim + j];
  }
  const cross = traceSqrtProduct(toMatrix(a.cov, dim), toMatrix(b.cov, dim));
  return Math.max(0, meanTerm + traces - 2 * cross);
}
