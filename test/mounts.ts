/** Small tmpfs mounts for disk-full and read-only tests (root only; otherwise the reason to skip). */

/** A mounted tmpfs and how to unmount it. */
export interface Mount {
  dir: string;
  /** Remounts it read-only. */
  readOnly(): Promise<void>;
  /** Unmounts and removes the mount point. */
  close(): Promise<void>;
}

async function sh(cmd: string, ...args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr).trim() };
  } catch (e) {
    return { ok: false, err: (e as Error).message };
  }
}

/** Mounts a tmpfs of `size` (e.g. `"12m"`), or returns why it cannot (not root, mount refused). */
export async function mountTmpfs(size: string): Promise<Mount | string> {
  if (Deno.uid() !== 0) return "needs root to mount a small tmpfs";
  const dir = await Deno.makeTempDir({ prefix: "tmpfs-" });
  const mounted = await sh("mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir);
  if (!mounted.ok) {
    await Deno.remove(dir);
    return `mount -t tmpfs failed: ${mounted.err}`;
  }
  return {
    dir,
    async readOnly() {
      const r = await sh("mount", "-o", "remount,ro", dir);
      if (!r.ok) throw new Error(`remount,ro failed: ${r.err}`);
    },
    async close() {
      await sh("umount", dir);
      await Deno.remove(dir, { recursive: true });
    },
  };
}
