/**
 * Image grids of generated samples and their encodings (PNG via fast-png, animated GIF via gifenc).
 * Dependency-light so it can be bundled for browsers too.
 * @module
 */
export { type GridOptions, type Image8, type ImageBatch, toByte, toGrid } from "./grid.ts";
export { encodePng } from "./png.ts";
export { encodeGif, type GifOptions } from "./gif.ts";
