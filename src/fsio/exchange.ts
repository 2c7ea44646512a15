/**
 * Swaps two paths in one step (Linux `renameat2(…, RENAME_EXCHANGE)`), so a folder being replaced is
 * never absent, not even for an instant between two renames. Where the call is not available (another
 * system or libc, no FFI permission) the caller falls back to two renames.
 * @module
 */

const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

type Renameat2 = (
  oldDir: number,
  from: Uint8Array,
  newDir: number,
  to: Uint8Array,
  flags: number,
) => number;

let renameat2: Renameat2 | null | undefined;

function loadRenameat2(): Renameat2 | null {
  if (renameat2 !== undefined) return renameat2;
  renameat2 = null;
  if (Deno.build.os !== "linux") return null;
  try {
    const lib = Deno.dlopen("libc.so.6", {
      renameat2: { parameters: ["i32", "buffer", "i32", "buffer", "u32"], result: "i32" },
    });
    renameat2 = (a, from, b, to, flags) => lib.symbols.renameat2(a, from, b, to, flags) as number;
  } catch {
    // No FFI permission, no glibc: the two-rename fallback.
  }
  return renameat2;
}

function cString(path: string): Uint8Array {
  return new TextEncoder().encode(path + "\0");
}

/** Exchanges `a` and `b` (both must exist) atomically; false when the system cannot, nothing changed. */
export function exchangePaths(a: string, b: string): boolean {
  const call = loadRenameat2();
  if (!call) return false;
  return call(AT_FDCWD, cString(a), AT_FDCWD, cString(b), RENAME_EXCHANGE) === 0;
}
