/**
 * `deno task report RUN_DIR`: regenerates a training run's self-contained `report.html` and
 * `samples/progress.gif`.
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli, UsageError } from "../src/cli/mod.ts";
import { EvalLogError } from "../src/eval/mod.ts";
import { FileWriteError, InputTooLargeError } from "../src/fsio/mod.ts";
import { RunFolderError, writeReport } from "../src/report/mod.ts";

const OPTIONS = {} as const satisfies OptionTable;

const HELP = `Regenerate the training report of a run folder.

Usage: deno task report RUN_DIR

  RUN_DIR     a folder written by \`deno task train\` (runs/NAME)
${optionsHelp(OPTIONS)}

Writes RUN_DIR/report.html (self-contained: open it from disk in any browser) and
RUN_DIR/samples/progress.gif (the fixed-latent sample grids across training).
Exit status: 0 ok, 2 bad input.`;

async function main(): Promise<number> {
  const { values, positionals } = parseOptions(OPTIONS, Deno.args, true);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      "give exactly one run folder, e.g. `deno task report runs/NAME` (see --help)",
    );
  }
  const files = await writeReport(positionals[0]);
  console.log(`wrote ${files.html}`);
  if (files.gif) console.log(`wrote ${files.gif}`);
  return 0;
}

await runCli(main, {
  prefix: "report",
  inputErrors: [RunFolderError, FileWriteError, EvalLogError, InputTooLargeError],
});
