/**
 * What the project's replacement TF.js kernels share: the attributes TF.js passes to convolution kernels, the wasm
 * backend's heap access, and swapping a backend's kernels for ours and back.
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A rank-4 shape. */
export type Shape4 = [number, number, number, number];

/** Attributes TF.js passes to `Conv2D`, `FusedConv2D`, `Conv2DBackpropInput` and `Conv2DBackpropFilter`. */
export interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** `Conv2DBackpropInput`: the shape of the convolution's input. */
  inputShape?: Shape4;
  /** `Conv2DBackpropFilter`: the shape of the filter. */
  filterShape?: Shape4;
  /** `FusedConv2D`: the activation applied after the bias. */
  activation?: string;
  leakyreluAlpha?: number;
}

/** A kernel call's attributes as {@link ConvAttrs}. */
export function convAttrs(attrs: tf.NamedAttrMap | undefined): ConvAttrs {
  return attrs as unknown as ConvAttrs;
}

/** Geometry of the convolution a kernel call describes (gradient kernels carry no dilation: pass 1). */
export function convInfo(
  inShape: readonly number[],
  filterShape: readonly number[],
  a: ConvAttrs,
  dilations: number | [number, number] = a.dilations ?? 1,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    a.strides,
    dilations,
    a.pad,
    a.dimRoundingMode,
  );
}

/** The wasm backend's heap access: read inputs and write outputs in place, without copies. */
export interface HeapBackend extends tf.KernelBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

function register(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

/**
 * Registers the kernels `build` returns on `backendName` in place of the ones registered now, and returns a
 * function that puts those back. `build` gets `base(name)`: the kernel that was registered for `name` before, for
 * the calls a replacement does not handle.
 */
export function replaceKernels(
  backendName: string,
  build: (base: (kernelName: string) => tf.KernelFunc) => Omit<tf.KernelConfig, "backendName">[],
): () => void {
  const previous = new Map<string, tf.KernelConfig | undefined>();
  // Called while `build` runs (nothing replaced yet) or later from a replacement (the saved kernel).
  const base = (kernelName: string) => {
    const config = previous.has(kernelName)
      ? previous.get(kernelName)
      : tf.getKernel(kernelName, backendName);
    if (config === undefined) throw new Error(`${backendName} backend has no ${kernelName} kernel`);
    return config.kernelFunc;
  };
  const configs = build(base).map((config) => ({ ...config, backendName }));
  for (const config of configs) {
    previous.set(config.kernelName, tf.getKernel(config.kernelName, backendName));
  }
  configs.forEach(register);
  return () => {
    for (const { kernelName } of configs) {
      const before = previous.get(kernelName);
      if (before !== undefined) register(before);
      else tf.unregisterKernel(kernelName, backendName);
    }
  };
}
