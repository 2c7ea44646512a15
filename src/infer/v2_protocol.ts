/**
 * The JSON of the open ("v2", KServe / Triton) inference protocol's REST API, as far as a generator uses it:
 * server and model metadata, inference requests and responses, errors, and Triton's model configuration. Shared by
 * the `http` provider (the client) and `src/serve` (the server), so both speak the same field names.
 * Browser-safe.
 * @module
 */
import { InputError } from "./errors.ts";
import type { FloatType } from "./model_info.ts";

/** `GET /v2`: `$metadata_server_response`. */
export interface V2ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** `$metadata_tensor`: a tensor's name, element type and shape (-1 for a variable dimension). */
export interface V2TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** `GET /v2/models/{name}`: `$metadata_model_response`. */
export interface V2ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: V2TensorMetadata[];
  outputs: V2TensorMetadata[];
}

/** `$parameters`: name → string, number or boolean. */
export type V2Parameters = Record<string, string | number | boolean>;

/** `$request_input`: one input tensor, `data` row-major, flat or nested. */
export interface V2RequestInput extends V2TensorMetadata {
  parameters?: V2Parameters;
  data: unknown[];
}

/** `POST /v2/models/{name}/infer`: `$inference_request`. */
export interface V2InferRequest {
  id?: string;
  parameters?: V2Parameters;
  inputs: V2RequestInput[];
  outputs?: Array<{ name: string; parameters?: V2Parameters }>;
}

/** `$response_output`: one output tensor, `data` row-major and flat. */
export interface V2ResponseOutput extends V2TensorMetadata {
  parameters?: V2Parameters;
  data: number[];
}

/** `$inference_response`. */
export interface V2InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: V2Parameters;
  outputs: V2ResponseOutput[];
}

/** Every failed request: `{"error": "..."}`. */
export interface V2Error {
  error: string;
}

/** A `ModelParameter` of Triton's model configuration (`parameters { key: ... value: { string_value } }`). */
export interface TritonParameter {
  string_value: string;
}

/** One input or output of Triton's model configuration: dims without the batch dimension. */
export interface TritonTensorConfig {
  name: string;
  data_type: string;
  dims: number[];
}

/**
 * The part of Triton's `ModelConfig` (model_config.proto) a generator needs; `GET /v2/models/{name}/config` returns
 * it as JSON (Triton's "model_configuration" extension) and `config.pbtxt` holds it as protobuf text.
 */
export interface TritonModelConfig {
  name: string;
  platform: string;
  /** The most rows one request may have; 0 when the model fixes its batch size (dims then include it). */
  max_batch_size: number;
  input: TritonTensorConfig[];
  output: TritonTensorConfig[];
  dynamic_batching?: { max_queue_delay_microseconds: number };
  instance_group: Array<{ count: number; kind: string }>;
  /** The generator facts the shapes do not tell: `value_range`, `output_layout`, `image_shape`. */
  parameters: Record<string, TritonParameter>;
}

const V2_DATATYPES: Record<FloatType, string> = { float32: "FP32", float16: "FP16" };

/** The protocol's name of a float type (`FP32`, `FP16`). */
export function v2Datatype(type: FloatType): string {
  return V2_DATATYPES[type];
}

/** The float type of a protocol datatype name, or null when it is not one a generator uses. */
export function floatTypeOfV2(datatype: string): FloatType | null {
  const found = Object.entries(V2_DATATYPES).find(([, name]) => name === datatype);
  return found ? found[0] as FloatType : null;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function flattenNested(
  data: unknown,
  shape: readonly number[],
  depth: number,
  out: unknown[],
  what: string,
): void {
  if (depth === shape.length) {
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    const got = Array.isArray(data) ? `${data.length} entries` : `a ${typeof data}`;
    throw new InputError(
      `${what}: data does not match shape [${shape.join(", ")}]: dimension ${depth} should have ` +
        `${shape[depth]} entries, got ${got}`,
    );
  }
  for (const item of data) flattenNested(item, shape, depth + 1, out, what);
}

/**
 * A tensor's `data` (row-major, flat or nested to the shape) as float32 values, checked: the count matches the
 * shape, every element is a finite number that fits a float32.
 * @throws {InputError} naming `what` (e.g. `input "latent"`) and the first problem.
 */
export function readTensorData(
  data: unknown,
  shape: readonly number[],
  what: string,
): Float32Array {
  if (!Array.isArray(data)) throw new InputError(`${what}: "data" must be an array of numbers`);
  const count = elementCount(shape);
  let flat: unknown[] = data;
  if (data.length !== count || data.some(Array.isArray)) {
    if (data.length !== shape[0] || !data.some(Array.isArray)) {
      throw new InputError(
        `${what}: shape [${shape.join(", ")}] needs ${count} values, but data has ${data.length}`,
      );
    }
    flat = [];
    flattenNested(data, shape, 0, flat, what);
  }
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (typeof v !== "number") {
      throw new InputError(`${what}: data[${i}] is ${JSON.stringify(v)}, not a number`);
    }
    values[i] = v;
    if (!Number.isFinite(values[i])) {
      throw new InputError(`${what}: data[${i}] = ${v} is not a finite float32`);
    }
  }
  return values;
}
