/**
 * `deno task digit-rates`: how often the generator draws each digit with the classifier's confidence at or above
 * a few thresholds, over the first N latents of a seed: the acceptance rates of `sample(n, { digit })`.
 * @module
 */
import { optionsHelp, type OptionTable, parseOptions, runCli } from "../src/cli/mod.ts";
import {
  createGenerator,
  DEFAULT_DIGIT_THRESHOLD,
  DIGIT_COUNT,
  InferenceError,
  SHIPPED_MODEL_PATHS,
} from "../src/infer/mod.ts";

const OPTIONS = {
  model: {
    kind: "string",
    arg: "FILE",
    defaultHelp: SHIPPED_MODEL_PATHS.generator,
    help: "the generator",
  },
  count: { kind: "integer", short: "n", default: 10_000, help: "latents of the seed to classify" },
  seed: { kind: "integer", min: 0, default: 0, help: "seed of the latents" },
  provider: { kind: "string", arg: "NAME", default: "cpu", help: "where the models run" },
} as const satisfies OptionTable;

const THRESHOLDS = [0.5, DEFAULT_DIGIT_THRESHOLD, 0.99];

const HELP = `Acceptance rate of each digit for sample(n, { digit }).

Usage: deno task digit-rates [options]

${optionsHelp(OPTIONS)}

Prints a Markdown table: the share of the first N latents of the seed whose image the classifier
(models/classifier.onnx) assigns each digit with probability ≥ ${
  THRESHOLDS.join(", ")
} (${DEFAULT_DIGIT_THRESHOLD}: the default of --digit).`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseOptions(OPTIONS, argv);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const { count: n, seed } = values;
  const generator = await createGenerator(values.model, { provider: values.provider });
  try {
    const probs = await generator.digitProbabilities(await generator.sample(n, { seed }));
    const header = [
      "confidence ≥",
      ...Array.from({ length: DIGIT_COUNT }, (_, d) => String(d)),
      "any",
    ];
    console.log(`| ${header.join(" | ")} |`);
    console.log(`| ${header.map(() => "---:").join(" | ")} |`);
    for (const t of THRESHOLDS) {
      const counts = new Array(DIGIT_COUNT).fill(0);
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < DIGIT_COUNT; d++) if (probs[i * DIGIT_COUNT + d] >= t) counts[d]++;
      }
      const total = counts.reduce((a, b) => a + b, 0);
      const cells = [...counts, total].map((c) => `${(100 * c / n).toFixed(1)} %`);
      console.log(`| ${t} | ${cells.join(" | ")} |`);
    }
  } finally {
    await generator.dispose();
  }
  return 0;
}

if (import.meta.main) {
  await runCli(() => main(Deno.args), { inputErrors: [InferenceError], failures: [Error] });
}
