import { extname, join, normalize, sep } from "node:path";

/** Content types by file extension; anything else is served as `application/octet-stream`. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".md": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Headers sent with every response. COOP `same-origin` + COEP `require-corp` make the page cross-origin
 * isolated, so `SharedArrayBuffer` (and with it onnxruntime-web's threaded WASM) is available.
 */
export const SITE_HEADERS: Readonly<Record<string, string>> = {
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-embedder-policy": "require-corp",
  "cross-origin-resource-policy": "same-origin",
  "x-content-type-options": "nosniff",
  "cache-control": "no-cache",
};

/** The content type for a file name, from {@link MIME_TYPES}. */
export function contentTypeFor(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

function textResponse(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...SITE_HEADERS, "content-type": "text/plain; charset=utf-8", ...extra },
  });
}

/** Maps a URL path to a file under `root`, or null when it would leave `root` or is malformed. */
export function resolveUrlPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const relative = normalize(decoded).replace(/^\/+/, "");
  if (relative === ".." || relative.startsWith(`..${sep}`)) return null;
  const file = join(root, relative);
  return file === root || file.startsWith(root + sep) ? file : null;
}

/**
 * A request handler serving the static files under `root` (GET and HEAD): `/` and folders map to
 * `index.html`, every response carries {@link SITE_HEADERS} and the file's MIME type.
 */
export function staticSiteHandler(root: string): (request: Request) => Promise<Response> {
  const base = normalize(root).replace(/\/+$/, "");
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return textResponse(405, "method not allowed", { allow: "GET, HEAD" });
    }
    let file = resolveUrlPath(base, new URL(request.url).pathname);
    if (file === null) return textResponse(400, "bad path");
    try {
      if ((await Deno.stat(file)).isDirectory) file = join(file, "index.html");
      const info = await Deno.stat(file);
      if (!info.isFile) return textResponse(404, "not found");
      const headers: Record<string, string> = {
        ...SITE_HEADERS,
        "content-type": contentTypeFor(file),
        "content-length": String(info.size),
      };
      // Revalidation (no-cache + Last-Modified) lets a browser reuse the 27 MB runtime and its
      // compiled WebAssembly on the next visit after a cheap 304.
      if (info.mtime !== null) {
        const modified = Math.floor(info.mtime.getTime() / 1000) * 1000;
        headers["last-modified"] = new Date(modified).toUTCString();
        const since = Date.parse(request.headers.get("if-modified-since") ?? "");
        if (!Number.isNaN(since) && since >= modified) {
          delete headers["content-length"];
          return new Response(null, { status: 304, headers });
        }
      }
      if (request.method === "HEAD") return new Response(null, { headers });
      const handle = await Deno.open(file, { read: true });
      return new Response(handle.readable, { headers });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return textResponse(404, "not found");
      throw error;
    }
  };
}

/** Options for {@link serveSite}. */
export interface ServeOptions {
  /** Folder to serve (the built `web-demo/dist/`). */
  root: string;
  /** TCP port; 0 picks a free one. Default 8000. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1` (this machine only). */
  hostname?: string;
  /** Stops the server when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the page URL. */
  onListen?: (url: string) => void;
}

/**
 * Serves a built site folder over HTTP with {@link staticSiteHandler}. Returns the running server;
 * its `addr.port` is the bound port. Throws `Deno.errors.AddrInUse` when the port is taken.
 */
export function serveSite(options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const hostname = options.hostname ?? "127.0.0.1";
  return Deno.serve({
    hostname,
    port: options.port ?? 8000,
    signal: options.signal,
    onListen: ({ port }) => options.onListen?.(`http://${hostname}:${port}/`),
  }, staticSiteHandler(options.root));
}
