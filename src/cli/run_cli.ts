import { UsageError } from "./usage.ts";

/** A class of errors, matched with `instanceof`. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/** How {@link runCli} reports what `main` threw. */
export interface CliOptions {
  /** Starts each error line: the command's name (`train`) or `error` (the default). */
  prefix?: string;
  /** Errors caused by the user's input besides {@link UsageError}: one line, exit code 2. */
  inputErrors?: ErrorClass[];
  /** Errors that end the run with one line and exit code 1 (others print their stack). */
  failures?: ErrorClass[];
  /** Ends the process (default `Deno.exit`); tests pass a recorder. */
  exit?: (code: number) => void;
  /** Prints an error line (default `console.error`). */
  printError?: (...data: unknown[]) => void;
}

/**
 * Runs a command's `main` and ends the process with its exit code. When `main` resolves to nothing
 * the process is left to end by itself (e.g. a server keeps running). A {@link UsageError} or one of
 * `inputErrors` prints `<prefix>: <message>` on one line and exits 2; one of `failures` prints the
 * same line and exits 1; anything else prints the error with its stack and exits 1.
 */
export async function runCli(
  main: () => Promise<number | void>,
  options: CliOptions = {},
): Promise<void> {
  const exit = options.exit ?? Deno.exit;
  const printError = options.printError ?? console.error;
  const prefix = options.prefix ?? "error";
  const isA = (e: unknown, classes: ErrorClass[] = []) => classes.some((c) => e instanceof c);
  let code: number | void;
  try {
    code = await main();
  } catch (e) {
    if (e instanceof UsageError || isA(e, options.inputErrors)) {
      printError(`${prefix}: ${(e as Error).message}`);
      return exit(2);
    }
    if (isA(e, options.failures)) {
      printError(`${prefix}: ${(e as Error).message}`);
      return exit(1);
    }
    printError(e);
    return exit(1);
  }
  if (code !== undefined) exit(code);
}
