/**
 * Triton's model configuration for a generator: built from the {@link ModelInfo} read off the ONNX file, and
 * written as protobuf text (`config.pbtxt`). `deno task serve` returns the same object as JSON from
 * `GET /v2/models/{name}/config`, so a client reads one description from either server.
 * @module
 */
import {
  imageDims,
  type ModelInfo,
  type TritonModelConfig,
  type TritonParameter,
  type TritonTensorConfig,
} from "../infer/mod.ts";

/** Triton's platform name of an ONNX model run by onnxruntime. */
export const ONNX_PLATFORM = "onnxruntime_onnx";

/** How the model is served. */
export interface TritonConfigOptions {
  /** The model's name (its folder in the repository, the `{name}` in `/v2/models/{name}`). */
  name: string;
  /** The most rows one request (and one dynamic batch) may have. */
  maxBatchSize: number;
  /** How long the dynamic batcher waits for more requests, in milliseconds. */
  maxQueueDelayMs: number;
}

const TRITON_TYPES = { float32: "TYPE_FP32", float16: "TYPE_FP16" } as const;

/**
 * The Triton configuration of a generator. A model whose file fixes the batch size gets `max_batch_size: 0`, its
 * full dims and no dynamic batching (Triton's rule for models that do not batch).
 */
export function tritonModelConfig(
  info: ModelInfo,
  options: TritonConfigOptions,
): TritonModelConfig {
  const fixed = info.fixedBatch;
  const batchDims = fixed === null ? [] : [fixed];
  const input: TritonTensorConfig = {
    name: info.inputName,
    data_type: TRITON_TYPES[info.inputType],
    dims: [...batchDims, info.latentDim],
  };
  const output: TritonTensorConfig = {
    name: info.outputName,
    data_type: TRITON_TYPES[info.outputType],
    dims: [...batchDims, ...imageDims(info)],
  };
  const parameters: Record<string, TritonParameter> = {
    value_range: { string_value: JSON.stringify(info.valueRange) },
    output_layout: { string_value: info.layout },
    image_shape: { string_value: JSON.stringify(imageDims(info)) },
  };
  return {
    name: options.name,
    platform: ONNX_PLATFORM,
    max_batch_size: fixed === null ? options.maxBatchSize : 0,
    input: [input],
    output: [output],
    ...(fixed === null
      ? {
        dynamic_batching: {
          max_queue_delay_microseconds: Math.round(options.maxQueueDelayMs * 1000),
        },
      }
      : {}),
    instance_group: [{ count: 1, kind: "KIND_AUTO" }],
    parameters,
  };
}

/** Enum values of model_config.proto, written bare in protobuf text. */
const ENUM_FIELDS = new Set(["data_type", "kind"]);

function scalar(key: string, value: string | number): string {
  return typeof value === "number" || ENUM_FIELDS.has(key) ? String(value) : JSON.stringify(value);
}

function tensorText(t: TritonTensorConfig): string {
  return `  {\n    name: ${JSON.stringify(t.name)}\n    data_type: ${t.data_type}\n` +
    `    dims: [ ${t.dims.join(", ")} ]\n  }`;
}

/** The configuration as Triton's `config.pbtxt` (protobuf text format of `ModelConfig`). */
export function formatPbtxt(config: TritonModelConfig): string {
  const lines = [
    `name: ${scalar("name", config.name)}`,
    `platform: ${scalar("platform", config.platform)}`,
    `max_batch_size: ${config.max_batch_size}`,
    `input [\n${config.input.map(tensorText).join(",\n")}\n]`,
    `output [\n${config.output.map(tensorText).join(",\n")}\n]`,
  ];
  if (config.dynamic_batching) {
    lines.push(
      "dynamic_batching {\n  max_queue_delay_microseconds: " +
        `${config.dynamic_batching.max_queue_delay_microseconds}\n}`,
    );
  }
  const groups = config.instance_group.map((g) =>
    `  {\n    count: ${g.count}\n    kind: ${scalar("kind", g.kind)}\n  }`
  );
  lines.push(`instance_group [\n${groups.join(",\n")}\n]`);
  for (const [key, value] of Object.entries(config.parameters)) {
    lines.push(
      `parameters {\n  key: ${JSON.stringify(key)}\n  value: { string_value: ${
        JSON.stringify(value.string_value)
      } }\n}`,
    );
  }
  return lines.join("\n") + "\n";
}
