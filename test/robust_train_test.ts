/**
 * Losses a fault probe found in training, each as a test: the run lock, resume from an older or a broken
 * checkpoint, "nothing to do" that changes nothing, bad input as one line, and a full disk.
 */
import { deepStrictEqual as assertEquals, match, notDeepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { mountTmpfs } from "./mounts.ts";
import { readLatents } from "../src/train/mod.ts";
import { lossColumns } from "./run_script.ts";

const root = new URL("..", import.meta.url).pathname;
const tiny = ["--backend", "wasm", "--threads", "1", "--batch-size", "2", "--log-every", "1"];
const every = ["--checkpoint-every", "1", "--sample-every", "0"];

function command(args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(root, "scripts/train.ts"), ...args],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[]) {
  const out = await command(args).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Every file under `dir` with its bytes, to show that nothing changed. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out[p] = (await Deno.readFile(p)).join(",");
    }
  };
  await walk(dir);
  return out;
}

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  assertEquals(lines.length, 1, stderr);
  return lines[0];
}

const base = await Deno.makeTempDir({ prefix: "robust-train-" });
const reference = join(base, "reference");
const referenceRun = await run([
  ...tiny,
  ...every,
  "--steps",
  "3",
  "--seed",
  "7",
  "--out",
  reference,
]);
const expected = referenceRun.code === 0 ? await lossColumns(reference) : [];

async function copyOfReference(name: string): Promise<string> {
  const dir = join(base, name);
  ok((await new Deno.Command("cp", { args: ["-r", reference, dir] }).output()).success);
  return dir;
}

Deno.test("resume from an older checkpoint moves the newer ones and their rows aside", async () => {
  assertEquals(referenceRun.code, 0, referenceRun.stderr);
  const runDir = await copyOfReference("older");
  const older = join(runDir, "checkpoints", "step-00001");
  // Nothing to do changes nothing, not even the history.
  const before = await snapshot(runDir);
  const idle = await run(["--resume", older, "--steps", "1"]);
  assertEquals(idle.code, 0, idle.stderr);
  assertEquals(await snapshot(runDir), before);
  match(idle.stdout, /Nothing to do: .*step-00001 is at step 1/);

  const r = await run(["--resume", older, "--steps", "2", ...every]);
  assertEquals(r.code, 0, r.stderr);
  match(r.stdout, /moved the 2 newer checkpoint\(s\) \(up to step 3\) and 2 history row\(s\) to /);
  const [abandoned] = (await entries(runDir)).filter((n) => n.startsWith("abandoned-1-"));
  ok(abandoned, `no abandoned folder in ${await entries(runDir)}`);
  assertEquals(await entries(join(runDir, abandoned, "checkpoints")), ["step-00002", "step-00003"]);
  assertEquals((await lossColumns(join(runDir, abandoned))).slice(1), expected.slice(2, 4));
  assertEquals(await entries(join(runDir, "checkpoints")), ["step-00001", "step-00002"]);
  // A later resume of the run continues from the new step 2 without a gap.
  const on = await run(["--resume", runDir, "--steps", "3", ...every]);
  assertEquals(on.code, 0, on.stderr);
  assertEquals(await lossColumns(runDir), expected);
});

/** Rewrites the step in a checkpoint's state.json (a tampered or misplaced checkpoint). */
async function setStep(checkpoint: string, step: number): Promise<void> {
  const path = join(checkpoint, "state.json");
  const state = JSON.parse(await Deno.readTextFile(path));
  await Deno.writeTextFile(path, JSON.stringify({ ...state, step }));
}

