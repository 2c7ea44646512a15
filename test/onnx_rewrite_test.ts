/**
 * The inference rewrites of src/onnx, each against the plain layer it replaces: one-operator graphs with seeded
 * random weights and inputs, run by onnxruntime-node at odd batch sizes, agree within 1e-5; layers a pass does not
 * cover are left as they are; the pipeline records what it did and leaves its input untouched.
 */
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import {
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
  REWRITE_PROFILES,
  rewriteForInference,
  type RewritePassName,
  REWRITES_METADATA_KEY,
} from "../src/onnx/mod.ts";
import { type Attr, type FloatPrecision, GraphBuilder } from "../src/onnx_proto/mod.ts";
import { Rng } from "../src/random/mod.ts";

const TOLERANCE = 1e-5;
const BATCHES = [1, 3, 7];

interface LayerCase {
  opType: "Conv" | "ConvTranspose";
  /** ONNX kernel dims: Conv [out, in, kh, kw], ConvTranspose [in, out, kh, kw]. */
  kernel: number[];
  /** Input channels, height, width. */
  input: [number, number, number];
  attrs: Record<string, Attr>;
  bias?: boolean;
  precision?: FloatPrecision;
}

/** A one-layer model `y = op(x, W[, b])` with a symbolic batch, seeded weights at Glorot scale. */
function layerModel(c: LayerCase, seed: number): ModelProto {
  const g = new GraphBuilder(c.precision ?? "float32");
  const rng = new Rng(seed);
  const count = c.kernel.reduce((a, b) => a * b, 1);
  const outC = c.opType === "Conv" ? c.kernel[0] : c.kernel[1];
  // Glorot-scale weights keep the outputs near 1, as in a trained network, so 1e-5 is float32 rounding.
  const fanIn = count / outC;
  const inputs = ["x", g.addFloat("w", c.kernel, rng.normals(count, Math.sqrt(1 / fanIn)))];
  if (c.bias ?? true) inputs.push(g.addFloat("b", [outC], rng.normals(outC, 0.5)));
  const y = g.addNode(c.opType, inputs, "layer", { group: { int: 1 }, ...c.attrs });
  const dims = (...d: (number | string)[]) =>
    d.map((v) => typeof v === "string" ? { dimParam: v } : { dimValue: v });
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "test",
    producerVersion: "0",
    graph: {
      name: "layer",
      node: g.nodes,
      initializer: g.initializers,
      input: [{
        name: "x",
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims("n", ...c.input) } } },
      }],
      output: [{
        name: y,
        type: {
          tensorType: { elemType: DataType.FLOAT, shape: { dim: dims("n", "c", "h", "w") } },
        },
      }],
    },
    metadataProps: [],
  };
}

async function run(model: ModelProto, x: Float32Array, dims: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({ x: new ort.Tensor("float32", x, dims) });
    return out[session.outputNames[0]];
  } finally {
    await session.release();
  }
}

/** Asserts that `pass` rewrites the layer into `ops` and that both graphs agree at every batch size. */
async function assertSameFunction(c: LayerCase, pass: RewritePassName, ops: string[], seed = 1) {
  const plain = layerModel(c, seed);
  const { model: rewritten, applied } = rewriteForInference(plain, [pass]);
  assert.deepEqual(applied, [{ pass, nodes: ["layer"] }]);
  assert.deepEqual(rewritten.graph.node.map((n) => n.opType), ops);
  await assertAgree(c, plain, rewritten, seed);
}

/** Asserts that two models of the layer `c` agree within the tolerance at every batch size. */
async function assertAgree(c: LayerCase, plain: ModelProto, rewritten: ModelProto, seed: number) {
  const rng = new Rng(seed + 100);
  for (const n of BATCHES) {
    const dims = [n, ...c.input];
    const x = rng.normals(dims.reduce((a, b) => a * b, 1), 1);
    const [want, got] = [await run(plain, x, dims), await run(rewritten, x, dims)];
    assert.deepEqual(got.dims, want.dims, `batch ${n}: output shape`);
    const a = want.data as Float32Array;
    const b = got.data as Float32Array;
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    assert.ok(diff <= TOLERANCE, `batch ${n}: max |rewritten − plain| = ${diff}`);
  }
}

const SUBPIXEL = ["Conv", "DepthToSpace", "Slice"];

