import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { maxAbsDiff, MODEL_PATH } from "./infer_fixtures.ts";

const SCRIPT = new URL("../scripts/sample.ts", import.meta.url).pathname;
const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";

async function sample(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, "--model", MODEL_PATH, ...args],
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
      ["sample-0000.png", "sample-0001.png", "sample-0002.png"],
    );
    r = await sample([
      "--interpolate",
      "1,2",
      "--steps",
      "5",
      "--gif",
      "--out",
      join(dir, "walk.png"),
    ]);
    assertEquals(r.code, 0, r.stderr);
    const gif = await Deno.readFile(join(dir, "walk.gif"));
    assertEquals(new TextDecoder().decode(gif.subarray(0, 6)), "GIF89a");
    const strip = new DataView((await Deno.readFile(join(dir, "walk.png"))).buffer);
    assertEquals([strip.getUint32(16), strip.getUint32(20)], [5 * 30 + 2, 32]);
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
    [["--interpolate", "1"], /--interpolate takes two seeds as A,B/],
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
