/**
 * `deno task bench`: generator samples per second at batch 1, 32 and 256 on every inference provider that works
 * here, beside the same network through TF.js `predict` on the training fallback backend; medians of several runs,
 * first-sample latency (model load → first image), as a Markdown table or JSON. `--against FILE` times a second
 * generator in turn with the first (A B A B …) and gives the ratio, which a busy machine leaves fair.
 * @module
 */
import { cpus, loadavg, totalmem } from "node:os";
import { basename } from "node:path";
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/compute/mod.ts";
import {
  optionsHelp,
  type OptionTable,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
import {
  createGenerator,
  type Generator,
  InferenceError,
  type SessionTuning,
  SHIPPED_MODEL_PATHS,
} from "../src/infer/mod.ts";
import { median, peerRatioRefusal, peerUnavailable, runPeer } from "../src/bench/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import { latentsForSeed } from "../src/random/mod.ts";

const PROVIDERS = ["cpu", "cuda", "webgpu", "wasm", "web-webgpu"];

const OPTIONS = {
  model: {
    kind: "string",
    arg: "FILE",
    default: SHIPPED_MODEL_PATHS.generator,
    help: "the .onnx generator",
  },
  providers: {
    kind: "string",
    arg: "LIST",
    default: PROVIDERS.join(","),
    help: "providers to try, comma-separated;\nunavailable ones are reported as such",
  },
  batches: { kind: "string", arg: "LIST", default: "1,32,256", help: "batch sizes (1 to 4096)" },
  runs: {
    kind: "integer",
    max: 4096,
    default: 7,
    help: "timed runs per measurement (the median is reported)",
  },
  budget: {
    kind: "number",
    arg: "S",
    min: 0.001,
    default: 60,
    help: "skip a measurement whose runs would take longer than S seconds",
  },
  against: {
    kind: "string",
    arg: "FILE",
    help: "also time this generator on the same providers and batches, run by run in turn\n" +
      "with --model (A B A B …, so a busy machine slows both alike); --model's row\n" +
      "gives the ratio of the two medians",
  },
  "no-tfjs": { kind: "flag", help: "skip TF.js predict" },
  tuning: {
    kind: "flag",
    help: "also time cpu at batch 1 and 32 with each optimisation level, 1 thread, spinning",
  },
  peer: {
    kind: "flag",
    help: "also run the project's PyTorch CPU peer (src/bench/peer_torch.py) in the same run,\n" +
      "to compare as ratios on a busy machine (takes minutes when the machine is busy);\n" +
      "a peer on an unoptimised BLAS is reported, not compared",
  },
  json: { kind: "flag", help: "print JSON ({results, machine, versions}) instead of Markdown" },
} as const satisfies OptionTable;

const HELP = `Benchmark generator inference: samples/s per provider and batch size.

Usage: deno task bench [options]

${optionsHelp(OPTIONS)}

WebGPU on Linux without a GPU needs LD_LIBRARY_PATH=/usr/lib/chromium
VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json in the environment.`;

/** One measurement: a provider (with its tuning) at one batch size. */
interface Result {
  provider: string;
  /** What differs from the defaults (e.g. `optimization=basic threads=1`), or "" for the defaults. */
  tuning: string;
  batch: number;
  samplesPerSecond: number | null;
  /** Median wall-clock milliseconds of one batch. */
  msPerBatch: number | null;
  minMs: number | null;
  maxMs: number | null;
  /** Samples per second of process CPU time (all threads): steadier than wall time on a busy machine. */
  samplesPerCpuSecond: number | null;
  runs: number;
  /** Milliseconds from loading the model to the first image (once per provider, on its batch-1 row). */
  firstSampleMs: number | null;
  note: string;
}

function list(name: string, text: string, parse: (s: string) => boolean): string[] {
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = items.find((s) => !parse(s));
  if (items.length === 0 || bad !== undefined) {
    throw new UsageError(`--${name}: bad item "${bad ?? ""}"`);
  }
  return items;
}

function parse(argv: string[]) {
  const { values } = parseOptions(OPTIONS, argv);
  const positive = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 4096;
  const providers = list("providers", values.providers, (s) => PROVIDERS.includes(s));
  const batches = list("batches", values.batches, positive).map(Number);
  return { ...values, providers, batches };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Times `run` (one batch) `runs` times after one warm-up; fewer runs when they would exceed the budget. */
async function measure(
  run: () => Promise<unknown>,
  batch: number,
  runs: number,
  budgetMs: number,
  estimateMs: number,
): Promise<Omit<Result, "provider" | "tuning" | "firstSampleMs">> {
  const empty = { batch, samplesPerSecond: null, msPerBatch: null, minMs: null, maxMs: null };
  if (estimateMs > budgetMs) {
    return {
      ...empty,
      samplesPerCpuSecond: null,
      runs: 0,
      note: `skipped: one batch would take ~${(estimateMs / 1000).toFixed(0)} s (--budget)`,
    };
  }
  const warm = performance.now();
  await run();
  const once = performance.now() - warm;
  const n = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(once, 1e-3))));
  const times: number[] = [];
  const cpu0 = cpuMs();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  const cpu = cpuMs() - cpu0;
  const ms = median(times);
  return {
    batch,
    samplesPerSecond: batch / (ms / 1000),
    msPerBatch: ms,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    samplesPerCpuSecond: (batch * n) / (cpu / 1000),
    runs: n,
    note: n < runs ? `${n} run${n === 1 ? "" : "s"} (--budget)` : "",
  };
}

