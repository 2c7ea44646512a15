// @ts-types="./gifenc.d.ts"
import gifenc from "gifenc";
import type { Image8 } from "./grid.ts";

/** Options for {@link encodeGif}. */
export interface GifOptions {
  /** Delay between frames in milliseconds (default 100). */
  delayMs?: number;
  /** Hold the last frame this much longer, in milliseconds (default 0). */
  holdLastMs?: number;
  /** Loop forever (default true). */
  loop?: boolean;
}

const GREY_PALETTE = Array.from({ length: 256 }, (_, v) => [v, v, v]);

/**
 * Encodes grey 8-bit frames of equal size as an animated GIF (gifenc). Grey images need no quantisation: each byte
 * indexes a 256-level grey palette, so pixels are exact.
 */
export function encodeGif(frames: Image8[], options: GifOptions = {}): Uint8Array {
  if (frames.length === 0) throw new RangeError("a GIF needs at least one frame");
  const { width, height } = frames[0];
  const gif = gifenc.GIFEncoder();
  frames.forEach((f, i) => {
    if (f.width !== width || f.height !== height) {
      throw new RangeError(`frame ${i} is ${f.width}×${f.height}, expected ${width}×${height}`);
    }
    if (f.channels !== 1) throw new RangeError(`frame ${i} is not grey (channels ${f.channels})`);
    const last = i === frames.length - 1;
    gif.writeFrame(f.data, width, height, {
      palette: GREY_PALETTE,
      delay: (options.delayMs ?? 100) + (last ? options.holdLastMs ?? 0 : 0),
      repeat: i === 0 ? (options.loop === false ? -1 : 0) : undefined,
    });
  });
  gif.finish();
  return gif.bytes();
}
