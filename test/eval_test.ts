import { strict as assert } from "node:assert";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/compute/mod.ts";
import {
  checkpointDirName,
  CHECKPOINTS_DIR,
  GENERATOR_DIR,
  RUN_FILES,
  saveLayersModel,
} from "../src/checkpoint/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import { convertLayersModel, encodeModel } from "../src/onnx/mod.ts";
import {
  appendEvalRow,
  buildClassifier,
  checkTargets,
  classHistogram,
  CLASSIFIER_OUTPUTS,
  describeTargets,
  EVAL_CSV_HEADER,
  evaluatedSteps,
  Evaluator,
  FEATURE_DIM,
  featureStats,
  fidScaleEnds,
  formatFiguresTable,
  frechetDistance,
  generatorOnnxBytes,
  inceptionScore,
  meanConfidence,
  mergeEvalRow,
  OnnxClassifier,
  sqrtSymmetric,
} from "../src/eval/mod.ts";
import { SHIPPED_MODEL_PATHS } from "../src/infer/mod.ts";
import { latentsForSeed, Rng } from "../src/random/mod.ts";
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

Deno.test("classifier exports to ONNX with both outputs equal to TF.js", async () => {
  await initBackend("cpu");
  const model = buildClassifier({ seed: 3 });
  assert.equal(model.countParams(), 184_586);
  const bytes = encodeModel(convertLayersModel(model, { outputNames: [...CLASSIFIER_OUTPUTS] }));
  const classifier = await OnnxClassifier.open(bytes);
  const rng = new Rng(9);
  const x = Float32Array.from({ length: 3 * 784 }, () => rng.nextFloat() * 2 - 1);
  const out = await classifier.classify(x, 3, 2);
  await classifier.release();
  const [features, probs] = model.predict(tf.tensor4d(x, [3, 28, 28, 1])) as tf.Tensor[];
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    assert.equal(a.length, b.length);
    return Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  };
  assert.ok(maxDiff(out.features, features.dataSync()) < 1e-4, "features");
  assert.ok(maxDiff(out.probs, probs.dataSync()) < 1e-5, "probs");
});

