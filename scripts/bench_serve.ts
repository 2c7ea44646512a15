/**
 * `deno task bench:serve`: throughput and latency of `deno task serve` under loopback load, at concurrency 1, 8
 * and 64, with dynamic batching on (`--max-batch 64`) and off (`--max-batch 1`). Bounded: each turn of a cell
 * stops after `--seconds` or `--requests`, whichever comes first; the two servers take turns `--repeats` times
 * and the median turn is shown.
 *
 * `--abuse` runs the abuse load instead (`src/serve/abuse_load.ts`): abandoned large requests, slow bodies, idle
 * connections and digit searches against one server, with its health latency and memory sampled throughout; it
 * exits 1 when health took over 1 s or the server's memory passed 512 MB.
 * @module
 */
import {
  integerOption,
  optionsHelp,
  type OptionTable,
  parseOptions,
  runCli,
} from "../src/cli/mod.ts";
import {
  type AbuseResult,
  type ChildServer,
  type LoadResult,
  readMetric,
  runAbuse,
  runLoad,
  SERVE_DEFAULTS,
  SERVE_PROVIDERS,
  spawnServer,
} from "../src/serve/mod.ts";
import { median } from "../src/bench/mod.ts";

const CONCURRENCY = [1, 8, 64];
const OPTIONS = {
  model: {
    kind: "string",
    arg: "FILE",
    default: SERVE_DEFAULTS.model,
    help: "the .onnx generator",
  },
  provider: {
    kind: "string",
    arg: "NAME",
    choices: SERVE_PROVIDERS,
    default: "cpu",
    help: "where the servers run the model",
  },
  seconds: { kind: "integer", arg: "S", default: 2, help: "at most this long per turn of a cell" },
  requests: { kind: "integer", default: 2000, help: "at most this many requests per turn" },
  rows: { kind: "integer", default: 1, help: "latent rows per request" },
  repeats: {
    kind: "integer",
    default: 5,
    help: "turns per cell (both modes take turns; the median is shown)",
  },
  clients: {
    kind: "string",
    arg: "LIST",
    default: CONCURRENCY.join(","),
    help: "concurrency levels",
  },
  abuse: {
    kind: "flag",
    help: "the abuse load instead: abandoned, slow and idle clients and digit searches, with\n" +
      "health latency (target ≤ 1 s) and server memory (target ≤ 512 MB); exit 1 if missed",
  },
  "abuse-seconds": { kind: "integer", arg: "S", default: 30, help: "--abuse: how long it abuses" },
} as const satisfies OptionTable;

/** The targets `--abuse` checks. */
const MAX_HEALTH_MS = 1000;
const MAX_RSS_MB = 512;

const HELP = `Load-test deno task serve on loopback: batching on and off, concurrency 1, 8 and 64.

Usage: deno task bench:serve [options]

${optionsHelp(OPTIONS)}`;

const MODES = [
  { label: "on (--max-batch 64)", maxBatch: SERVE_DEFAULTS.maxBatch },
  { label: "off (--max-batch 1)", maxBatch: 1 },
];

