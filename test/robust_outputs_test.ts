/**
 * Losses a fault probe found outside training, each as a test: `sample` of a NaN generator, `sample`
 * onto a full disk, `report` of a corrupt PNG or into a read-only folder, and `web:build --out` onto a
 * folder the project did not create.
 */
import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildGenerator } from "../src/model/mod.ts";
import { convertLayersModel, encodeModel, IO_NAMES } from "../src/onnx/mod.ts";
import { mountTmpfs } from "./mounts.ts";
import { useWasm } from "./onnx_fixtures.ts";

const root = new URL("..", import.meta.url).pathname;

async function cli(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(root, "scripts", script), ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** The one error line (stderr may also carry the provider line of `sample`). */
function errorLine(stderr: string, prefix: string): string {
  const lines = stderr.trim().split("\n").filter((l) => l.startsWith(prefix));
  assertEquals(lines.length, 1, stderr);
  ok(!stderr.includes("    at "), `stack trace printed:\n${stderr}`);
  return lines[0];
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("sample refuses a generator that outputs NaN and writes nothing", async () => {
  await useWasm();
  const dir = await Deno.makeTempDir();
  const g = buildGenerator({ seed: 1 });
  g.setWeights(g.getWeights().map((w) => w.mul(NaN)));
  const model = join(dir, "nan.onnx");
  const io = IO_NAMES.generator;
  await Deno.writeFile(
    model,
    encodeModel(convertLayersModel(g, { inputNames: [io.input], outputNames: [io.output] })),
  );
  for (const format of ["png", "npy"]) {
    const out = join(dir, `samples.${format}`);
    const r = await cli("sample.ts", [
      "--model",
      model,
      "--format",
      format,
      "--out",
      out,
      "-n",
      "4",
    ]);
    assertEquals(r.code, 2, r.stderr);
    match(
      errorLine(r.stderr, "error:"),
      /nan\.onnx: the generator produced 3136 of 3136 values that are not finite/,
    );
  }
  assertEquals(await entries(dir), ["nan.onnx"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sample onto a full disk keeps the good file it would have replaced", async () => {
  const disk = await mountTmpfs("600k");
  if (typeof disk === "string") {
    console.log(`disk-full test skipped: ${disk}`);
    return;
  }
  try {
    const out = join(disk.dir, "samples.png");
    const good = await cli("sample.ts", ["--provider", "cpu", "-n", "16", "--out", out]);
    assertEquals(good.code, 0, good.stderr);
    const before = await Deno.readFile(out);
    // Fill the disk, then ask for a much larger grid in the same place.
    await Deno.writeFile(join(disk.dir, "filler"), new Uint8Array(600 * 1024)).catch(() => {});
    const big = await cli("sample.ts", [
      "--provider",
      "cpu",
      "-n",
      "400",
      "--scale",
      "4",
      "--out",
      out,
    ]);
    assertEquals(big.code, 2, big.stderr);
    match(
      errorLine(big.stderr, "error:"),
      /samples\.png: cannot write \(No space left on device\)$/,
    );
    assertEquals(await Deno.readFile(out), before);
    assertEquals(await entries(disk.dir), ["filler", "samples.png"]);
  } finally {
    await disk.close();
  }
});

Deno.test("sample --out /dev/stdout writes the PNG to stdout and the report to stderr", async () => {
  // Through a link of its own to /dev/stdout: code that replaces the path (as before this test)
  // then replaces only that link, never the machine's /dev/stdout.
  const dir = await Deno.makeTempDir();
  const link = join(dir, "stdout");
  await Deno.symlink("/dev/stdout", link);
  const args = ["run", "-A", join(root, "scripts", "sample.ts"), "--provider", "cpu", "-n", "4"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--out", link],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, stderr);
  assertEquals([...out.stdout.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
  ok(stderr.includes(`wrote ${link}`), stderr);
  ok(Deno.lstatSync(link).isSymlink);
  assertEquals(await entries(dir), ["stdout"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sample refuses an --out that is its own model or classifier, directly or by a link", async () => {
  const dir = await Deno.makeTempDir();
  const model = join(dir, "g.onnx");
  await Deno.copyFile(join(root, "models", "generator.onnx"), model);
  const before = await Deno.readFile(model);
  await Deno.symlink(model, join(dir, "link.png"));
  for (const out of [model, join(dir, "link.png")]) {
    const r = await cli("sample.ts", ["--provider", "cpu", "--model", model, "--out", out]);
    assertEquals(r.code, 2, r.stderr);
    match(
      errorLine(r.stderr, "error:"),
      /: is the input .*g\.onnx \(--model\); refusing to overwrite an input: choose another output$/,
    );
  }
  const classifier = join(root, "models", "classifier.onnx");
  const shipped = await Deno.readFile(classifier);
  const r = await cli("sample.ts", ["--provider", "cpu", "--out", "models/classifier.onnx"]);
  assertEquals(r.code, 2, r.stderr);
  match(errorLine(r.stderr, "error:"), /\(--classifier\); refusing to overwrite an input/);
  assertEquals(await Deno.readFile(classifier), shipped);
  assertEquals(await Deno.readFile(model), before);
  assertEquals(await entries(dir), ["g.onnx", "link.png"]);
  await Deno.remove(dir, { recursive: true });
});

/** A minimal run folder the report can read: config, history and one sample grid. */
async function reportableRun(dir: string, png: Uint8Array): Promise<void> {
  await Deno.mkdir(join(dir, "samples"), { recursive: true });
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ steps: 2, batchSize: 2 }));
  await Deno.writeTextFile(
    join(dir, "history.csv"),
    "step,d_loss,d_acc,g_loss,seconds\n0,0.7,50,1.4,1.0\n1,0.6,60,1.5,2.0\n",
  );
  await Deno.writeFile(join(dir, "samples", "step-00002.png"), png);
}

Deno.test("report: a corrupt PNG or a read-only folder is one line and exit 2", async () => {
  const dir = await Deno.makeTempDir();
  const run = join(dir, "run");
  await reportableRun(run, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const corrupt = await cli("report.ts", [run]);
  assertEquals(corrupt.code, 2, corrupt.stderr);
  match(errorLine(corrupt.stderr, "report:"), /samples\/step-00002\.png: is not a readable PNG/);
  assertEquals(await entries(run), ["config.json", "history.csv", "samples"]);
  const ro = await mountTmpfs("1m");
  if (typeof ro === "string") console.log(`read-only report case skipped: ${ro}`);
  else {
    try {
      const png = await Deno.readFile(join(root, "models", "generator-samples.png"));
      await reportableRun(ro.dir, png);
      await ro.readOnly();
      const r = await cli("report.ts", [ro.dir]);
      assertEquals(r.code, 2, r.stderr);
      match(
        errorLine(r.stderr, "report:"),
        /progress\.gif: cannot write \(Read-only file system\)$/,
      );
    } finally {
      await ro.close();
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("web:build --out refuses a folder the project did not create", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "precious.txt"), "keep me");
  for (const args of [["--build-only", "--out", dir], ["--out", dir, "--port", "0"]]) {
    const r = await cli("web.ts", args);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(
      errorLine(r.stderr, "web:"),
      `web: ${dir} exists and was not created by this project (no .dcgan-created in it); ` +
        `refusing to delete it: choose a new or empty folder, or remove it yourself`,
    );
  }
  assertEquals(await entries(dir), ["precious.txt"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inputs are read with a bound: /dev/zero or a gzip bomb is one line, never all of memory", async () => {
  const dir = await Deno.makeTempDir();
  // 200 MiB of zeros in a 200 KB gzip file, as MNIST's training images.
  const data = join(dir, "data");
  await Deno.mkdir(data);
  const { gzipSync } = await import("node:zlib");
  await Deno.writeFile(
    join(data, "train-images-idx3-ubyte.gz"),
    gzipSync(new Uint8Array(200 * 1024 * 1024)),
  );
  await Deno.writeFile(
    join(data, "train-labels-idx1-ubyte"),
    new Uint8Array([0, 0, 8, 1, 0, 0, 0, 0]),
  );
  const zero = "/dev/zero";
  const large = /\/dev\/zero: larger than 128 MiB, the most a (model|classifier) may be; not read/;
  const cases: Array<[string, string[], RegExp]> = [
    ["sample.ts", ["--provider", "cpu", "--model", zero, "--out", join(dir, "s.png")], large],
    ["eval.ts", ["--model", zero], large],
    ["eval.ts", ["--model", "models/generator.onnx", "--classifier", zero, "--count", "8"], large],
    ["export.ts", ["--triton", join(dir, "repo"), "--onnx", zero], large],
    ["web.ts", ["--build-only", "--model", zero, "--out", join(dir, "site")], large],
    [
      "train.ts",
      ["--backend", "wasm", "--steps", "1", "--data", data, "--out", join(dir, "run")],
      /train-images-idx3-ubyte\.gz: decompresses to more than 128 MiB, the most an IDX file may be$/,
    ],
  ];
  for (const [script, args, message] of cases) {
    const r = await cli(script, args);
    assertEquals(r.code, 2, `${script} ${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n").filter((l) => /^\w[\w:]*: /.test(l));
    ok(lines.some((l) => message.test(l)), `${script}: ${r.stderr}`);
    ok(!r.stderr.includes("    at "), `stack trace printed:\n${r.stderr}`);
  }
  // No output was made (train's run folder is made before its data is read).
  assertEquals((await entries(dir)).filter((n) => n !== "run"), ["data"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a checkpoint's weights are read up to the size model.json gives them", async () => {
  await useWasm();
  const { saveLayersModel, readModelArtifacts, ModelFileError } = await import(
    "../src/checkpoint/mod.ts"
  );
  const dir = await Deno.makeTempDir();
  await saveLayersModel(buildGenerator({ seed: 1 }), dir);
  await Deno.remove(join(dir, "weights.bin"));
  await Deno.symlink("/dev/zero", join(dir, "weights.bin"));
  let error: unknown;
  await readModelArtifacts(dir).catch((e) => error = e);
  ok(error instanceof ModelFileError, String(error));
  match(
    (error as Error).message,
    /weights\.bin: holds more than the \d+ bytes of weights model\.json describes \(mismatched\)$/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("sample png-dir onto a full disk leaves nothing behind", async () => {
  const disk = await mountTmpfs("600k");
  if (typeof disk === "string") {
    console.log(`disk-full test skipped: ${disk}`);
    return;
  }
  try {
    const out = join(disk.dir, "digits");
    const r = await cli("sample.ts", [
      "--provider",
      "cpu",
      "-n",
      "2000",
      "--format",
      "png-dir",
      "--out",
      out,
    ]);
    assertEquals(r.code, 2, r.stderr);
    match(errorLine(r.stderr, "error:"), /No space left on device/);
    assertEquals(await entries(disk.dir), []);
    // A folder of the user's is not written into (nor replaced).
    await Deno.mkdir(join(disk.dir, "mine"));
    await Deno.writeTextFile(join(disk.dir, "mine", "notes.txt"), "keep");
    const mine = await cli("sample.ts", [
      "--provider",
      "cpu",
      "-n",
      "2",
      "--format",
      "png-dir",
      "--out",
      join(disk.dir, "mine"),
    ]);
    assertEquals(mine.code, 2, mine.stderr);
    match(errorLine(mine.stderr, "error:"), /mine exists and was not created by this project/);
    assertEquals(await entries(join(disk.dir, "mine")), ["notes.txt"]);
  } finally {
    await disk.close();
  }
});

Deno.test("report of a run whose history.csv is endless is one line, not all of memory", async () => {
  const run = await Deno.makeTempDir();
  await reportableRun(run, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  await Deno.remove(join(run, "history.csv"));
  await Deno.symlink("/dev/zero", join(run, "history.csv"));
  const r = await cli("report.ts", [run]);
  assertEquals(r.code, 2, r.stderr);
  match(
    errorLine(r.stderr, "report:"),
    /history\.csv: larger than 64 MiB, the most a run file may be; not read$/,
  );
  await Deno.remove(run, { recursive: true });
});
