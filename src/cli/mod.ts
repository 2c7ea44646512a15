/**
 * Command-line plumbing shared by the `scripts/`: a progress bar with rate and ETA, duration
 * formatting, {@link UsageError} with a strict `parseArgs` wrapper, and {@link runCli}, which turns
 * what `main` throws into one line on stderr and the exit code (2 bad input, 1 failure).
 * @module
 */
export { formatDuration } from "./format_duration.ts";
export { ProgressBar, type ProgressOptions } from "./progress.ts";
export { integerOption, parseCommandLine, UsageError } from "./usage.ts";
export {
  optionsHelp,
  type OptionSpec,
  type OptionTable,
  type OptionValues,
  parseOptions,
} from "./options.ts";
export { type CliOptions, type ErrorClass, runCli } from "./run_cli.ts";
