/**
 * Smaller weight storage for exported files (src/onnx's compressWeights): integers and float16 expanded by Cast and
 * Mul compute, in onnxruntime-node, exactly what the float32 graph computes with the stored weights; the right axis
 * gets the scales; onnxruntime computes the weights once, at load time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import {
  compressWeights,
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
  quantizeWeights,
  type WeightFormat,
} from "../src/onnx/mod.ts";
import { type Attr, GraphBuilder } from "../src/onnx_proto/mod.ts";
import { Rng } from "../src/random/mod.ts";

/** A one-operator float32 model `y = op(x, W)`, W seeded normal values of shape `dims`. */
function oneOp(
  opType: string,
  dims: number[],
  input: number[],
  attrs: Record<string, Attr> = {},
  opset = 17,
): { model: ModelProto; weights: Float32Array } {
  const g = new GraphBuilder("float32");
  const weights = new Rng(dims.length).normals(dims.reduce((a, b) => a * b, 1), 0.3);
  const w = g.addFloat("w", dims, weights);
  const y = g.addNode(opType, ["x", w], "y", attrs);
  const tensor = (name: string, shape: number[]) => ({
    name,
    type: {
      tensorType: { elemType: DataType.FLOAT, shape: { dim: shape.map((d) => ({ dimValue: d })) } },
    },
  });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    producerName: "test",
    producerVersion: "0",
    graph: {
      name: "one",
      node: g.nodes,
      initializer: g.initializers,
      input: [tensor("x", input)],
      // The output's rank is the input's; its sizes are left to the runtime.
      output: [{
        name: y,
        type: {
          tensorType: {
            elemType: DataType.FLOAT,
            shape: { dim: input.map((_, i) => ({ dimParam: `d${i}` })) },
          },
        },
      }],
    },
    metadataProps: [{ key: "kept", value: "yes" }],
  };
  return { model, weights };
}

/** The same model with its weight `w` replaced by `values` (float32). */
function withWeights(model: ModelProto, values: Float32Array): ModelProto {
  const initializer = model.graph.initializer.map((t) =>
    t.name === "w" ? { ...t, rawData: new Uint8Array(values.slice().buffer) } : t
  );
  return { ...model, graph: { ...model.graph, initializer } };
}

async function run(model: ModelProto, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({ x: new ort.Tensor("float32", x, dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i])), 0);
}

const INT11: WeightFormat = { kind: "int", bits: 11 };

Deno.test("quantizeWeights: one scale per channel of the axis, integers in range, error at most half a step", () => {
  const dims = [3, 4, 5];
  const values = new Rng(1).normals(60, 1);
  values[7] = 0;
  for (const axis of [0, 1, 2]) {
    const { q, scales } = quantizeWeights(values, dims, axis, 11);
    assert.equal(scales.length, dims[axis]);
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    values.forEach((v, i) => {
      const scale = scales[Math.floor(i / inner) % dims[axis]];
      assert.ok(Math.abs(q[i]) <= 1023, `q ${q[i]}`);
      assert.ok(Math.abs(q[i] * scale - v) <= scale / 2 + 1e-7, `value ${i} on axis ${axis}`);
    });
    assert.equal(q[7], 0);
    // The largest magnitude of each channel is the largest integer.
    assert.equal(Math.max(...q.map(Math.abs)), 1023);
  }
  assert.throws(() => quantizeWeights(values, dims, 0, 13), /2 to 12 bits, not 13/);
  assert.throws(() => quantizeWeights(values, dims, 0, 1), RangeError);
});

Deno.test("compressWeights int11: the graph computes what float32 does with the stored weights", async () => {
  // 7 × 5 = 35 values: an odd count, so the last packed byte holds one low half.
  const { model, weights } = oneOp("MatMul", [7, 5], [7, 7]);
  const small = compressWeights(model, { format: INT11, minValues: 0 });
  const { q, scales } = quantizeWeights(weights, [7, 5], 1, 11);
  const stored = Float32Array.from(q, (v, i) => v * scales[i % 5]);
  const identity = Float32Array.from({ length: 49 }, (_, i) => i % 8 === 0 ? 1 : 0);
  const expanded = await run(small, identity, [7, 7]);
  assert.ok(maxAbs(expanded, stored) < 1e-6, `${maxAbs(expanded, stored)}`);
  assert.ok(maxAbs(expanded, weights) > 0, "the weights really are stored with fewer bits");
  assert.ok(maxAbs(expanded, weights) <= Math.max(...scales) / 2 + 1e-7);

  const types = Object.fromEntries(small.graph.initializer.map((t) => [t.name, t.dataType]));
  const dims = Object.fromEntries(small.graph.initializer.map((t) => [t.name, t.dims]));
  assert.deepEqual(dims["w.scale"], [1, 5], "one scale per output column, shaped to broadcast");
  assert.equal(types["w.high"], DataType.INT8);
  assert.equal(types["w.low"], DataType.UINT8);
  assert.equal(small.graph.initializer.find((t) => t.name === "w.low")?.rawData.length, 18);
  assert.equal(types.w, undefined, "the float32 weight is gone");
  assert.deepEqual(small.metadataProps, [
    { key: "kept", value: "yes" },
    { key: "weight_storage", value: "int11, one scale per output channel (Cast, Mul)" },
  ]);
  // Compressed once, nothing is left to compress.
  assert.equal(compressWeights(small, { format: INT11, minValues: 0 }), small);
});

