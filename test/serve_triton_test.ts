import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { saveLayersModel } from "../src/checkpoint/mod.ts";
import { readModelInfo } from "../src/infer/mod.ts";
import { buildGenerator } from "../src/model/mod.ts";
import { decodeModel } from "../src/onnx/mod.ts";
import { MODEL_PATH } from "./infer_fixtures.ts";
import { useWasm } from "./onnx_fixtures.ts";
import { runScript } from "./run_script.ts";

const exportCli = (...args: string[]) => runScript("export.ts", ...args);

type Value = string | number | Message | Value[];
interface Message {
  [field: string]: Value[];
}

/**
 * A protobuf text-format reader, independent of the writer: `field: scalar`, `field: [a, b]`, `field { ... }`,
 * `field [ {...}, {...} ]` and `field: { ... }`; every field maps to the list of its values.
 */
function parsePbtxt(text: string): Message {
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^\s{}[\]:,]+/g) ?? [];
  let i = 0;
  const value = (): Value => {
    const t = tokens[i++];
    if (t === "{") return message("}");
    if (t === "[") {
      const list: Value[] = [];
      while (tokens[i] !== "]") {
        list.push(value());
        if (tokens[i] === ",") i++;
      }
      i++;
      return list;
    }
    if (t.startsWith('"')) return JSON.parse(t);
    return /^-?\d/.test(t) ? Number(t) : t;
  };
  const message = (end: string | undefined): Message => {
    const out: Message = {};
    while (i < tokens.length && tokens[i] !== end) {
      const field = tokens[i++];
      if (tokens[i] === ":") i++;
      const v = value();
      out[field] = [...(out[field] ?? []), ...(Array.isArray(v) ? v : [v])];
    }
    i++;
    return out;
  };
  return message(undefined);
}

Deno.test("export --triton --onnx: a model repository whose config.pbtxt matches the ONNX file", async () => {
  const dir = join(await Deno.makeTempDir(), "repo");
  try {
    const r = await exportCli("--triton", dir, "--onnx", MODEL_PATH);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      [...Deno.readDirSync(dir)].map((e) => e.name),
      ["generator"],
    );
    // The stamp marks the folder as the project's, so a later export may replace it (Triton ignores it).
    assertEquals(
      [...Deno.readDirSync(join(dir, "generator"))].map((e) => e.name).sort(),
      [".dcgan-created", "1", "config.pbtxt"],
    );
    const bytes = await Deno.readFile(MODEL_PATH);
    assertEquals(await Deno.readFile(join(dir, "generator", "1", "model.onnx")), bytes);
    const config = parsePbtxt(await Deno.readTextFile(join(dir, "generator", "config.pbtxt")));
    // The ONNX file itself: its graph's input and output, batch dimension first.
    const graph = decodeModel(bytes).graph;
    const onnxDims = (v: typeof graph.input[number]) =>
      v.type!.tensorType!.shape!.dim.map((d) => d.dimValue === undefined ? -1 : Number(d.dimValue));
    const [input, output] = [graph.input[0], graph.output[0]];
    assertEquals(onnxDims(input)[0], -1, "the file's batch dimension is variable");
    assertEquals(config.name, ["generator"]);
    assertEquals(config.platform, ["onnxruntime_onnx"]);
    assertEquals(config.max_batch_size, [1024]);
    const tensor = (m: Value) => {
      const t = m as Message;
      return { name: t.name[0], data_type: t.data_type[0], dims: t.dims };
    };
    assertEquals(config.input.map(tensor), [
      { name: input.name, data_type: "TYPE_FP32", dims: onnxDims(input).slice(1) },
    ]);
    assertEquals(config.output.map(tensor), [
      { name: output.name, data_type: "TYPE_FP32", dims: onnxDims(output).slice(1) },
    ]);
    assertEquals(input.type!.tensorType!.elemType, 1, "FLOAT is TYPE_FP32");
    assertEquals(config.dynamic_batching, [{ max_queue_delay_microseconds: [2000] }]);
    assertEquals(config.instance_group, [{ count: [1], kind: ["KIND_AUTO"] }]);
    const parameters = Object.fromEntries(
      config.parameters.map((p) => {
        const m = p as Message;
        return [m.key[0], (m.value[0] as Message).string_value[0]];
      }),
    );
    assertEquals(parameters, {
      value_range: "[-1,1]",
      output_layout: "nchw",
      image_shape: JSON.stringify(onnxDims(output).slice(1)),
    });
    // Packaging again under another name adds a model; the same name replaces it whole.
    assertEquals((await exportCli("--triton", dir, "--onnx", MODEL_PATH, "--name", "g2")).code, 0);
    assertEquals((await exportCli("--triton", dir, "--onnx", MODEL_PATH)).code, 0);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["g2", "generator"]);
    // A model folder the project did not create is refused and left as it is.
    await Deno.mkdir(join(dir, "mine"));
    await Deno.writeTextFile(join(dir, "mine", "config.pbtxt"), "hand-written");
    const refused = await exportCli("--triton", dir, "--onnx", MODEL_PATH, "--name", "mine");
    assertEquals(refused.code, 2, refused.stderr);
    assertEquals(await Deno.readTextFile(join(dir, "mine", "config.pbtxt")), "hand-written");
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});

Deno.test("export --triton: bad input exits 2 with one line and leaves no folder behind", async () => {
  const root = await Deno.makeTempDir();
  try {
    const notOnnx = join(root, "notes.onnx");
    await Deno.writeTextFile(notOnnx, "not a model");
    const dir = join(root, "repo");
    const cases: Array<[string[], RegExp]> = [
      [["--triton", dir, "--onnx", notOnnx], /not an ONNX model/],
      [["--triton", dir, "--onnx", join(root, "missing.onnx")], /cannot read it/],
      [["--triton", dir, "--onnx", MODEL_PATH, "--name", "../x"], /model name "\.\.\/x"/],
      [["--onnx", MODEL_PATH], /--onnx needs --triton DIR/],
      [["--triton", dir, "--onnx", MODEL_PATH, "--model", "discriminator"], /packages a generator/],
      [["--triton", join(root, "no", "such", "parent"), "--onnx", MODEL_PATH], /cannot write/],
    ];
    for (const [args, message] of cases) {
      const r = await exportCli(...args);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assertEquals([args.join(" "), r.code, errors.length], [args.join(" "), 2, 1]);
      ok(message.test(errors[0]), errors[0]);
    }
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name), ["notes.onnx"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export --triton --checkpoint: converts, verifies and packages in one step", async () => {
  await useWasm();
  const root = await Deno.makeTempDir();
  try {
    const g = buildGenerator({ seed: 2 });
    await saveLayersModel(g, join(root, "generator"));
    g.dispose();
    const dir = join(root, "repo");
    const r = await exportCli(
      "--checkpoint",
      join(root, "generator"),
      "--triton",
      dir,
      "--batch-sizes",
      "2",
    );
    assertEquals(r.code, 0, r.stderr);
    ok(/batch {3}2: max \|ONNX − TF\.js\| = .* ok/.test(r.stdout), r.stdout);
    const info = readModelInfo(await Deno.readFile(join(dir, "generator", "1", "model.onnx")));
    assertEquals([info.inputName, info.outputName, info.latentDim], ["latent", "image", 100]);
    const config = parsePbtxt(await Deno.readTextFile(join(dir, "generator", "config.pbtxt")));
    assertEquals((config.output[0] as Message).dims, [1, 28, 28]);
    assertEquals([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["generator", "repo"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
