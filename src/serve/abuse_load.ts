/**
 * The abuse load of `deno task bench:serve --abuse`, on loopback only and bounded in count and time: clients that
 * send large requests and leave, bodies that stop arriving, idle connections and connections that never finish
 * their headers, and digit searches (some abandoned). Through all of it a prober times `GET /v2/health/ready` and
 * reads the server's resident memory, the figures the server promises to keep: health within a second, memory
 * within 512 MB.
 * @module
 */
import { latentsForSeed } from "../infer/mod.ts";
import type { ChildServer } from "./load_generator.ts";

/** How much abuse, and for how long. */
export interface AbuseOptions {
  /** Stop abusing after this many seconds (the prober runs until the clients are done). */
  seconds: number;
  /** Clients that send a 1,024-row request and close the connection before the answer. */
  abandoned: number;
  /** Clients that send most of a 3.3 MB body, then nothing more. */
  slowBodies: number;
  /** Connections that send nothing, or half a request head. */
  idle: number;
  /** `GET /v1/sample.png?n=1024&digit=8` searches, each abandoned after a second. */
  digitSearches: number;
}

/** What the abuse run measured. */
export interface AbuseResult {
  /** Health probes made, and the slowest and median answer (ms; a probe that failed counts as its timeout). */
  probes: number;
  maxHealthMs: number;
  medianHealthMs: number;
  /** Health probes that did not answer 200. */
  healthFailures: number;
  /** The largest resident memory seen (MB), or null where /proc cannot tell. */
  maxRssMb: number | null;
  /** The answers the abusive clients got, by status ("none": closed or cut off before one). */
  statuses: Record<string, number>;
  seconds: number;
}

/** A health probe that has not answered after this long counts as this long. */
const PROBE_TIMEOUT_MS = 5000;
const encoder = new TextEncoder();

/** The resident memory of process `pid` in MB, from /proc (null elsewhere). */
export function residentMb(pid: number): number | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function connect(url: string): Promise<Deno.Conn> {
  const { hostname, port } = new URL(url);
  return await Deno.connect({ hostname, port: Number(port) });
}

/** The status of the answer read from `conn` within `ms`, or "none". */
async function answerStatus(conn: Deno.Conn, ms: number): Promise<string> {
  const buffer = new Uint8Array(4096);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    const n = await conn.read(buffer);
    if (n === null) return "none";
    return /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buffer.subarray(0, n)))?.[1] ??
      "none";
  } catch {
    return "none";
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

function postHead(path: string, length: number): Uint8Array {
  return encoder.encode(
    `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${length}\r\n\r\n`,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the abuse against `server` and measures health latency and memory through it. */
export async function runAbuse(server: ChildServer, options: AbuseOptions): Promise<AbuseResult> {
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const statuses: Record<string, number> = {};
  const count = (status: string) => (statuses[status] = (statuses[status] ?? 0) + 1);
  const inferPath = new URL(`${server.modelUrl}/infer`).pathname;
  const big = encoder.encode(
    JSON.stringify({
      inputs: [{
        name: "latent",
        shape: [1024, 100],
        datatype: "FP32",
        data: Array.from(latentsForSeed(1, 1024, 100)),
      }],
    }),
  );
  const held: Deno.Conn[] = [];
  const spread = (i: number, n: number) => sleep((i / Math.max(1, n)) * options.seconds * 500);

  const abandoned = Array.from({ length: options.abandoned }, async (_, i) => {
    await spread(i, options.abandoned);
    const conn = await connect(server.url);
    await conn.write(postHead(inferPath, big.length));
    await conn.write(big);
    count(await answerStatus(conn, 200));
  });
  const slow = Array.from({ length: options.slowBodies }, async (_, i) => {
    await spread(i, options.slowBodies);
    const conn = await connect(server.url);
    const length = 3_300_000;
    await conn.write(postHead(inferPath, length));
    await conn.write(new Uint8Array(length - 100_000).fill(32)).catch(() => 0);
    count(await answerStatus(conn, Math.max(0, deadline - performance.now())));
  });
  const idle = Array.from({ length: options.idle }, async (_, i) => {
    const conn = await connect(server.url);
    held.push(conn);
    if (i % 2 === 1) await conn.write(encoder.encode("GET /v2/health/live HTTP/1.1\r\nhost: x"));
  });
  const digits = Array.from({ length: options.digitSearches }, async (_, i) => {
    await spread(i, options.digitSearches);
    const conn = await connect(server.url);
    await conn.write(
      encoder.encode(
        `GET /v1/sample.png?n=1024&digit=8&seed=${i} HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`,
      ),
    );
    count(await answerStatus(conn, 1000));
  });

  const latencies: number[] = [];
  let healthFailures = 0;
  let maxRss: number | null = null;
  let clientsDone = false;
  const prober = (async () => {
    while (!clientsDone || performance.now() < deadline) {
      const rss = residentMb(server.pid);
      if (rss !== null) maxRss = Math.max(maxRss ?? 0, rss);
      const t0 = performance.now();
      try {
        const response = await fetch(`${server.url}/v2/health/ready`, {
          signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.status !== 200) healthFailures++;
      } catch {
        healthFailures++;
      }
      latencies.push(Math.min(PROBE_TIMEOUT_MS, performance.now() - t0));
      await sleep(200);
    }
  })();
  await Promise.allSettled([...abandoned, ...slow, ...idle, ...digits]);
  clientsDone = true;
  await prober;
  for (const conn of held) {
    try {
      conn.close();
    } catch {
      // Closed by the server.
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    probes: latencies.length,
    maxHealthMs: latencies.at(-1) ?? NaN,
    medianHealthMs: latencies[Math.floor(latencies.length / 2)] ?? NaN,
    healthFailures,
    maxRssMb: maxRss,
    statuses,
    seconds: (performance.now() - started) / 1000,
  };
}
