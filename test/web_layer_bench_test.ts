/**
 * `deno task bench:web --layers`: the shipped generator split into one-node models, each run on onnxruntime-web's
 * WebAssembly and on onnxruntime-node, with its shape and operation count.
 */
import assert from "node:assert/strict";
import { benchLayers, DEFAULT_MODEL_PATH } from "../web-demo/tools/mod.ts";

Deno.test("bench:web --layers times every node of the shipped generator with its exact operation count", async () => {
  const result = await benchLayers(await Deno.readFile(DEFAULT_MODEL_PATH), { batch: 2, runs: 1 });
  assert.equal(result.batch, 2);
  assert.deepEqual(
    result.layers.map((l) => [l.layer, l.op, l.outputShape, Math.round(l.mflop * 1e6)]),
    [
      ["g_dense", "Gemm", [2, 6272], 2 * 2 * 6272 * 100],
      ["g_reshape", "Reshape", [2, 128, 7, 7], 0],
      ["g_deconv1", "ConvTranspose", [2, 128, 14, 14], 2 * (2 * 128 * 7 * 7) * 128 * 16],
      ["g_conv1", "Conv", [2, 128, 14, 14], 2 * (2 * 128 * 14 * 14) * 128 * 16],
      ["g_relu1", "Relu", [2, 128, 14, 14], 0],
      ["g_deconv2", "ConvTranspose", [2, 128, 28, 28], 2 * (2 * 128 * 14 * 14) * 128 * 16],
      ["g_conv2", "Conv", [2, 64, 28, 28], 2 * (2 * 64 * 28 * 28) * 128 * 16],
      ["g_relu2", "Relu", [2, 64, 28, 28], 0],
      ["g_out", "Conv", [2, 1, 28, 28], 2 * (2 * 28 * 28) * 64 * 49],
      ["g_out_tanh", "Tanh", [2, 1, 28, 28], 0],
    ],
  );
  for (const l of result.layers) {
    assert.ok(l.wasmMs > 0 && l.nativeMs > 0, `${l.layer}: ${l.wasmMs} / ${l.nativeMs} ms`);
  }
  const sum = (f: (l: typeof result.layers[number]) => number) =>
    result.layers.reduce((a, l) => a + f(l), 0);
  assert.equal(result.wasmMs, sum((l) => l.wasmMs));
  assert.equal(result.nativeMs, sum((l) => l.nativeMs));
  assert.equal(result.wasmVsNative, result.nativeMs / result.wasmMs);
});
