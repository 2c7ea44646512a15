/**
 * Choosing the digit: `sample(n, { seed, digit })` keeps the seed's latents that the classifier assigns the digit,
 * deterministically, and the search is bounded with a clear error.
 */
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { createGenerator as createBrowserGenerator } from "../src/infer/browser.ts";
import { createGenerator, type Generator, InputError, latentsForSeed } from "../src/infer/mod.ts";
import { OnnxClassifier } from "../src/eval/mod.ts";
import { maxAbsDiff, MODEL_PATH } from "./infer_fixtures.ts";

const CLASSIFIER_PATH = new URL("../models/classifier.onnx", import.meta.url).pathname;

async function withGenerator(body: (g: Generator) => Promise<void>): Promise<void> {
  const g = await createGenerator(MODEL_PATH, { provider: "cpu" });
  try {
    await body(g);
  } finally {
    await g.dispose();
  }
}

/** The evaluation's own classifier (src/eval) on images in [0, 1]: each image's top digit and its probability. */
async function judge(data: Float32Array, count: number): Promise<Array<[number, number]>> {
  const classifier = await OnnxClassifier.open(CLASSIFIER_PATH);
  try {
    const { probs } = await classifier.classify(data.map((v) => 2 * v - 1), count);
    return Array.from({ length: count }, (_, i) => {
      const row = Array.from(probs.subarray(i * 10, (i + 1) * 10));
      const top = row.indexOf(Math.max(...row));
      return [top, row[top]];
    });
  } finally {
    await classifier.release();
  }
}

Deno.test("sample(n, { seed, digit }): every digit 0–9, confirmed by the evaluation's classifier", async () => {
  await withGenerator(async (g) => {
    for (let digit = 0; digit < 10; digit++) {
      const images = await g.sample(4, { seed: 11, digit });
      assertEquals(images.count, 4);
      for (const [top, p] of await judge(images.data, 4)) {
        ok(top === digit && p >= 0.9 - 1e-5, `digit ${digit}: classified ${top} at ${p}`);
      }
    }
  });
});

Deno.test("findDigits: a deterministic, distinct subsequence of the seed's latents", async () => {
  await withGenerator(async (g) => {
    const first = await g.findDigits(6, { seed: 5, digit: 7 });
    const again = await g.findDigits(6, { seed: 5, digit: 7 });
    assertEquals(again.latents, first.latents);
    assertEquals(again.images.data, first.images.data);
    assertEquals((await g.sample(6, { seed: 5, digit: 7 })).data, first.images.data);
    ok(first.confidence.every((p) => p >= 0.9));
    // In the seed's own order, and all different.
    const all = latentsForSeed(5, first.candidates, 100);
    let from = 0;
    for (let k = 0; k < 6; k++) {
      const row = first.latents.subarray(k * 100, (k + 1) * 100);
      let i = from;
      while (i < first.candidates && maxAbsDiff(all.subarray(i * 100, (i + 1) * 100), row) > 0) i++;
      ok(i < first.candidates, `kept latent ${k} is not one of the seed's`);
      from = i + 1;
    }
    const per = 28 * 28;
    for (let a = 0; a < 6; a++) {
      for (let b = a + 1; b < 6; b++) {
        const x = first.images.data.subarray(a * per, (a + 1) * per);
        ok(maxAbsDiff(x, first.images.data.subarray(b * per, (b + 1) * per)) > 0.1, `${a} = ${b}`);
      }
    }
    // The images are the generator's images of the kept latents; another seed gives other sevens.
    ok(maxAbsDiff((await g.generate(first.latents)).data, first.images.data) < 1e-6);
    const other = await g.sample(6, { seed: 6, digit: 7 });
    ok(maxAbsDiff(other.data, first.images.data) > 0.1);
    // A stricter threshold keeps a subsequence of these.
    const strict = await g.findDigits(2, { seed: 5, digit: 7, threshold: 0.999 });
    ok(strict.confidence.every((p) => p >= 0.999));
  });
});

Deno.test("the digit search is bounded, and bad digit options are refused", async () => {
  await withGenerator(async (g) => {
    await rejects(
      g.sample(20, { seed: 0, digit: 8, maxCandidates: 64 }),
      (e: Error) =>
        e instanceof InputError && !e.message.includes("\n") &&
        /^only \d+ of the first 64 latents of seed 0 are a 8 with confidence ≥ 0\.9 \(20 asked for\)/
          .test(e.message),
    );
    for (
      const [options, message] of [
        [{ digit: 10 }, /digit must be an integer from 0 to 9, got 10/],
        [{ digit: 1.5 }, /digit must be an integer from 0 to 9/],
        [{ digit: 3, threshold: 0 }, /threshold must be a probability above 0 and at most 1/],
        [{ digit: 3, threshold: 1.5 }, /threshold must be a probability/],
        [{ digit: 3, maxCandidates: 2 }, /maxCandidates must be an integer of at least n \(4\)/],
      ] as const
    ) {
      await rejects(
        g.sample(4, options),
        (e: Error) => e instanceof InputError && message.test(e.message),
      );
    }
  });
  // The browser entry has no shipped classifier: it must be named.
  const web = await createBrowserGenerator(await Deno.readFile(MODEL_PATH), { provider: "wasm" });
  try {
    await rejects(web.sample(1, { digit: 3 }), /choosing a digit needs the digit classifier/);
  } finally {
    await web.dispose();
  }
});

Deno.test("a digit search is bounded in samples and latents: deno task sample --digit -n 100000 refuses at once", async () => {
  await withGenerator(async (g) => {
    await rejects(
      g.sample(5000, { digit: 3 }),
      (e: Error) =>
        e instanceof InputError &&
        /a digit search finds at most 4,096 samples, got 5,000/.test(e.message),
    );
    await rejects(
      g.sample(4, { digit: 3, maxCandidates: 10_000_000 }),
      (e: Error) =>
        e instanceof InputError && /maxCandidates must be at most 409,600/.test(e.message),
    );
  });
  // The command line: one line and exit 2, not hours of searching (killed after a minute if it searches).
  const script = new URL("../scripts/sample.ts", import.meta.url).pathname;
  const out = await Deno.makeTempDir();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, "--digit", "3", "-n", "100000", "--out", `${out}/d.png`],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const result = await child.output();
    clearTimeout(timer);
    // The provider line, then one line of error.
    const lines = new TextDecoder().decode(result.stderr).trim().split("\n");
    assertEquals(result.code, 2, lines.join("\n"));
    assertEquals(lines.filter((l) => !l.startsWith("provider: ")).length, 1, lines.join("\n"));
    ok(/a digit search finds at most 4,096 samples, got 100,000/.test(lines.at(-1)!), lines.at(-1));
    assertEquals([...Deno.readDirSync(out)], []);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
