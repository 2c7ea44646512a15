/**
 * `deno task bench:train`: ms per reference training step (batch 32) of the project's real training step on every
 * working backend, each measured in its own process, beside the PyTorch CPU peer measured in the same run.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  optionsHelp,
  type OptionTable,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";
import {
  benchTrainStep,
  PEER_SCRIPT,
  peerRatioRefusal,
  type PeerResult,
  peerUnavailable,
  runPeer,
  type StepBenchResult,
} from "../src/bench/mod.ts";
import { defaultWorkerCount, type DeviceName } from "../src/compute/mod.ts";

const ALL = [
  "compiled",
  "compiled-webgpu",
  "compiled-cuda",
  "wasm",
  "wasm-workers",
  "wasm-single",
  "webgpu",
  "tensorflow",
  "cpu",
] as const;
type Target = typeof ALL[number];
const DEFAULT_TARGETS: Target[] = ["compiled", "wasm", "tensorflow"];
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

const OPTIONS = {
  backends: {
    kind: "string",
    arg: "LIST",
    default: DEFAULT_TARGETS.join(","),
    help: "comma-separated, or all:\n" +
      "  compiled      the compiled step (--engine onnxruntime) on onnxruntime-node's cpu\n" +
      "  compiled-webgpu, compiled-cuda  the compiled step on those execution providers\n" +
      "  wasm          the TF.js step as training uses it (--kernels auto: convolutions in\n" +
      "                onnxruntime-node's native kernels when its binding loads)\n" +
      "  wasm-workers  wasm kernels split across --workers kernel workers\n" +
      "  wasm-single   wasm kernels, single-threaded\n" +
      "  webgpu, tensorflow, cpu (the pure-JS backend, minutes per step)",
  },
  workers: {
    kind: "integer",
    min: 0,
    default: defaultWorkerCount(),
    defaultHelp: `${defaultWorkerCount()}: CPUs − 1`,
    help: "kernel workers of wasm-workers besides the main thread",
  },
  threads: {
    kind: "integer",
    default: navigator.hardwareConcurrency,
    defaultHelp: `${navigator.hardwareConcurrency}: logical CPUs`,
    help: "onnxruntime intra-op threads of compiled and wasm",
  },
  steps: {
    kind: "integer",
    default: 10,
    help: "timed steps per backend after warm-up (the median is reported)",
  },
  warmup: { kind: "integer", min: 0, default: 2, help: "warm-up steps" },
  batch: { kind: "integer", default: 32, help: "batch size (32 is the reference)" },
  "max-seconds": {
    kind: "integer",
    arg: "S",
    default: 120,
    help: "stop timing a backend after S seconds even below --steps; a backend with no\n" +
      "result after 2×S seconds (software WebGPU) is stopped and reported",
  },
  "peer-steps": { kind: "integer", default: 10, help: "timed steps of the PyTorch peer" },
  "no-peer": { kind: "flag", help: "do not run the PyTorch peer" },
  python: { kind: "string", arg: "PATH", default: "/usr/bin/python3", help: "python with torch" },
  "peer-script": {
    kind: "string",
    arg: "P",
    default: PEER_SCRIPT,
    defaultHelp: "the project's src/bench/peer_torch.py",
    help: "the peer",
  },
  json: {
    kind: "flag",
    help: "print one JSON object: { results, peer, ratio, machine, versions }; the ratio is\n" +
      "the first backend's ms/step over the peer's, null (with ratioRefused saying why)\n" +
      "when the peer did not run on an optimised BLAS",
  },
  profile: {
    kind: "flag",
    help: "also print where the step time goes: for compiled, onnxruntime's per-node profile\n" +
      "by update, layer and direction; for wasm, convolutions by layer and direction, TF.js\n" +
      "ops and BatchNorm by layer, Adam, data, and the rest",
  },
  only: {
    kind: "string",
    arg: "BACKEND",
    choices: ALL,
    help: "measure one backend in this process, print its JSON (used per backend)",
  },
} as const satisfies OptionTable;

const HELP = `Time the reference training step (predict, two D updates, one G update) per backend.

Usage: deno task bench:train [options]

${optionsHelp(OPTIONS)}`;

function parse(argv: string[]) {
  const { values } = parseOptions(OPTIONS, argv);
  const targets = values.backends === "all"
    ? [...ALL]
    : values.backends.split(",").map((s) => s.trim());
  for (const t of targets) {
    if (!(ALL as readonly string[]).includes(t)) {
      throw new UsageError(`unknown backend '${t}': use ${ALL.join(", ")} or all`);
    }
  }
  return {
    ...values,
    only: values.only as Target | undefined,
    targets: targets as Target[],
    maxSeconds: values["max-seconds"],
    peerSteps: values["peer-steps"],
    peer: !values["no-peer"],
    peerScript: values["peer-script"],
  };
}

type Args = ReturnType<typeof parse>;

/** A progress bar on stderr (when it is a terminal) for one backend's steps. */
function progress(label: string, total: number): (i: number, ms: number) => void {
  const bar = new ProgressBar({ label, total, unit: "steps" });
  return (i, ms) => {
    bar.update(i + 1, { note: `last ${ms.toFixed(0)} ms` });
    if (i + 1 === total) bar.done();
  };
}