Deno.test("evaluation end to end: untrained generator judged by an untrained classifier", async () => {
  await initBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "eval_test_" });
  try {
    const path = join(dir, "classifier.onnx");
    const classifier = buildClassifier({ seed: 4 });
    await Deno.writeFile(
      path,
      encodeModel(convertLayersModel(classifier, { outputNames: [...CLASSIFIER_OUTPUTS] })),
    );
    const evaluator = await Evaluator.create(path);
    assert.equal(evaluator.reference.figures.count, 10_000);
    assert.equal(evaluator.reference.figures.fid, 0);
    const generator = buildGenerator({ seed: 0 });
    const bytes = generatorOnnxBytes(generator);
    const a = await evaluator.evaluateOnnx(bytes, 12, 5);
    const b = await evaluator.evaluateOnnx(bytes, 12, 5);
    await evaluator.close();
    assert.deepEqual(a, b, "same seed, same figures");
    assert.equal(a.count, 12);
    // The same figures computed independently: TF.js generator on latentsForSeed(5, …), TF.js classifier,
    // the metric functions on its outputs. This checks the ONNX exports, the latents and the pixel scaling.
    const [features, probs] = tf.tidy(() => {
      const images = generator.predict(tf.tensor2d(latentsForSeed(5, 12, 100), [12, 100]));
      return (classifier.predict(images as tf.Tensor) as tf.Tensor[]).map((t) => t.dataSync());
    }) as unknown as [Float32Array, Float32Array];
    const p = { data: probs, count: 12, classes: 10 };
    close(a.inceptionScore, inceptionScore(p), 1e-4, "IS against TF.js");
    assert.deepEqual([...a.histogram], [...classHistogram(p)]);
    close(a.confidence, meanConfidence(p), 1e-5, "confidence against TF.js");
    const fid = frechetDistance(featureStats(features, 12, FEATURE_DIM), evaluator.reference.stats);
    close(a.fid, fid, 1e-3 * fid, "FID against TF.js");
    assert.ok(a.fid > 1, `untrained generator is far from MNIST: ${a.fid}`);
    await appendEvalRow(dir, 10, { raw: a, ema: b });
    await appendEvalRow(dir, 20, { raw: b });
    await appendEvalRow(dir, 15, { raw: a }); // a resumed run drops the later line
    const lines = (await Deno.readTextFile(join(dir, RUN_FILES.eval))).trim().split("\n");
    assert.equal(lines[0], EVAL_CSV_HEADER);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(",")[0])), [10, 15]);
    assert.equal(lines[1].split(",").length, 28);
    assert.deepEqual(lines[1].split(",").slice(15, 17), [
      b.inceptionScore.toFixed(4),
      b.fid.toFixed(4),
    ]);
    assert.deepEqual(lines[2].split(",").slice(15), Array(13).fill(""));
    // Evaluating checkpoints afterwards keeps later lines and replaces a step's own line.
    await mergeEvalRow(dir, 5, { raw: b });
    await mergeEvalRow(dir, 15, { raw: b });
    assert.deepEqual([...await evaluatedSteps(dir)], [5, 10, 15]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function runEval(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/eval.ts", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
}

Deno.test("deno task eval: bad input gives one line and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /exactly one of --model FILE.onnx, --checkpoint PATH or --run DIR/],
    [["--model", "a.onnx", "--run", "runs/x"], /exactly one of/],
    [["--run", "/nonexistent/run"], /\/nonexistent\/run: holds no checkpoint/],
    [["--model", "a.onnx", "-n", "1"], /--count must be an integer ≥ 2/],
    [["--model", "/nonexistent.onnx"], /\/nonexistent\.onnx: cannot be read/],
    [["--checkpoint", "/nonexistent/run"], /\/nonexistent\/run/],
    [
      ["--model", "test/eval_test.ts", "--classifier", "/nonexistent/c.onnx"],
      /c\.onnx: not found \(train it with `deno task train:classifier`\)/,
    ],
    [["--bogus"], /bogus/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await runEval(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.equal(stderr.split("\n").length, 1, `one line for ${args.join(" ")}: ${stderr}`);
    assert.match(stderr, pattern);
  }
});

Deno.test("targets and table: IS ≥ 9.3, every digit 8–12 %, FID ≤ 3 × train-vs-test", () => {
  assert.equal(describeTargets(), "IS >= 9.3, every digit 8-12%, FID <= 3 x train-vs-test");
  const good = {
    count: 10,
    inceptionScore: 9.3,
    histogram: [0.08, 0.12, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    confidence: 0.97,
    fid: 1.79,
  };
  assert.deepEqual(checkTargets(good, 0.6), { inceptionScore: true, balance: true, fid: true });
  const bad = { ...good, inceptionScore: 9.29, histogram: [0.079, ...good.histogram.slice(1)] };
  assert.deepEqual(checkTargets(bad, 0.59), { inceptionScore: false, balance: false, fid: false });
  const table = formatFiguresTable([{ label: "generator", figures: good }]).split("\n");
  assert.equal(table.length, 3);
  assert.match(table[2], /^generator\s+10\s+9\.30\s+1\.79\s+0\.970 \|\s+8\.0\s+12\.0\s+10\.0/);
});

Deno.test("FID scale ends: measured counts as measured, others interpolated in 1/count or the nearest", () => {
  const measured = fidScaleEnds(2000);
  assert.deepEqual(measured, {
    count: 2000,
    trainVsTest: 1.063,
    untrained: 396.17,
    source: "measured",
    measuredAt: [2000],
  });
  // 1/1000 lies 2/3 of the way from 1/500 to 1/2000.
  const between = fidScaleEnds(1000);
  assert.equal(between.source, "interpolated");
  assert.deepEqual(between.measuredAt, [500, 2000]);
  close(between.trainVsTest, 3.687 + (2 / 3) * (1.063 - 3.687), 1e-12, "train vs test at 1000");
  assert.deepEqual(fidScaleEnds(16), {
    count: 16,
    trainVsTest: 9.856,
    untrained: 396.2,
    source: "nearest",
    measuredAt: [200],
  });
  assert.equal(fidScaleEnds(50_000).trainVsTest, 0.602);
});

Deno.test("FID scale ends: the 200-sample figures are what deno task eval measures now", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "scripts/eval.ts",
      "--model",
      SHIPPED_MODEL_PATHS.generator,
      "-n",
      "200",
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const figures = JSON.parse(new TextDecoder().decode(out.stdout));
  const ends = fidScaleEnds(200);
  close(figures.mnistTrain.fid, ends.trainVsTest, 0.001, "MNIST train vs test, 200 samples");
  close(figures.untrained.fid, ends.untrained, 0.01, "untrained generator, 200 samples");
});

Deno.test("deno task eval --run: every checkpoint into eval.csv, report refreshed, then skipped", async () => {
  await initBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "eval_run_test_" });
  try {
    await Deno.writeTextFile(join(dir, "history.csv"), "step,d_loss,d_acc,g_loss,seconds\n");
    await saveLayersModel(
      buildGenerator({ seed: 0 }),
      join(dir, CHECKPOINTS_DIR, checkpointDirName(3), GENERATOR_DIR),
    );
    const first = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/eval.ts", "--run", dir, "-n", "16", "--json"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    const out = JSON.parse(new TextDecoder().decode(first.stdout));
    assert.deepEqual(out.checkpoints.map((c: { step: number }) => c.step), [3]);
    assert.equal(out.checkpoints[0].raw.count, 16);
    assert.deepEqual([...await evaluatedSteps(dir)], [3]);
    assert.ok(
      (await Deno.readTextFile(join(dir, "report.html"))).includes("Evaluation over training"),
    );
    const again = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "scripts/eval.ts", "--run", dir, "-n", "16", "--json"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.deepEqual(JSON.parse(new TextDecoder().decode(again.stdout)).checkpoints, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
