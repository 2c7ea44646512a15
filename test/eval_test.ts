import { strict as assert } from "node:assert";
import {
  classHistogram,
  featureStats,
  frechetDistance,
  inceptionScore,
  meanConfidence,
  sqrtSymmetric,
} from "../src/eval/mod.ts";
import { Rng } from "../src/random/mod.ts";
import { Matrix } from "ml-matrix";

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} is not within ${tol} of ${b}`);

function probs(rows: number[][]) {
  return { data: Float64Array.from(rows.flat()), count: rows.length, classes: rows[0].length };
}

Deno.test("inception score: uniform rows give 1, balanced one-hot rows give the class count", () => {
  const uniform = probs(Array.from({ length: 7 }, () => Array(10).fill(0.1)));
  close(inceptionScore(uniform), 1, 1e-12, "uniform");
  const oneHot = probs(
    Array.from({ length: 30 }, (_, i) => Array.from({ length: 10 }, (_, k) => +(k === i % 10))),
  );
  close(inceptionScore(oneHot), 10, 1e-9, "one-hot balanced");
  // All samples confidently the same class: no diversity, score 1.
  const collapsed = probs(Array.from({ length: 5 }, () => [0, 1, 0]));
  close(inceptionScore(collapsed), 1, 1e-12, "collapsed");
});

Deno.test("inception score matches a hand computation", () => {
  // p(y) = [0.5, 0.5]; KL rows: 0.9 ln 1.8 + 0.1 ln 0.2 and its mirror image.
  const p = probs([[0.9, 0.1], [0.1, 0.9]]);
  close(inceptionScore(p), Math.exp(0.9 * Math.log(1.8) + 0.1 * Math.log(0.2)), 1e-12, "IS");
});

Deno.test("class histogram and confidence", () => {
  const p = probs([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]]);
  assert.deepEqual(Array.from(classHistogram(p)), [0.5, 0.25, 0.25]);
  close(meanConfidence(p), (0.7 + 0.8 + 0.6 + 0.6) / 4, 1e-12, "confidence");
});

Deno.test("feature statistics: mean and unbiased covariance", () => {
  const s = featureStats(Float32Array.from([1, 2, 3, 6, 5, 10]), 3, 2);
  assert.deepEqual(Array.from(s.mean), [3, 6]);
  // x: 1,3,5 (var 4); y: 2,6,10 (var 16); cov 8.
  assert.deepEqual(Array.from(s.cov), [4, 8, 8, 16]);
});

Deno.test("symmetric square root squares back to the matrix", () => {
  const m = new Matrix([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
  const r = sqrtSymmetric(m);
  const back = r.mmul(r);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) close(back.get(i, j), m.get(i, j), 1e-10, `(${i},${j})`);
  }
});

function gaussianSample(rng: Rng, count: number, dim: number, shift: number[]): Float32Array {
  const out = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) {
    // Correlated features: x_j = z_j + 0.5 z_{j-1}.
    const z = rng.normals(dim, 1);
    for (let j = 0; j < dim; j++) out[i * dim + j] = z[j] + (j ? 0.5 * z[j - 1] : 0) + shift[j];
  }
  return out;
}

Deno.test("Fréchet distance: identical statistics give 0, shifted means give |Δμ|²", () => {
  const dim = 6;
  const a = featureStats(gaussianSample(new Rng(1), 400, dim, Array(dim).fill(0)), 400, dim);
  close(frechetDistance(a, a), 0, 1e-8, "same statistics");
  const shift = [3, 0, -1, 0, 2, 0];
  const moved = { ...a, mean: a.mean.map((m, j) => m + shift[j]) };
  close(frechetDistance(a, moved), 9 + 1 + 4, 1e-8, "shifted mean");
});

Deno.test("Fréchet distance of diagonal Gaussians has the closed form Σ(√a − √b)²", () => {
  const diag = (values: number[]) => {
    const dim = values.length;
    const cov = new Float64Array(dim * dim);
    values.forEach((v, i) => cov[i * dim + i] = v);
    return { mean: new Float64Array(dim), cov, dim, count: 100 };
  };
  const a = [1, 4, 9, 0.25];
  const b = [4, 1, 1, 1];
  const expected = a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
  close(frechetDistance(diag(a), diag(b)), expected, 1e-10, "diagonal");
});

Deno.test("Fréchet distance grows with the difference between two sampled Gaussians", () => {
  const dim = 4;
  const base = featureStats(gaussianSample(new Rng(2), 2000, dim, [0, 0, 0, 0]), 2000, dim);
  const same = featureStats(gaussianSample(new Rng(3), 2000, dim, [0, 0, 0, 0]), 2000, dim);
  const far = featureStats(gaussianSample(new Rng(4), 2000, dim, [1, 1, 0, 0]), 2000, dim);
  const dSame = frechetDistance(base, same);
  const dFar = frechetDistance(base, far);
  assert.ok(dSame < 0.05, `two samples of one Gaussian: ${dSame}`);
  close(dFar, 2, 0.15, "shift by (1,1,0,0)");
});