/** Measures one backend in this process (the child side of {@link measureInChild}). */
async function measureHere(args: Args, target: Target): Promise<StepBenchResult> {
  const compiled = target.startsWith("compiled");
  const backend = target.startsWith("wasm") || compiled
    ? "wasm"
    : target as Exclude<Target, `wasm-${string}` | `compiled${string}`>;
  return await benchTrainStep({
    device: compiled ? (target.split("-")[1] ?? "cpu") as DeviceName : undefined,
    backend,
    kernels: target === "wasm" ? "auto" : "wasm",
    workers: target === "wasm-workers" ? args.workers : 0,
    threads: args.threads,
    batch: args.batch,
    warmup: args.warmup,
    steps: args.steps,
    maxSeconds: args.maxSeconds,
    onStep: progress(target, args.warmup + args.steps),
    profile: args.profile && (target === "wasm" || compiled),
  });
}

interface Failure {
  backend: Target;
  error: string;
}

/** Runs this script with `--only target` in a fresh process and reads its JSON line. */
async function measureInChild(args: Args, target: Target): Promise<StepBenchResult | Failure> {
  const env: Record<string, string> = {};
  if (target.endsWith("webgpu") && !Deno.env.get("VK_ICD_FILENAMES")) {
    try {
      await Deno.stat(SWIFTSHADER_ICD);
      env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    } catch {
      // No software Vulkan driver here: the GPU's own driver, if any, is used.
    }
  }
  const childArgs = [
    "run",
    "-A",
    new URL(import.meta.url).pathname,
    "--only",
    target,
    "--workers",
    String(args.workers),
    "--threads",
    String(args.threads),
    "--steps",
    String(args.steps),
    "--warmup",
    String(args.warmup),
    "--batch",
    String(args.batch),
    "--max-seconds",
    String(args.maxSeconds),
    ...(args.profile ? ["--profile"] : []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: childArgs,
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // A backend that cannot finish its warm-up and one timed step in time (software WebGPU) is stopped.
  const limitSeconds = 2 * args.maxSeconds;
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitSeconds * 1000);
  const out = await child.output();
  clearTimeout(timer);
  if (killed) {
    return {
      backend: target,
      error: `no result within ${limitSeconds} s (too slow here), stopped`,
    };
  }
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(text) as StepBenchResult | Failure;
  } catch {
    return { backend: target, error: `exited with code ${out.code}` };
  }
}

/** The name a result is printed under: the backend, and for wasm where its convolutions ran. */
function label(target: Target, r: StepBenchResult): string {
  if (target.startsWith("compiled")) return `compiled step, ${r.engine}, ${r.workers} threads`;
  if (r.kernels === "onnxruntime") return `wasm + onnxruntime kernels (${r.workers} threads)`;
  if (target === "wasm-single") return "wasm, single-threaded";
  if (r.kernels === "wasm") return `wasm + ${r.workers} kernel worker${r.workers === 1 ? "" : "s"}`;
  return r.backend;
}

/** The profile of one result as a table: group, what, ms per step, share, kernel calls per step. */
function formatProfile(r: StepBenchResult): string {
  const rows = r.profile!;
  const width = Math.max(...rows.map((p) => p.group.length + p.what.length + 2));
  const lines = rows.map((p) =>
    `  ${`${p.group}: ${p.what}`.padEnd(width)} ${p.msPerStep.toFixed(1).padStart(7)} ms ` +
    `${(100 * p.msPerStep / r.meanMs).toFixed(1).padStart(5)} %` +
    (p.calls ? `  ${p.calls.toFixed(0).padStart(4)} calls` : "")
  );
  const groups = new Map<string, number>();
  for (const p of rows) groups.set(p.group, (groups.get(p.group) ?? 0) + p.msPerStep);
  const summary = [...groups].sort((a, b) => b[1] - a[1]).map(([g, ms]) =>
    `  ${g.padEnd(width)} ${ms.toFixed(1).padStart(7)} ms ${
      (100 * ms / r.meanMs).toFixed(1).padStart(5)
    } %`
  );
  return [
    `Profile of ${r.backend}: mean step ${r.meanMs.toFixed(1)} ms over ${r.steps} steps`,
    "By group:",
    ...summary,
    "In detail:",
    ...lines,
  ].join("\n");
}

