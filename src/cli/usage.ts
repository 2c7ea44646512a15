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
 * {@link UsageError} with a one-line message ending in `(see --help)`.
 */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replaceAll("\n", " ")} (see --help)`);
  }
}

/**
 * The integer value of option `--name` (given as `text`), at least `min` (and at most `max` when given).
 * @throws {UsageError} `--name must be a positive integer, got "x"` (`a non-negative integer` for
 * `min` 0, `an integer ≥ min` otherwise; `an integer from min to max` with a maximum).
 */
export function integerOption(name: string, text: string, min: number, max?: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < min || (max !== undefined && n > max)) {
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
