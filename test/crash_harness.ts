/**
 * The crash harness: runs a tiny training (`deno task train`, batch 4, a checkpoint after every step, an
 * evaluation every 2 steps), kills it with SIGKILL at timed moments or, with strace, exactly at one
 * fsync, rename or history append, resumes it, and compares `history.csv` with an uninterrupted run's.
 */
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const script = join(root, "scripts/train.ts");

/** Deno's cache, named explicitly so that each run can have its own HOME. */
const DENO_DIR = Deno.env.get("DENO_DIR") ??
  join(Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/root", ".cache"), "deno");

/**
 * Runs `body` with the environment of one run: a fresh HOME (removed afterwards) keeps onnxruntime's own
 * cache database, which fsyncs now and then, out of the run, so that the run's sequence of fsync and
 * rename calls is the same every time.
 */
async function withRunEnv<T>(body: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const home = await Deno.makeTempDir({ prefix: "crash-home-" });
  try {
    return await body({ NO_COLOR: "1", DENO_DIR, HOME: home });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** Steps of the tiny run. */
export const STEPS = 4;
/** Options of the tiny run that a resume may repeat. */
const RUN_OPTIONS = [
  "--backend",
  "wasm",
  "--threads",
  "1",
  "--checkpoint-every",
  "1",
  "--log-every",
  "100",
  "--sample-every",
  "0",
  "--steps",
  String(STEPS),
  "--eval-every",
  "2",
  "--eval-count",
  "8",
];
/** The whole command line of a new tiny run (a fixed seed). */
export const NEW_RUN = [
  ...RUN_OPTIONS,
  "--batch-size",
  "4",
  "--seed",
  "11",
];

/** How one process ended. */
export interface Outcome {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `deno run scripts/train.ts args`, under `strace` when `strace` is given. */
export async function train(args: string[], strace?: string[]): Promise<Outcome> {
  const deno = [Deno.execPath(), "run", "-A", "--no-code-cache", script, ...args];
  const [cmd, ...rest] = strace ? ["strace", ...strace, ...deno] : deno;
  const started = performance.now();
  const out = await withRunEnv((env) =>
    new Deno.Command(cmd, { args: rest, cwd: root, env, stdout: "piped", stderr: "piped" }).output()
  );
  const text = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    ms: performance.now() - started,
  };
}

/** Starts a new tiny run into `runDir` and SIGKILLs it after `ms`; true when the kill came first. */
export async function killAfter(runDir: string, ms: number): Promise<boolean> {
  return await withRunEnv(async (env) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, ...NEW_RUN, "--out", runDir],
      cwd: root,
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    let finished = false;
    const status = child.status.then((s) => {
      finished = true;
      return s;
    });
    await Promise.race([status, new Promise((r) => setTimeout(r, ms))]);
    if (!finished) child.kill("SIGKILL");
    return (await status).signal === "SIGKILL";
  });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The command line that resumes the tiny run in `runDir`. */
export function resumeArgs(runDir: string): string[] {
  return ["--resume", runDir, ...RUN_OPTIONS];
}

/**
 * Continues a killed run: `--resume` once it has a `config.json`; before that the folder holds no run
 * yet and the same new-run command is given again.
 */
export async function recover(runDir: string): Promise<Outcome> {
  return await exists(join(runDir, "config.json"))
    ? await train(resumeArgs(runDir))
    : await train([...NEW_RUN, "--out", runDir]);
}

/** The rows of `history.csv` without the wall-time column (the only one that differs between runs). */
export async function historyRows(runDir: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(runDir, "history.csv"));
  const lines = text.trim().split("\n").map((l) => l.split(","));
  const seconds = lines[0].indexOf("seconds");
  return lines.map((cells) => cells.filter((_, i) => i !== seconds).join(","));
}

/** Files a crash may leave that a resume that trained must have removed or never left. */
export async function leftovers(runDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      const lock = e.name === ".lock";
      if (e.name.endsWith(".tmp") || e.name.startsWith(".tmp-step-") || lock) {
        found.push(path);
      } else if (e.isDirectory) await walk(path);
    }
  };
  await walk(runDir);
  return found;
}

/** One syscall of the main thread seen by strace: its kind, its index among its kind, and its path. */
export interface SyscallPoint {
  call: "fsync" | "rename";
  /** 1-based index among the main thread's calls of this kind (strace's `when=`). */
  index: number;
  /**
   * The file fsynced, or the rename's target, relative to the run folder; a temporary file's process
   * and random tag are left out (`.config.json.tmp`), so that runs compare.
   */
  path: string;
}

/** strace options that list a run's fsync and rename calls with their paths into `log`. */
export function listingOptions(log: string): string[] {
  return ["-f", "-qq", "-y", "-o", log, "-e", "trace=fsync,rename"];
}

/** The fsync and rename calls of the thread that writes the run folder, in order. */
export async function syscallPoints(log: string, runDir: string): Promise<SyscallPoint[]> {
  const lines = (await Deno.readTextFile(log)).split("\n");
  const pattern = /^(\d+)\s+(fsync|rename)\((?:\d+<([^>]*)>|"[^"]*", "([^"]*)")/;
  const parsed = lines.map((l) => pattern.exec(l)).filter((m) => m !== null);
  const writer = parsed.find((m) => (m[3] ?? m[4]).startsWith(runDir))?.[1];
  const counts = { fsync: 0, rename: 0 };
  const points: SyscallPoint[] = [];
  for (const m of parsed) {
    if (m[1] !== writer) continue;
    const call = m[2] as "fsync" | "rename";
    const index = ++counts[call];
    const path = (m[3] ?? m[4]).replace(/\.\d+-[0-9a-z]+\.tmp$/, ".tmp");
    if (path.startsWith(runDir)) points.push({ call, index, path: path.slice(runDir.length + 1) });
  }
  return points;
}

/** strace options that SIGKILL the traced run at the `index`-th call of `call`, logging into `log`. */
export function injectionOptions(point: SyscallPoint, log: string): string[] {
  return [
    "-f",
    "-qq",
    "-y",
    "-o",
    log,
    "-e",
    "trace=fsync,rename",
    "-e",
    `inject=${point.call}:signal=KILL:when=${point.index}`,
  ];
}

/** strace options that SIGKILL the run at its `n`-th write to `history.csv` (an appended row). */
export function appendInjectionOptions(runDir: string, n: number): string[] {
  return [
    "-f",
    "-qq",
    "-o",
    "/dev/null",
    "-P",
    join(runDir, "history.csv"),
    "-e",
    "trace=write",
    "-e",
    `inject=write:signal=KILL:when=${n}`,
  ];
}

/** The path of the call that the injection stopped at (the last one logged), relative to the run. */
export async function injectedPath(log: string, runDir: string): Promise<string | null> {
  const points = await syscallPoints(log, runDir);
  return points.at(-1)?.path ?? null;
}

/** Whether `strace` is installed and may trace here (containers may forbid ptrace). */
export async function straceAvailable(): Promise<boolean> {
  try {
    const args = ["-f", "-o", "/dev/null", "true"];
    const out = await new Deno.Command("strace", { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}
