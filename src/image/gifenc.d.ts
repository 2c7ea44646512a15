// Types for the subset of gifenc@1.0.3 (an untyped JS package) that the project uses.
export interface GifWriter {
  writeFrame(
    index: Uint8Array,
    width: number,
    height: number,
    options?: { palette?: number[][]; delay?: number; repeat?: number },
  ): void;
  finish(): void;
  bytes(): Uint8Array;
}
// The package is CommonJS: its functions arrive as properties of the default export.
declare const gifenc: { GIFEncoder(): GifWriter };
export default gifenc;