function unavailable(provider: string, tuning: string, batch: number, note: string): Result {
  return {
    provider,
    tuning,
    batch,
    samplesPerSecond: null,
    msPerBatch: null,
    minMs: null,
    maxMs: null,
    samplesPerCpuSecond: null,
    runs: 0,
    firstSampleMs: null,
    note,
  };
}

/**
 * Times `runA` and `runB` (one batch each) in turn, `runs` rounds after one warm-up of each (fewer when they would
 * exceed the budget), and returns both measurements.
 */
async function measurePair(
  runA: () => Promise<unknown>,
  runB: () => Promise<unknown>,
  batch: number,
  runs: number,
  budgetMs: number,
): Promise<Array<Omit<Result, "provider" | "tuning" | "firstSampleMs">>> {
  const warm = performance.now();
  await runA();
  await runB();
  const once = performance.now() - warm;
  const n = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(once, 1e-3))));
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < n; i++) {
    for (const [k, run] of [runA, runB].entries()) {
      const t0 = performance.now();
      await run();
      times[k].push(performance.now() - t0);
    }
  }
  return times.map((t) => {
    const ms = median(t);
    return {
      batch,
      samplesPerSecond: batch / (ms / 1000),
      msPerBatch: ms,
      minMs: Math.min(...t),
      maxMs: Math.max(...t),
      samplesPerCpuSecond: null,
      runs: n,
      note: n < runs ? `${n} run${n === 1 ? "" : "s"} (--budget)` : "",
    };
  });
}

/**
 * Measures `model` and `against` on one provider at each batch size, interleaved run by run; `model`'s rows say
 * how many times `against`'s samples/s they reach.
 */
async function benchPair(
  model: Uint8Array,
  against: { bytes: Uint8Array; name: string },
  provider: string,
  batches: number[],
  runs: number,
  budgetMs: number,
): Promise<Result[]> {
  const generators: Generator[] = [];
  try {
    for (const bytes of [model, against.bytes]) {
      generators.push(await createGenerator(bytes, { provider, maxBatch: 4096 }));
    }
  } catch (e) {
    await Promise.all(generators.map((g) => g.dispose()));
    if (!(e instanceof InferenceError)) throw e;
    return [unavailable(provider, "", batches[0], `unavailable: ${e.message.split(" (")[0]}`)];
  }
  try {
    const results: Result[] = [];
    for (const batch of batches) {
      const latents = latentsForSeed(batch, batch, generators[0].latentDim);
      const [a, b] = await measurePair(
        () => generators[0].generate(latents),
        () => generators[1].generate(latents),
        batch,
        runs,
        budgetMs,
      );
      const ratio = `${(b.msPerBatch! / a.msPerBatch!).toFixed(2)}× --against (interleaved)`;
      results.push(
        { provider, tuning: "", firstSampleMs: null, ...a, note: [ratio, a.note].join(" ").trim() },
        { provider, tuning: `--against ${against.name}`, firstSampleMs: null, ...b },
      );
    }
    return results;
  } finally {
    await Promise.all(generators.map((g) => g.dispose()));
  }
}

