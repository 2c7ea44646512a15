import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { buildDiscriminator, buildGenerator } from "../src/model/mod.ts";
import { Rng } from "../src/random/mod.ts";
import {
  compareWithTfjs,
  DataType,
  decodeModel,
  IR_VERSION,
  portableSourcePath,
  PRODUCER_NAME,
} from "../src/onnx/mod.ts";
import { emulateTraining, exportBytes, opsOf, useWasm } from "./onnx_fixtures.ts";

const TOLERANCE = 1e-4;

function assertClose(results: Array<{ batch: number; maxAbsDiff: number }>, tolerance = TOLERANCE) {
  for (const r of results) {
    assert(
      r.maxAbsDiff <= tolerance,
      `batch ${r.batch}: max abs diff ${r.maxAbsDiff} > ${tolerance}`,
    );
  }
}

const generators = {
  fresh: () => buildGenerator({ seed: 0 }),
  trained: () => {
    const g = buildGenerator({ seed: 3 });
    emulateTraining(g, 11);
    return g;
  },
};
const discriminators = {
  fresh: () => buildDiscriminator({ seed: 0 }),
  trained: () => {
    const d = buildDiscriminator({ seed: 4 });
    emulateTraining(d, 12);
    return d;
  },
};

for (const [state, build] of Object.entries(generators)) {
  Deno.test(`${state} generator: onnxruntime equals TF.js within 1e-4 at batch 1, 7, 64`, async () => {
    await useWasm();
    const g = build();
    const results = await compareWithTfjs(g, exportBytes(g), { batchSizes: [1, 7, 64] });
    assertEquals(results.map((r) => r.batch), [1, 7, 64]);
    assertClose(results);
    g.dispose();
  });
}

for (const [state, build] of Object.entries(discriminators)) {
  Deno.test(`${state} discriminator: onnxruntime equals TF.js within 1e-4 at batch 1, 7, 64`, async () => {
    await useWasm();
    const d = build();
    assertClose(await compareWithTfjs(d, exportBytes(d), { batchSizes: [1, 7, 64] }));
    d.dispose();
  });
}

Deno.test("generator graph has only the operators it needs (BatchNorm folded, no Transpose)", () => {
  const g = buildGenerator({ seed: 0 });
  assertEquals(opsOf(exportBytes(g)), [
    "Gemm",
    "Reshape",
    "ConvTranspose",
    "Conv",
    "Relu",
    "ConvTranspose",
    "Conv",
    "Relu",
    "Conv",
    "Tanh",
  ]);
  g.dispose();
});

Deno.test("discriminator graph: Flatten order absorbed by the Dense, no Transpose or Gather", () => {
  const d = buildDiscriminator({ seed: 0 });
  const ops = opsOf(exportBytes(d));
  assertEquals(ops.filter((o) => o === "Conv").length, 4);
  assertEquals(ops.filter((o) => o === "LeakyRelu").length, 4);
  assert(
    !ops.includes("Transpose") && !ops.includes("Gather") && !ops.includes("BatchNormalization"),
  );
  const alphas = decodeModel(exportBytes(d)).graph.node
    .filter((n) => n.opType === "LeakyRelu")
    .map((n) => Math.round(n.attribute[0].f! * 10) / 10);
  assertEquals(alphas, [0.2, 0.2, 0.3, 0.3]);
  d.dispose();
});

Deno.test("--no-fold-bn keeps BatchNormalization nodes and still matches TF.js", async () => {
  await useWasm();
  const g = generators.trained();
  const bytes = exportBytes(g, { foldBatchNorm: false });
  assertEquals(opsOf(bytes).filter((o) => o === "BatchNormalization").length, 2);
  assertClose(await compareWithTfjs(g, bytes, { batchSizes: [7] }));
  g.dispose();
});

Deno.test("nhwc layout: generator output [batch, 28, 28, 1] without a Transpose, matches TF.js", async () => {
  await useWasm();
  const g = generators.trained();
  const bytes = exportBytes(g, { layout: "nhwc" });
  const model = decodeModel(bytes);
  const dims = model.graph.output[0].type.tensorType.shape.dim;
  assertEquals(dims.map((d) => d.dimParam || d.dimValue), ["batch", 28, 28, 1]);
  assert(!opsOf(bytes).includes("Transpose"));
  assertClose(await compareWithTfjs(g, bytes, { batchSizes: [3], layout: "nhwc" }));
  g.dispose();
});

Deno.test("nhwc layout: discriminator takes [batch, 28, 28, 1] and matches TF.js", async () => {
  await useWasm();
  const d = discriminators.trained();
  const bytes = exportBytes(d, { layout: "nhwc" });
  const dims = decodeModel(bytes).graph.input[0].type.tensorType.shape.dim;
  assertEquals(dims.map((x) => x.dimParam || x.dimValue), ["batch", 28, 28, 1]);
  assertClose(await compareWithTfjs(d, bytes, { batchSizes: [5], layout: "nhwc" }));
  d.dispose();
});

