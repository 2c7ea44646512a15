/**
 * HTTP plumbing of the server: errors that become a status and `{"error": "..."}`, JSON responses, and reading a
 * request body under a size cap, a deadline and the server's budget of body bytes held at once.
 *
 * `Deno.serve` offers no header read timeout and no connection limit (its options: hostname, port, signal,
 * handlers, TCP backlog), and calls the handler only once the headers are in: an idle connection, or one sending
 * its headers slowly, costs the server the connection's own buffers only. What a request can hold beyond that is
 * its body, and that is bounded here: by the request's deadline, by `cap` per request and by
 * {@link UploadTracker}'s budget across all requests, in the bytes actually received.
 * @module
 */
import type { V2Error } from "../infer/mod.ts";
import { RETRY_AFTER_S } from "./options.ts";

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
 * Counts request bodies being read and the bytes they hold. `Deno.serve`'s `shutdown()` cuts off bodies still
 * arriving, so a stopping server waits for {@link idle} before it calls it.
 */
export class UploadTracker {
  #count = 0;
  #bytes = 0;
  #waiters: Array<() => void> = [];
  readonly #maxBytes: number;

  /** `maxBytes`: the most body bytes held at once, over all requests. */
  constructor(maxBytes = Infinity) {
    this.#maxBytes = maxBytes;
  }

  /** The body bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Counts `n` more bytes held.
   * @throws {HttpError} 503 with `Retry-After` when that would pass the budget.
   */
  hold(n: number): void {
    if (this.#bytes + n > this.#maxBytes) {
      throw new HttpError(
        503,
        `the server holds ${this.#maxBytes} bytes of request bodies already; retry shortly`,
        { "retry-after": String(RETRY_AFTER_S) },
      );
    }
    this.#bytes += n;
  }

  /** `n` bytes are no longer held. */
  release(n: number): void {
    this.#bytes -= n;
  }

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
 * the cap is refused before reading; one under it is not trusted: memory grows with the bytes received), or when
 * `signal` fires (the client left, or the request's deadline passed), or when the server's body budget is spent.
 * @throws {HttpError} 413 when the body is larger than `cap`, 400 when it is not UTF-8, 503 when the budget is
 * spent; the signal's reason when it fires.
 */
export async function readBodyText(
  request: Request,
  cap: number,
  uploads: UploadTracker,
  signal: AbortSignal,
): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > cap) throw tooLarge(cap);
  if (request.body === null) return "";
  uploads.begin();
  let held = 0;
  try {
    const chunks: Uint8Array[] = [];
    const reader = request.body.getReader();
    const stop = () => reader.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        const { done, value } = await readChunk(reader);
        signal.throwIfAborted();
        if (done) break;
        if (held + value.length > cap) {
          await stop();
          throw tooLarge(cap);
        }
        uploads.hold(value.length);
        held += value.length;
        chunks.push(value);
      }
    } catch (e) {
      await stop();
      throw signal.aborted ? signal.reason : e;
    } finally {
      signal.removeEventListener("abort", stop);
    }
    return decodeUtf8(chunks, held);
  } finally {
    uploads.release(held);
    uploads.end();
  }
}

function tooLarge(cap: number): HttpError {
  return new HttpError(413, `the request body is larger than this server's limit of ${cap} bytes`);
}

async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (e) {
    throw new HttpError(400, `the request body could not be read: ${(e as Error).message}`);
  }
}

function decodeUtf8(chunks: Uint8Array[], total: number): string {
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
