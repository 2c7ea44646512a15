/**
 * The inference module as other people's dependency: `deno task build:npm` packs a tarball that installs with npm
 * into an empty project and samples the shipped model from plain `node` with the same bytes as
 * `deno task sample`; its types check; and a separate Deno project links the Deno package.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import ts from "typescript";
import { REPO_ROOT } from "../src/npm/mod.ts";

const decoder = new TextDecoder();

async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(command, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const result = {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
  assertEquals(result.code, 0, `${command} ${args.join(" ")}:\n${result.stderr}`);
  return result;
}

/** `deno task sample` with these arguments, writing `file` in `dir`; returns its bytes. */
async function denoSample(dir: string, file: string, args: string[]): Promise<Uint8Array> {
  const path = join(dir, file);
  await run(Deno.execPath(), ["run", "-A", "scripts/sample.ts", ...args, "--out", path], REPO_ROOT);
  return await Deno.readFile(path);
}

const NODE_SCRIPT = `
import { writeFileSync } from "node:fs";
import { createGenerator, imagesToNpy, imagesToPng, latentsForSeed } from "@dcgan-deno/generator";
const generator = await createGenerator(undefined, { provider: "cpu" });
writeFileSync("grid.png", imagesToPng(await generator.sample(16, { seed: 7 })));
writeFileSync("fives.npy", imagesToNpy(await generator.sample(4, { seed: 3, digit: 5 })));
const [a, b] = [latentsForSeed(1, 1, 100), latentsForSeed(2, 1, 100)];
const walk = await generator.interpolate(a, b, 5);
const same = await generator.generate(walk.count === 5 ? latentsForSeed(7, 16, 100) : a);
writeFileSync("generate.png", imagesToPng(same));
console.log(JSON.stringify({ provider: generator.provider.name, first: Array.from(a.subarray(0, 2)) }));
await generator.dispose();
`;

const TS_CONSUMER = `
import { createGenerator, type GeneratedImages, imagesToPng } from "@dcgan-deno/generator";
import { createGenerator as createBrowserGenerator } from "@dcgan-deno/generator/browser";
const generator = await createGenerator(undefined, { provider: "cpu" });
const images: GeneratedImages = await generator.sample(2, { seed: 1, digit: 4, threshold: 0.95 });
const png: Uint8Array = imagesToPng(images, { cols: 2 });
// @ts-expect-error: the count is a number
await generator.sample("2");
export { createBrowserGenerator, png };
`;

/** TypeScript's diagnostics for `file`, resolving packages from its folder's node_modules as Node does. */
function typeErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    noEmit: true,
    strict: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, "\n")
  );
}

Deno.test("npm package: packed, installed with npm, run by node: the same bytes as deno task sample", async () => {
  const dir = await Deno.makeTempDir({ prefix: "npm-package-" });
  try {
    const build = await run(Deno.execPath(), [
      "run",
      "-A",
      "scripts/build_npm.ts",
      "--out",
      join(dir, "out"),
    ], REPO_ROOT);
    const tarball = build.stdout.trim().split("\n").at(-1)!;
    ok(/dcgan-deno-generator-\d+\.\d+\.\d+\.tgz$/.test(tarball), tarball);
    const app = join(dir, "app");
    await Deno.mkdir(app);
    await Deno.writeTextFile(
      join(app, "package.json"),
      '{ "name": "app", "private": true, "type": "module" }\n',
    );
    // Installed the way models/README.md says: onnxruntime-node's script skips its CUDA download.
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel",
        "error",
        tarball,
      ],
      app,
      { ONNXRUNTIME_NODE_INSTALL: "skip" },
    );
    const manifest = JSON.parse(
      await Deno.readTextFile(
        join(app, "node_modules", "@dcgan-deno", "generator", "package.json"),
      ),
    );
    assertEquals(Object.keys(manifest.dependencies).sort(), [
      "fast-png",
      "gifenc",
      "onnxruntime-node",
      "onnxruntime-web",
      "protobufjs",
    ]);
    await Deno.writeTextFile(join(app, "main.mjs"), NODE_SCRIPT);
    const node = await run("node", ["main.mjs"], app);
    assertEquals(JSON.parse(node.stdout), {
      provider: "cpu",
      first: [-1.2931126356124878, 0.7427254915237427],
    });

    const grid = await denoSample(dir, "grid.png", ["-n", "16", "--seed", "7"]);
    assertEquals(await Deno.readFile(join(app, "grid.png")), grid);
    assertEquals(await Deno.readFile(join(app, "generate.png")), grid);
    const fives = await denoSample(dir, "fives.npy", [
      "-n",
      "4",
      "--seed",
      "3",
      "--digit",
      "5",
      "--format",
      "npy",
    ]);
    assertEquals(await Deno.readFile(join(app, "fives.npy")), fives);

    await Deno.writeTextFile(join(app, "consumer.ts"), TS_CONSUMER);
    assertEquals(typeErrors(join(app, "consumer.ts")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Deno package: another Deno project links it and resolves its npm dependencies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "deno-package-" });
  try {
    await Deno.writeTextFile(
      join(dir, "deno.json"),
      JSON.stringify({
        links: [REPO_ROOT],
        imports: { "@dcgan-deno/generator": "jsr:@dcgan-deno/generator@^0.1.0" },
      }),
    );
    await Deno.writeTextFile(
      join(dir, "main.ts"),
      `import { createGenerator, imagesToPng } from "@dcgan-deno/generator";
const generator = await createGenerator(undefined, { provider: "cpu" });
await Deno.writeFile("grid.png", imagesToPng(await generator.sample(16, { seed: 7 })));
await generator.dispose();
`,
    );
    await run(Deno.execPath(), ["run", "-A", "--quiet", "main.ts"], dir);
    assertEquals(
      await Deno.readFile(join(dir, "grid.png")),
      await denoSample(dir, "ref.png", ["-n", "16", "--seed", "7"]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
