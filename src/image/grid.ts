/** An 8-bit image: `channels` interleaved samples per pixel (1 = grey, 3 = RGB), row-major. */
export interface Image8 {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** Describes a batch of float images laid out `[count, height, width, channels]` (NHWC) or NCHW. */
export interface ImageBatch {
  /** Pixel values in [0, 1] (values outside are clamped). */
  data: Float32Array;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Memory layout of `data`; default `nhwc`. */
  layout?: "nhwc" | "nchw";
}

/** Options for {@link toGrid}. */
export interface GridOptions {
  /** Images per row (default: ceil(sqrt(count))). */
  cols?: number;
  /** Pixels between tiles and around the border, before scaling (default 2). */
  padding?: number;
  /** Grey level 0–255 of the padding (default 0, black). */
  background?: number;
  /** Integer nearest-neighbour magnification (default 1). */
  scale?: number;
}

/** Converts a value in [0, 1] to a byte, clamping and rounding to nearest. */
export function toByte(v: number): number {
  return v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
}

/**
 * Tiles a batch of images into one 8-bit grid image, row by row (`cols` per row), with padding between tiles.
 * Values in [0, 1] map to 0–255.
 */
export function toGrid(batch: ImageBatch, options: GridOptions = {}): Image8 {
  const { count, height: h, width: w, channels: c } = batch;
  if (batch.data.length !== count * h * w * c) {
    throw new RangeError(
      `image data has ${batch.data.length} values, expected ${count}×${h}×${w}×${c}`,
    );
  }
  const cols = Math.max(1, Math.min(options.cols ?? Math.ceil(Math.sqrt(count)), count));
  const rows = Math.ceil(count / cols);
  const pad = options.padding ?? 2;
  const scale = Math.max(1, Math.floor(options.scale ?? 1));
  const gw = (cols * (w + pad) + pad) * scale;
  const gh = (rows * (h + pad) + pad) * scale;
  const out = new Uint8Array(gw * gh * c).fill(options.background ?? 0);
  const nchw = batch.layout === "nchw";
  for (let i = 0; i < count; i++) {
    const x0 = (pad + (i % cols) * (w + pad)) * scale;
    const y0 = (pad + Math.floor(i / cols) * (h + pad)) * scale;
    for (let y = 0; y < h * scale; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < w * scale; x++) {
        const sx = Math.floor(x / scale);
        for (let k = 0; k < c; k++) {
          const src = nchw ? ((i * c + k) * h + sy) * w + sx : ((i * h + sy) * w + sx) * c + k;
          out[((y0 + y) * gw + x0 + x) * c + k] = toByte(batch.data[src]);
        }
      }
    }
  }
  return { width: gw, height: gh, channels: c, data: out };
}
