/** Class-probability metrics of a batch of samples: Inception Score, class histogram, confidence. */

/** Class probabilities of `count` samples over `classes` classes, row-major `[count, classes]`. */
export interface ClassProbabilities {
  data: Float32Array | Float64Array;
  count: number;
  classes: number;
}

function checkShape({ data, count, classes }: ClassProbabilities): void {
  if (count < 1 || classes < 1 || data.length !== count * classes) {
    throw new RangeError(`probabilities: ${data.length} values is not ${count} × ${classes}`);
  }
}

/** The marginal class distribution p(y): the mean of the rows. */
export function marginal(p: ClassProbabilities): Float64Array {
  checkShape(p);
  const m = new Float64Array(p.classes);
  for (let i = 0; i < p.count; i++) {
    for (let k = 0; k < p.classes; k++) m[k] += p.data[i * p.classes + k];
  }
  for (let k = 0; k < p.classes; k++) m[k] /= p.count;
  return m;
}

/**
 * The classifier-based Inception Score: exp of the mean over samples of KL(p(y|x) ‖ p(y)), where p(y) is the
 * mean of the rows. It lies between 1 (every row equal) and the number of classes (confident, balanced rows).
 * Terms with p(y|x) = 0 contribute 0 (the limit of p log p).
 */
export function inceptionScore(p: ClassProbabilities): number {
  const py = marginal(p);
  let kl = 0;
  for (let i = 0; i < p.count; i++) {
    for (let k = 0; k < p.classes; k++) {
      const q = p.data[i * p.classes + k];
      if (q > 0) kl += q * (Math.log(q) - Math.log(py[k]));
    }
  }
  return Math.exp(kl / p.count);
}

/** Share of the samples whose most probable class is each class (the shares add up to 1). */
export function classHistogram(p: ClassProbabilities): Float64Array {
  checkShape(p);
  const h = new Float64Array(p.classes);
  for (let i = 0; i < p.count; i++) h[argmaxRow(p, i)] += 1;
  for (let k = 0; k < p.classes; k++) h[k] /= p.count;
  return h;
}

/** The mean over samples of the largest class probability (the classifier's confidence). */
export function meanConfidence(p: ClassProbabilities): number {
  checkShape(p);
  let sum = 0;
  for (let i = 0; i < p.count; i++) sum += p.data[i * p.classes + argmaxRow(p, i)];
  return sum / p.count;
}

/** The index of the most probable class of row `i` (the first one on ties). */
export function argmaxRow(p: ClassProbabilities, i: number): number {
  let best = 0;
  for (let k = 1; k < p.classes; k++) {
    if (p.data[i * p.classes + k] > p.data[i * p.classes + best]) best = k;
  }
  return best;
}
