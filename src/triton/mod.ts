/**
 * Triton Inference Server packaging of a generator: the model configuration (`config.pbtxt`, and the same object
 * as JSON for `deno task serve`'s `/config` endpoint) and a model repository folder Triton serves as it is.
 *
 * ```ts
 * await writeTritonRepository("triton", await Deno.readFile("models/generator.onnx"), {
 *   name: "generator",
 *   maxBatchSize: 1024,
 *   maxQueueDelayMs: 2,
 * }); // triton/generator/1/model.onnx + triton/generator/config.pbtxt
 * ```
 * @module
 */
export { ONNX_PLATFORM, type TritonConfigOptions, tritonModelConfig } from "./model_config.ts";
export { type TritonRepositoryFiles, writeTritonRepository } from "./repository.ts";
