/**
 * Encodings of generated images: a PNG grid, one PNG per image, an animated GIF of a latent walk, and NumPy's
 * `.npy` for the raw floats. Browser-safe (uses `src/image`).
 * @module
 */
import { encodeGif, encodePng, type GridOptions, type Image8, toGrid } from "../image/mod.ts";
import type { GeneratedImages } from "./generator.ts";

/** Tiles the images into one grid (row by row, `cols` per row) and encodes it as PNG bytes. */
export function imagesToPng(images: GeneratedImages, options: GridOptions = {}): Uint8Array {
  return encodePng(toGrid(images, options));
}

function single(images: GeneratedImages, i: number, scale: number): Image8 {
  const per = images.height * images.width * images.channels;
  const one = { ...images, count: 1, data: images.data.subarray(i * per, (i + 1) * per) };
  return toGrid(one, { cols: 1, padding: 0, scale });
}

/** Each image as its own PNG (no padding), magnified `scale` times. */
export function imagesToPngs(images: GeneratedImages, scale = 1): Uint8Array[] {
  return Array.from({ length: images.count }, (_, i) => encodePng(single(images, i, scale)));
}

/** The images as frames of an animated GIF (a latent walk), magnified `scale` times; grey images only. */
export function imagesToGif(
  images: GeneratedImages,
  options: { scale?: number; delayMs?: number; holdLastMs?: number } = {},
): Uint8Array {
  const frames = Array.from(
    { length: images.count },
    (_, i) => single(images, i, options.scale ?? 1),
  );
  return encodeGif(frames, { delayMs: options.delayMs, holdLastMs: options.holdLastMs });
}

/**
 * The images as a NumPy `.npy` file (format 1.0, little-endian float32 `<f4`, C order) of shape
 * `[count, C, H, W]` or `[count, H, W, C]` following `layout`, values in [0, 1].
 */
export function imagesToNpy(images: GeneratedImages): Uint8Array {
  const { count, height: h, width: w, channels: c } = images;
  const shape = images.layout === "nchw" ? [count, c, h, w] : [count, h, w, c];
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}), }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' is padded with spaces to a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + images.data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = 10 + header.length;
  images.data.forEach((v, i) => view.setFloat32(body + i * 4, v, true));
  return out;
}
