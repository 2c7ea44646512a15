import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { decode } from "fast-png";
import { initBackend } from "../src/compute/mod.ts";
import { loadLayersModel } from "../src/checkpoint/mod.ts";
import { latentsForSeed } from "../src/random/mod.ts";
import { lossColumns } from "./run_script.ts";

const root = new URL("..", import.meta.url).pathname;
const script = join(root, "scripts/train.ts");

function command(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await command(args).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

const tiny = ["--backend", "wasm", "--batch-size", "2", "--log-every", "1"];

Deno.test("bad input: one line on stderr and exit code 2", async () => {
  const empty = await Deno.makeTempDir();
  const corrupt = await Deno.makeTempDir();
  await Deno.writeFile(join(corrupt, "train-images-idx3-ubyte"), new Uint8Array([1, 2, 3, 4, 5]));
  await Deno.writeFile(join(corrupt, "train-labels-idx1-ubyte"), new Uint8Array([0, 0, 8, 1, 0]));
  const cases: Array<[string[], RegExp]> = [
    [["--stepz", "3"], /Unknown option '--stepz'/],
    [["--steps", "0"], /--steps must be a positive integer, got "0"/],
    [["--batch-size=-4"], /--batch-size must be an integer from 1 to 1024, got "-4"/],
    [["--lr", "-1"], /'--lr' argument is ambiguous.* use '--lr=-XYZ'/],
    [["--backend", "tpu"], /--backend must be one of auto, tensorflow, wasm, webgpu, cpu/],
    [["--kernels", "gpu"], /--kernels must be one of auto, onnxruntime, wasm, got "gpu"/],
    [["--threads", "0"], /--threads must be a positive integer, got "0"/],
    [
      ["--data", join(empty, "nope"), "--backend", "cpu"],
      /nope\/train-images-idx3-ubyte: not found/,
    ],
    [["--data", corrupt, "--backend", "cpu"], /train-images-idx3-ubyte: wrong magic number/],
    [["--resume", empty], /holds no checkpoint/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    match(lines[0], /^train: /);
    match(lines[0], message);
  }
  await Deno.remove(empty, { recursive: true });
  await Deno.remove(corrupt, { recursive: true });
});

Deno.test("--help lists every option and --summary prints both models", async () => {
  const help = await run(["--help"]);
  assertEquals(help.code, 0);
  for (
    const option of [
      "--steps N",
      "--batch-size",
      "--lr",
      "--beta1",
      "--latent-dim",
      "--label-noise",
    ]
      .concat(["--seed", "--log-every", "--sample-every", "--checkpoint-at", "--checkpoint-every"])
      .concat(["--out", "--resume", "--backend", "--kernels", "--threads", "--workers"])
      .concat(["--data", "--summary"])
  ) ok(help.stdout.includes(option), option);
  match(help.stdout, /^ {2}--steps N .*\[10000\]$/m);
  const summary = await run(["--summary"]);
  assertEquals(summary.code, 0);
  match(summary.stdout, /Model: generator[\s\S]*Total params: 1,555,329/);
  match(summary.stdout, /Model: discriminator[\s\S]*Total params: 694,785/);
  match(summary.stdout, /g_deconv1 \(Conv2DTranspose\)\s+\(None, 14, 14, 128\)\s+262,272/);
});

Deno.test("a short run writes its folder, resumes, and a same-seed run matches it", async () => {
  const base = await Deno.makeTempDir();
  const runDir = join(base, "run");
  const first = await run([
    ...tiny,
    "--steps",
    "2",
    "--seed",
    "3",
    "--sample-every",
    "1",
    "--out",
    runDir,
  ]);
  assertEquals(first.code, 0, first.stderr);
  match(first.stdout, /^ {4}0 \[D loss: \d+\.\d{3}, acc\.: \d+\.\d{2}%\] \[G loss: \d+\.\d{3}\]$/m);
  match(first.stdout, /Done: steps 0→2 \(2\)/);
  const log = await Deno.readTextFile(join(runDir, "log.txt"));
  match(log, /^ {4}1 \[D loss: /m);

  const config = JSON.parse(await Deno.readTextFile(join(runDir, "config.json")));
  assertEquals([config.seed, config.batchSize, config.steps, config.learningRate], [3, 2, 2, 2e-4]);
  // Every option is named, those left to their default as null, so a resume keeps all of them.
  assertEquals(
    [config.evalEvery, config.evalCount, config.ema, config.lrDecayFrom, config.backend],
    [0, 2000, 0.999, 0, "wasm"],
  );
  for (const key of ["kernels", "threads", "workers", "dataDir", "discriminatorLearningRate"]) {
    assertEquals(config[key], null, key);
  }
  const latents = JSON.parse(await Deno.readTextFile(join(runDir, "latents.json")));
  assertEquals([latents.count, latents.latentDim, latents.latents.length], [32, 100, 32]);
  assertEquals(Float32Array.from(latents.latents.flat()), latentsForSeed(0, 32, 100));

  const history = await Deno.readTextFile(join(runDir, "history.csv"));
  const rows = history.trim().split("\n");
  assertEquals(rows[0], "step,d_loss,d_acc,g_loss,seconds");
  assertEquals(rows.slice(1).map((r) => r.split(",")[0]), ["0", "1"]);

  for (const step of ["00001", "00002"]) {
    const png = decode(await Deno.readFile(join(runDir, "samples", `step-${step}.png`)));
    assertEquals([png.width, png.height, png.channels], [(8 * 30 + 2) * 2, (4 * 30 + 2) * 2, 1]);
  }
  const ckpt = join(runDir, "checkpoints", "step-00002");
  const state = JSON.parse(await Deno.readTextFile(join(ckpt, "state.json")));
  assertEquals(state.step, 2);
  assertEquals(state.optimizers.discriminator.weights[0].name, "iter");
  await initBackend("cpu");
  const generator = await loadLayersModel(join(ckpt, "generator"));
  assertEquals(generator.outputs[0].shape, [null, 28, 28, 1]);
  const discriminator = await loadLayersModel(join(ckpt, "discriminator"));
  assertEquals(discriminator.countParams(), 694_785);

  // A crash after the checkpoint left a row for step 2; resuming drops it and continues to step 3.
  await Deno.writeTextFile(join(runDir, "history.csv"), "2,9,9,9,9\n", { append: true });
  const resumed = await run(["--resume", runDir, "--steps", "3", "--log-every", "1"]);
  assertEquals(resumed.code, 0, resumed.stderr);
  match(resumed.stdout, /Resuming .*step-00002 at step 2/);
  match(resumed.stdout, /^ {4}2 \[D loss: /m);
  const after = await lossColumns(runDir);
  assertEquals(after.slice(0, 3), rows.slice(0, 3).map((r) => r.split(",").slice(0, 4).join(",")));
  assertEquals(after.map((r) => r.split(",")[0]).slice(1), ["0", "1", "2"]);
  ok(!after[3].startsWith("2,9,"));
  ok((await Deno.stat(join(runDir, "checkpoints", "step-00003", "state.json"))).isFile);

  // Same seed, backend and steps: the same history, whether or not the run was interrupted.
  const again = join(base, "again");
  const straight = await run([...tiny, "--steps", "3", "--seed", "3", "--out", again]);
  assertEquals(straight.code, 0, straight.stderr);
  assertEquals(await lossColumns(again), after);

  // The EMA generator resumes exactly: the interrupted run's average is the straight run's, byte for byte,
  // and it is an average, not a copy of the raw weights.
  const weightsOf = (dir: string, model: string) =>
    Deno.readFile(join(dir, "checkpoints", "step-00003", model, "weights.bin"));
  // (Compared as the first differing byte: a failing deepStrictEqual of 6 MB would print all of it.)
  const firstDifference = (a: Uint8Array, b: Uint8Array) =>
    a.length !== b.length ? "length" : a.findIndex((x, i) => x !== b[i]);
  const emaBytes = await weightsOf(again, "generator_ema");
  assertEquals(firstDifference(await weightsOf(runDir, "generator_ema"), emaBytes), -1);
  ok(firstDifference(emaBytes, await weightsOf(again, "generator")) !== -1);
  const emaState = JSON.parse(
    await Deno.readTextFile(join(again, "checkpoints", "step-00003", "state.json")),
  ).ema;
  assertEquals(emaState, { decay: 0.999, updates: 3 });
  ok((await Deno.stat(join(again, "samples", "step-00003-ema.png"))).isFile);
  // It never feeds back into training: with --ema 0 the history is bit-identical, and there is no EMA.
  const plain = join(base, "plain");
  const noEma = await run([...tiny, "--steps", "3", "--seed", "3", "--ema", "0", "--out", plain]);
  assertEquals(noEma.code, 0, noEma.stderr);
  assertEquals(await lossColumns(plain), after);
  const plainCheckpoint = await Array.fromAsync(
    Deno.readDir(join(plain, "checkpoints", "step-00003")),
  );
  ok(!plainCheckpoint.some((e) => e.name === "generator_ema"));
  await Deno.remove(base, { recursive: true });
});

Deno.test("SIGTERM finishes the step, writes a checkpoint and exits 130", async () => {
  const runDir = await Deno.makeTempDir();
  const child = command([...tiny, "--steps", "500", "--seed", "1", "--out", runDir]).spawn();
  const historyPath = join(runDir, "history.csv");
  // Wait for the first history row, within a deadline: a run that never starts fails the test, not CI.
  const deadline = Date.now() + 120_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const text = await Deno.readTextFile(historyPath).catch(() => "");
    if (text.trim().split("\n").length >= 2) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.output();
      throw new Error(`no history row in ${historyPath} within 120 s`);
    }
  }
  child.kill("SIGTERM");
  const out = await child.output();
  assertEquals(out.code, 130);
  match(new TextDecoder().decode(out.stdout), /Stopped by SIGTERM/);
  const done = (await lossColumns(runDir)).length - 1;
  const ckpt = join(runDir, "checkpoints", `step-${String(done).padStart(5, "0")}`);
  assertEquals(JSON.parse(await Deno.readTextFile(join(ckpt, "state.json"))).step, done);
  await Deno.remove(runDir, { recursive: true });
});
