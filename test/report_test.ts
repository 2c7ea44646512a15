import { strict as assert } from "node:assert";
import { join } from "node:path";
import { initBackend } from "../src/compute/mod.ts";
import { buildClassifier, CLASSIFIER_OUTPUTS, EVAL_CSV_HEADER } from "../src/eval/mod.ts";
import { encodePng, toGrid } from "../src/image/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import { convertLayersModel, encodeModel } from "../src/onnx/mod.ts";
import type { Trainer, TrainSummary } from "../src/train/mod.ts";
import {
  CAPTION_CHARS,
  decodeGrey,
  downsample,
  elapsedSeconds,
  lineChart,
  logTicks,
  niceTicks,
  parseNumericCsv,
  readRun,
  runFigures,
  RunFolderError,
  smoothEma,
  trainingReportHooks,
  withCaption,
  writeReport,
} from "../src/report/mod.ts";
import { figureCells } from "./report_fixtures.ts";
import { runScript } from "./run_script.ts";

Deno.test("numeric CSV: columns by header, blank lines skipped, bad cells NaN", () => {
  const t = parseNumericCsv("step,d_loss\n1,0.5\n\n2,x\n3\n");
  assert.deepEqual(t.header, ["step", "d_loss"]);
  assert.equal(t.rows, 3);
  assert.deepEqual(t.columns.get("step"), [1, 2, 3]);
  const loss = t.columns.get("d_loss")!;
  assert.equal(loss[0], 0.5);
  assert.ok(Number.isNaN(loss[1]) && Number.isNaN(loss[2]));
});

Deno.test("EMA smoothing is bias-corrected and leaves constants alone", () => {
  for (const v of smoothEma([3, 3, 3, 3], 0.9)) assert.ok(Math.abs(v - 3) < 1e-12);
  const s = smoothEma([0, 10], 0.5);
  assert.equal(s[0], 0);
  // (0.5·0.5·0 + 0.5·10) / (1 − 0.25)
  assert.ok(Math.abs(s[1] - 5 / 0.75) < 1e-12);
  assert.deepEqual(smoothEma([1, 2], 0), [1, 2]);
});

Deno.test("downsampling averages buckets and bounds the point count", () => {
  const pts = Array.from({ length: 1000 }, (_, i) => [i, i % 2] as [number, number]);
  const d = downsample(pts, 100);
  assert.equal(d.length, 100);
  assert.deepEqual(d[0], [4.5, 0.5]);
  assert.equal(downsample([[0, 1], [1, NaN], [2, 3]], 10).length, 2);
});

Deno.test("nice ticks are round and cover the range", () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(1, 10000, 5), [2000, 4000, 6000, 8000, 10000]);
  assert.deepEqual(niceTicks(0, 0.6, 3), [0, 0.2, 0.4, 0.6]);
  assert.deepEqual(niceTicks(-1, 1, 4), [-1, -0.5, 0, 0.5, 1]);
});

