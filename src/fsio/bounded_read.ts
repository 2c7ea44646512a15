/**
 * Every input is read with a size bound suited to what it is, checked before reading (the size a regular
 * file reports) and while reading (a device, FIFO or growing file that says nothing of its size), so
 * `--model /dev/zero` is one line, not an out-of-memory kill. Built on `node:fs` so the inference package
 * can use it under Node too.
 * @module
 */
import { open } from "node:fs/promises";

const MiB = 1024 * 1024;

/** The largest input of each kind, in bytes: each well above what the project itself writes. */
export const INPUT_LIMITS = {
  /** An ONNX model: the shipped generator is about 7 MB; the largest with `--latent-dim 1024`, 60. */
  model: 128 * MiB,
  /** A checkpoint's `weights.bin` or optimiser state (the same largest model, with Adam's moments). */
  checkpointWeights: 512 * MiB,
  /** An IDX data file, raw or after gunzip: MNIST's training images are 47 MB. */
  idx: 128 * MiB,
  /** A small JSON or CSV file of a run (`config.json`, `model.json`, `latents.json`, `history.csv`). */
  runFile: 64 * MiB,
} as const;

/** An input larger than its bound; the message names the file and the bound. */
export class InputTooLargeError extends Error {
  /** What is wrong, without the path: `larger than 128 MiB, the most a model may be; not read`. */
  readonly problem: string;
  constructor(readonly path: string, readonly limit: number, what: string) {
    const problem = `larger than ${formatLimit(limit)}, the most ${what} may be; not read`;
    super(`${path}: ${problem}`);
    this.problem = problem;
    this.name = "InputTooLargeError";
  }
}

/** A byte count as the messages give it: `128 MiB`. */
export function formatLimit(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

const CHUNK = 1 << 20;

/**
 * Reads all of `path`, refusing it when it holds more than `limit` bytes: a regular file by its size
 * before any byte is read, anything else as soon as the bytes read pass the bound.
 * @param what the kind of input with its article, for the message (`a model`, `an IDX file`).
 * @throws {InputTooLargeError} past the bound; the system's error when the file cannot be opened.
 */
export async function readFileBounded(
  path: string,
  limit: number,
  what: string,
): Promise<Uint8Array> {
  const file = await open(path, "r");
  try {
    const info = await file.stat();
    if (info.isFile() && info.size > limit) throw new InputTooLargeError(path, limit, what);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(CHUNK, limit + 1 - total));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw new InputTooLargeError(path, limit, what);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return concat(chunks, total);
  } finally {
    await file.close();
  }
}

/** {@link readFileBounded} decoded as UTF-8. */
export async function readTextFileBounded(
  path: string,
  limit: number,
  what: string,
): Promise<string> {
  return new TextDecoder().decode(await readFileBounded(path, limit, what));
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
