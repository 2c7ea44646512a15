/**
 * `deno task bench:train`: ms per reference training step (batch 32) of the project's real training step on every
 * working backend, each measured in its own process, beside the PyTorch CPU peer measured in the same run.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import {
  benchTrainStep,
  PEER_SCRIPT,
  peerRatioRefusal,
  type PeerResult,
  peerUnavailable,
  runPeer,
  type StepBenchResult,
} from "../src/bench/mod.ts";
import { defaultWorkerCount } from "../src/compute/mod.ts";

const HELP = `Time the reference training step (predict, two D updates, one G update) per backend.

Usage: deno task bench:train [options]

  --backends LIST    comma-separated, or all:
                       wasm          the fallback as training uses it (--kernels auto: convolutions in
                                     onnxruntime-node's native kernels when its binding loads)
                       wasm-workers  wasm kernels split across --workers kernel workers
                       wasm-single   wasm kernels, single-threaded
                       webgpu, tensorflow, cpu (the pure-JS backend, minutes per step)
                     (default: wasm,wasm-workers,webgpu,tensorflow)
  --workers N        kernel workers of wasm-workers besides the main thread (default ${defaultWorkerCount()}: CPUs − 1)
  --threads N        onnxruntime intra-op threads of wasm (default ${navigator.hardwareConcurrency}: logical CPUs)
  --steps N          timed steps per backend after warm-up (default 10; the median is reported)
  --warmup N         warm-up steps (default 2)
  --batch N          batch size (default 32, the reference)
  --max-seconds S    stop timing a backend after S seconds even below --steps (default 120); a backend
                     with no result after 2×S seconds (software WebGPU) is stopped and reported
  --peer-steps N     timed steps of the PyTorch peer (default 10)
  --no-peer          do not run the PyTorch peer
  --python PATH      python with torch (default /usr/bin/python3)
  --peer-script P    the peer (default: the project's src/bench/peer_torch.py)
  --json             print one JSON object: { results, peer, ratio, machine, versions }; the ratio is
                     the first backend's ms/step over the peer's, null (with ratioRefused saying why)
                     when the peer did not run on an optimised BLAS
  --only BACKEND     measure one backend in this process and print its JSON result (used per backend)
  -h, --help         show this help`;

const ALL = ["wasm", "wasm-workers", "wasm-single", "webgpu", "tensorflow", "cpu"] as const;
type Target = typeof ALL[number];
const DEFAULT_TARGETS: Target[] = ["wasm", "wasm-workers", "webgpu", "tensorflow"];
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

function fail(message: string): never {
  console.error(`bench:train: ${message}`);
  Deno.exit(2);
}

function positiveInt(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) fail(`--${name} ${value}: use an integer ≥ ${min}`);
  return n;
}

function parse() {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      strict: true,
      options: {
        backends: { type: "string", default: DEFAULT_TARGETS.join(",") },
        workers: { type: "string", default: String(defaultWorkerCount()) },
        threads: { type: "string", default: String(navigator.hardwareConcurrency) },
        steps: { type: "string", default: "10" },
        warmup: { type: "string", default: "2" },
        batch: { type: "string", default: "32" },
        "max-seconds": { type: "string", default: "120" },
        "peer-steps": { type: "string", default: "10" },
        "no-peer": { type: "boolean", default: false },
        python: { type: "string", default: "/usr/bin/python3" },
        "peer-script": { type: "string", default: PEER_SCRIPT },
        json: { type: "boolean", default: false },
        only: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    fail(`${(e as Error).message} (see --help)`);
  }
  const targets = values.backends === "all"
    ? [...ALL]
    : values.backends.split(",").map((s) => s.trim());
  for (const t of [...targets, ...(values.only ? [values.only] : [])]) {
    if (!(ALL as readonly string[]).includes(t)) {
      fail(`unknown backend '${t}': use ${ALL.join(", ")} or all`);
    }
  }
  return {
    help: values.help,
    json: values.json,
    only: values.only as Target | undefined,
    targets: targets as Target[],
    workers: positiveInt("workers", values.workers, 0),
    threads: positiveInt("threads", values.threads),
    steps: positiveInt("steps", values.steps),
    warmup: positiveInt("warmup", values.warmup, 0),
    batch: positiveInt("batch", values.batch),
    maxSeconds: positiveInt("max-seconds", values["max-seconds"]),
    peerSteps: positiveInt("peer-steps", values["peer-steps"]),
    peer: !values["no-peer"],
    python: values.python,
    peerScript: values["peer-script"],
  };
}

type Args = ReturnType<typeof parse>;

/** Progress on stderr when it is a terminal: step i of n, last step time, ETA. */
function progress(label: string, total: number): (i: number, ms: number) => void {
  if (!Deno.stderr.isTerminal()) return () => {};
  const started = performance.now();
  const encoder = new TextEncoder();
  return (i, ms) => {
    const done = i + 1;
    const elapsed = (performance.now() - started) / 1000;
    const eta = (elapsed / done) * (total - done);
    const bar = "#".repeat(Math.round((20 * done) / total)).padEnd(20, ".");
    const line = `\r${label} [${bar}] ${done}/${total} last ${ms.toFixed(0)} ms, ETA ${
      eta.toFixed(0)
    } s `;
    Deno.stderr.writeSync(encoder.encode(done === total ? line + "\n" : line));
  };
}

/** Measures one backend in this process (the child side of {@link measureInChild}). */
async function measureHere(args: Args, target: Target): Promise<StepBenchResult> {
  const backend = target.startsWith("wasm") ? "wasm" : target as Exclude<Target, `wasm-${string}`>;
  return await benchTrainStep({
    backend,
    kernels: target === "wasm" ? "auto" : "wasm",
    workers: target === "wasm-workers" ? args.workers : 0,
    threads: args.threads,
    batch: args.batch,
    warmup: args.warmup,
    steps: args.steps,
    maxSeconds: args.maxSeconds,
    onStep: progress(target, args.warmup + args.steps),
  });
}

interface Failure {
  backend: Target;
  error: string;
}

/** Runs this script with `--only target` in a fresh process and reads its JSON line. */
async function measureInChild(args: Args, target: Target): Promise<StepBenchResult | Failure> {
  const env: Record<string, string> = {};
  if (target === "webgpu" && !Deno.env.get("VK_ICD_FILENAMES")) {
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
  if (r.kernels === "onnxruntime") return `wasm + onnxruntime kernels (${r.workers} threads)`;
  if (target === "wasm-single") return "wasm, single-threaded";
  if (r.kernels === "wasm") return `wasm + ${r.workers} kernel worker${r.workers === 1 ? "" : "s"}`;
  return r.backend;
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

async function main(): Promise<void> {
  const args = parse();
  if (args.help) {
    console.log(HELP);
    return;
  }
  if (args.only) {
    try {
      console.log(JSON.stringify(await measureHere(args, args.only)));
    } catch (e) {
      console.log(
        JSON.stringify({ backend: args.only, error: (e as Error).message.split("\n")[0] }),
      );
    }
    Deno.exit(0);
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
    const options = {
      python: args.python,
      script: args.peerScript,
      threads: 2,
      steps: args.peerSteps,
    };
    options.threads = Math.max(1, Math.min(navigator.hardwareConcurrency, 2));
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
    return;
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
  if (ratioRefused) console.log(ratioRefused);
  const load = report.machine.loadAverage.map((l) => l.toFixed(1)).join(" ");
  console.log(`Machine: ${report.machine.cpu}, ${report.machine.logicalCpus} CPUs, load ${load}`);
}

await main();
