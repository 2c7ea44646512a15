import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import { createGenerator, ModelError, readModelInfo } from "../src/infer/mod.ts";
import { decodeModel, encodeModel } from "../src/onnx/mod.ts";
import { exportVariant, maxAbsDiff, MODEL_PATH, nhwcToNchw } from "./infer_fixtures.ts";

const LATENTS = 3;

Deno.test("model info comes from the exporter's metadata", async () => {
  const info = readModelInfo(await Deno.readFile(MODEL_PATH));
  assertEquals(
    {
      input: [info.inputName, info.inputType, info.latentDim, info.fixedBatch],
      output: [
        info.outputName,
        info.outputType,
        info.layout,
        info.height,
        info.width,
        info.channels,
      ],
      range: info.valueRange,
    },
    {
      input: ["latent", "float32", 100, null],
      output: ["image", "float32", "nchw", 28, 28, 1],
      range: [-1, 1],
    },
  );
  assertEquals(info.metadata.latent_size, "100");
});

Deno.test("without metadata, latent size, layout and range come from the graph", async () => {
  const model = decodeModel(await Deno.readFile(MODEL_PATH));
  model.metadataProps = [];
  const info = readModelInfo(encodeModel(model));
  assertEquals(
    [info.latentDim, info.layout, info.height, info.width, info.channels, info.valueRange],
    [100, "nchw", 28, 28, 1, [-1, 1]],
  );
  assertEquals(info.metadata, {});
  const nhwc = decodeModel(exportVariant("nhwc"));
  nhwc.metadataProps = [];
  const nhwcInfo = readModelInfo(encodeModel(nhwc));
  assertEquals([nhwcInfo.layout, nhwcInfo.height, nhwcInfo.channels], ["nhwc", 28, 1]);
});

Deno.test("bad models are refused with a clear message", async () => {
  throws(
    () => readModelInfo(new TextEncoder().encode("# not a model\n")),
    (e: Error) => e instanceof ModelError && /not an ONNX model/.test(e.message),
  );
  throws(() => readModelInfo(new Uint8Array(0)), /not an ONNX model/);
  const image = decodeModel(await Deno.readFile(MODEL_PATH));
  image.graph.input[0].type.tensorType.shape.dim = [{ dimParam: "batch" }, { dimValue: 1 }, {
    dimValue: 28,
  }, { dimValue: 28 }];
  throws(
    () => readModelInfo(encodeModel(image)),
    /input "latent" has shape \[\?, 1, 28, 28\]: not a latent vector/,
  );
  const lying = decodeModel(await Deno.readFile(MODEL_PATH));
  lying.metadataProps = lying.metadataProps.map((p) =>
    p.key === "latent_size" ? { key: p.key, value: "64" } : p
  );
  throws(
    () => readModelInfo(encodeModel(lying)),
    /latent_size 64 but its input "latent" takes 100/,
  );
  await rejects(
    createGenerator("no/such/model.onnx"),
    /cannot read the model file .*: no such file/,
  );
});

Deno.test("NHWC and float16 exports give the same images as the NCHW float32 one", async () => {
  const reference = await createGenerator(exportVariant("nchw"), { provider: "cpu" });
  const nhwc = await createGenerator(exportVariant("nhwc"), { provider: "cpu" });
  const half = await createGenerator(exportVariant("nchw", "float16"), { provider: "cpu" });
  const halfIo = await createGenerator(exportVariant("nchw", "float16", true), { provider: "cpu" });
  try {
    assertEquals([halfIo.info.inputType, halfIo.info.outputType], ["float16", "float16"]);
    const ref = await reference.sample(LATENTS, { seed: 3 });
    const n = await nhwc.sample(LATENTS, { seed: 3 });
    assertEquals([n.layout, n.height, n.width, n.channels], ["nhwc", 28, 28, 1]);
    ok(maxAbsDiff(nhwcToNchw(n.data, LATENTS, 28, 28, 1), ref.data) < 1e-5);
    for (const g of [half, halfIo]) {
      const h = await g.sample(LATENTS, { seed: 3 });
      const diff = maxAbsDiff(h.data, ref.data);
      ok(diff < 5e-3, `float16 differs by ${diff}`);
    }
  } finally {
    await Promise.all([reference, nhwc, half, halfIo].map((g) => g.dispose()));
  }
});

Deno.test("a model with a fixed batch size gets full batches (padded) and the same images", async () => {
  const fixed = decodeModel(exportVariant("nchw"));
  for (const v of [fixed.graph.input[0], fixed.graph.output[0]]) {
    v.type.tensorType.shape.dim[0] = { dimValue: 2 };
  }
  const bytes = encodeModel(fixed);
  assertEquals(readModelInfo(bytes).fixedBatch, 2);
  const reference = await createGenerator(exportVariant("nchw"), { provider: "cpu" });
  const pinned = await createGenerator(bytes, { provider: "cpu", maxBatch: 64 });
  try {
    assertEquals(pinned.maxBatch, 2);
    const a = await pinned.sample(LATENTS, { seed: 4 });
    assertEquals(a.count, LATENTS);
    ok(maxAbsDiff(a.data, (await reference.sample(LATENTS, { seed: 4 })).data) < 1e-5);
  } finally {
    await Promise.all([reference.dispose(), pinned.dispose()]);
  }
});
