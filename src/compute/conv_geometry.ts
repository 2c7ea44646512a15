/**
 * Index arithmetic that turns convolution gradients into ordinary stride-1 convolutions, one spatial axis at a time.
 * @module
 */

/** A window of the source axis to read: crop `[cropStart, cropStart + cropSize)`, then zero-pad both ends. */
export interface AxisWindow {
  cropStart: number;
  cropSize: number;
  padBefore: number;
  padAfter: number;
}

/** One output phase `p` of a strided transposed convolution along one axis. */
export interface TransposedPhase {
  /** First kernel tap used by this phase (taps `tap0, tap0 + stride, ...`). */
  tap0: number;
  /** Number of kernel taps used by this phase (0: the phase receives nothing). */
  taps: number;
  /** Number of outputs of this phase: positions `p, p + stride, ...` below `inputSize`. */
  outputs: number;
  /** The window of the gradient `dy` the phase's stride-1 convolution reads. */
  window: AxisWindow;
}

/** Crops/pads the index range `[start, end]` (inclusive, may run outside) of an axis of length `size`. */
export function axisWindow(start: number, end: number, size: number): AxisWindow {
  const cropStart = Math.max(0, start);
  const cropEnd = Math.min(size - 1, end);
  return {
    cropStart,
    cropSize: Math.max(0, cropEnd - cropStart + 1),
    padBefore: Math.max(0, -start),
    padAfter: Math.max(0, end - (size - 1)),
  };
}

/**
 * Splits the input gradient of a convolution (kernel `kernel`, stride `stride`, leading pad `padBefore`, input
 * length `inputSize`, output length `outputSize`) along one axis into `stride` phases. Phase `p` holds the input
 * positions `p + stride·q`; each is a stride-1 correlation of `dy` with the reversed taps `tap0 + stride·j`.
 */
export function transposedPhases(
  kernel: number,
  stride: number,
  padBefore: number,
  inputSize: number,
  outputSize: number,
): TransposedPhase[] {
  const phases: TransposedPhase[] = [];
  for (let p = 0; p < stride; p++) {
    const tap0 = (p + padBefore) % stride;
    const taps = tap0 < kernel ? Math.ceil((kernel - tap0) / stride) : 0;
    const outputs = p < inputSize ? Math.ceil((inputSize - p) / stride) : 0;
    const shift = (p + padBefore - tap0) / stride;
    const window = axisWindow(shift - (taps - 1), outputs - 1 + shift, outputSize);
    phases.push({ tap0, taps, outputs, window });
  }
  return phases;
}

/**
 * The window of the input `x` that the filter gradient reads along one axis, seen as a stride-1 convolution of `x`
 * with `dy` dilated by `stride`, producing `kernel` outputs.
 */
export function filterGradWindow(
  kernel: number,
  stride: number,
  padBefore: number,
  inputSize: number,
  outputSize: number,
): AxisWindow {
  return axisWindow(-padBefore, kernel - 1 + stride * (outputSize - 1) - padBefore, inputSize);
}