function machine() {
  let cpu = "unknown";
  try {
    cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpu;
  } catch {
    // Not Linux: the model name stays unknown.
  }
  return {
    cpu,
    logicalCpus: navigator.hardwareConcurrency,
    loadAverage: Deno.loadavg(),
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.help) {
    console.log(HELP);
    return 0;
  }
  if (args.only) {
    try {
      console.log(JSON.stringify(await measureHere(args, args.only)));
    } catch (e) {
      console.log(
        JSON.stringify({ backend: args.only, error: (e as Error).message.split("\n")[0] }),
      );
    }
    return 0;
  }
  const loadBefore = Deno.loadavg();
  const results: StepBenchResult[] = [];
  const failures: Failure[] = [];
  for (const target of args.targets) {
    if (!args.json) console.error(`measuring ${target} ...`);
    const r = await measureInChild(args, target);
    if ("error" in r) failures.push(r);
    else {
      results.push({ ...r, backend: label(target, r) });
    }
  }
  let peer: PeerResult | { error: string } | null = null;
  if (args.peer) {
    // The peer gets the same threads as our targets, so that --threads 1 compares one core with one core.
    const options = {
      python: args.python,
      script: args.peerScript,
      threads: Math.max(1, args.threads),
      steps: args.peerSteps,
    };
    const why = await peerUnavailable(options);
    if (!args.json) console.error(why ?? "measuring the PyTorch peer ...");
    peer = why
      ? { error: why }
      : await runPeer(options).catch((e) => ({ error: (e as Error).message }));
  }
  // The ratio is of the fallback as training uses it (the first target, wasm, by default).
  const main = results[0];
  const ratioRefused = peer && "msPerStep" in peer ? peerRatioRefusal(peer) : null;
  const ratio = main && peer && "msPerStep" in peer && !ratioRefused
    ? main.msPerStep / peer.msPerStep
    : null;
  const report = {
    results,
    failures,
    peer,
    ratio,
    ratioRefused,
    ratioOf: main ? `${main.backend} / peer` : null,
    machine: { ...machine(), loadAverageBefore: loadBefore },
    versions: {
      deno: Deno.version.deno,
      tfjs: tf.version.tfjs,
      torch: peer && "torch" in peer ? peer.torch : null,
    },
  };
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
    return 0;
  }
  console.log(`Training step, batch ${args.batch} (median of timed steps after warm-up):`);
  const width = Math.max(
    24,
    ...results.map((r) => r.backend.length),
    ...failures.map((f) => f.backend.length),
  );
  for (const r of results) {
    console.log(
      `  ${r.backend.padEnd(width)} ${r.msPerStep.toFixed(0).padStart(7)} ms/step  ` +
        `(min ${r.minMs.toFixed(0)}, max ${
          r.maxMs.toFixed(0)
        }, n=${r.steps}, workers ${r.workers}, ` +
        `${r.cpuSecondsPerStep.toFixed(2)} CPU s/step)  10,000 steps ≈ ${
          r.hoursFor10kSteps.toFixed(1)
        } h`,
    );
  }
  for (const f of failures) console.log(`  ${f.backend.padEnd(width)} unavailable: ${f.error}`);
  if (peer && "msPerStep" in peer) {
    console.log(
      `  ${"PyTorch peer".padEnd(width)} ${peer.msPerStep.toFixed(0).padStart(7)} ms/step  ` +
        `(torch ${peer.torch}, ${peer.threads} threads, BLAS ${peer.blas})`,
    );
    if (peer.floorMs !== null) {
      console.log(
        `  ${"floor".padEnd(width)} ${String(peer.floorMs).padStart(7)} ms/step  ` +
          `(the step's FLOPs at the peer's best matrix rate, ${peer.gemmGflops} GFLOP/s)`,
      );
    }
  } else if (peer) {
    console.log(`  PyTorch peer: ${peer.error}`);
  }
  if (ratio !== null) console.log(`Ratio ${report.ratioOf}: ${ratio.toFixed(2)}×`);
  for (const r of results) if (r.profile) console.log(formatProfile(r));
  if (ratioRefused) console.log(ratioRefused);
  const load = report.machine.loadAverage.map((l) => l.toFixed(1)).join(" ");
  console.log(`Machine: ${report.machine.cpu}, ${report.machine.logicalCpus} CPUs, load ${load}`);
  return 0;
}

await runCli(() => main(Deno.args), { prefix: "bench:train" });
