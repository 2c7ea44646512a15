import { deepStrictEqual as assertEquals, match, ok, throws } from "node:assert/strict";
import {
  formatDuration,
  integerOption,
  optionsHelp,
  type OptionTable,
  parseCommandLine,
  parseOptions,
  ProgressBar,
  runCli,
  UsageError,
} from "../src/cli/mod.ts";

Deno.test("formatDuration: m:ss below an hour, h:mm:ss above, --:-- when unknown", () => {
  const cases: Array<[number, string]> = [
    [0, "0:00"],
    [9.4, "0:09"],
    [59.6, "1:00"],
    [185, "3:05"],
    [3599, "59:59"],
    [3600, "1:00:00"],
    [3725, "1:02:05"],
    [-3, "0:00"],
    [Infinity, "--:--"],
    [NaN, "--:--"],
  ];
  for (const [seconds, text] of cases) assertEquals(formatDuration(seconds), text, String(seconds));
});

/** A bar on a fake clock that records what it writes. */
function fakeBar(options: { label?: string; total?: number; first?: number; unit?: string }) {
  let ms = 0;
  const written: string[] = [];
  const bar = new ProgressBar({
    ...options,
    enabled: true,
    now: () => ms,
    write: (text) => written.push(text),
  });
  return { bar, written, advance: (by: number) => ms += by };
}

Deno.test("ProgressBar: the training line (resumed run: rate counts only the new steps)", () => {
  const { bar, written, advance } = fakeBar({ total: 100, first: 40, unit: "steps" });
  advance(4000);
  bar.update(50);
  // 10 steps in 4 s = 2.5 steps/s; 50 left → 20 s.
  assertEquals(written, [
    `\r\x1b[K${"█".repeat(15)}${"░".repeat(15)} 50/100 2.50 steps/s ETA 0:20`,
  ]);
  bar.clear();
  assertEquals(written.at(-1), "\r\x1b[K");
  bar.clear();
  assertEquals(written.length, 2, "a second clear writes nothing");
});

Deno.test("ProgressBar: label, total given on update, note; throttled; done ends the line", () => {
  const { bar, written, advance } = fakeBar({ label: "sample", unit: "samples" });
  advance(1000);
  bar.update(1, { total: 4, note: "loss 0.5000" });
  assertEquals(
    written[0],
    `\r\x1b[Ksample ${"█".repeat(8)}${"░".repeat(22)} 1/4 1.00 samples/s ETA 0:03 loss 0.5000`,
  );
  advance(100);
  bar.update(2);
  assertEquals(written.length, 1, "within 200 ms of the last draw");
  bar.update(4);
  assertEquals(written.length, 2, "the last item is always drawn");
  match(written[1], / 4\/4 3\.64 samples\/s ETA 0:00$/);
  bar.done();
  assertEquals(written.at(-1), "\n");
  bar.done();
  assertEquals(written.length, 3);
});

Deno.test("ProgressBar: disabled draws nothing; the first draw has no rate yet", () => {
  const writes: string[] = [];
  const off = new ProgressBar({ total: 3, enabled: false, write: (t) => writes.push(t) });
  off.update(1);
  off.clear();
  off.done();
  assertEquals(writes, []);
  const { bar, written } = fakeBar({ total: 3 });
  bar.update(0);
  match(written[0], / 0\/3 - it\/s ETA --:--$/);
});

Deno.test("parseCommandLine: a bad command line is one UsageError line ending in (see --help)", () => {
  const config = { options: { lr: { type: "string" as const } }, strict: true };
  assertEquals(parseCommandLine({ ...config, args: ["--lr", "2"] }).values.lr, "2");
  throws(
    () => parseCommandLine({ ...config, args: ["--bogus"] }),
    (e: Error) =>
      e instanceof UsageError && /Unknown option '--bogus'.*\(see --help\)$/.test(e.message),
  );
  throws(
    () => parseCommandLine({ ...config, args: ["--lr", "-1"] }),
    (e: Error) =>
      e instanceof UsageError && !e.message.includes("\n") && /ambiguous/.test(e.message),
  );
});

Deno.test("integerOption: the value, or a UsageError that names the option and what it wants", () => {
  assertEquals(integerOption("steps", "12", 1), 12);
  assertEquals(integerOption("seed", "0", 0), 0);
  const cases: Array<[string, number, string]> = [
    ["0", 1, '--n must be a positive integer, got "0"'],
    ["-1", 0, '--n must be a non-negative integer, got "-1"'],
    ["1", 2, '--n must be an integer ≥ 2, got "1"'],
    ["", 0, '--n must be a non-negative integer, got ""'],
    ["2.5", 1, '--n must be a positive integer, got "2.5"'],
    ["1e400", 1, '--n must be a positive integer, got "1e400"'],
  ];
  assertEquals(integerOption("port", "65535", 0, 65535), 65535);
  throws(
    () => integerOption("port", "65536", 0, 65535),
    (e: Error) =>
      e instanceof UsageError &&
      e.message === '--port must be an integer from 0 to 65535, got "65536"',
  );
  for (const [text, min, message] of cases) {
    throws(
      () => integerOption("n", text, min),
      (e: Error) => e instanceof UsageError && e.message === message,
    );
  }
});