/** Measures one provider configuration at each batch size. */
async function benchProvider(
  model: Uint8Array,
  provider: string,
  tuning: SessionTuning,
  label: string,
  batches: number[],
  runs: number,
  budgetMs: number,
): Promise<Result[]> {
  const t0 = performance.now();
  let generator: Generator;
  try {
    generator = await createGenerator(model, { provider, maxBatch: 4096, ...tuning });
  } catch (e) {
    if (!(e instanceof InferenceError)) throw e;
    return [unavailable(provider, label, batches[0], `unavailable: ${e.message.split(" (")[0]}`)];
  }
  try {
    await generator.sample(1, { seed: 0 });
    const firstSampleMs = performance.now() - t0;
    const results: Result[] = [];
    let msPerSample = 0;
    for (const batch of batches) {
      const latents = latentsForSeed(batch, batch, generator.latentDim);
      const m = await measure(
        () => generator.generate(latents),
        batch,
        runs,
        budgetMs,
        msPerSample * batch,
      );
      if (m.msPerBatch !== null) msPerSample = Math.max(msPerSample, m.msPerBatch / batch * 0.5);
      results.push({
        provider,
        tuning: label,
        firstSampleMs: batch === batches[0] ? firstSampleMs : null,
        ...m,
      });
    }
    return results;
  } finally {
    await generator.dispose();
  }
}

/** The same generator through TF.js `predict` on the training fallback backend. */
async function benchTfjs(batches: number[], runs: number, budgetMs: number): Promise<Result[]> {
  const t0 = performance.now();
  const backend = await initBackend("auto");
  const model = buildGenerator({ seed: 0 });
  const predict = (z: tf.Tensor) => {
    const out = model.predict(z) as tf.Tensor;
    return out.data().then(() => out.dispose());
  };
  try {
    const one = tf.tensor2d(latentsForSeed(0, 1, 100), [1, 100]);
    await predict(one);
    one.dispose();
    const firstSampleMs = performance.now() - t0;
    const results: Result[] = [];
    let msPerSample = 0;
    for (const batch of batches) {
      const z = tf.tensor2d(latentsForSeed(batch, batch, 100), [batch, 100]);
      const m = await measure(() => predict(z), batch, runs, budgetMs, msPerSample * batch);
      z.dispose();
      if (m.msPerBatch !== null) msPerSample = Math.max(msPerSample, m.msPerBatch / batch * 0.5);
      results.push({
        provider: `tfjs-${backend.name}`,
        tuning: "predict",
        firstSampleMs: batch === batches[0] ? firstSampleMs : null,
        ...m,
      });
    }
    return results;
  } finally {
    model.dispose();
  }
}

/** The PyTorch peer's generator rows, or one row saying why there are none to compare with. */
async function benchTorchPeer(batches: number[]): Promise<Result[]> {
  const options = {
    threads: Math.min(2, navigator.hardwareConcurrency),
    steps: 2,
    warmup: 1,
    batches,
  };
  const why = await peerUnavailable(options);
  if (why) return [unavailable("pytorch-cpu", "peer", batches[0], `unavailable: ${why}`)];
  let peer;
  try {
    peer = await runPeer(options);
  } catch (e) {
    return [unavailable("pytorch-cpu", "peer", batches[0], (e as Error).message)];
  }
  const refusal = peerRatioRefusal(peer);
  if (refusal) return [unavailable("pytorch-cpu", "peer", batches[0], refusal)];
  return peer.infer.map((row) => ({
    ...unavailable(
      "pytorch-cpu",
      `peer (${peer.blas.split(" ")[0]}, ${peer.threads} threads)`,
      row.batch,
      "",
    ),
    samplesPerSecond: row.samplesPerSecond,
    msPerBatch: row.msPerBatch,
    runs: Math.max(3, Math.min(200, Math.floor(2000 / row.batch))),
  }));
}

