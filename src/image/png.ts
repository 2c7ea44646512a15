import { encode } from "fast-png";
import type { Image8 } from "./grid.ts";

/** Encodes an 8-bit grey or RGB image as PNG bytes (fast-png, deterministic output). */
export function encodePng(image: Image8): Uint8Array {
  return encode({
    width: image.width,
    height: image.height,
    data: image.data,
    channels: image.channels,
    depth: 8,
  });
}
