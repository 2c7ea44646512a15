/**
 * Wraps an ONNX Runtime `InferenceSession` (onnxruntime-node or onnxruntime-web: both implement
 * onnxruntime-common's API) as a {@link Session}: float32 in and out, float16 converted at the edges.
 * @module
 */
import type { InferenceSession, Tensor } from "onnxruntime-web";
import type { Session, SessionSignature } from "./provider.ts";

/** The `Tensor` constructor of the ONNX Runtime package in use. */
export type TensorConstructor = typeof Tensor;

function float16Bits(values: Float32Array): Uint16Array {
  const half = new Float16Array(values);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}

function inputTensor(
  TensorClass: TensorConstructor,
  signature: SessionSignature,
  inputs: Float32Array,
  count: number,
): Tensor {
  const dims = [count, ...signature.inputShape];
  if (signature.inputType === "float32") return new TensorClass("float32", inputs, dims);
  const bits = float16Bits(inputs);
  const tensor = new TensorClass("float16", bits, dims);
  // onnxruntime-common keeps float16 data as a Float16Array where the runtime has one (Deno does), but the
  // runtimes read the raw bits: hand them the Uint16Array.
  Object.defineProperty(tensor, "data", { value: bits });
  return tensor;
}

function outputValues(tensor: Tensor): Float32Array {
  const data = tensor.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof Uint16Array) {
    return Float32Array.from(new Float16Array(data.buffer, data.byteOffset, data.length));
  }
  if (data instanceof Float16Array) return Float32Array.from(data);
  throw new TypeError(`unexpected output tensor of type ${tensor.type}`);
}

/** Adapts a created ONNX Runtime session to the module's {@link Session}. */
export function ortSession(
  session: InferenceSession,
  TensorClass: TensorConstructor,
  signature: SessionSignature,
): Session {
  return {
    async run(inputs: Float32Array, count: number): Promise<Float32Array> {
      const input = inputTensor(TensorClass, signature, inputs, count);
      const outputs = await session.run({ [signature.inputName]: input }, [signature.outputName]);
      return outputValues(outputs[signature.outputName]);
    },
    release: () => session.release(),
  };
}
