/**
 * `deno task bench:export`: times the ONNX export of the generator (load checkpoint → convert → encode → write),
 * phase by phase, in wall-clock and CPU time. The first repetition is the cold cost a `deno task export` process
 * pays; the rest are warm. As a peer in the same run it times the I/O floor: reading the checkpoint files and
 * writing as many bytes as the `.onnx` file.
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { optionsHelp, type OptionTable, parseOptions, runCli } from "../src/cli/mod.ts";
import { initBackend } from "../src/compute/mod.ts";
import { loadLayersModel, saveLayersModel } from "../src/checkpoint/mod.ts";
import { median } from "../src/bench/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import {
  convertLayersModel,
  encodeModel,
  type ModelKind,
  resolveModelSource,
} from "../src/onnx/mod.ts";
import { writeFileAtomic } from "../src/fsio/mod.ts";

const OPTIONS = {
  checkpoint: {
    kind: "string",
    arg: "PATH",
    defaultHelp: "a fresh seed-0 generator in a temp folder",
    help: "run, checkpoint or model folder",
  },
  reps: { kind: "integer", min: 2, default: 5, help: "repetitions; the first is reported as cold" },
} as const satisfies OptionTable;

const HELP = `Benchmark the ONNX export of a generator.

Usage: deno task bench:export [--checkpoint PATH] [--reps N]

${optionsHelp(OPTIONS)}`;

const PHASES = ["load", "convert", "encode", "write"] as const;
type Phase = typeof PHASES[number];
interface Lap {
  wall: number;
  cpu: number;
}

/** Runs `fn` and returns its result with the wall-clock and CPU (user + system) milliseconds it took. */
async function timed<T>(fn: () => Promise<T> | T): Promise<[T, Lap]> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return [result, { wall, cpu: (cpu.user + cpu.system) / 1000 }];
}

const fmt = (lap: Lap) => `${lap.wall.toFixed(0).padStart(6)} ${lap.cpu.toFixed(0).padStart(6)}`;

async function main() {
  const args = parseOptions(OPTIONS, Deno.args).values;
  if (args.help) {
    console.log(HELP);
    return;
  }
  await initBackend("auto");
  const tmp = await Deno.makeTempDir({ prefix: "bench_export_" });
  try {
    let modelDir: string;
    if (args.checkpoint) {
      modelDir = (await resolveModelSource(args.checkpoint, "generator" as ModelKind)).modelDir;
    } else {
      modelDir = join(tmp, "generator");
      const g = buildGenerator({ seed: 0 });
      await saveLayersModel(g, modelDir);
      g.dispose();
    }
    const out = join(tmp, "generator.onnx");
    const laps: Record<Phase | "total" | "floor", Lap[]> = {
      load: [],
      convert: [],
      encode: [],
      write: [],
      total: [],
      floor: [],
    };
    let size = 0;
    for (let rep = 0; rep < args.reps; rep++) {
      const [model, load] = await timed(() => loadLayersModel(modelDir));
      const [proto, convert] = await timed(() => convertLayersModel(model));
      const [bytes, encode] = await timed(() => encodeModel(proto));
      const [, write] = await timed(() => writeFileAtomic(out, bytes));
      model.dispose();
      size = bytes.length;
      const total = [load, convert, encode, write].reduce((a, b) => ({
        wall: a.wall + b.wall,
        cpu: a.cpu + b.cpu,
      }));
      const [, floor] = await timed(async () => {
        await Deno.readFile(join(modelDir, "model.json"));
        await Deno.readFile(join(modelDir, "weights.bin"));
        await Deno.writeFile(join(tmp, "floor.bin"), new Uint8Array(size));
      });
      Object.entries({ load, convert, encode, write, total, floor }).forEach(([k, v]) =>
        laps[k as keyof typeof laps].push(v)
      );
    }
    console.log(
      `generator export, ${size.toLocaleString("en-US")} bytes, TF.js ${tf.getBackend()}`,
    );
    console.log(
      `load average ${Deno.loadavg().map((x) => x.toFixed(1)).join(" ")} on ` +
        `${navigator.hardwareConcurrency} CPUs (wall ≫ CPU means the machine is busy)`,
    );
    console.log(`${"".padEnd(9)}   cold (ms)        warm median (ms)`);
    console.log(`${"phase".padEnd(9)}   wall    cpu        wall    cpu`);
    for (const k of [...PHASES, "total", "floor"] as const) {
      const warm = laps[k].slice(1);
      const w = { wall: median(warm.map((l) => l.wall)), cpu: median(warm.map((l) => l.cpu)) };
      console.log(`${k.padEnd(9)} ${fmt(laps[k][0])}      ${fmt(w)}`);
    }
    const ratio = median(laps.total.slice(1).map((l, i) => l.cpu / laps.floor[i + 1].cpu));
    console.log(`warm export CPU / I/O floor CPU (median of per-rep ratios): ${ratio.toFixed(1)}×`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

await runCli(main);
