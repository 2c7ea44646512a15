/** The Python snippet of models/README.md reproduces the project's seeded latents bit for bit. */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { latentsForSeed } from "../src/infer/mod.ts";

const README = new URL("../models/README.md", import.meta.url);

Deno.test("models/README.md: the Python latents_for_seed equals latentsForSeed", async () => {
  const text = await Deno.readTextFile(README);
  // The function and its imports, without the onnxruntime part (numpy is all this needs).
  const fn = /^def latents_for_seed[\s\S]*?^ {4}return out\.reshape\(n, dim\)$/m.exec(text)?.[0];
  if (fn === undefined) throw new Error("models/README.md has no latents_for_seed function");
  const dir = await Deno.makeTempDir();
  try {
    const seeds = [0, 7, 123456789, 2 ** 40 + 5];
    const script = `import math\nimport numpy as np\n\n${fn}\n\n` +
      seeds.map((s) =>
        `latents_for_seed(${s}, 64).tofile(${JSON.stringify(join(dir, `${s}.bin`))})`
      )
        .join("\n") +
      "\n";
    const out = await new Deno.Command("python3", { args: ["-c", script], stderr: "piped" })
      .output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    for (const seed of seeds) {
      const python = new Float32Array((await Deno.readFile(join(dir, `${seed}.bin`))).buffer);
      assertEquals(python, latentsForSeed(seed, 64, 100), `seed ${seed}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
