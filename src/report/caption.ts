/** A tiny bitmap font (3×5 glyphs) to caption GIF frames with their training step. */
import type { Image8 } from "../image/mod.ts";

/** Rows of each glyph, top to bottom; bit 2 is the left pixel. */
const GLYPHS: Record<string, number[]> = {
  "0": [7, 5, 5, 5, 7],
  "1": [2, 6, 2, 2, 7],
  "2": [7, 1, 7, 4, 7],
  "3": [7, 1, 7, 1, 7],
  "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7],
  "6": [7, 4, 7, 5, 7],
  "7": [7, 1, 1, 1, 1],
  "8": [7, 5, 7, 5, 7],
  "9": [7, 5, 7, 1, 7],
  s: [3, 4, 2, 1, 6],
  t: [2, 7, 2, 2, 3],
  e: [2, 5, 7, 4, 3],
  p: [6, 5, 6, 4, 4],
  " ": [0, 0, 0, 0, 0],
};

/** The characters {@link withCaption} can draw. */
export const CAPTION_CHARS = Object.keys(GLYPHS).join("");

/**
 * Adds a dark strip under `image` with `text` drawn in light grey at the left, glyphs magnified by
 * `scale`. Characters without a glyph are drawn as spaces.
 */
export function withCaption(image: Image8, text: string, scale = 2): Image8 {
  const { width, height } = image;
  const strip = 9 * scale;
  const data = new Uint8Array(width * (height + strip)).fill(24);
  data.set(image.data);
  let x0 = 2 * scale;
  for (const ch of text) {
    const rows = GLYPHS[ch] ?? GLYPHS[" "];
    rows.forEach((bits, r) => {
      for (let c = 0; c < 3; c++) {
        if (!(bits & (4 >> c))) continue;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const x = x0 + c * scale + dx;
            const y = height + 2 * scale + r * scale + dy;
            if (x < width) data[y * width + x] = 230;
          }
        }
      }
    });
    x0 += 4 * scale;
  }
  return { width, height: height + strip, channels: 1, data };
}