async function main(argv: string[]): Promise<number> {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.abuse) return await abuse(values.model, values.provider, values["abuse-seconds"]);
  const { seconds, requests: maxRequests, rows, repeats: reps } = values;
  const clients = values.clients.split(",").map((c) => integerOption("clients", c, 1));
  const script = new URL("./serve.ts", import.meta.url);
  const servers: ChildServer[] = [];
  try {
    for (const mode of MODES) {
      servers.push(
        await spawnServer(script, [
          "--model",
          values.model,
          "--provider",
          values.provider,
          "--max-batch",
          String(mode.maxBatch),
        ]),
      );
    }
    for (const server of servers) {
      await runLoad({
        modelUrl: server.modelUrl,
        concurrency: 4,
        seconds: 1,
        maxRequests: 40,
        rows,
      });
    }
    // The two servers take turns, in alternating order, so a busy spell on a shared machine hits both alike.
    const cells = new Map<string, Cell[]>();
    const gains = new Map<number, number[]>();
    for (const concurrency of clients) {
      for (let rep = 0; rep < reps; rep++) {
        const turn: number[] = [];
        for (const m of rep % 2 === 0 ? [0, 1] : [1, 0]) {
          const key = `${m}/${concurrency}`;
          const cell = await measure(servers[m], { concurrency, seconds, maxRequests, rows });
          cells.set(key, [...(cells.get(key) ?? []), cell]);
          turn[m] = cell.load.throughput;
          console.error(
            `${MODES[m].label}, ${concurrency} clients: ${cell.load.throughput.toFixed(1)} req/s`,
          );
        }
        gains.set(concurrency, [...(gains.get(concurrency) ?? []), turn[0] / turn[1]]);
      }
    }
    const header =
      "batching              clients  requests   req/s   p50 ms   p99 ms  rows/run  on/off";
    const lines = [header, "-".repeat(header.length)];
    for (const [m, mode] of MODES.entries()) {
      for (const concurrency of clients) {
        const { load: r, rowsPerRun } = medianCell(cells.get(`${m}/${concurrency}`)!);
        const failed = r.failures > 0 ? `  (${r.failures} failed)` : "";
        const gain = m === 0 ? `${median(gains.get(concurrency)!).toFixed(2)}×`.padStart(8) : "";
        const cellsText = [
          mode.label.padEnd(20),
          String(concurrency).padStart(8),
          String(r.requests).padStart(9),
          r.throughput.toFixed(1).padStart(7),
          r.p50Ms.toFixed(1).padStart(8),
          r.p99Ms.toFixed(1).padStart(8),
          rowsPerRun.toFixed(1).padStart(9),
        ];
        lines.push(cellsText.join(" ") + gain + failed);
      }
    }
    console.log(lines.join("\n"));
    console.log(
      `each cell: the turn of median throughput out of ${reps}; on/off: the median ratio of the ` +
        "throughputs of turns taken back to back",
    );
  } finally {
    for (const server of servers) await server.stop();
  }
  return 0;
}

/** Runs the abuse load against one server and prints its figures; 1 when a target is missed. */
async function abuse(model: string, provider: string, seconds: number): Promise<number> {
  const script = new URL("./serve.ts", import.meta.url);
  const server = await spawnServer(script, ["--model", model, "--provider", provider]);
  let result: AbuseResult;
  try {
    result = await runAbuse(server, {
      seconds,
      abandoned: 40,
      slowBodies: 60,
      idle: 400,
      digitSearches: 6,
    });
  } finally {
    await server.stop();
  }
  const rss = result.maxRssMb;
  const healthOk = result.maxHealthMs <= MAX_HEALTH_MS && result.healthFailures === 0;
  const rssOk = rss === null || rss <= MAX_RSS_MB;
  console.log(
    [
      "abuse: 40 abandoned 1,024-row requests, 60 slow 3.3 MB bodies, 400 idle or half-headed connections,",
      `6 abandoned digit searches (n=1024), over ${seconds} s (${
        result.seconds.toFixed(1)
      } s in all)`,
      `health: ${result.probes} probes, max ${result.maxHealthMs.toFixed(0)} ms, median ` +
      `${
        result.medianHealthMs.toFixed(0)
      } ms, ${result.healthFailures} failed (target ≤ ${MAX_HEALTH_MS} ms) ` +
      (healthOk ? "ok" : "MISSED"),
      `server memory: max ${rss === null ? "unknown (no /proc)" : `${rss.toFixed(0)} MB`} RSS ` +
      `(target ≤ ${MAX_RSS_MB} MB) ${rssOk ? "ok" : "MISSED"}`,
      `abusive clients' answers: ${
        Object.entries(result.statuses).sort().map(([k, v]) => `${k} ×${v}`).join(", ")
      }`,
    ].join("\n"),
  );
  return healthOk && rssOk ? 0 : 1;
}

interface Cell {
  load: LoadResult;
  rowsPerRun: number;
}

async function measure(
  server: ChildServer,
  options: Omit<Parameters<typeof runLoad>[0], "modelUrl">,
): Promise<Cell> {
  const runs0 = await readMetric(server.url, "dcgan_serve_batch_rows_count");
  const rows0 = await readMetric(server.url, "dcgan_serve_batch_rows_sum");
  const load = await runLoad({ modelUrl: server.modelUrl, ...options });
  const runs = await readMetric(server.url, "dcgan_serve_batch_rows_count") - runs0;
  const rows = await readMetric(server.url, "dcgan_serve_batch_rows_sum") - rows0;
  return { load, rowsPerRun: rows / runs };
}

/** The cell of median throughput. */
function medianCell(cells: Cell[]): Cell {
  const sorted = [...cells].sort((a, b) => a.load.throughput - b.load.throughput);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

if (import.meta.main) await runCli(() => main(Deno.args), { failures: [Error] });
