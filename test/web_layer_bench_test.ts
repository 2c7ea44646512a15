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
      // The sub-pixel form of each upsampling (src/onnx/rewrite_subpixel.ts): 4 phases of 128 channels, 2×2 taps
      // on the 7 + 1 (14 + 1) grid, interleaved and cropped.
      ["g_deconv1/Conv", "Conv", [2, 512, 8, 8], 2 * (2 * 512 * 8 * 8) * 128 * 4],
      ["g_deconv1/DepthToSpace", "DepthToSpace", [2, 128, 16, 16], 0],
      ["g_deconv1/Slice", "Slice", [2, 128, 14, 14], 0],
      ["g_conv1", "Conv", [2, 128, 14, 14], 2 * (2 * 128 * 14 * 14) * 128 * 16],
      ["g_relu1", "Relu", [2, 128, 14, 14], 0],
      ["g_deconv2/Conv", "Conv", [2, 512, 15, 15], 2 * (2 * 512 * 15 * 15) * 128 * 4],
      ["g_deconv2/DepthToSpace", "DepthToSpace", [2, 128, 30, 30], 0],
      ["g_deconv2/Slice", "Slice", [2, 128, 28, 28], 0],
      ["g_conv2", "Conv", [2, 64, 28, 28], 2 * (2 * 64 * 28 * 28) * 128 * 16],
      ["g_relu2", "Relu", [2, 64, 28, 28], 0],
      // The one-channel image layer as a ConvTranspose (src/onnx/rewrite_narrow_conv.ts): the same products.
      ["g_out/ConvTranspose", "ConvTranspose", [2, 1, 28, 28], 2 * (2 * 64 * 28 * 28) * 49],
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