class InputError extends Error {}
class Diverged extends Error {}

/** Runs `main` through runCli and returns the exit code it asked for (null: none) and the lines. */
async function outcome(main: () => Promise<number | void>, prefix?: string) {
  let code: number | null = null;
  const lines: unknown[] = [];
  await runCli(main, {
    prefix,
    inputErrors: [InputError],
    failures: [Diverged],
    exit: (c) => code = c,
    printError: (line) => lines.push(line),
  });
  return { code, lines };
}

Deno.test("runCli: exit codes and the one error line", async () => {
  assertEquals(await outcome(() => Promise.resolve(0)), { code: 0, lines: [] });
  assertEquals(await outcome(() => Promise.resolve(130)), { code: 130, lines: [] });
  assertEquals(await outcome(() => Promise.resolve()), { code: null, lines: [] });
  assertEquals(
    await outcome(() => Promise.reject(new UsageError("--steps must be a positive integer"))),
    { code: 2, lines: ["error: --steps must be a positive integer"] },
  );
  assertEquals(await outcome(() => Promise.reject(new InputError("x: not found")), "train"), {
    code: 2,
    lines: ["train: x: not found"],
  });
  assertEquals(await outcome(() => Promise.reject(new Diverged("NaN loss")), "train"), {
    code: 1,
    lines: ["train: NaN loss"],
  });
  const bug = new RangeError("index out of range");
  const other = await outcome(() => Promise.reject(bug));
  assertEquals(other.code, 1);
  ok(other.lines[0] === bug, "an unexpected error is printed whole, with its stack");
});

Deno.test("runCli in a real process: one line on stderr and exit code 2", async () => {
  const code = `import { runCli, UsageError } from "${
    new URL("../src/cli/mod.ts", import.meta.url).href
  }";\nawait runCli(() => { throw new UsageError("--x must be 1"); }, { prefix: "demo" });`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 2);
  assertEquals(new TextDecoder().decode(out.stderr), "demo: --x must be 1\n");
});

const TABLE = {
  count: { kind: "integer", short: "n", default: 64, max: 1000, help: "images" },
  seed: { kind: "integer", min: 0, help: "seed of the latents" },
  provider: { kind: "string", default: "auto", choices: ["auto", "cpu"], help: "where to run" },
  out: {
    kind: "string",
    arg: "FILE",
    defaultHelp: "samples.png",
    help: "output\nwritten atomically",
  },
  json: { kind: "flag", help: "print JSON" },
} as const satisfies OptionTable;

Deno.test("parseOptions: defaults, integers, choices and flags from one table", () => {
  const { values } = parseOptions(TABLE, ["-n", "8", "--provider", "cpu", "--json"]);
  assertEquals(values, {
    count: 8,
    seed: undefined,
    provider: "cpu",
    out: undefined,
    json: true,
    help: false,
  });
  assertEquals(parseOptions(TABLE, []).values.count, 64);
  const bad = (args: string[], message: string) =>
    throws(
      () => parseOptions(TABLE, args),
      (e: Error) => e instanceof UsageError && e.message === message,
    );
  bad(["--count", "0"], '--count must be an integer from 1 to 1000, got "0"');
  bad(["--count", "1001"], '--count must be an integer from 1 to 1000, got "1001"');
  bad(["--seed=-1"], '--seed must be a non-negative integer, got "-1"');
  bad(["--provider", "tpu"], '--provider must be one of auto, cpu, got "tpu"');
  bad(["--bogus"], "Unknown option '--bogus' (see --help)");
  // Plain decimal integers only: hex, binary, padded, fractional and exponent forms are refused.
  for (const text of ["0x10", " 8", "8 ", "8.0", "1e3", "+8"]) {
    bad(["-n", text], `--count must be an integer from 1 to 1000, got "${text}"`);
  }
  for (const text of ["0b11", "1e3", "0o7", "1_000"]) {
    bad(["--seed", text], `--seed must be a non-negative integer, got "${text}"`);
  }
  // An option given twice, by either name, is refused rather than resolved silently.
  bad(["-n", "4", "--count", "8"], "--count is given more than once; give it once (see --help)");
  bad(["--json", "--json"], "--json is given more than once; give it once (see --help)");
});

Deno.test("optionsHelp: one aligned row per option, defaults and choices from the table", () => {
  assertEquals(optionsHelp(TABLE).split("\n"), [
    "  -n, --count N     images  [64]",
    "  --seed N          seed of the latents",
    "  --provider VALUE  where to run (auto, cpu)  [auto]",
    "  --out FILE        output",
    "                    written atomically  [samples.png]",
    "  --json            print JSON",
    "  -h, --help        show this help",
  ]);
});