Deno.test("log axis: 1-2-5 ticks up to 3 decades, powers of 10 beyond; values placed by their logarithm", () => {
  assert.deepEqual(logTicks(0.6, 400), [1, 2, 5, 10, 20, 50, 100, 200]);
  assert.deepEqual(logTicks(1, 1e5), [1, 10, 100, 1000, 10000, 100000]);
  const svg = lineChart({
    title: "t",
    series: [{ label: "x", color: "#000", points: [[0, 1], [1, 10], [2, 100]], dots: true }],
    logY: true,
    yMin: 1,
    yMax: 100,
  });
  // Plot area from y = 34 to 34 + 188: 10 is half-way between 1 and 100.
  const cy = [...svg.matchAll(/<circle cx="[^"]+" cy="([^"]+)"/g)].map((m) => Number(m[1]));
  assert.deepEqual(cy, [222, 128, 34]);
});

Deno.test("run figures: throughput from elapsed or per-step seconds", () => {
  const cumulative = parseNumericCsv(
    "step,d_loss,d_acc,g_loss,seconds\n0,0.7,50,1,0.5\n1,0.7,50,1,1\n2,0.7,50,1,1.5\n3,0.7,50,1,2\n",
  );
  const f = runFigures(cumulative);
  assert.equal(f.steps, 4);
  assert.equal(f.seconds, 2);
  assert.equal(f.stepsPerSecond, 2);
  assert.ok(Math.abs(f.dLoss - 0.7) < 1e-12 && Math.abs(f.dAcc - 50) < 1e-9);
  const perStep = parseNumericCsv("step,seconds\n0,0.5\n1,0.25\n2,0.25\n");
  assert.deepEqual(elapsedSeconds(perStep), [0.5, 0.75, 1]);
  assert.equal(runFigures(perStep).stepsPerSecond, 3);
});

Deno.test("line chart: one path per series, references, escaped title", () => {
  const svg = lineChart({
    title: "a < b",
    series: [
      { label: "x", color: "#f00", points: [[0, 0], [1, 1], [2, 4]] },
      { label: "y", color: "#00f", points: [[0, 1], [2, 2]], dots: true },
    ],
    references: [{ y: 3, label: "target", color: "#888" }],
  });
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 2);
  assert.ok(svg.includes("a &lt; b") && svg.includes("target"));
  assert.ok(lineChart({ title: "t", series: [] }).includes("no data yet"));
  const single = lineChart({
    title: "t",
    series: [{ label: "x", color: "#000", points: [[3, 1]] }],
  });
  assert.equal(single.match(/<circle /g)?.length, 1, "a lone point is drawn as a dot");
  // One evaluation at step 1000: distinct round step ticks around it (not 999 / 1k / 1k).
  const lone = lineChart({
    title: "t",
    series: [{ label: "x", color: "#000", points: [[1000, 5]] }],
  });
  const xTicks = [...lone.matchAll(/text-anchor="middle">([^<]+)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(xTicks, ["600", "800", "1k", "1.2k", "1.4k"]);
});

async function writeGrid(path: string, seed: number): Promise<Uint8Array> {
  const data = new Float32Array(4 * 28 * 28).map((_, i) => ((i * 7 + seed) % 255) / 255);
  const png = encodePng(
    toGrid({ data, count: 4, height: 28, width: 28, channels: 1 }, { cols: 2 }),
  );
  await Deno.writeFile(path, png);
  return png;
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const occurrences = (text: string, part: string) => text.split(part).length - 1;

/**
 * A run folder of 40 steps (history seconds 0.25 … 10, log.txt closing the session at 12.3 s), evaluated at
 * steps 20 and 40 (raw and EMA; the best is the EMA generator at step 40), with raw grids at steps 0, 20,
 * 40, the EMA grid of step 40, and the checkpoint of step 20 only.
 */
async function makeRun(dir: string): Promise<void> {
  await Deno.mkdir(join(dir, "samples"), { recursive: true });
  await Deno.mkdir(join(dir, "checkpoints", "step-00020", "generator"), { recursive: true });
  await Deno.mkdir(join(dir, "checkpoints", "step-00020", "discriminator"), { recursive: true });
  const rows = Array.from(
    { length: 40 },
    (_, i) => `${i},${0.7 - i * 0.001},${50 + i / 4},${1 + i * 0.01},${(i + 1) * 0.25}`,
  );
  await Deno.writeTextFile(
    join(dir, "history.csv"),
    ["step,d_loss,d_acc,g_loss,seconds", ...rows].join("\n") + "\n",
  );
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ steps: 80, batchSize: 32 }));
  const skewed = [0.05, 0.3, ...Array(8).fill(0.08125)];
  await Deno.writeTextFile(
    join(dir, "eval.csv"),
    `${EVAL_CSV_HEADER}\n` +
      `20,100,${figureCells(3.5, 40.25, 0.6)},${figureCells(2.5, 60, 0.5, skewed)}\n` +
      `40,100,${figureCells(6.75, 12.5, 0.8)},${figureCells(7.25, 9.75, 0.85)}\n`,
  );
  await Deno.writeTextFile(
    join(dir, "log.txt"),
    "Backend: cpu (requested)\n0 [D loss]\nBackend: wasm (resumed)\n" +
      "Done: steps 0→40 (40) in 12.3 s, 3.252 steps/s; last step D loss 0.661\nstep 40 <done>\n",
  );
  for (const step of [0, 20, 40]) {
    await writeGrid(join(dir, "samples", `step-${String(step).padStart(5, "0")}.png`), step);
  }
  await writeGrid(join(dir, "samples", "step-00040-ema.png"), 99);
}