Deno.test("subpixel_conv_transpose: the generator's k4 s2 'same' upsampling, 7→14 and 14→28", async () => {
  const attrs = { kernel_shape: { ints: [4, 4] }, strides: { ints: [2, 2] } };
  const pads = { pads: { ints: [1, 1, 1, 1] } };
  await assertSameFunction(
    {
      opType: "ConvTranspose",
      kernel: [16, 8, 4, 4],
      input: [16, 7, 7],
      attrs: { ...attrs, ...pads },
    },
    "subpixel_conv_transpose",
    SUBPIXEL,
  );
  await assertSameFunction(
    {
      opType: "ConvTranspose",
      kernel: [8, 5, 4, 4],
      input: [8, 14, 14],
      attrs: { ...attrs, ...pads },
    },
    "subpixel_conv_transpose",
    SUBPIXEL,
    2,
  );
});

Deno.test("subpixel_conv_transpose: odd kernels, stride 3, uneven pads, no bias, non-square input", async () => {
  const cases: LayerCase[] = [
    {
      opType: "ConvTranspose",
      kernel: [3, 4, 3, 3],
      input: [3, 5, 6],
      attrs: {
        kernel_shape: { ints: [3, 3] },
        strides: { ints: [2, 2] },
        pads: { ints: [1, 0, 0, 1] },
      },
    },
    {
      opType: "ConvTranspose",
      kernel: [4, 2, 5, 2],
      input: [4, 4, 3],
      attrs: {
        kernel_shape: { ints: [5, 2] },
        strides: { ints: [3, 3] },
        pads: { ints: [2, 0, 1, 0] },
      },
      bias: false,
    },
    {
      opType: "ConvTranspose",
      kernel: [2, 3, 2, 2],
      input: [2, 3, 3],
      attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
    },
  ];
  for (const [i, c] of cases.entries()) {
    await assertSameFunction(c, "subpixel_conv_transpose", SUBPIXEL, 10 + i);
  }
});

Deno.test("conv_transpose_from_subpixel undoes the sub-pixel form: one ConvTranspose, the same function", async () => {
  const cases: LayerCase[] = [
    {
      opType: "ConvTranspose",
      kernel: [8, 5, 4, 4],
      input: [8, 7, 7],
      attrs: {
        kernel_shape: { ints: [4, 4] },
        strides: { ints: [2, 2] },
        pads: { ints: [1, 1, 1, 1] },
      },
    },
    {
      opType: "ConvTranspose",
      kernel: [3, 4, 3, 3],
      input: [3, 5, 6],
      attrs: {
        kernel_shape: { ints: [3, 3] },
        strides: { ints: [2, 2] },
        pads: { ints: [1, 0, 0, 1] },
      },
      bias: false,
    },
    {
      opType: "ConvTranspose",
      kernel: [4, 2, 5, 2],
      input: [4, 4, 3],
      attrs: {
        kernel_shape: { ints: [5, 2] },
        strides: { ints: [3, 3] },
        pads: { ints: [2, 0, 1, 0] },
      },
    },
  ];
  for (const [i, c] of cases.entries()) {
    const plain = layerModel(c, 20 + i);
    const subpixel = rewriteForInference(plain, ["subpixel_conv_transpose"]).model;
    const { model: back, applied } = rewriteForInference(subpixel, REWRITE_PROFILES.web);
    assert.deepEqual(applied, [{ pass: "conv_transpose_from_subpixel", nodes: ["layer/Conv"] }]);
    assert.deepEqual(back.graph.node.map((n) => [n.opType, n.name]), [["ConvTranspose", "layer"]]);
    await assertAgree(c, plain, back, 20 + i);
  }
  // The generator's k4 s2 layer comes back as it was: the same kernel values and pads.
  const plain = layerModel(cases[0], 20);
  const subpixel = rewriteForInference(plain, ["subpixel_conv_transpose"]).model;
  const back = rewriteForInference(subpixel, ["conv_transpose_from_subpixel"]).model;
  const weight = (m: ModelProto) => m.graph.initializer.find((t) => t.dims.length === 4)!;
  assert.deepEqual(weight(back).rawData, weight(plain).rawData);
  const pads = (m: ModelProto) => m.graph.node[0].attribute.find((a) => a.name === "pads")?.ints;
  assert.deepEqual(pads(back), [1, 1, 1, 1]);
});

