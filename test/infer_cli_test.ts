import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { OnnxClassifier } from "../src/eval/mod.ts";
import { createGenerator } from "../src/infer/mod.ts";
import { maxAbsDiff, MODEL_PATH } from "./infer_fixtures.ts";

const SCRIPT = new URL("../scripts/sample.ts", import.meta.url).pathname;
const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
const CLASSIFIER_PATH = new URL("../models/classifier.onnx", import.meta.url).pathname;

async function sample(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    // A repeated option is refused, so the default model is given only when the case names none.
    args: [
      "run",
      "-A",
      SCRIPT,
      ...(args.includes("--model") ? [] : ["--model", MODEL_PATH]),
      ...args,
    ],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Reads the float32 body of a `.npy` file written by `--format npy`. */
async function readNpy(path: string): Promise<{ shape: number[]; data: Float32Array }> {
  const bytes = await Deno.readFile(path);
  const headerLength = new DataView(bytes.buffer).getUint16(8, true);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  const shape = /'shape': \(([\d, ]+)\)/.exec(header)![1].split(",").map(Number);
  return { shape, data: new Float32Array(bytes.slice(10 + headerLength).buffer) };
}

Deno.test("deno task sample: same arguments give byte-identical files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const runs = [];
    for (const name of ["a.png", "b.png"]) {
      const r = await sample(["-n", "12", "--seed", "7", "--cols", "4", "--out", join(dir, name)]);
      assertEquals(r.code, 0, r.stderr);
      runs.push(await Deno.readFile(join(dir, name)));
    }
    assertEquals(runs[0], runs[1]);
    const view = new DataView(runs[0].buffer);
    // 4 columns × (28 + 2) + 2 = 122 wide, 3 rows × 30 + 2 = 92 high.
    assertEquals([view.getUint32(16), view.getUint32(20)], [122, 92]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task sample: npy, png-dir and a latent walk with its GIF", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let r = await sample([
      "-n",
      "3",
      "--seed",
      "7",
      "--format",
      "npy",
      "--out",
      join(dir, "s.npy"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    const npy = await readNpy(join(dir, "s.npy"));
    assertEquals(npy.shape, [3, 1, 28, 28]);
    ok(npy.data.every((v) => v >= 0 && v <= 1));
    r = await sample(["-n", "3", "--format", "png-dir", "--out", join(dir, "pngs")]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      [...Deno.readDirSync(join(dir, "pngs"))].map((e) => e.name).sort(),
      // The stamp marks the folder as the project's, so a later png-dir may replace it whole.
      [".dcgan-created", "sample-0000.png", "sample-0001.png", "sample-0002.png"],
    );
    r = await sample([
      "--walk-seeds",
      "1,2",
      "--steps",
      "5",
      "--gif",
      "--out",
      join(dir, "walk.png"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.trim().split("\n"), [
      `wrote ${join(dir, "walk.png")}`,
      `wrote ${join(dir, "walk.gif")}`,
    ]);
    const gif = await Deno.readFile(join(dir, "walk.gif"));
    assertEquals(new TextDecoder().decode(gif.subarray(0, 6)), "GIF89a");
    // The GIF is magnified 4 times by default: 112 × 112 frames, not 28 × 28.
    assertEquals([gif[6] | gif[7] << 8, gif[8] | gif[9] << 8], [112, 112]);
    const strip = new DataView((await Deno.readFile(join(dir, "walk.png"))).buffer);
    assertEquals([strip.getUint32(16), strip.getUint32(20)], [5 * 30 + 2, 32]);

    // --out walk.gif writes the GIF alone, once; png-dir with a trailing slash prints the folder once.
    r = await sample(["--walk-seeds", "1,2", "--steps", "5", "--gif", "--out", join(dir, "w.gif")]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.trim(), `wrote ${join(dir, "w.gif")}`);
    assertEquals(await Deno.readFile(join(dir, "w.gif")), gif);
    r = await sample(["-n", "2", "--format", "png-dir", "--out", `${join(dir, "digits")}/`]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.stdout.trim(), `wrote ${join(dir, "digits")}/ (2 PNG files)`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task sample: bad input gives one line on stderr and exit code 2", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["-n", "0"], /--count must be an integer from 1 to 100000, got "0"/],
    [["-n", "100000000"], /--count must be an integer from 1 to 100000/],
    [["--provider", "tpu"], /unknown provider "tpu"; use one of: auto, cpu/],
    [["--model", "README.md"], /not an ONNX model/],
    [["--model", "no-such.onnx"], /cannot read the model file no-such.onnx: no such file/],
    [["--walk-seeds", "1"], /--walk-seeds takes two seeds as A,B, got "1"/],
    [["--walk-digits", "3,10"], /--walk-digits must be an integer from 0 to 9, got "10"/],
    [["--interpolate", "3,9"], /--interpolate was renamed: use --walk-seeds A,B \(two seeds\)/],
    [["--digit", "12"], /--digit must be an integer from 0 to 9, got "12"/],
    [["--digit", "3", "--threshold", "0"], /--threshold must be a probability above 0/],
    [["--out", "x.gif"], /--out x\.gif: a GIF is written for a walk only/],
    [["--digit", "3", "--classifier", "README.md"], /digit classifier is not an ONNX model/],
    [["--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const r = await sample(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.startsWith("provider:"));
    assertEquals(lines.length, 1, r.stderr);
    ok(message.test(lines[0]), `${args.join(" ")}: ${lines[0]}`);
  }
});

Deno.test({
  name: "webgpu (onnxruntime-node) and web-webgpu (onnxruntime-web) equal cpu within 1e-3",
  ignore: !existsSync(SWIFTSHADER),
  async fn() {
    const dir = await Deno.makeTempDir();
    // SwiftShader (Chromium's Vulkan on the CPU) needs its libvulkan on the library path at process start.
    const env = { LD_LIBRARY_PATH: "/usr/lib/chromium", VK_ICD_FILENAMES: SWIFTSHADER };
    try {
      const outputs: Record<string, Float32Array> = {};
      for (const provider of ["cpu", "webgpu", "web-webgpu"]) {
        const out = join(dir, `${provider}.npy`);
        const r = await sample(
          ["-n", "1", "--seed", "5", "--provider", provider, "--format", "npy", "--out", out],
          env,
        );
        assertEquals(r.code, 0, r.stderr);
        outputs[provider] = (await readNpy(out)).data;
      }
      for (const provider of ["webgpu", "web-webgpu"]) {
        const diff = maxAbsDiff(outputs[provider], outputs.cpu);
        ok(diff < 1e-3, `${provider} differs from cpu by ${diff}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("deno task sample --digit and --walk-digits: the classifier reads the chosen digits", async () => {
  const dir = await Deno.makeTempDir();
  const classifier = await OnnxClassifier.open(CLASSIFIER_PATH);
  /** The top digit of each image of a `.npy` written by the script. */
  const digitsOf = async (path: string) => {
    const { shape, data } = await readNpy(path);
    const { probs } = await classifier.classify(data.map((v) => 2 * v - 1), shape[0]);
    return Array.from({ length: shape[0] }, (_, i) => {
      const row = Array.from(probs.subarray(i * 10, (i + 1) * 10));
      return row.indexOf(Math.max(...row));
    });
  };
  try {
    const out = join(dir, "sevens.npy");
    let r = await sample([
      "-n",
      "5",
      "--seed",
      "2",
      "--digit",
      "7",
      "--format",
      "npy",
      "--out",
      out,
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(await digitsOf(out), [7, 7, 7, 7, 7]);
    const generator = await createGenerator(MODEL_PATH, { provider: "cpu" });
    try {
      const expected = await generator.sample(5, { seed: 2, digit: 7 });
      assertEquals((await readNpy(out)).data, expected.data);
    } finally {
      await generator.dispose();
    }
    const walk = join(dir, "walk.npy");
    r = await sample(["--walk-digits", "3,8", "--steps", "4", "--format", "npy", "--out", walk]);
    assertEquals(r.code, 0, r.stderr);
    const steps = await digitsOf(walk);
    assertEquals([steps[0], steps[3]], [3, 8]);
  } finally {
    await classifier.release();
    await Deno.remove(dir, { recursive: true });
  }
});
