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
 * The real path (symlinks resolved) of the file `file` names, or null when it does not exist or lies
 * outside `realRoot`. A folder maps to its `index.html`.
 */
async function realFileUnder(realRoot: string, file: string): Promise<string | null> {
  try {
    let real = await Deno.realPath(file);
    if ((await Deno.stat(real)).isDirectory) real = await Deno.realPath(join(real, "index.html"));
    const inside = real === realRoot || real.startsWith(realRoot + sep);
    return inside && (await Deno.stat(real)).isFile ? real : null;
  } catch {
    // Not found, not a folder (`/index.html/`), a name too long, a loop of links: all "not found".
    return null;
  }
}

/** A file opened for serving, with what `fstat` says of the file actually opened. */
interface OpenedFile {
  handle: Deno.FsFile;
  info: Deno.FileInfo;
  path: string;
}

/**
 * Opens the file `asked` names under `realRoot` once, then checks what was opened: the path is resolved
 * again and must still lead, inside the root, to the very file opened (same device and inode). A file
 * swapped for a symlink to an outside file between the check and the open is refused, not served.
 */
async function openUnder(realRoot: string, asked: string): Promise<OpenedFile | null> {
  const path = await realFileUnder(realRoot, asked);
  if (path === null) return null;
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(path, { read: true });
  } catch {
    return null;
  }
  try {
    const info = await handle.stat();
    const now = await realFileUnder(realRoot, path);
    const there = now === null ? null : await Deno.lstat(now);
    if (info.isFile && there !== null && there.ino === info.ino && there.dev === info.dev) {
      return { handle, info, path };
    }
  } catch {
    // Gone between the open and the check: refused below.
  }
  handle.close();
  return null;
}

/**
 * A request handler serving the static files under `root` (GET and HEAD): `/` and folders map to
 * `index.html`, every response carries {@link SITE_HEADERS} and the file's MIME type. Paths are
 * resolved to real paths, so a symlink that leads outside `root` is not served, and each file is
 * opened once and checked after opening (see {@link openUnder}); anything odd is a 404.
 */
export function staticSiteHandler(root: string): (request: Request) => Promise<Response> {
  const base = normalize(root).replace(/\/+$/, "");
  let realRoot: Promise<string> | null = null;
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return textResponse(405, "method not allowed", { allow: "GET, HEAD" });
    }
    const asked = resolveUrlPath(base, new URL(request.url).pathname);
    if (asked === null) return textResponse(400, "bad path");
    realRoot ??= Deno.realPath(base).catch(() => base);
    const opened = await openUnder(await realRoot, asked);
    if (opened === null) return textResponse(404, "not found");
    const { handle, info, path } = opened;
    let streaming = false;
    try {
      const headers: Record<string, string> = {
        ...SITE_HEADERS,
        "content-type": contentTypeFor(path),
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
      streaming = true;
      return new Response(handle.readable, { headers });
    } finally {
      // The body stream closes the file when it ends; otherwise it is closed here.
      if (!streaming) handle.close();
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

/** What {@link serveCounting} sent for one path: its requests and the bytes of the bodies it sent (200s). */
export interface SentFile {
  requests: number;
  bytes: number;
}

/** A local server of a site folder that counts what it sends (what a browser fetched), path by path. */
export interface CountingServer {
  server: Deno.HttpServer<Deno.NetAddr>;
  /** The site's URL, `http://127.0.0.1:PORT/`. */
  base: string;
  /** What was sent since the start or the last call, by path relative to the root (`/` counts as `index.html`). */
  take(): Map<string, SentFile>;
}

/** Serves `root` like {@link serveSite} on a free port of 127.0.0.1, counting every response it sends. */
export function serveCounting(root: string): CountingServer {
  const handler = staticSiteHandler(root);
  let sent = new Map<string, SentFile>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const response = await handler(request);
    const path = decodeURIComponent(new URL(request.url).pathname).replace(/^\/+/, "") ||
      "index.html";
    const entry = sent.get(path) ?? { requests: 0, bytes: 0 };
    entry.requests++;
    if (response.status === 200 && request.method === "GET") {
      entry.bytes += Number(response.headers.get("content-length") ?? 0);
    }
    sent.set(path, entry);
    return response;
  });
  return {
    server,
    base: `http://127.0.0.1:${server.addr.port}/`,
    take() {
      const taken = sent;
      sent = new Map();
      return taken;
    },
  };
}
