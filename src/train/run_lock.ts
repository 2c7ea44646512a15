/**
 * `RUN/.lock`: one writer per run folder. The lock file holds the owner's PID and host and is created
 * exclusively (a complete file is hard-linked into place, which fails when one exists), so two trainings
 * of the same folder cannot both start. A lock whose process is gone (same host) is taken over.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import {
  FileWriteError,
  makeFolder,
  processAlive,
  systemReason,
  temporarySibling,
  writeNewFile,
} from "../fsio/mod.ts";

/** Name of the lock file in a run folder. */
export const LOCK_FILE = ".lock";

/** Another process trains the run; the message names it. */
export class RunLockedError extends Error {
  constructor(readonly runDir: string, readonly pid: number, host: string) {
    super(`${runDir} is being trained by PID ${pid}${host === hostname() ? "" : ` on ${host}`}`);
    this.name = "RunLockedError";
  }
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(Deno.readTextFileSync(path));
    return Number.isInteger(owner.pid) && typeof owner.host === "string" ? owner : null;
  } catch {
    return null;
  }
}

/** Creates `path` holding `text` only if it does not exist; false when it does. */
function createExclusive(path: string, text: string): boolean {
  const tmp = temporarySibling(path);
  writeNewFile(tmp, new TextEncoder().encode(text));
  try {
    Deno.linkSync(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw new FileWriteError(path, `cannot create the lock (${systemReason(e)})`, { cause: e });
  } finally {
    Deno.removeSync(tmp);
  }
}

/** A held run lock; {@link RunLock.release} (or process exit) removes it. */
export class RunLock {
  readonly #path: string;
  readonly #text: string;
  readonly #onUnload = () => this.release();

  private constructor(path: string, text: string) {
    this.#path = path;
    this.#text = text;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Takes the lock of `runDir` (creating the folder). A stale lock, whose process is gone on this host,
   * is taken over after `notice` is told.
   * @throws {RunLockedError} when a live process holds it.
   * @throws {FileWriteError} when the folder or the lock cannot be written.
   */
  static acquire(runDir: string, notice: (line: string) => void): RunLock {
    makeFolder(runDir);
    const path = join(runDir, LOCK_FILE);
    const host = hostname();
    const text = JSON.stringify({ pid: Deno.pid, host, since: new Date().toISOString() }) + "\n";
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createExclusive(path, text)) return new RunLock(path, text);
      const owner = readOwner(path);
      if (owner && (owner.host !== host || processAlive(owner.pid))) {
        throw new RunLockedError(runDir, owner.pid, owner.host);
      }
      // Stale: move it aside under a unique name, then check it is still the one judged stale.
      const aside = temporarySibling(path);
      try {
        Deno.renameSync(path, aside);
      } catch {
        continue;
      }
      const moved = readOwner(aside);
      if (moved && owner && moved.pid !== owner.pid) {
        Deno.renameSync(aside, path);
        throw new RunLockedError(runDir, moved.pid, moved.host);
      }
      Deno.removeSync(aside);
      notice(
        owner
          ? `${runDir}: taking over the lock of PID ${owner.pid}, which is no longer running`
          : `${runDir}: taking over an unreadable lock file`,
      );
    }
    throw new FileWriteError(path, "cannot take the lock (it keeps changing)");
  }

  /**
   * Checks, without taking it, that no live process holds the lock of `runDir` (for a command that only
   * reads the run, such as a resume with nothing to do).
   * @throws {RunLockedError} when one does.
   */
  static checkFree(runDir: string): void {
    const owner = readOwner(join(runDir, LOCK_FILE));
    if (owner && (owner.host !== hostname() || processAlive(owner.pid))) {
      throw new RunLockedError(runDir, owner.pid, owner.host);
    }
  }

  /** Removes the lock if it is still this process's. Safe to call twice. */
  release(): void {
    globalThis.removeEventListener("unload", this.#onUnload);
    try {
      if (Deno.readTextFileSync(this.#path) === this.#text) Deno.removeSync(this.#path);
    } catch {
      // Already gone.
    }
  }
}
