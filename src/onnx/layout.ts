/**
 * Layout bookkeeping: Keras tensors are NHWC, the exported graph runs NCHW. Instead of transposing data, the
 * exporter transposes weights and tracks, for flat (rank-2) tensors, the order of features.
 * @module
 */

/** A tensor of the graph under construction, described by its Keras meaning. */
export interface Value {
  /** ONNX tensor name. */
  name: string;
  /**
   * Keras shape without the batch dimension: `[features]` (flat, ONNX `[N, F]`) or `[H, W, C]` (image, ONNX
   * `[N, C, H, W]`).
   */
  shape: number[];
  /** Flat values only: ONNX feature `j` holds Keras feature `perm[j]`; null when the orders agree. */
  perm: Int32Array | null;
}

/**
 * The feature order of an NCHW tensor flattened by ONNX, in Keras (HWC) indices: `perm[(c·H + h)·W + w] =
 * (h·W + w)·C + c`. Null when it is the identity (a single channel, or 1×1 spatial size).
 */
export function chwOrder(h: number, w: number, c: number): Int32Array | null {
  if (c === 1 || h * w === 1) return null;
  const perm = new Int32Array(h * w * c);
  let j = 0;
  for (let ci = 0; ci < c; ci++) {
    for (let hi = 0; hi < h; hi++) {
      for (let wi = 0; wi < w; wi++) perm[j++] = (hi * w + wi) * c + ci;
    }
  }
  return perm;
}

/** True when two feature orders (null = identity) are the same. */
export function samePerm(a: Int32Array | null, b: Int32Array | null): boolean {
  if (a === null || b === null) return a === b || isIdentity(a ?? b!);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function isIdentity(p: Int32Array): boolean {
  return p.every((v, i) => v === i);
}

/** The inverse order: `inv[perm[j]] = j`. */
export function invertPerm(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  perm.forEach((v, j) => inv[v] = j);
  return inv;
}

/** Reorders a per-feature vector into ONNX order: `out[j] = v[perm[j]]`. */
export function permuteVector(v: Float32Array, perm: Int32Array | null): Float32Array {
  return perm === null ? v : Float32Array.from(perm, (k) => v[k]);
}

/**
 * Transposes a dense row-major array of shape `dims` by `axes` (output axis i is input axis `axes[i]`), like
 * numpy's `transpose`.
 */
export function transpose(data: Float32Array, dims: number[], axes: number[]): Float32Array {
  const rank = dims.length;
  const outDims = axes.map((a) => dims[a]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= dims[i];
  }
  const strides = axes.map((a) => inStrides[a]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      index[i]++;
      src += strides[i];
      if (index[i] < outDims[i]) break;
      src -= strides[i] * outDims[i];
      index[i] = 0;
    }
  }
  return out;
}