Deno.test("a broken newest checkpoint is reported in one line, set aside, and resume goes on", async () => {
  assertEquals(referenceRun.code, 0, referenceRun.stderr);
  const cases: Array<[string, (ckpt: string) => Promise<void>, RegExp]> = [
    [
      "generator/weights.bin",
      (c) => Deno.truncate(join(c, "generator/weights.bin"), 1000),
      /holds 1000 bytes of weights/,
    ],
    [
      "state.json",
      (c) => Deno.writeTextFile(join(c, "state.json"), '{"step": 3, "rng"'),
      /cannot read the checkpoint state/,
    ],
    [
      "g_optimizer.bin",
      (c) => Deno.truncate(join(c, "g_optimizer.bin"), 8),
      /holds 8 bytes but the manifest/,
    ],
    [
      "discriminator/model.json",
      (c) => Deno.writeTextFile(join(c, "discriminator/model.json"), ""),
      /is not valid JSON/,
    ],
    [
      "generator/weights.bin",
      async (c) => {
        const size = (await Deno.stat(join(c, "generator/weights.bin"))).size;
        const nan = new Float32Array(size / 4).fill(NaN);
        await Deno.writeFile(join(c, "generator/weights.bin"), new Uint8Array(nan.buffer));
      },
      /weight g_\w+\/kernel holds NaN \(not a finite number\); the run diverged/,
    ],
    ["state.json", (c) => setStep(c, -5), /says step -5, but its folder step-00003 holds step 3/],
    ["state.json", (c) => setStep(c, 2), /says step 2, but its folder step-00003 holds step 3/],
    [
      "generator/model.json",
      async (c) => {
        await Deno.rename(join(c, "generator"), join(c, "swap"));
        await Deno.rename(join(c, "discriminator"), join(c, "generator"));
        await Deno.rename(join(c, "swap"), join(c, "discriminator"));
      },
      /holds a discriminator \(weight d_\w+\/kernel\), not a generator: the folders were swapped/,
    ],
  ];
  for (const [i, [file, corrupt, problem]] of cases.entries()) {
    const runDir = await copyOfReference(`broken-${i}-${file.replace("/", "-")}`);
    await corrupt(join(runDir, "checkpoints", "step-00003"));
    await Deno.writeTextFile(join(runDir, "latents.json"), "");
    const r = await run(["--resume", runDir, "--steps", "3", ...every]);
    assertEquals(r.code, 0, `${file}: ${r.stderr}`);
    const line = r.stdout.split("\n").find((l) => l.includes("set aside in"));
    ok(line?.includes(join("step-00003", file)), `${file}: ${r.stdout}`);
    match(line!, problem);
    match(r.stdout, /latents\.json: cannot read the sample latents .*; rewriting it/);
    match(r.stdout, /Resuming .*step-00002 at step 2/);
    assertEquals(await lossColumns(runDir), expected, file);
  }
});

Deno.test("a history.csv emptied before a resume is reported, not resumed silently", async () => {
  assertEquals(referenceRun.code, 0, referenceRun.stderr);
  const runDir = await copyOfReference("emptied");
  await Deno.writeTextFile(join(runDir, "history.csv"), "");
  const r = await run(["--resume", runDir, "--steps", "4", ...every]);
  assertEquals(r.code, 0, r.stderr);
  match(r.stdout, /history\.csv: holds 0 complete row\(s\) before step 3, not 3; rows lost/);
  assertEquals((await lossColumns(runDir)).map((l) => l.split(",")[0]), ["step", "3"]);
});

