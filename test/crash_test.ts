/**
 * The crash suite: a tiny training run is SIGKILLed at timed moments and, with strace, exactly at an
 * fsync or rename of history.csv, config.json, latents.json, eval.csv and the checkpoint files, or at an
 * appended history row; after each kill `--resume` must succeed and `history.csv` must equal an
 * uninterrupted run's row for row. Bounded by default; DCGAN_CRASH_FULL=1 kills at every point.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import {
  appendInjectionOptions,
  historyRows,
  injectedPath,
  injectionOptions,
  killAfter,
  leftovers,
  listingOptions,
  NEW_RUN,
  recover,
  resumeArgs,
  STEPS,
  straceAvailable,
  type SyscallPoint,
  syscallPoints,
  train,
} from "./crash_harness.ts";

const FULL = Deno.env.get("DCGAN_CRASH_FULL") === "1";
const TIMED_KILLS = FULL ? 16 : 4;

/** The bounded sample of injection points: one per kind of file, both calls, new run and resume. */
const BOUNDED_NEW_RUN = [
  { call: "fsync", path: /^\.config\.json\./ },
  { call: "rename", path: /^config\.json$/ },
  { call: "fsync", path: /^\.history\.csv\./ },
  { call: "fsync", path: /^checkpoints\/\.tmp-step-00002\/generator\/\.weights\.bin\./ },
  { call: "fsync", path: /^checkpoints\/\.tmp-step-00002\/d_optimizer\.bin$/ },
  { call: "rename", path: /^checkpoints\/step-00003$/ },
  { call: "fsync", path: /^\.eval\.csv\./ },
];
const BOUNDED_RESUME = [
  { call: "rename", path: /^config\.json$/ },
  { call: "rename", path: /^history\.csv$/ },
];

function pick(points: SyscallPoint[], wanted: { call: string; path: RegExp }[]): SyscallPoint[] {
  if (FULL) return points;
  return wanted.map((w) => points.find((p) => p.call === w.call && w.path.test(p.path)))
    .filter((p) => p !== undefined);
}

Deno.test("crash suite: every kill resumes to the uninterrupted run's history", async () => {
  const base = await Deno.makeTempDir({ prefix: "crash-" });
  try {
    await crashSuite(base);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

async function crashSuite(base: string): Promise<void> {
  const strace = await straceAvailable();
  if (!strace) {
    console.log("crash suite: strace missing or not permitted here; timed kills only");
  }
  const counts = { kills: 0, timedKills: 0, pointsInjected: 0, resumes: 0, resumesMatched: 0 };
  const misses: string[] = [];

  // Half of the run, as the starting point of kills during a resume. Run first: it also fills Deno's
  // caches, whose writes would shift the fsync and rename counts of the listing run.
  const half = join(base, "half");
  // The same command line with --steps halved (an option may be given only once).
  const halfArgs = NEW_RUN.map((a, i) => NEW_RUN[i - 1] === "--steps" ? String(STEPS / 2) : a);
  const halfRun = await train([...halfArgs, "--out", half]);
  assertEquals(halfRun.code, 0, halfRun.stderr);
  await Deno.remove(join(half, "report.html"));

  // The uninterrupted run (listing its fsync and rename calls when strace is here).
  const ref = join(base, "ref");
  const refLog = join(base, "ref.strace");
  const straight = await train(
    [...NEW_RUN, "--out", ref],
    strace ? listingOptions(refLog) : undefined,
  );
  assertEquals(straight.code, 0, straight.stderr);
  const expected = await historyRows(ref);
  assertEquals(expected.length, STEPS + 1);
  ok(expected[0].includes("inception_score"), expected[0]);

  let n = 0;
  const check = async (runDir: string, what: string) => {
    const resumed = await recover(runDir);
    counts.resumes++;
    assertEquals(resumed.code, 0, `${what}: resume failed\n${resumed.stdout}\n${resumed.stderr}`);
    assertEquals(await historyRows(runDir), expected, `${what}: history differs`);
    // A resume with nothing to do changes nothing: a killed process's stale lock or temporary file stays
    // until the next training session removes it.
    if (!resumed.stdout.includes("Nothing to do")) {
      assertEquals(await leftovers(runDir), [], `${what}: left temporary files`);
    }
    counts.resumesMatched++;
    if (FULL) console.log(`${what}: resumed, history matched`);
  };
  const copyOfHalf = async () => {
    const dir = join(base, `run-${++n}`);
    const cp = await new Deno.Command("cp", { args: ["-r", half, dir] }).output();
    ok(cp.success);
    return dir;
  };

  // Timed kills across the run's life, from start-up to the last checkpoint. The half run filled the
  // caches, so it took longer than a run does now: 0.7 of it falls before a whole run ends.
  for (let k = 0; k < TIMED_KILLS; k++) {
    const dir = join(base, `run-${++n}`);
    const ms = halfRun.ms * (0.1 + (0.6 * k) / Math.max(1, TIMED_KILLS - 1));
    if (await killAfter(dir, ms)) {
      counts.kills++;
      counts.timedKills++;
    }
    await check(dir, `kill after ${ms.toFixed(0)} ms`);
  }

  if (strace) {
    const inject = async (dir: string, point: SyscallPoint, args: string[]) => {
      const log = join(base, `inject-${n}.strace`);
      const out = await train(args, injectionOptions(point, log));
      const what = `SIGKILL at ${point.call} #${point.index} (${point.path})`;
      ok(out.signal === "SIGKILL" || out.code === 137, `${what}: not killed (${out.code})`);
      counts.kills++;
      const hit = await injectedPath(log, dir);
      if (hit === point.path) counts.pointsInjected++;
      else {
        misses.push(`${what}: stopped at ${hit}`);
        if (FULL) console.log(`${what}: MISSED, stopped at ${hit}`);
      }
      await check(dir, what);
    };
    for (const point of pick(await syscallPoints(refLog, ref), BOUNDED_NEW_RUN)) {
      const dir = join(base, `run-${++n}`);
      await inject(dir, point, [...NEW_RUN, "--out", dir]);
    }
    // Kills while a resume rebuilds history.csv and rewrites config.json.
    const listed = await copyOfHalf();
    const resumeLog = join(base, "resume.strace");
    const resumeListing = await train(resumeArgs(listed), listingOptions(resumeLog));
    assertEquals(resumeListing.code, 0, resumeListing.stderr);
    for (const point of pick(await syscallPoints(resumeLog, listed), BOUNDED_RESUME)) {
      const dir = await copyOfHalf();
      await inject(dir, point, resumeArgs(dir));
    }
    // Kills in the middle of appending a history row.
    for (const row of FULL ? [1, 2, 3, 4] : [2]) {
      const dir = join(base, `run-${++n}`);
      const out = await train([...NEW_RUN, "--out", dir], appendInjectionOptions(dir, row));
      ok(out.signal === "SIGKILL" || out.code === 137, `append ${row}: not killed`);
      counts.kills++;
      counts.pointsInjected++;
      await check(dir, `SIGKILL at history.csv append #${row}`);
    }
  }
  console.log(
    `crash suite (${FULL ? "full sweep" : "bounded"}): ${counts.kills} kills made ` +
      `(${counts.timedKills} timed), ${counts.pointsInjected} points injected, ` +
      `${counts.resumesMatched}/${counts.resumes} resumes matched the uninterrupted history`,
  );
  assertEquals(misses, [], "injections that stopped elsewhere than planned");
  assertEquals(counts.resumesMatched, counts.resumes);
  if (strace) ok(counts.pointsInjected >= (FULL ? 30 : 10), `${counts.pointsInjected} points`);
}
