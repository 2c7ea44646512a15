/**
 * Reads and checks a v2 inference request for a generator: one input, the model's name and datatype, shape
 * `[rows, latent size]` with at most `maxRows` rows, data flat or nested, finite numbers. Everything wrong becomes
 * an {@link HttpError} 400 that names the field.
 * @module
 */
import {
  InputError,
  type ModelInfo,
  readTensorData,
  v2Datatype,
  type V2InferRequest,
} from "../infer/mod.ts";
import { HttpError } from "./http.ts";

/** A checked inference request. */
export interface InferCall {
  /** The request's `id`, echoed in the response; undefined when it had none. */
  id?: string;
  rows: number;
  /** `rows × latentDim` values. */
  latents: Float32Array;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string): HttpError {
  return new HttpError(400, message);
}

function checkParameters(parameters: unknown, where: string): void {
  if (parameters === undefined) return;
  if (!isObject(parameters)) throw bad(`${where}"parameters" must be an object`);
  if ("binary_data_size" in parameters || parameters.binary_data === true) {
    throw bad(`${where}binary tensor data is not supported by this server; send "data" as JSON`);
  }
  if (parameters.binary_data_output === true) {
    throw bad('binary tensor data is not supported by this server; leave out "binary_data_output"');
  }
}

function checkShape(shape: unknown, info: ModelInfo, maxRows: number): number {
  const dim = info.latentDim;
  if (
    !Array.isArray(shape) || shape.length !== 2 ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    throw bad(
      `input "${info.inputName}": "shape" must be [rows, ${dim}], got ${JSON.stringify(shape)}`,
    );
  }
  const [rows, size] = shape as number[];
  if (size !== dim) {
    throw bad(
      `input "${info.inputName}": shape [${rows}, ${size}] has ${size} values per row; the model takes ${dim}`,
    );
  }
  if (rows < 1) throw bad(`input "${info.inputName}": shape [${rows}, ${size}] has no rows`);
  if (rows > maxRows) {
    throw bad(
      `input "${info.inputName}": ${rows} rows are too many; this server takes at most ${maxRows} per request`,
    );
  }
  return rows;
}

/**
 * Parses the body of `POST /v2/models/{name}/infer`.
 * @throws {HttpError} 400 saying what is wrong.
 */
export function parseInferRequest(text: string, info: ModelInfo, maxRows: number): InferCall {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw bad(`malformed JSON: ${(e as Error).message}`);
  }
  if (!isObject(body)) throw bad('the request must be a JSON object with an "inputs" array');
  const request = body as Partial<V2InferRequest>;
  if (request.id !== undefined && typeof request.id !== "string") {
    throw bad(`"id" must be a string, got ${JSON.stringify(request.id)}`);
  }
  checkParameters(request.parameters, "");
  const inputs = request.inputs as unknown;
  if (!Array.isArray(inputs) || inputs.length !== 1 || !isObject(inputs[0])) {
    throw bad(`"inputs" must be an array of one input, "${info.inputName}"`);
  }
  const input = inputs[0];
  if (input.name !== info.inputName) {
    throw bad(
      `unknown input ${JSON.stringify(input.name)}; the model's input is "${info.inputName}"`,
    );
  }
  const datatype = v2Datatype(info.inputType);
  if (input.datatype !== datatype) {
    throw bad(
      `input "${info.inputName}": datatype ${
        JSON.stringify(input.datatype)
      }; the model takes ${datatype}`,
    );
  }
  checkParameters(input.parameters, `input "${info.inputName}": `);
  const rows = checkShape(input.shape, info, maxRows);
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw bad('"outputs" must be an array');
    for (const output of request.outputs as unknown[]) {
      if (!isObject(output) || output.name !== info.outputName) {
        const name = isObject(output) ? JSON.stringify(output.name) : JSON.stringify(output);
        throw bad(`unknown output ${name}; the model's output is "${info.outputName}"`);
      }
      checkParameters(output.parameters, `output "${info.outputName}": `);
    }
  }
  let latents: Float32Array;
  try {
    latents = readTensorData(input.data, [rows, info.latentDim], `input "${info.inputName}"`);
  } catch (e) {
    if (e instanceof InputError) throw bad(e.message);
    throw e;
  }
  return { id: request.id, rows, latents };
}