Deno.test("a second trainer of a run gets one line and exit 2; the lock goes with SIGTERM", async () => {
  const runDir = join(base, "locked");
  const child = command([...tiny, ...every, "--steps", "500", "--seed", "1", "--out", runDir])
    .spawn();
  const deadline = Date.now() + 60_000;
  while (
    !(await Deno.stat(join(runDir, "checkpoints", "step-00002")).then(() => true, () => false))
  ) {
    ok(Date.now() < deadline, "the first trainer wrote no checkpoint in 60 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  // Two resumes (one with nothing left to do, one with steps to train) and a new run, all at once.
  const seconds = await Promise.all([
    run(["--resume", runDir, "--steps", "2"]),
    run(["--resume", runDir, "--steps", "900"]),
    run([...tiny, "--steps", "5", "--seed", "1", "--out", runDir]),
  ]);
  for (const [i, second] of seconds.entries()) {
    assertEquals(second.code, 2, second.stderr);
    const expected = i < 2
      ? `train: ${runDir} is being trained by PID ${child.pid}`
      : `train: --out ${runDir} already holds a run (config.json): continue it with --resume ${runDir} or choose another --out`;
    assertEquals(oneLine(second.stderr), expected);
  }
  child.kill("SIGTERM");
  const out = await child.output();
  assertEquals(out.code, 130);
  ok(!(await entries(runDir)).includes(".lock"), "the lock outlived its trainer");
  const steps = (await lossColumns(runDir)).slice(1).map((r) => Number(r.split(",")[0]));
  assertEquals(steps, steps.map((_, i) => i), "history rows duplicated or missing");
});

Deno.test("bad folders and data paths: one line naming the path, exit 2", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "file"), "x");
  const data = join(dir, "data");
  await Deno.mkdir(join(data, "train-images-idx3-ubyte"), { recursive: true });
  const fifo = join(dir, "fifo");
  await Deno.mkdir(fifo);
  ok(
    (await new Deno.Command("mkfifo", { args: [join(fifo, "train-images-idx3-ubyte")] }).output())
      .success,
  );
  const cases: Array<[string[], string]> = [
    [
      ["--out", join(dir, "file")],
      `--out ${join(dir, "file")} is a file; give a folder for the run`,
    ],
    [
      ["--out", join(dir, "file", "run")],
      `${join(dir, "file", "run")}: cannot create the folder (`,
    ],
    [["--data", data], `${data}/train-images-idx3-ubyte: is a folder, not an IDX file`],
    [["--data", fifo], `${fifo}/train-images-idx3-ubyte: is a FIFO, not an IDX file`],
    [["--data", join(dir, "file")], `${join(dir, "file")}: is not a folder`],
  ];
  for (const [args, message] of cases) {
    const out = args.includes("--out") ? [] : ["--out", join(dir, "run")];
    const r = await run([...tiny, "--steps", "1", ...out, ...args]);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    ok(oneLine(r.stderr).startsWith(`train: ${message}`), r.stderr);
  }
  const ro = await mountTmpfs("1m");
  if (typeof ro === "string") console.log(`read-only folder case skipped: ${ro}`);
  else {
    try {
      await ro.readOnly();
      const r = await run([...tiny, "--steps", "1", "--out", join(ro.dir, "run")]);
      assertEquals(r.code, 2, r.stderr);
      match(
        oneLine(r.stderr),
        /^train: .*\/run: cannot create the folder \(Read-only file system\)$/,
      );
    } finally {
      await ro.close();
    }
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("disk full: train says so in one line and leaves no temporary checkpoint", async () => {
  const disk = await mountTmpfs("12m");
  if (typeof disk === "string") {
    console.log(`disk-full test skipped: ${disk}`);
    return;
  }
  try {
    const runDir = join(disk.dir, "run");
    const r = await run([...tiny, ...every, "--steps", "2", "--seed", "7", "--out", runDir]);
    assertEquals(r.code, 2, r.stderr);
    match(oneLine(r.stderr), /^train: .*: cannot write \(No space left on device\)$/);
    assertEquals(await entries(join(runDir, "checkpoints")).catch(() => []), []);
    assertEquals((await lossColumns(runDir)).length, 2);
    ok(!(await entries(runDir)).some((n) => n.endsWith(".tmp") || n === ".lock"));
    notDeepStrictEqual(await Deno.readTextFile(join(runDir, "config.json")), "");
  } finally {
    await disk.close();
  }
});

globalThis.addEventListener("unload", () => Deno.removeSync(base, { recursive: true }));

Deno.test("train --out onto a folder with files that is not a run is refused, nothing written", async () => {
  const dir = await Deno.makeTempDir();
  const mine = join(dir, "mine");
  await Deno.mkdir(join(mine, "samples"), { recursive: true });
  await Deno.writeTextFile(join(mine, "report.html"), "<p>my report</p>");
  await Deno.writeTextFile(join(mine, "latents.json"), "[1, 2, 3]");
  await Deno.writeTextFile(join(mine, "history.csv"), "mine,not,a,run\n");
  await Deno.writeFile(join(mine, "samples", "step-00001.png"), new Uint8Array([1, 2, 3]));
  const before = await snapshot(mine);
  for (const out of [mine, "/"]) {
    const r = await run([...tiny, "--steps", "1", "--out", out]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(
      oneLine(r.stderr),
      `train: --out ${out} is a folder with files that is not a run (no config.json); ` +
        `refusing to write a run into it: choose a new or empty folder`,
    );
  }
  assertEquals(await snapshot(mine), before);
  ok(!(await entries("/")).includes("config.json"));
  // An empty folder is fine to start a run in.
  await Deno.mkdir(join(dir, "empty"));
  const r = await run([...tiny, "--steps", "1", "--out", join(dir, "empty")]);
  assertEquals(r.code, 0, r.stderr);
  ok((await entries(join(dir, "empty"))).includes("config.json"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("training sizes that exhaust memory are refused in one line", async () => {
  const cases: Array<[string[], string]> = [
    [["--batch-size", "1000000"], '--batch-size must be an integer from 1 to 1024, got "1000000"'],
    [["--batch-size", "1e6"], '--batch-size must be an integer from 1 to 1024, got "1e6"'],
    [
      ["--latent-dim", "10000000"],
      '--latent-dim must be an integer from 1 to 1024, got "10000000"',
    ],
  ];
  const dir = await Deno.makeTempDir();
  for (const [args, message] of cases) {
    const r = await run([...tiny.slice(0, 4), "--steps", "1", "--out", join(dir, "run"), ...args]);
    assertEquals(r.code, 2, r.stderr);
    assertEquals(oneLine(r.stderr), `train: ${message}`);
  }
  assertEquals(await entries(dir), []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("latents.json with another count of latents than the run's 32 is refused", async () => {
  const dir = await Deno.makeTempDir();
  const write = (count: number, dim: number, rows = count) =>
    Deno.writeTextFile(
      join(dir, "latents.json"),
      JSON.stringify({
        seed: 1,
        count,
        latentDim: dim,
        latents: Array.from({ length: rows }, () => Array(dim).fill(0.5)),
      }),
    );
  await write(32, 4);
  assertEquals((await readLatents(dir, 4)).length, 128);
  for (const [count, dim, rows] of [[5, 4, 5], [64, 2, 64], [32, 4, 31]]) {
    await write(count, dim, rows);
    let error: unknown;
    await readLatents(dir, dim === 2 ? 4 : dim).catch((e) => error = e);
    match(String(error), /latents\.json: is not 32 × 4 finite sample latents/);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a run whose checkpoints folder is a symlink loop gets one line and exit 2", async () => {
  assertEquals(referenceRun.code, 0, referenceRun.stderr);
  const runDir = await copyOfReference("checkpoint-loop");
  await Deno.remove(join(runDir, "checkpoints"), { recursive: true });
  await Deno.symlink("checkpoints", join(runDir, "checkpoints"));
  const history = await Deno.readTextFile(join(runDir, "history.csv"));
  const names = await entries(runDir);
  const r = await run(["--resume", runDir, "--steps", "4"]);
  assertEquals(r.code, 2, r.stderr);
  assertEquals(
    oneLine(r.stderr),
    `train: ${
      join(runDir, "checkpoints")
    }: cannot be read as a folder (Too many levels of symbolic links)`,
  );
  ok(Deno.lstatSync(join(runDir, "checkpoints")).isSymlink);
  assertEquals(await Deno.readTextFile(join(runDir, "history.csv")), history);
  assertEquals(await entries(runDir), names);
});
