import { gunzipSync } from "node:zlib";
import { formatLimit, INPUT_LIMITS, InputTooLargeError, readFileBounded } from "../fsio/mod.ts";

/** An IDX array of unsigned bytes (the MNIST file format): its dimensions and row-major data. */
export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** The values, row-major. */
  data: Uint8Array;
}

/** A malformed or unreadable IDX file; the message names the file and the problem. */
export class IdxError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = "IdxError";
  }
}

/** IDX type code of unsigned bytes, the only element type MNIST and Fashion-MNIST use. */
const UBYTE = 0x08;
const HEADER_DIM_BYTES = 4;

/**
 * Parses IDX bytes (uncompressed) holding unsigned bytes. `file` names the source in errors.
 * @throws {IdxError} on a wrong magic number, an unsupported element type, a truncated file, or
 * trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.byteLength < 4) {
    throw new IdxError(file, `truncated: ${bytes.byteLength} bytes, too short for an IDX header`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
    throw new IdxError(file, `wrong magic number 0x${magic} (not an IDX file)`);
  }
  if (bytes[2] !== UBYTE) {
    throw new IdxError(
      file,
      `unsupported IDX element type 0x${bytes[2].toString(16)} (expected 0x08, unsigned byte)`,
    );
  }
  const rank = bytes[3];
  const dataStart = 4 + rank * HEADER_DIM_BYTES;
  if (rank === 0) throw new IdxError(file, "wrong magic number: IDX header declares 0 dimensions");
  if (bytes.byteLength < dataStart) {
    throw new IdxError(
      file,
      `truncated: header declares ${rank} dimensions but the file ends early`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + i * HEADER_DIM_BYTES));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.byteLength - dataStart;
  if (actual < expected) {
    throw new IdxError(
      file,
      `truncated: dimensions ${dims.join("×")} need ${expected} bytes of data, found ${actual}`,
    );
  }
  if (actual > expected) {
    throw new IdxError(
      file,
      `dimensions ${dims.join("×")} need ${expected} bytes of data, found ${actual} (extra bytes)`,
    );
  }
  return { dims, data: bytes.subarray(dataStart) };
}

/** True when `bytes` start with the gzip magic number. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads an IDX file of unsigned bytes, gunzipping it first when it is gzip-compressed (detected from its
 * content, whatever its name).
 * @throws {IdxError} when the file cannot be read, does not decompress, or is malformed.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, INPUT_LIMITS.idx, "an IDX file");
  } catch (e) {
    if (e instanceof InputTooLargeError) throw new IdxError(path, e.problem);
    throw new IdxError(path, `cannot read (${(e as Error).message})`);
  }
  if (isGzip(bytes)) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: INPUT_LIMITS.idx }));
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        const limit = formatLimit(INPUT_LIMITS.idx);
        throw new IdxError(path, `decompresses to more than ${limit}, the most an IDX file may be`);
      }
      throw new IdxError(
        path,
        `is gzip-compressed but does not decompress (${(e as Error).message})`,
      );
    }
  }
  return parseIdx(bytes, path);
}
