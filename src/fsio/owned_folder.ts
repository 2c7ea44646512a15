/**
 * Folders the project may delete: only those it created itself, marked by a stamp file. A folder that is
 * missing, empty, or stamped can be replaced; anything else (`--out .`, a home folder) is refused. The
 * new folder is swapped in with one atomic exchange where the system has one, so the old folder is
 * there until the new one is; leftovers of a writer that was killed are cleaned (and a folder it had
 * moved away is put back) by the next replace.
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import {
  FileWriteError,
  makeFolder,
  processAlive,
  syncFolder,
  systemReason,
  writeTextFileAtomic,
} from "./atomic.ts";
import { exchangePaths } from "./exchange.ts";

/** Name of the stamp file that marks a folder as created by this project (and so replaceable). */
export const OWNED_STAMP = ".dcgan-created";

/** A folder the project was asked to replace that it did not create; the message says what to do. */
export class NotOwnedFolderError extends Error {
  constructor(readonly dir: string) {
    super(
      `${dir} exists and was not created by this project (no ${OWNED_STAMP} in it); ` +
        `refusing to delete it: choose a new or empty folder, or remove it yourself`,
    );
    this.name = "NotOwnedFolderError";
  }
}

async function entries(dir: string): Promise<string[] | null> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    return names;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) throw new NotOwnedFolderError(dir);
    throw new FileWriteError(dir, `cannot read the folder (${systemReason(e)})`, { cause: e });
  }
}

/**
 * Whether `dir` may be replaced: it does not exist, is empty, or holds {@link OWNED_STAMP}.
 * @throws {NotOwnedFolderError} when it exists otherwise (or is a file).
 */
export async function checkReplaceable(dir: string): Promise<void> {
  const names = await entries(dir);
  if (names === null || names.length === 0 || names.includes(OWNED_STAMP)) return;
  throw new NotOwnedFolderError(dir);
}

/**
 * Writes the stamp into `dir`, marking it as created by the project (so a later
 * {@link replaceFolder} may delete it).
 */
export function stampFolder(dir: string, tool: string): void {
  writeTextFileAtomic(
    join(dir, OWNED_STAMP),
    `Created by ${tool} (dcgan-deno); it deletes and rebuilds this folder.\n`,
  );
}

/**
 * Builds a folder and puts it in place of `dir` in one rename: `fill` writes into a stamped temporary
 * sibling; only when it succeeds is the old `dir` (which must be missing, empty or stamped) swapped out
 * and deleted. When `fill` fails the temporary folder is removed and `dir` is untouched.
 * @throws {NotOwnedFolderError} before anything is written when `dir` is not the project's.
 */
export async function replaceFolder(
  dir: string,
  tool: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const target = resolve(dir);
  await cleanLeftovers(target);
  await checkReplaceable(target);
  const parent = dirname(target);
  makeFolder(parent);
  const tag = `${Deno.pid}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
  const tmp = join(parent, `.${basename(target)}.${tag}.tmp`);
  const old = join(parent, `.${basename(target)}.${tag}.old`);
  try {
    makeFolder(tmp);
    stampFolder(tmp, tool);
    await fill(tmp);
    await checkReplaceable(target);
    const hadOld = await swapIn(tmp, target, old);
    syncFolder(parent);
    if (hadOld) await Deno.remove(old, { recursive: true });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Puts `tmp` at `target`: one atomic exchange when `target` exists (the old folder then lies at `tmp`
 * and is renamed to `old`), else a rename. Returns whether there was an old folder, now at `old`.
 */
async function swapIn(tmp: string, target: string, old: string): Promise<boolean> {
  if (exchangePaths(tmp, target)) {
    await Deno.rename(tmp, old);
    return true;
  }
  const hadOld = await Deno.rename(target, old).then(() => true, (e) => {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new FileWriteError(target, `cannot replace (${systemReason(e)})`, { cause: e });
  });
  await Deno.rename(tmp, target);
  return hadOld;
}

/** `.<name>.<pid>-<tag>.tmp` and `.old`: the folders {@link replaceFolder} works with beside `name`. */
function leftoverPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^\\.${escaped}\\.(\\d+)-[0-9a-z]+\\.(tmp|old)$`);
}

/**
 * Removes the temporary and old folders beside `target` left by a replace whose process died (its PID
 * is gone); when `target` itself is missing and such a process had moved it to its `.old`, that folder
 * is put back first. A live writer's folders are left alone.
 */
async function cleanLeftovers(target: string): Promise<void> {
  const parent = dirname(target);
  const pattern = leftoverPattern(basename(target));
  const stale: Array<{ path: string; kind: string }> = [];
  try {
    for await (const entry of Deno.readDir(parent)) {
      const m = pattern.exec(entry.name);
      if (m && entry.isDirectory && !processAlive(Number(m[1]))) {
        stale.push({ path: join(parent, entry.name), kind: m[2] });
      }
    }
  } catch {
    return;
  }
  const old = stale.find((s) => s.kind === "old");
  if (old && !(await exists(target))) {
    await Deno.rename(old.path, target);
    stale.splice(stale.indexOf(old), 1);
  }
  for (const { path } of stale) await Deno.remove(path, { recursive: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
