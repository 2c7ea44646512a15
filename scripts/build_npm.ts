/**
 * `deno task build:npm`: builds the inference module as an npm package (ESM for Node and browsers, `.d.ts`, the
 * shipped models) and packs it with `npm pack`; the last line printed is the tarball's path.
 * @module
 */
import { resolve } from "node:path";
import { optionsHelp, type OptionTable, parseOptions, runCli } from "../src/cli/mod.ts";
import { buildNpmPackage, DEFAULT_NPM_OUT, NpmBuildError } from "../src/npm/mod.ts";

const OPTIONS = {
  out: {
    kind: "string",
    arg: "DIR",
    defaultHelp: "dist/npm",
    help: "where the package folder (DIR/package/) and its .tgz go",
  },
} as const satisfies OptionTable;

const HELP = `Build and pack the npm package of the inference module.

Usage: deno task build:npm [--out DIR]

${optionsHelp(OPTIONS)}

Install the tarball in a Node project with: npm install /path/to/dcgan-deno-generator-<version>.tgz`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const build = await buildNpmPackage(
    values.out === undefined ? DEFAULT_NPM_OUT : resolve(values.out),
  );
  const deps = Object.entries(build.dependencies).map(([name, version]) => `${name}@${version}`);
  console.log(`package: ${build.packageDir} (dependencies: ${deps.join(", ")})`);
  console.log(build.tarball);
  return 0;
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), { failures: [NpmBuildError, Error] });
}
