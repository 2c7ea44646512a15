/**
 * The project's one way to write a file: a temporary file in the same folder, fsync, rename. What is at
 * the output path decides how (as `cp`, `sed -i` and editors do):
 * - nothing, or a regular file: replaced atomically; an existing file keeps its permission bits (and owner,
 *   where the process may set it; set-user-ID and the like are dropped, as `cp` does);
 * - a symlink: followed (up to {@link MAX_LINKS} links), and its target is replaced atomically in the
 *   target's own folder, so the link stays a link;
 * - a character device or a FIFO (`/dev/stdout`, `/dev/null`, a named pipe): written in place, never
 *   replaced and never created;
 * - a hard-linked file (more than one name): replaced like any regular file, so the name written to
 *   gets the new contents and the other names keep the old file whole. Writing in place would give up
 *   the guarantee this path exists for: a crash or a full disk mid-write would leave a truncated file
 *   under every name;
 * - anything else (a folder, a socket, a block device): refused with one line.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";

/** A file or folder that could not be written; the message names it and the problem. */
export class FileWriteError extends Error {
  constructor(readonly path: string, problem: string, options?: ErrorOptions) {
    super(`${path}: ${problem}`, options);
    this.name = "FileWriteError";
  }
}

/**
 * The system's reason in an error's message, for one-line reports: `Permission denied (os error 13):
 * open '/x'` becomes `Permission denied`.
 */
export function systemReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0].replace(/ \(os error \d+\)/, "").replace(/: \w+ '.*$/, "");
}

/** Names of temporary files written by {@link temporarySibling}: `.<name>.<pid>-<tag>.tmp`. */
const TEMPORARY_NAME = /^\..+\.(\d+)-[0-9a-z]+\.tmp$/;

/** Whether `name` is a temporary file of {@link temporarySibling} (a write in progress or cut short). */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY_NAME.test(name);
}

/** Whether a process with this PID runs on this machine. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as { code?: string }).code === "EPERM";
  }
}

/**
 * Removes the temporary files in `dir` (not below) left by writers that died mid-write (their PID is
 * gone), and returns their paths. A live writer's temporary file is left alone.
 */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const m = TEMPORARY_NAME.exec(entry.name);
    if (!m || !entry.isFile || processAlive(Number(m[1]))) continue;
    Deno.removeSync(join(dir, entry.name));
    removed.push(join(dir, entry.name));
  }
  return removed;
}

/** A fresh name for a temporary sibling of `path` (same folder, so the rename never crosses disks). */
export function temporarySibling(path: string): string {
  const tag = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  return join(dirname(path), `.${basename(path)}.${Deno.pid}-${tag}.tmp`);
}

/** Flushes a folder's entries (a rename or create inside it) to disk; ignored where not supported. */
export function syncFolder(dir: string): void {
  let handle: Deno.FsFile | undefined;
  try {
    handle = Deno.openSync(dir, { read: true });
    handle.syncSync();
  } catch {
    // Some file systems refuse fsync on a folder; the rename is still atomic there.
  } finally {
    handle?.close();
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** How a file is owned and who may use it, kept when the file is replaced. */
interface Ownership {
  mode: number;
  uid: number | null;
  gid: number | null;
}

/**
 * Creates `path` (which must not exist), writes `bytes` and fsyncs; removes the part on failure. With
 * `keep`, the new file gets that mode exactly and, where the process may set it, that owner.
 */
function createSynced(path: string, bytes: Uint8Array, keep?: Ownership): void {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { write: true, createNew: true, mode: 0o644 });
    if (keep) keepOwnership(path, keep);
    writeAll(file, bytes);
    file.syncSync();
  } catch (e) {
    if (file) {
      file.close();
      file = undefined;
      Deno.removeSync(path);
    }
    throw e;
  } finally {
    file?.close();
  }
}

function keepOwnership(path: string, keep: Ownership): void {
  if (keep.uid !== null && keep.gid !== null) {
    try {
      Deno.chownSync(path, keep.uid, keep.gid);
    } catch {
      // Only root may give a file away; the new file stays the writer's, as with `cp`.
    }
  }
  Deno.chmodSync(path, keep.mode);
}

