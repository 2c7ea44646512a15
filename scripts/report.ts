/**
 * `deno task report RUN_DIR`: regenerates a training run's self-contained `report.html` and
 * `samples/progress.gif`.
 * @module
 */
import { parseArgs } from "node:util";
import { RunFolderError, writeReport } from "../src/report/mod.ts";

const HELP = `Regenerate the training report of a run folder.

Usage: deno task report RUN_DIR

  RUN_DIR      a folder written by \`deno task train\` (runs/NAME)
  -h, --help   show this help

Writes RUN_DIR/report.html (self-contained: open it from disk in any browser) and
RUN_DIR/samples/progress.gif (the fixed-latent sample grids across training).
Exit status: 0 ok, 2 bad input.`;

class UsageError extends Error {}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    strict: true,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h", default: false } },
  });
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

try {
  Deno.exit(await main());
} catch (e) {
  const parseError = e instanceof TypeError &&
    (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  if (!(e instanceof UsageError || e instanceof RunFolderError || parseError)) throw e;
  console.error(`report: ${(e as Error).message}`);
  Deno.exit(2);
}