Deno.test("narrow_conv_as_transpose: the generator's 64→1 7×7 'same' image layer and asymmetric pads", async () => {
  await assertSameFunction(
    {
      opType: "Conv",
      kernel: [1, 16, 7, 7],
      input: [16, 28, 28],
      attrs: { kernel_shape: { ints: [7, 7] }, pads: { ints: [3, 3, 3, 3] } },
    },
    "narrow_conv_as_transpose",
    ["ConvTranspose"],
  );
  await assertSameFunction(
    {
      opType: "Conv",
      kernel: [3, 5, 4, 3],
      input: [5, 9, 8],
      attrs: { kernel_shape: { ints: [4, 3] }, pads: { ints: [1, 0, 2, 1] } },
      bias: false,
    },
    "narrow_conv_as_transpose",
    ["ConvTranspose"],
    3,
  );
});

Deno.test("passes leave the layers they do not cover as they are", () => {
  const untouched: Array<[LayerCase, RewritePassName]> = [
    // A wide Conv runs well in the blocked kernels.
    [{
      opType: "Conv",
      kernel: [8, 4, 3, 3],
      input: [4, 6, 6],
      attrs: { kernel_shape: { ints: [3, 3] } },
    }, "narrow_conv_as_transpose"],
    [{
      opType: "Conv",
      kernel: [1, 4, 3, 3],
      input: [4, 6, 6],
      attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } },
    }, "narrow_conv_as_transpose"],
    [{
      opType: "ConvTranspose",
      kernel: [4, 4, 3, 3],
      input: [4, 5, 5],
      attrs: { kernel_shape: { ints: [3, 3] }, strides: { ints: [1, 1] } },
    }, "subpixel_conv_transpose"],
    [{
      opType: "ConvTranspose",
      kernel: [4, 4, 4, 4],
      input: [4, 5, 5],
      attrs: {
        kernel_shape: { ints: [4, 4] },
        strides: { ints: [2, 2] },
        output_padding: { ints: [1, 1] },
      },
    }, "subpixel_conv_transpose"],
  ];
  for (const [c, pass] of untouched) {
    const plain = layerModel(c, 5);
    const { model, applied } = rewriteForInference(plain, [pass]);
    assert.deepEqual(applied, []);
    assert.deepEqual(model.graph, plain.graph);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta[REWRITES_METADATA_KEY], "none");
  }
});

Deno.test("float16 weights stay float16 and exact: the passes only move and zero-fill them", () => {
  const c: LayerCase = {
    opType: "ConvTranspose",
    kernel: [4, 3, 4, 4],
    input: [4, 5, 5],
    attrs: {
      kernel_shape: { ints: [4, 4] },
      strides: { ints: [2, 2] },
      pads: { ints: [1, 1, 1, 1] },
    },
    precision: "float16",
  };
  const plain = layerModel(c, 7);
  const { model } = rewriteForInference(plain);
  const weight = model.graph.initializer.find((t) => t.name === "layer.subpixel_weight")!;
  assert.equal(weight.dataType, DataType.FLOAT16);
  assert.deepEqual(weight.dims, [4 * 3, 4, 2, 2]);
  const values = (t: { rawData: Uint8Array }) =>
    new Float16Array(t.rawData.slice().buffer).filter((v) => v !== 0).sort();
  assert.deepEqual(values(weight), values(plain.graph.initializer.find((t) => t.name === "w")!));
  assert.deepEqual(model.graph.initializer.map((t) => t.name).includes("w"), false);
});

Deno.test("the pipeline records its rewrites, keeps the other metadata and leaves its input as it was", () => {
  const c: LayerCase = {
    opType: "Conv",
    kernel: [1, 4, 3, 3],
    input: [4, 6, 6],
    attrs: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
  };
  const plain = { ...layerModel(c, 9), metadataProps: [{ key: "kept", value: "yes" }] };
  const before = encodeModel(plain);
  const { model } = rewriteForInference(plain);
  assert.deepEqual(encodeModel(plain), before);
  assert.deepEqual(model.metadataProps, [
    { key: "kept", value: "yes" },
    { key: REWRITES_METADATA_KEY, value: "narrow_conv_as_transpose(layer)" },
  ]);
  // Rewriting a rewritten file again changes nothing and keeps the record of the first rewrite.
  const again = rewriteForInference(decodeModel(encodeModel(model)));
  assert.deepEqual(again.applied, []);
  assert.deepEqual(again.model.graph.node.map((n) => n.opType), ["ConvTranspose"]);
  assert.deepEqual(again.model.metadataProps, model.metadataProps);
});