Deno.test("compressWeights: the output-channel axis of Conv, ConvTranspose and Gemm", async () => {
  const cases: Array<[string, number[], number[], Record<string, Attr>, number]> = [
    ["Conv", [4, 3, 3, 3], [2, 3, 6, 6], {}, 0],
    ["ConvTranspose", [3, 4, 2, 2], [2, 3, 5, 5], { strides: { ints: [2, 2] } }, 1],
    ["Gemm", [6, 5], [3, 5], { transB: { int: 1 } }, 0],
    ["Gemm", [5, 6], [3, 5], {}, 1],
  ];
  for (const [opType, dims, input, attrs, axis] of cases) {
    const { model, weights } = oneOp(opType, dims, input, attrs);
    for (const bits of [8, 11]) {
      const small = compressWeights(model, { format: { kind: "int", bits }, minValues: 0 });
      const scale = small.graph.initializer.find((t) => t.name === "w.scale")!;
      assert.deepEqual(scale.dims, dims.map((d, i) => i === axis ? d : 1), `${opType} axis`);
      const ops = small.graph.node.map((n) => n.opType);
      assert.equal(ops.filter((op) => op === "Cast").length, bits === 8 ? 1 : 3, ops.join(" "));
      const { q, scales } = quantizeWeights(weights, dims, axis, bits);
      const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const stored = Float32Array.from(q, (v, i) => v * scales[Math.floor(i / inner) % dims[axis]]);
      const x = new Rng(9).normals(input.reduce((a, b) => a * b, 1), 1);
      const expected = await run(withWeights(model, stored), x, input);
      const got = await run(small, x, input);
      assert.ok(
        maxAbs(got, expected) < 1e-5,
        `${opType} ${dims} int${bits}: ${maxAbs(got, expected)}`,
      );
    }
  }
});

Deno.test("compressWeights float16: the weights through Cast, rounded to half precision", async () => {
  const { model, weights } = oneOp("Conv", [4, 3, 3, 3], [1, 3, 5, 5]);
  const small = compressWeights(model, { format: { kind: "float16" }, minValues: 0 });
  assert.deepEqual(small.graph.node.map((n) => n.opType), ["Cast", "Conv"]);
  assert.equal(small.graph.initializer[0].dataType, DataType.FLOAT16);
  const x = new Rng(3).normals(75, 1);
  const expected = await run(withWeights(model, Float32Array.from(new Float16Array(weights))), x, [
    1,
    3,
    5,
    5,
  ]);
  assert.ok(maxAbs(await run(small, x, [1, 3, 5, 5]), expected) < 1e-5);
});

Deno.test("compressWeights: onnxruntime expands the weights once, when it loads the model", async () => {
  const { model } = oneOp("Conv", [16, 16, 4, 4], [1, 16, 6, 6]);
  const dir = await Deno.makeTempDir({ prefix: "compress-" });
  try {
    const optimized = join(dir, "optimized.onnx");
    const small = compressWeights(model, { format: INT11 });
    await ort.InferenceSession.create(encodeModel(small), {
      graphOptimizationLevel: "basic",
      optimizedModelFilePath: optimized,
    });
    const folded = decodeModel(await Deno.readFile(optimized));
    assert.deepEqual(folded.graph.node.map((n) => n.opType), ["Conv"]);
    assert.deepEqual(folded.graph.initializer.map((t) => t.dataType), [DataType.FLOAT]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compressWeights: small weights and other tensors stay; integers need opset 13", () => {
  const { model } = oneOp("Conv", [4, 3, 3, 3], [1, 3, 5, 5]);
  // 108 values are below the default minimum (4,096): nothing to do.
  assert.equal(compressWeights(model, { format: INT11 }), model);
  const { model: old } = oneOp("MatMul", [7, 5], [7, 7], {}, 12);
  assert.throws(
    () => compressWeights(old, { format: INT11, minValues: 0 }),
    /need opset 13 or later, not 12/,
  );
  // float16 needs no DequantizeLinear.
  const half = compressWeights(old, { format: { kind: "float16" }, minValues: 0 });
  assert.equal(decodeModel(encodeModel(half)).graph.initializer[0].dataType, DataType.FLOAT16);
});
