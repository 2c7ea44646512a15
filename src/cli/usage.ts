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