Deno.test("writeReport: each grid once (raw and EMA of the newest step, earlier raw grids), a progress GIF", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await makeRun(dir);
    const run = await readRun(dir);
    assert.deepEqual(run.samples.map((s) => [s.step, s.emaPath !== null]), [
      [0, false],
      [20, false],
      [40, true],
    ]);
    assert.deepEqual(run.checkpointSteps, [20]);
    assert.equal(run.backend, "wasm", "newest Backend line of log.txt");
    assert.deepEqual(run.sessions, [{ from: 0, to: 40, seconds: 12.3 }]);
    const files = await writeReport(dir);
    assert.equal(files.html, join(dir, "report.html"));
    const html = await Deno.readTextFile(files.html);
    assert.equal(html.match(/src="data:image\/png;base64,/g)?.length, 4);
    for (const name of ["step-00000", "step-00020", "step-00040", "step-00040-ema"]) {
      const png = await Deno.readFile(join(dir, "samples", `${name}.png`));
      assert.equal(occurrences(html, base64(png)), 1, `${name}.png shown once`);
    }
    assert.ok(html.includes("EMA generator, step 40") && html.includes("raw generator, step 40"));
    assert.equal(html.match(/src="data:image\/gif;base64,/g)?.length, 1);
    assert.ok(html.includes("(samples/progress.gif, 3 frames)"));
    assert.ok(!/(src|href)="(https?:|\/\/|file:)/.test(html), "no external resources");
    assert.ok(html.includes("of 80 (50 %)"), "steps card");
    // Wall time and throughput as log.txt's closing line has them (history.csv ends at 10 s).
    assert.ok(
      html.includes(
        `<div class="value">0:12</div><div class="note">12.3 s, as log.txt (1 session)`,
      ),
    );
    assert.ok(html.includes(">3.25<"), "throughput card: 40 steps / 12.3 s");
    assert.ok(html.includes(`<div class="label">IS EMA</div><div class="value">7.25</div>`));
    assert.ok(html.includes(`<div class="label">FID raw</div><div class="value">12.50</div>`));
    // The checkpoint table: the best (lowest FID over raw and EMA) is step 40's EMA generator.
    assert.match(
      html,
      /<tr class="best"><td>★ best<\/td><td>40<\/td><td>6\.75<\/td><td>12\.50<\/td><td class="">0: 10\.0 %<\/td><td>7\.25<\/td><td><b>9\.75<\/b><\/td>/,
    );
    assert.ok(html.includes(`<td class="off">1: 30.0 %</td>`), "worst digit off the target band");
    assert.ok(html.includes(`<pre>deno task export --checkpoint ${dir} --best</pre>`));
    assert.ok(html.includes("step 40, EMA weights</b>, FID 9.75, IS 7.25 (100 samples)"));
    assert.ok(html.includes("Its checkpoint (step 40) is missing"), "only step 20 was saved");
    // FID references for 100 samples: the nearest count measured (200).
    assert.ok(
      html.includes("MNIST train vs test 9.86") && html.includes("untrained generator 396"),
    );
    assert.ok(html.includes("target ≤ 29.57 (3 × train vs test)") && html.includes("target ≥ 9.3"));
    assert.ok(html.includes("Verdict: too early to tell"), "40 steps");
    assert.ok(html.includes("step 40 &lt;done&gt;"), "log tail, escaped");
    assert.ok((html.match(/<svg /g)?.length ?? 0) >= 7, "charts");
    // The GIF: header, logical screen = grid width × (grid height + 4-pixel progress bar + caption).
    const gif = await Deno.readFile(files.gif!);
    assert.equal(new TextDecoder().decode(gif.subarray(0, 6)), "GIF89a");
    const grid = decodeGrey(await Deno.readFile(join(dir, "samples", "step-00040.png")));
    assert.equal(gif[6] | (gif[7] << 8), grid.width);
    assert.equal(gif[8] | (gif[9] << 8), grid.height + 4 + 9);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeReport: a run with one grid shows it once, without a one-frame GIF; an eval.csv without EMA columns", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await Deno.mkdir(join(dir, "samples"));
    await Deno.writeTextFile(
      join(dir, "history.csv"),
      "step,d_loss,d_acc,g_loss,seconds\n0,1,50,1,1\n",
    );
    const png = await writeGrid(join(dir, "samples", "step-00300.png"), 3);
    await Deno.writeTextFile(
      join(dir, "eval.csv"),
      "step,count,inception_score,fid,confidence," +
        Array.from({ length: 10 }, (_, k) => `digit_${k}`).join(",") + "\n" +
        `300,2000,${figureCells(4.5, 30, 0.9)}\n`,
    );
    const files = await writeReport(dir);
    const html = await Deno.readTextFile(files.html);
    assert.equal(occurrences(html, base64(png)), 1);
    assert.equal(html.match(/data:image\/(png|gif);base64,/g)?.length, 1);
    assert.ok(!html.includes("Earlier sample grids"));
    assert.ok(!html.includes("EMA"), "no EMA column, card or grid");
    assert.ok(
      html.includes("<th>IS raw</th><th>FID raw</th><th>worst digit raw</th><th>checkpoint</th>"),
    );
    assert.ok(html.includes("MNIST train vs test 1.06"), "2000 samples: measured");
    assert.ok(html.includes(`<pre>deno task export --checkpoint ${dir} --best</pre>`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task train → report: wall time as the Done line, one grid shown once, the best and its export command", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_train_test_" });
  try {
    const train = await runScript(
      "train.ts",
      ...["--steps", "4", "--batch-size", "4", "--eval-every", "4", "--eval-count", "16"],
      ...["--seed", "3", "--out", dir],
    );
    assert.equal(train.code, 0, train.stderr);
    const log = await Deno.readTextFile(join(dir, "log.txt"));
    const done = /^Done: steps 0→4 \(4\) in ([\d.]+) s/m.exec(log);
    assert.ok(done, log);
    const html = await Deno.readTextFile(join(dir, "report.html"));
    assert.ok(
      html.includes(`<div class="note">${done[1]} s, as log.txt (1 session)</div>`),
      done[0],
    );
    const history = (await Deno.readTextFile(join(dir, "history.csv"))).trim().split("\n");
    const lastSeconds = Number(history[history.length - 1].split(",")[4]);
    assert.ok(
      lastSeconds < Number(done[1]),
      "history.csv misses the last evaluation and checkpoint",
    );
    // The default --sample-every (500) saves the last step's grids only: each shown once, no GIF.
    for (const name of ["step-00004.png", "step-00004-ema.png"]) {
      const png = await Deno.readFile(join(dir, "samples", name));
      assert.equal(occurrences(html, base64(png)), 1, name);
    }
    assert.equal(html.match(/data:image\/(png|gif);base64,/g)?.length, 2);
    assert.match(html, /<tr class="best"><td>★ best<\/td><td>4<\/td>/);
    assert.ok(html.includes(`<pre>deno task export --checkpoint ${dir} --best</pre>`));
    assert.ok(
      !html.includes("is missing from checkpoints/"),
      "the evaluated step has its checkpoint",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRun: a missing or non-run folder names the folder", async () => {
  await assert.rejects(readRun("/nonexistent/run"), RunFolderError);
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await assert.rejects(readRun(dir), /neither config\.json nor history\.csv/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task report: bad input gives one line and exit code 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/report.ts", "/nonexistent/run"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim();
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /^report: \/nonexistent\/run: no such folder/);
});

Deno.test("training hooks: evaluation every N steps into eval.csv and history columns; report kept up to date", async () => {
  await initBackend("cpu");
  const dir = await Deno.makeTempDir({ prefix: "report_hooks_test_" });
  try {
    await makeRun(dir);
    const classifierPath = join(dir, "classifier.onnx");
    await Deno.writeFile(
      classifierPath,
      encodeModel(
        convertLayersModel(buildClassifier({ seed: 1 }), { outputNames: [...CLASSIFIER_OUTPUTS] }),
      ),
    );
    const lines: string[] = [];
    const hooks = await trainingReportHooks({
      evalEvery: 20,
      evalCount: 8,
      classifier: classifierPath,
      print: (l) => lines.push(l),
    });
    assert.deepEqual(hooks.historyColumns, [
      "inception_score",
      "mnist_fid",
      "ema_inception_score",
      "ema_mnist_fid",
    ]);
    const trainer = { generator: buildGenerator({ seed: 0 }) } as unknown as Trainer;
    const emaGenerator = buildGenerator({ seed: 5 });
    const record = { step: 18, dLoss: 0.7, dAcc: 50, gLoss: 1, seconds: 1 };
    const logged: string[] = [];
    const event = {
      record,
      trainer,
      emaGenerator,
      runDir: dir,
      log: (l: string) => logged.push(l),
    };
    assert.equal(await hooks.onStep!({ ...event, completed: 19 }), undefined);
    const extra = await hooks.onStep!({ ...event, completed: 20 });
    assert.ok(extra && Number(extra.inception_score) >= 1 && Number(extra.mnist_fid) > 0);
    assert.ok(Number(extra.ema_mnist_fid) > 0 && extra.ema_mnist_fid !== extra.mnist_fid);
    const evalLines = (await Deno.readTextFile(join(dir, "eval.csv"))).trim().split("\n");
    assert.equal(evalLines.length, 2);
    assert.ok(evalLines[1].startsWith("20,8,"));
    assert.equal(evalLines[1].split(",")[16], extra.ema_mnist_fid);
    assert.match(logged[0], /^eval step 20 raw: IS \d+\.\d\d, MNIST-FID \d+\.\d\d/);
    assert.match(logged[1], /^eval step 20 ema: IS \d+\.\d\d, MNIST-FID \d+\.\d\d/);
    await Deno.remove(join(dir, "report.html")).catch(() => {});
    await hooks.onSample!({ step: 20, path: join(dir, "samples", "step-00020.png"), runDir: dir });
    const html = await Deno.readTextFile(join(dir, "report.html"));
    assert.ok(html.includes("Evaluation over training"));
    await hooks.onEnd!({ runDir: dir } as TrainSummary);
    assert.match(lines[lines.length - 1], /report\.html/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("captions: glyph pixels land under the image, unknown characters are blank", () => {
  const image = { width: 40, height: 2, channels: 1 as const, data: new Uint8Array(80).fill(128) };
  const captioned = withCaption(image, "1", 1);
  assert.equal(captioned.height, 2 + 9);
  assert.deepEqual(captioned.data.subarray(0, 80), image.data, "image kept");
  // "1" = rows 010, 110, 010, 010, 111 starting at x = 2, y = 2 + 2.
  const lit = (x: number, y: number) => captioned.data[(2 + 2 + y) * 40 + 2 + x] === 230;
  assert.deepEqual([0, 1, 2].map((x) => lit(x, 0)), [false, true, false]);
  assert.deepEqual([0, 1, 2].map((x) => lit(x, 1)), [true, true, false]);
  assert.deepEqual([0, 1, 2].map((x) => lit(x, 4)), [true, true, true]);
  const blank = withCaption(image, "?", 1);
  assert.ok(blank.data.subarray(80).every((v) => v === 24));
  assert.ok(CAPTION_CHARS.includes("s") && CAPTION_CHARS.includes("9"));
});
