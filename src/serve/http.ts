/**
 * HTTP plumbing of the server: errors that become a status and `{"error": "..."}`, JSON responses, and reading a
 * request body under a size cap.
 * @module
 */
import type { V2Error } from "../infer/mod.ts";

/** A request the server refuses: the status and one line saying why, sent as `{"error": "..."}`. */
export class HttpError extends Error {
  /** The HTTP status code (4xx for the client's input). */
  readonly status: number;
  /** Extra response headers (e.g. `Allow` for 405). */
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.headers = headers;
  }
}

/** A JSON response. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The protocol's error response: `{"error": message}` with the status. */
export function errorResponse(
  status: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body: V2Error = { error: message };
  return jsonResponse(body, status, headers);
}

/**
 * Counts request bodies being read. `Deno.serve`'s `shutdown()` cuts off bodies still arriving, so a stopping
 * server waits for {@link idle} before it calls it.
 */
export class UploadTracker {
  #count = 0;
  #waiters: Array<() => void> = [];

  /** True while some body is being read. */
  get busy(): boolean {
    return this.#count > 0;
  }

  /** A body started arriving. */
  begin(): void {
    this.#count++;
  }

  /** A body has arrived (or failed). */
  end(): void {
    this.#count--;
    if (this.#count === 0) { for (const wake of this.#waiters.splice(0)) wake(); }
  }

  /** Resolves once no body is being read. */
  idle(): Promise<void> {
    return this.#count === 0 ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }
}

/**
 * The request body as text, read as a stream that is cut off once it passes `cap` bytes (a `Content-Length` over
 * the cap is refused before reading; one under it is not trusted).
 * @throws {HttpError} 413 when the body is larger than `cap`, 400 when it is not UTF-8.
 */
export async function readBodyText(
  request: Request,
  cap: number,
  uploads: UploadTracker,
): Promise<string> {
  uploads.begin();
  try {
    return await readCapped(request, cap);
  } finally {
    uploads.end();
  }
}

async function readCapped(request: Request, cap: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, `the request body is larger than this server's limit of ${cap} bytes`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > cap) throw tooLarge();
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw new HttpError(400, `the request body could not be read: ${(e as Error).message}`);
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.length;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the request body is not UTF-8 text");
  }
}
