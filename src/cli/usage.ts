import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line input: the message says what was wrong and what to do (exit code 2). */
export class UsageError extends Error {
  /** An error whose message is shown to the user as it is, on one line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * `node:util` `parseArgs` that reports a bad command line (unknown option, missing value, …) as a
 * {@link UsageError} with a one-line message ending in `(see --help)`. An option given twice is refused
 * rather than resolved silently (`-n 4 -n 8`: which was meant?).
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  let parsed;
  try {
    parsed = parseArgs({ ...config, tokens: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replaceAll("\n", " ")} (see --help)`);
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== "option") continue;
    if (seen.has(token.name)) {
      throw new UsageError(`--${token.name} is given more than once; give it once (see --help)`);
    }
    seen.add(token.name);
  }
  return parsed as ReturnType<typeof parseArgs<T>>;
}

/** A plain decimal integer: digits with an optional minus, nothing else (no `0x10`, ` 8`, `8.0`, `1e3`). */
const PLAIN_INTEGER = /^-?[0-9]+$/;

/**
 * The integer value of option `--name` (given as `text`), at least `min` (and at most `max` when given).
 * @throws {UsageError} `--name must be a positive integer, got "x"` (`a non-negative integer` for
 * `min` 0, `an integer ≥ min` otherwise; `an integer from min to max` with a maximum).
 */
export function integerOption(name: string, text: string, min: number, max?: number): number {
  const n = Number(text);
  if (
    !PLAIN_INTEGER.test(text) || !Number.isSafeInteger(n) || n < min ||
    (max !== undefined && n > max)
  ) {
    const want = max !== undefined
      ? `an integer from ${min} to ${max}`
      : min === 0
      ? "a non-negative integer"
      : min === 1
      ? "a positive integer"
      : `an integer ≥ ${min}`;
    throw new UsageError(`--${name} must be ${want}, got "${text}"`);
  }
  return n;
}