/** The longest chain of symlinks an output path may go through (Linux's own limit). */
export const MAX_LINKS = 40;

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** What `path` leads to as the kernel follows it (also `/dev/stdout`'s `pipe:[…]`); null if nothing. */
function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.FilesystemLoop) return null;
    throw e;
  }
}

/**
 * The path a write to `path` lands on: its symlinks followed (relative targets from their folder).
 * @throws {FileWriteError} for a chain longer than {@link MAX_LINKS} (a loop).
 */
export function followLinks(path: string): string {
  let current = resolve(path);
  for (let i = 0; i <= MAX_LINKS; i++) {
    if (!lstatOrNull(current)?.isSymlink) return current;
    const target = Deno.readLinkSync(current);
    current = resolve(Deno.realPathSync(dirname(current)), target);
  }
  throw new FileWriteError(path, `more than ${MAX_LINKS} symbolic links (a loop?)`);
}

/** What a non-regular file is, in words, for the refusal. */
function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a folder";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/** Writes `bytes` into an existing character device or FIFO, which is never replaced. */
function writeInPlace(path: string, bytes: Uint8Array): void {
  const file = Deno.openSync(path, { write: true });
  try {
    writeAll(file, bytes);
  } finally {
    file.close();
  }
}

/** Replaces the regular file (or nothing) at `path` through a temporary sibling and a rename. */
function replaceAtomically(path: string, bytes: Uint8Array, keep?: Ownership): void {
  const tmp = temporarySibling(path);
  try {
    createSynced(tmp, bytes, keep);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Already gone.
    }
    throw e;
  }
  syncFolder(dirname(path));
}

/** How {@link writeFileAtomic} wrote: replaced a file (or made one), or wrote into a device or FIFO. */
export type WriteMode = "replaced" | "in place";

/**
 * Writes `bytes` to a file that must not exist yet and flushes it to disk (fsync). For files inside a
 * temporary folder that is renamed into place as a whole (a checkpoint). On failure the part written is
 * removed. Synchronous on purpose: a file is never half-written while other code runs.
 * @throws {FileWriteError} naming `path` and the reason.
 */
export function writeNewFile(path: string, bytes: Uint8Array): void {
  try {
    createSynced(path, bytes);
  } catch (e) {
    throw new FileWriteError(path, `cannot write (${systemReason(e)})`, { cause: e });
  }
}

/**
 * Replaces `path` with `bytes` atomically: readers see the old file or the complete new one, never a
 * part. The bytes go to a temporary file in the same folder, are flushed to disk (fsync), and the file
 * is renamed over `path`. On any failure (disk full, read-only folder, …) the temporary file is removed
 * and `path` keeps its old contents. A symlink is followed, a device or FIFO is written in place, an
 * existing file keeps its mode (see the module doc). This is the project's one way to write a file.
 * @returns whether the file was replaced or written in place (a device or FIFO).
 * @throws {FileWriteError} naming `path` and the reason; a folder, socket or block device is refused.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): WriteMode {
  try {
    const leadsTo = statOrNull(path);
    if (leadsTo?.isCharDevice || leadsTo?.isFifo) {
      writeInPlace(path, bytes);
      return "in place";
    }
    const target = followLinks(path);
    const existing = lstatOrNull(target);
    if (existing && !existing.isFile) {
      throw new FileWriteError(
        path,
        `is ${kindOf(existing)}, not a regular file; refusing to replace it`,
      );
    }
    const keep = existing
      ? { mode: (existing.mode ?? 0o644) & 0o777, uid: existing.uid, gid: existing.gid }
      : undefined;
    replaceAtomically(target, bytes, keep);
    return "replaced";
  } catch (e) {
    if (e instanceof FileWriteError) throw e;
    throw new FileWriteError(path, `cannot write (${systemReason(e)})`, { cause: e });
  }
}

/** {@link writeFileAtomic} for text (UTF-8). */
export function writeTextFileAtomic(path: string, text: string): WriteMode {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Creates `dir` and its parents like `mkdir -p`.
 * @throws {FileWriteError} naming `dir` when it cannot be created (read-only, a file in the way, …).
 */
export function makeFolder(dir: string): void {
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileWriteError(dir, `cannot create the folder (${systemReason(e)})`, { cause: e });
  }
}
