/** The project's one way to write a file: a temporary file in the same folder, fsync, rename. */
import { basename, dirname, join } from "node:path";
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

/** Creates `path` (which must not exist), writes `bytes` and fsyncs; removes the part on failure. */
function createSynced(path: string, bytes: Uint8Array): void {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { write: true, createNew: true, mode: 0o644 });
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
 * and `path` keeps its old contents. This is the project's one way to write a file.
 * @throws {FileWriteError} naming `path` and the reason.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = temporarySibling(path);
  try {
    createSynced(tmp, bytes);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // Already gone.
    }
    throw new FileWriteError(path, `cannot write (${systemReason(e)})`, { cause: e });
  }
  syncFolder(dirname(path));
}

/** {@link writeFileAtomic} for text (UTF-8). */
export function writeTextFileAtomic(path: string, text: string): void {
  writeFileAtomic(path, new TextEncoder().encode(text));
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