async function versions(): Promise<Record<string, string>> {
  const [ortNode, ortWeb] = await Promise.all([
    import("onnxruntime-node"),
    import("onnxruntime-web/webgpu"),
  ]);
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    "onnxruntime-node": ortNode.env.versions.node ?? "unknown",
    "onnxruntime-web": ortWeb.env.versions.web ?? "unknown",
    "@tensorflow/tfjs": tf.version.tfjs,
  };
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    logicalCpus: navigator.hardwareConcurrency,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${Deno.build.os} ${Deno.build.arch}`,
    loadAverage1m: loadavg()[0],
  };
}

const num = (x: number | null, digits = 1) => x === null ? "—" : x.toFixed(digits);

function markdown(
  results: Result[],
  m: ReturnType<typeof machine>,
  v: Record<string, string>,
): string {
  const rows = results.map((r) =>
    `| ${r.provider} | ${r.tuning || "default"} | ${r.batch} | ${num(r.samplesPerSecond)} | ` +
    `${num(r.msPerBatch, 2)} | ${num(r.minMs, 2)}–${num(r.maxMs, 2)} | ${
      num(r.samplesPerCpuSecond)
    } | ` +
    `${num(r.firstSampleMs, 0)} | ${r.runs} | ${r.note} |`
  );
  return [
    `Machine: ${m.cpu}, ${m.logicalCpus} logical CPUs, ${m.memoryGiB} GiB, ${m.os}, ` +
    `load average ${m.loadAverage1m.toFixed(2)} at the start`,
    `Versions: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(", ")}`,
    "",
    "| provider | tuning | batch | samples/s | ms/batch (median) | min–max ms | samples/CPU-s | first sample ms | runs | note |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ...rows,
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  const read = async (path: string) => {
    try {
      return await Deno.readFile(path);
    } catch (e) {
      throw new UsageError(`cannot read the model file ${path}: ${(e as Error).message}`);
    }
  };
  const model = await read(args.model);
  const against = args.against === undefined
    ? null
    : { bytes: await read(args.against), name: basename(args.against) };
  const budgetMs = args.budget * 1000;
  const m = machine();
  const plan: Array<() => Promise<Result[]>> = args.providers.map((p) => () =>
    against
      ? benchPair(model, against, p, args.batches, args.runs, budgetMs)
      : benchProvider(model, p, {}, "", args.batches, args.runs, budgetMs)
  );
  if (args.tuning) {
    const variants: Array<[SessionTuning, string]> = [
      [{ threads: 1 }, "threads=1"],
      [{ spinning: true }, "spinning=on"],
      [{ optimization: "disabled" }, "optimization=disabled"],
      [{ optimization: "basic" }, "optimization=basic"],
      [{ optimization: "extended" }, "optimization=extended"],
    ];
    for (const [tuning, label] of variants) {
      plan.push(() => benchProvider(model, "cpu", tuning, label, [1, 32], args.runs, budgetMs));
    }
  }
  if (!args["no-tfjs"]) plan.push(() => benchTfjs(args.batches, args.runs, budgetMs));
  if (args.peer) plan.push(() => benchTorchPeer(args.batches));
  const bar = new ProgressBar({ label: "bench", total: plan.length, unit: "runs" });
  const results: Result[] = [];
  for (const [i, step] of plan.entries()) {
    bar.update(i);
    results.push(...await step());
  }
  bar.update(plan.length);
  bar.done();
  const v = await versions();
  console.log(
    args.json
      ? JSON.stringify({ results, machine: m, versions: v }, null, 2)
      : markdown(results, m, v),
  );
  return 0;
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), { inputErrors: [InferenceError], failures: [Error] });
}
