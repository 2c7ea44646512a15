import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { saveLayersModel } from "../src/checkpoint/mod.ts";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import { decodeModel } from "../src/onnx/mod.ts";
import { EVAL_CSV_HEADER } from "../src/eval/mod.ts";
import { useWasm } from "./onnx_fixtures.ts";
import { runScript } from "./run_script.ts";

const exportCli = (...args: string[]) => runScript("export.ts", ...args);

/** stderr without TF.js's banner about tfjs-node. */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("error:"));
}

async function listDir(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** A run folder with checkpoints at steps 1 and 3 (generator + discriminator), under a fresh temp dir. */
async function makeRun(): Promise<string> {
  await useWasm();
  const root = await Deno.makeTempDir({ prefix: "onnx_cli_" });
  const run = join(root, "run");
  for (const step of [1, 3]) {
    const dir = join(run, "checkpoints", `step-0000${step}`);
    const g = buildGenerator({ seed: step });
    const d = buildDiscriminator({ seed: step });
    await saveLayersModel(g, join(dir, "generator"));
    await saveLayersModel(d, join(dir, "discriminator"));
    await Deno.writeTextFile(join(dir, "state.json"), JSON.stringify({ step }));
    g.dispose();
    d.dispose();
  }
  return root;
}

Deno.test("export CLI: a run folder exports its newest checkpoint, verified against TF.js", async () => {
  const root = await makeRun();
  try {
    const out = join(root, "out", "d.onnx");
    await Deno.mkdir(join(root, "out"));
    const r = await exportCli(
      "--checkpoint",
      join(root, "run"),
      "--model",
      "discriminator",
      "--out",
      out,
      "--batch-sizes",
      "1,7",
    );
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("step 3"), r.stdout);
    assert(/parameters: 692,993/.test(r.stdout), r.stdout);
    assert(/batch {3}7: max \|ONNX − TF\.js\| = .* ok/.test(r.stdout), r.stdout);
    const model = decodeModel(await Deno.readFile(out));
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assertEquals(meta.training_steps, "3");
    assertEquals(meta.model_kind, "discriminator");
    // A run outside the working folder is recorded by its last four path components, never absolutely.
    assertEquals(meta.source_checkpoint.split("/").slice(1), [
      "checkpoints",
      "step-00003",
      "discriminator",
    ]);
    assertEquals(model.graph.input[0].name, "image");
    assertEquals(model.graph.output[0].name, "probability");
    assertEquals(await listDir(join(root, "out")), ["d.onnx"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export CLI: bad input is one error line, exit 2, and no .onnx left behind", async () => {
  const root = await makeRun();
  try {
    const outDir = join(root, "out");
    await Deno.mkdir(outDir);
    const out = join(outDir, "g.onnx");
    const step = join(root, "run", "checkpoints", "step-00003");
    const gen = join(step, "generator");

    // A discriminator-shaped model folder with an unsupported layer.
    const odd = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({ inputShape: [8, 8, 2], kernelSize: 3, name: "dw" }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    await saveLayersModel(odd, join(root, "odd"));
    // A checkpoint whose weights.bin is truncated, and one whose manifest shapes do not fit the layers.
    const cut = join(root, "cut");
    await Deno.mkdir(cut);
    await Deno.copyFile(join(gen, "model.json"), join(cut, "model.json"));
    const bytes = await Deno.readFile(join(gen, "weights.bin"));
    await Deno.writeFile(join(cut, "weights.bin"), bytes.subarray(0, bytes.length - 1000));
    const swapped = join(root, "swapped");
    await Deno.mkdir(swapped);
    await Deno.copyFile(join(gen, "weights.bin"), join(swapped, "weights.bin"));
    const json = JSON.parse(await Deno.readTextFile(join(gen, "model.json")));
    json.weightsManifest[0].weights[0].shape = [6272, 100];
    await Deno.writeTextFile(join(swapped, "model.json"), JSON.stringify(json));
    // A generator whose weights are all NaN (a diverged run): refused, no .onnx left behind.
    const nan = join(root, "nan");
    await Deno.mkdir(nan);
    await Deno.copyFile(join(gen, "model.json"), join(nan, "model.json"));
    await Deno.writeFile(
      join(nan, "weights.bin"),
      new Uint8Array(new Float32Array(bytes.length / 4).fill(NaN).buffer),
    );

    const cases: Array<[string[], RegExp]> = [
      [["--checkpoint", join(root, "missing")], /missing: no such folder/],
      [["--checkpoint", cut], /weights\.bin: holds \d+ bytes.*truncated or mismatched/],
      [["--checkpoint", swapped], /cannot load the model/],
      [["--checkpoint", join(root, "odd")], /not those of a generator/],
      [
        ["--checkpoint", join(root, "odd"), "--model", "discriminator"],
        /layer "dw" \(DepthwiseConv2D\) cannot be exported/,
      ],
      [["--checkpoint", gen, "--model", "discriminator"], /try --model generator/],
      [["--checkpoint", step, "--out", join(out, "x.onnx")], /folder .* does not exist/],
      [["--checkpoint", step, "--out", outDir], /is a folder/],
      [
        ["--checkpoint", step, "--opset", "12"],
        /--opset must be an integer from 13 to 17, got "12"/,
      ],
      [
        ["--checkpoint", step, "--opset", "18"],
        /--opset must be an integer from 13 to 17, got "18"/,
      ],
      [["--checkpoint", step, "--layout", "chw"], /--layout must be one of nchw, nhwc, got "chw"/],
      [["--checkpoint", step, "--verify"], /Unknown option .--verify./],
      [["--checkpoint", step, "--fp16-io"], /--fp16-io needs --fp16/],
      [["--checkpoint", step, "--bogus"], /bogus/],
      [["--checkpoint", nan], /weight .* holds NaN \(not a finite number\).*nothing was exported/],
      [
        ["--checkpoint", step, "--batch-sizes", "100000000"],
        /--batch-sizes 100000000: use integers from 1 to 4096/,
      ],
    ];
    for (const [args, message] of cases) {
      const outArgs = args.includes("--out") ? [] : ["--out", out];
      const r = await exportCli(...args, ...outArgs, "--no-verify");
      assertEquals(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
      const lines = errorLines(r.stderr);
      assertEquals(lines.length, 1, r.stderr);
      assert(message.test(lines[0]), `${args.join(" ")}: ${lines[0]}`);
      assert(!r.stderr.includes("    at "), `stack trace printed:\n${r.stderr}`);
      assertEquals(await listDir(outDir), [], `${args.join(" ")} left files behind`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export CLI: --weights and --best export the generator they name", async () => {
  const root = await makeRun();
  try {
    const run = join(root, "run");
    const step3 = join(run, "checkpoints", "step-00003");
    await saveLayersModel(buildGenerator({ seed: 30 }), join(step3, "generator_ema"));
    // eval.csv: step 1 raw FID 50 (no EMA), step 3 raw 40 and EMA 20: the best is step 3's EMA.
    const cells = (fid: string, is: string) => [is, fid, "0.9", ...Array(10).fill("0.1")];
    const empty = Array(13).fill("");
    await Deno.writeTextFile(
      join(run, "eval.csv"),
      [
        EVAL_CSV_HEADER,
        ["1", "64", ...cells("50", "5"), ...empty].join(","),
        ["3", "64", ...cells("40", "6"), ...cells("20", "7.5")].join(","),
      ].join("\n") + "\n",
    );
    const source = async (...args: string[]) => {
      const out = join(root, "g.onnx");
      const r = await exportCli("--no-verify", "--out", out, ...args);
      assertEquals(r.code, 0, r.stderr);
      const meta = decodeModel(await Deno.readFile(out)).metadataProps;
      const path = meta.find((p) => p.key === "source_checkpoint")!.value;
      return { stdout: r.stdout, from: path.split("/").slice(-2).join("/") };
    };
    const best = await source("--checkpoint", run, "--best");
    assertEquals(best.from, "step-00003/generator_ema");
    assert(
      /best by MNIST-FID in eval\.csv: step 3, ema weights \(MNIST-FID 20\.00, IS 7\.50/.test(
        best.stdout,
      ),
      best.stdout,
    );
    assertEquals((await source("--checkpoint", run)).from, "step-00003/generator_ema");
    assertEquals(
      (await source("--checkpoint", run, "--weights", "raw")).from,
      "step-00003/generator",
    );
    const step1 = join(run, "checkpoints", "step-00001");
    assertEquals((await source("--checkpoint", step1)).from, "step-00001/generator");

    const bad: Array<[string[], RegExp]> = [
      [["--checkpoint", step1, "--weights", "ema"], /step-00001: holds no EMA generator/],
      [["--checkpoint", step1, "--best"], /--best: .*eval\.csv holds no evaluation/],
      [["--checkpoint", run, "--best", "--weights", "raw"], /--best picks the weights itself/],
      [["--checkpoint", run, "--model", "discriminator", "--weights", "ema"], /choose a generator/],
    ];
    for (const [args, message] of bad) {
      const r = await exportCli("--no-verify", "--out", join(root, "bad.onnx"), ...args);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = errorLines(r.stderr);
      assertEquals(lines.length, 1, r.stderr);
      assert(message.test(lines[0]), lines[0]);
    }
    // The best evaluation's checkpoint is gone: said, nothing exported.
    await Deno.remove(step3, { recursive: true });
    const gone = await exportCli(
      "--no-verify",
      "--out",
      join(root, "bad.onnx"),
      "--checkpoint",
      run,
      "--best",
    );
    assertEquals(gone.code, 2, gone.stderr);
    assert(/step 3, ema\) has no checkpoint/.test(gone.stderr), gone.stderr);
    assertEquals((await listDir(root)).includes("bad.onnx"), false);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export CLI: the generator carries the inference rewrites unless --no-rewrite; --rewrite-onnx rewrites a file", async () => {
  const root = await makeRun();
  try {
    const step = join(root, "run", "checkpoints", "step-00003");
    const ops = async (path: string) =>
      decodeModel(await Deno.readFile(path)).graph.node.map((n) => n.opType);
    const rewrites = async (path: string) =>
      decodeModel(await Deno.readFile(path)).metadataProps.find((p) => p.key === "graph_rewrites")
        ?.value;

    const fast = join(root, "fast.onnx");
    const r = await exportCli("--checkpoint", step, "--out", fast, "--batch-sizes", "1,3");
    assertEquals(r.code, 0, r.stderr);
    assert(/batch {3}3: max \|ONNX − TF\.js\| = .* ok/.test(r.stdout), r.stdout);
    assertEquals(await ops(fast), [
      "Gemm",
      "Reshape",
      "Conv",
      "DepthToSpace",
      "Slice",
      "Conv",
      "Relu",
      "Conv",
      "DepthToSpace",
      "Slice",
      "Conv",
      "Relu",
      "ConvTranspose",
      "Tanh",
    ]);
    assertEquals(
      await rewrites(fast),
      "subpixel_conv_transpose(g_deconv1, g_deconv2); narrow_conv_as_transpose(g_out)",
    );

    const plain = join(root, "plain.onnx");
    const p = await exportCli("--checkpoint", step, "--out", plain, "--no-rewrite", "--no-verify");
    assertEquals(p.code, 0, p.stderr);
    assertEquals((await ops(plain)).filter((o) => o.startsWith("Conv")), [
      "ConvTranspose",
      "Conv",
      "ConvTranspose",
      "Conv",
      "Conv",
    ]);
    assertEquals(await rewrites(plain), undefined);

    // The plain file rewritten with its own weights: the same graph as the export, checked against the file.
    const again = join(root, "again.onnx");
    const w = await exportCli("--rewrite-onnx", plain, "--out", again, "--batch-sizes", "1,7");
    assertEquals(w.code, 0, w.stderr);
    assert(/batch {3}7: max \|rewritten − given\| = .* ok/.test(w.stdout), w.stdout);
    assertEquals(await ops(again), await ops(fast));
    assertEquals(await rewrites(again), await rewrites(fast));

    const outDir = join(root, "out");
    await Deno.mkdir(outDir);
    await Deno.writeTextFile(join(root, "junk.onnx"), "not protobuf at all");
    const bad: Array<[string[], RegExp]> = [
      [["--rewrite-onnx", join(root, "none.onnx")], /--rewrite-onnx .*none\.onnx: cannot read it/],
      [["--rewrite-onnx", join(root, "junk.onnx")], /junk\.onnx: not an ONNX model/],
      [["--rewrite-onnx", plain, "--checkpoint", step], /leave out --checkpoint/],
      [["--rewrite-onnx", plain, "--no-rewrite"], /--rewrite-onnx and --no-rewrite contradict/],
    ];
    for (const [args, message] of bad) {
      const out = await exportCli(...args, "--out", join(outDir, "x.onnx"));
      assertEquals(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      const lines = errorLines(out.stderr);
      assertEquals(lines.length, 1, out.stderr);
      assert(message.test(lines[0]), lines[0]);
      assertEquals(await listDir(outDir), [], `${args.join(" ")} left files behind`);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Runs the export script in `cwd` (its default `--out` is relative to it). */
async function exportIn(cwd: string, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../scripts/export.ts", import.meta.url).pathname, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("export CLI: a failed check writes nothing and leaves the files already there", async () => {
  const root = await makeRun();
  try {
    // Weights finite in float32 that overflow float16: the --fp16 file's outputs are not finite.
    const g = buildGenerator({ seed: 5 });
    g.setWeights(g.getWeights().map((w) => w.mul(1e6)));
    const big = join(root, "big");
    await saveLayersModel(g, big);
    g.dispose();
    const work = join(root, "work");
    await Deno.mkdir(work);
    const good = new TextEncoder().encode("the user's own generator.onnx");
    await Deno.writeFile(join(work, "generator.onnx"), good);
    await Deno.writeFile(join(work, "mine.onnx"), good);
    const runs = [
      ["--checkpoint", big, "--fp16", "--triton", "repo", "--batch-sizes", "2"],
      ["--checkpoint", big, "--fp16", "--out", "mine.onnx", "--batch-sizes", "2"],
    ];
    for (const args of runs) {
      const r = await exportIn(work, ...args);
      assertEquals(r.code, 1, r.stderr);
      const lines = errorLines(r.stderr);
      assertEquals(lines.length, 1, r.stderr);
      assert(/outputs are not finite numbers; nothing was written/.test(lines[0]), lines[0]);
      assertEquals(await listDir(work), ["generator.onnx", "mine.onnx"]);
      assertEquals(await Deno.readFile(join(work, "generator.onnx")), good);
      assertEquals(await Deno.readFile(join(work, "mine.onnx")), good);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export CLI: an --out or --triton inside the checkpoint exported is refused", async () => {
  const root = await makeRun();
  try {
    const step = join(root, "run", "checkpoints", "step-00003");
    const weights = join(step, "generator", "weights.bin");
    const before = await Deno.readFile(weights);
    for (
      const args of [
        ["--out", weights],
        ["--out", join(step, "generator", "model.json")],
        ["--out", join(step, "g.onnx")],
        ["--triton", join(step, "generator")],
      ]
    ) {
      const r = await exportCli("--checkpoint", step, "--no-verify", ...args);
      assertEquals(r.code, 2, r.stderr);
      const lines = errorLines(r.stderr);
      assertEquals(lines.length, 1, r.stderr);
      assert(/refusing to overwrite an input/.test(lines[0]), lines[0]);
    }
    assertEquals(await Deno.readFile(weights), before);
    assertEquals(await listDir(step), ["discriminator", "generator", "state.json"]);
    assertEquals(await listDir(join(step, "generator")), ["model.json", "weights.bin"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export --best refuses an eval.csv row that is not figures, in one line", async () => {
  const root = await makeRun();
  try {
    const run = join(root, "run");
    await Deno.writeTextFile(join(run, "eval.csv"), `${EVAL_CSV_HEADER}\n2,20,x,y\n`);
    const out = join(root, "best.onnx");
    const r = await exportCli("--checkpoint", run, "--best", "--no-verify", "--out", out);
    assertEquals(r.code, 2, r.stderr);
    const lines = errorLines(r.stderr);
    assertEquals(lines.length, 1, r.stderr);
    assertEquals(
      lines[0],
      `error: ${
        join(run, "eval.csv")
      }: row 1 (2,20,x,y) is not an evaluation: its figures are not numbers`,
    );
    assertEquals(await listDir(root), ["run"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
