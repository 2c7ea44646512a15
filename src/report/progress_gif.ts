/** `samples/progress.gif`: the fixed-latent sample grids of a run, one frame per saved step. */
import { decode } from "fast-png";
import { encodeGif, type Image8 } from "../image/mod.ts";
import { INPUT_LIMITS, InputTooLargeError, readFileBounded } from "../fsio/mod.ts";
import { withCaption } from "./caption.ts";
import { RunFolderError, type SampleFile } from "./run_data.ts";

/** Height in pixels of the bar under each frame that shows how far training had got. */
const BAR_HEIGHT = 4;

/** Decodes a sample grid PNG to an 8-bit grey image (RGB(A) is reduced to its mean). */
export function decodeGrey(bytes: Uint8Array): Image8 {
  const png = decode(bytes);
  const { width, height, channels } = png;
  const src = png.data;
  const shift = png.depth === 16 ? 8 : 0;
  const data = new Uint8Array(width * height);
  const colour = channels >= 3 ? 3 : 1;
  for (let i = 0; i < width * height; i++) {
    let sum = 0;
    for (let k = 0; k < colour; k++) sum += src[i * channels + k] >> shift;
    data[i] = Math.round(sum / colour);
  }
  return { width, height, channels: 1, data };
}

/** Adds a bar under `image` filled to `fraction` of its width (grey 200 on 40). */
export function withProgressBar(image: Image8, fraction: number): Image8 {
  const { width, height } = image;
  const data = new Uint8Array(width * (height + BAR_HEIGHT));
  data.set(image.data);
  const filled = Math.round(Math.min(Math.max(fraction, 0), 1) * width);
  for (let y = height; y < height + BAR_HEIGHT; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = x < filled ? 200 : 40;
  }
  return { width, height: height + BAR_HEIGHT, channels: 1, data };
}

/**
 * Builds the progress GIF from sample grids (oldest first): each frame is one grid with a bar showing its step
 * relative to the last one and a `step N` caption; the last frame is held 2 s. Grids of another size than the
 * first are skipped.
 * @throws {RunFolderError} naming a grid that is not a readable PNG.
 */
export async function progressGif(
  samples: SampleFile[],
  delayMs = 250,
): Promise<Uint8Array | null> {
  if (samples.length === 0) return null;
  const last = samples[samples.length - 1].step || 1;
  const frames: Image8[] = [];
  for (const s of samples) {
    let grid: Image8;
    try {
      grid = decodeGrey(await readFileBounded(s.path, INPUT_LIMITS.runFile, "a sample grid"));
    } catch (e) {
      if (e instanceof InputTooLargeError) throw new RunFolderError(s.path, e.problem);
      throw new RunFolderError(s.path, `is not a readable PNG (${(e as Error).message})`);
    }
    const scale = grid.width >= 200 ? 2 : 1;
    const frame = withCaption(withProgressBar(grid, s.step / last), `step ${s.step}`, scale);
    if (frames.length && frame.width !== frames[0].width) continue;
    if (frames.length && frame.height !== frames[0].height) continue;
    frames.push(frame);
  }
  return encodeGif(frames, { delayMs, holdLastMs: 2000 });
}
