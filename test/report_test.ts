import { strict as assert } from "node:assert";
import { join } from "node:path";
import { initBackend } from "../src/compute/mod.ts";
import { buildClassifier, CLASSIFIER_OUTPUTS } from "../src/eval/mod.ts";
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
  await Deno.writeTextFile(
    join(dir, "eval.csv"),
    "step,count,inception_score,fid,confidence," +
      Array.from({ length: 10 }, (_, k) => `digit_${k}`).join(",") + "\n" +
      "20,100,3.5,40.25,0.6," + Array(10).fill("0.1").join(",") + "\n" +
      "40,100,6.75,12.5,0.8," + Array(10).fill("0.1").join(",") + "\n",
  );
  await Deno.writeTextFile(
    join(dir, "log.txt"),
    "Backend: cpu (requested)\n0 [D loss]\nBackend: wasm (resumed)\nstep 40 <done>\n",
  );
  for (const step of [0, 20, 40]) {
    const data = new Float32Array(4 * 28 * 28).map((_, i) => ((i * 7 + step) % 255) / 255);
    const png = encodePng(
      toGrid({ data, count: 4, height: 28, width: 28, channels: 1 }, { cols: 2 }),
    );
    await Deno.writeFile(join(dir, "samples", `step-${String(step).padStart(5, "0")}.png`), png);
  }
}

Deno.test("writeReport: a self-contained report.html and a progress GIF of every sample grid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report_test_" });
  try {
    await makeRun(dir);
    const run = await readRun(dir);
    assert.deepEqual(run.samples.map((s) => s.step), [0, 20, 40]);
    assert.deepEqual(run.checkpointSteps, [20]);
    assert.equal(run.backend, "wasm", "newest Backend line of log.txt");
    const files = await writeReport(dir);
    assert.equal(files.html, join(dir, "report.html"));
    const html = await Deno.readTextFile(files.html);
    assert.equal(html.match(/src="data:image\/png;base64,/g)?.length, 3 + 1); // gallery + latest
    assert.equal(html.match(/src="data:image\/gif;base64,/g)?.length, 1);
    assert.ok(!/(src|href)="(https?:|\/\/|file:)/.test(html), "no external resources");
    assert.ok(html.includes("of 80 (50 %)"), "steps card");
    assert.ok(html.includes(">4.00<"), "throughput card");
    assert.ok(html.includes("IS <b>6.75</b>") && html.includes("MNIST-FID\n<b>12.50</b>"));
    assert.ok(html.includes("step 40 &lt;done&gt;"), "log tail, escaped");
    assert.ok((html.match(/<svg /g)?.length ?? 0) >= 6, "charts");
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