Deno.test("float16: weights stored as float16, float32 I/O by default, within 1e-2 of TF.js", async () => {
  await useWasm();
  const g = generators.trained();
  const fp32 = exportBytes(g);
  const fp16 = exportBytes(g, { precision: "float16" });
  const model = decodeModel(fp16);
  const weights = model.graph.initializer.filter((t) => t.dims.length > 1);
  assert(weights.every((t) => t.dataType === DataType.FLOAT16));
  assertEquals(model.graph.input[0].type.tensorType.elemType, DataType.FLOAT);
  assertEquals(model.graph.output[0].type.tensorType.elemType, DataType.FLOAT);
  assert(fp16.length < fp32.length * 0.51, `fp16 file ${fp16.length} bytes vs fp32 ${fp32.length}`);
  assertClose(await compareWithTfjs(g, fp16, { batchSizes: [4] }), 1e-2);
  const io16 = exportBytes(g, { precision: "float16", float16Io: true });
  assertEquals(decodeModel(io16).graph.input[0].type.tensorType.elemType, DataType.FLOAT16);
  assert(!opsOf(io16).includes("Cast"));
  assertClose(await compareWithTfjs(g, io16, { batchSizes: [4], float16Io: true }), 1e-2);
  g.dispose();
});

Deno.test("opsets 13 to 17 all export and run", async () => {
  await useWasm();
  const d = discriminators.trained();
  for (const opset of [13, 14, 15, 16, 17]) {
    const bytes = exportBytes(d, { opset });
    assertEquals(decodeModel(bytes).opsetImport.map((o) => o.version), [opset]);
    assertClose(await compareWithTfjs(d, bytes, { batchSizes: [2] }));
  }
  d.dispose();
});

Deno.test("model header: IR 8, producer, symbolic batch, doc string and metadata", () => {
  const g = buildGenerator({ seed: 0 });
  const model = decodeModel(
    exportBytes(g, {
      inputNames: ["latent"],
      outputNames: ["image"],
      docString: "doc",
      metadata: { latent_size: "100", training_steps: "0" },
    }),
  );
  assertEquals(model.irVersion, IR_VERSION);
  assertEquals(model.irVersion, 8);
  assertEquals(model.producerName, PRODUCER_NAME);
  assert(model.producerVersion.length > 0);
  assertEquals(model.docString, "doc");
  assertEquals(model.metadataProps, [
    { key: "latent_size", value: "100" },
    { key: "training_steps", value: "0" },
  ]);
  assertEquals(model.graph.input[0].name, "latent");
  assertEquals(model.graph.output[0].name, "image");
  const inDims = model.graph.input[0].type.tensorType.shape.dim;
  assertEquals(inDims.map((d) => d.dimParam || d.dimValue), ["batch", 100]);
  const raw = model.graph.initializer.filter((t) => t.dataType === DataType.FLOAT);
  assert(raw.every((t) => t.rawData.length === 4 * t.dims.reduce((a, b) => a * b, 1)));
  g.dispose();
});

Deno.test("shipped models/generator.onnx keeps the documented contract and runs", async () => {
  const bytes = await Deno.readFile(new URL("../models/generator.onnx", import.meta.url));
  const model = decodeModel(bytes);
  const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  assertEquals(
    [meta.model_kind, meta.latent_size, meta.value_range, meta.input_name, meta.output_name],
    ["generator", "100", "[-1, 1]", "latent", "image"],
  );
  assert(/^\d+$/.test(meta.training_steps), `training_steps ${meta.training_steps}`);
  assert(!opsOf(bytes).includes("BatchNormalization"));
  const session = await ort.InferenceSession.create(bytes);
  const z = new ort.Tensor("float32", new Rng(5).normals(3 * 100), [3, 100]);
  const image = (await session.run({ latent: z })).image;
  const layout = meta.output_layout === "NHWC" ? [3, 28, 28, 1] : [3, 1, 28, 28];
  assertEquals(image.dims, layout);
  // tanh range; ONNX Runtime's Tanh approximation may overshoot saturated values by one float32 ulp.
  assert((image.data as Float32Array).every((v) => Math.abs(v) <= 1 + 2 ** -22));
  await session.release();
});

Deno.test("portableSourcePath: relative inside the working folder, last four components outside", () => {
  assertEquals(
    portableSourcePath("/home/me/proj/runs/r1/checkpoints/step-00010/generator", "/home/me/proj"),
    "runs/r1/checkpoints/step-00010/generator",
  );
  assertEquals(
    portableSourcePath("/tmp/x/r1/checkpoints/step-00010/generator", "/home/me/proj"),
    "r1/checkpoints/step-00010/generator",
  );
});
