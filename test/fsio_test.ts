/** The one write path, the owned-folder guard, the run lock and the static server's path checks. */
import { deepStrictEqual as assertEquals, match, ok, rejects, throws } from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  FileWriteError,
  InputTooLargeError,
  NotOwnedFolderError,
  OWNED_STAMP,
  readFileBounded,
  replaceFolder,
  writeFileAtomic,
  writeTextFileAtomic,
} from "../src/fsio/mod.ts";
import { LOCK_FILE, RunLock, RunLockedError } from "../src/train/mod.ts";
import { staticSiteHandler } from "../web-demo/tools/mod.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("writeFileAtomic replaces a file whole and leaves nothing behind when it fails", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "a.txt");
  writeTextFileAtomic(path, "old\n");
  writeTextFileAtomic(path, "new\n");
  assertEquals(await Deno.readTextFile(path), "new\n");
  assertEquals(await names(dir), ["a.txt"]);
  // The target is a folder: the rename fails, the temporary file is removed, the error names the path.
  await Deno.mkdir(join(dir, "d"));
  await Deno.writeTextFile(join(dir, "d", "keep"), "x");
  throws(
    () => writeFileAtomic(join(dir, "d"), new Uint8Array([1, 2, 3])),
    (e: Error) =>
      e instanceof FileWriteError &&
      /\/d: is a folder, not a regular file; refusing to replace it$/.test(e.message),
  );
  throws(
    () => writeTextFileAtomic(join(dir, "missing", "b.txt"), "x"),
    (e: Error) => e instanceof FileWriteError && /missing\/b\.txt: cannot write/.test(e.message),
  );
  assertEquals(await names(dir), ["a.txt", "d"]);
  await Deno.remove(dir, { recursive: true });
});

const isRoot = Deno.uid() === 0;

Deno.test("writeFileAtomic follows a symlink, keeps a mode, and replaces one hard link", async () => {
  const dir = await Deno.makeTempDir();
  const elsewhere = await Deno.makeTempDir();
  // A symlink chain (relative, then absolute) ends at a file in another folder: that file is replaced
  // there, and both links stay links.
  await Deno.writeTextFile(join(elsewhere, "real.txt"), "old\n");
  await Deno.symlink(join(elsewhere, "real.txt"), join(elsewhere, "abs-link"));
  await Deno.symlink(join(elsewhere, "abs-link"), join(dir, "link"));
  assertEquals(writeTextFileAtomic(join(dir, "link"), "new\n"), "replaced");
  ok(Deno.lstatSync(join(dir, "link")).isSymlink);
  ok(Deno.lstatSync(join(elsewhere, "abs-link")).isSymlink);
  assertEquals(await Deno.readTextFile(join(elsewhere, "real.txt")), "new\n");
  assertEquals(await names(dir), ["link"]);
  assertEquals(await names(elsewhere), ["abs-link", "real.txt"]);
  // A dangling symlink: its target is created.
  await Deno.symlink("made.txt", join(elsewhere, "dangling"));
  writeTextFileAtomic(join(elsewhere, "dangling"), "made\n");
  assertEquals(await Deno.readTextFile(join(elsewhere, "made.txt")), "made\n");
  ok(Deno.lstatSync(join(elsewhere, "dangling")).isSymlink);
  // An existing file keeps its mode.
  const secret = join(dir, "secret.txt");
  await Deno.writeTextFile(secret, "old\n", { mode: 0o600 });
  await Deno.chmod(secret, 0o600);
  writeTextFileAtomic(secret, "new\n");
  assertEquals(Deno.statSync(secret).mode! & 0o777, 0o600);
  await Deno.chmod(secret, 0o751);
  writeTextFileAtomic(secret, "newer\n");
  assertEquals(Deno.statSync(secret).mode! & 0o777, 0o751);
  // A hard link: the name written to is replaced, the other name keeps the old file whole.
  await Deno.writeTextFile(join(dir, "one.txt"), "shared\n");
  await Deno.link(join(dir, "one.txt"), join(dir, "two.txt"));
  writeTextFileAtomic(join(dir, "one.txt"), "mine\n");
  assertEquals(await Deno.readTextFile(join(dir, "one.txt")), "mine\n");
  assertEquals(await Deno.readTextFile(join(dir, "two.txt")), "shared\n");
  // A symlink loop: one line, nothing written.
  await Deno.symlink("loop-b", join(dir, "loop-a"));
  await Deno.symlink("loop-a", join(dir, "loop-b"));
  throws(
    () => writeTextFileAtomic(join(dir, "loop-a"), "x"),
    (e: Error) =>
      e instanceof FileWriteError && /loop-a: more than 40 symbolic links/.test(e.message),
  );
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(elsewhere, { recursive: true });
});

Deno.test("writeFileAtomic writes a FIFO in place and refuses a socket", async () => {
  const dir = await Deno.makeTempDir();
  const fifo = join(dir, "pipe");
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assertEquals(made.code, 0);
  const reader = new Deno.Command("cat", { args: [fifo], stdout: "piped" }).spawn();
  assertEquals(writeTextFileAtomic(fifo, "through the pipe\n"), "in place");
  assertEquals(new TextDecoder().decode((await reader.output()).stdout), "through the pipe\n");
  ok(Deno.lstatSync(fifo).isFifo);
  const socketPath = join(dir, "sock");
  const listener = Deno.listen({ transport: "unix", path: socketPath });
  throws(
    () => writeTextFileAtomic(socketPath, "x"),
    (e: Error) =>
      e instanceof FileWriteError &&
      e.message === `${socketPath}: is a socket, not a regular file; refusing to replace it`,
  );
  ok(Deno.lstatSync(socketPath).isSocket);
  listener.close();
  assertEquals(await names(dir), ["pipe"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "writeFileAtomic writes a character device in place, never replacing it",
  ignore: !isRoot,
  fn: async () => {
    // Its own null device (mknod needs root), so the test never risks the machine's /dev/null.
    const dir = await Deno.makeTempDir();
    const device = join(dir, "null");
    assertEquals(
      (await new Deno.Command("mknod", { args: [device, "c", "1", "3"] }).output()).code,
      0,
    );
    assertEquals(writeFileAtomic(device, new Uint8Array(1136)), "in place");
    ok(Deno.lstatSync(device).isCharDevice, "the device was replaced by a file");
    assertEquals(await names(dir), ["null"]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("readFileBounded: a file within its bound whole, past it one error naming both", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "m.onnx");
  await Deno.writeFile(path, new Uint8Array(3000).fill(7));
  assertEquals(await readFileBounded(path, 3000, "a model"), new Uint8Array(3000).fill(7));
  await rejects(
    () => readFileBounded(path, 2999, "a model"),
    (e: Error) =>
      e instanceof InputTooLargeError &&
      e.message === `${path}: larger than 2999 bytes, the most a model may be; not read`,
  );
  // A device reports no size: the bound stops the read as it passes.
  await rejects(
    () => readFileBounded("/dev/zero", 4 << 20, "a model"),
    (e: Error) =>
      e instanceof InputTooLargeError &&
      e.message === "/dev/zero: larger than 4 MiB, the most a model may be; not read",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("replaceFolder deletes only folders the project created", async () => {
  const base = await Deno.makeTempDir();
  const theirs = join(base, "theirs");
  await Deno.mkdir(theirs);
  await Deno.writeTextFile(join(theirs, "precious.txt"), "mine");
  let filled = 0;
  const fill = async (tmp: string) => {
    filled++;
    await Deno.writeTextFile(join(tmp, "site.html"), `build ${filled}`);
  };
  await rejects(
    replaceFolder(theirs, "test", fill),
    (e: Error) => e instanceof NotOwnedFolderError,
  );
  assertEquals(filled, 0);
  assertEquals(await Deno.readTextFile(join(theirs, "precious.txt")), "mine");
  // A file where the folder should be is refused too.
  await Deno.writeTextFile(join(base, "file"), "x");
  await rejects(replaceFolder(join(base, "file"), "test", fill), NotOwnedFolderError);
  // Missing, then stamped: built, then rebuilt in one swap.
  const ours = join(base, "ours");
  await replaceFolder(ours, "test", fill);
  assertEquals(await names(ours), [OWNED_STAMP, "site.html"]);
  await replaceFolder(ours, "test", fill);
  assertEquals(await Deno.readTextFile(join(ours, "site.html")), "build 2");
  // A failing build leaves the old one and no temporary folder.
  await rejects(replaceFolder(ours, "test", () => Promise.reject(new Error("bundle failed"))), {
    message: "bundle failed",
  });
  assertEquals(await Deno.readTextFile(join(ours, "site.html")), "build 2");
  assertEquals(await names(base), ["file", "ours", "theirs"]);
  await Deno.remove(base, { recursive: true });
});

Deno.test("replaceFolder puts back a folder a killed replace moved away and cleans its leftovers", async () => {
  const base = await Deno.makeTempDir();
  const child = new Deno.Command("true").spawn();
  const dead = child.pid;
  await child.status;
  // A replace killed between its renames: the site lies at .site.<pid>-a.old, its new copy at .tmp.
  const old = join(base, `.site.${dead}-a.old`);
  await Deno.mkdir(old);
  await Deno.writeTextFile(join(old, OWNED_STAMP), "x");
  await Deno.writeTextFile(join(old, "index.html"), "old site");
  await Deno.mkdir(join(base, `.site.${dead}-b.tmp`));
  const live = join(base, `.site.${Deno.pid}-c.tmp`);
  await Deno.mkdir(live);
  await rejects(
    () =>
      replaceFolder(join(base, "site"), "test", () => Promise.reject(new Error("build failed"))),
    /build failed/,
  );
  assertEquals(await Deno.readTextFile(join(base, "site", "index.html")), "old site");
  assertEquals(await names(base), [`.site.${Deno.pid}-c.tmp`, "site"]);
  // A replace that succeeds leaves the new folder alone, nothing beside it.
  await Deno.remove(live);
  await replaceFolder(join(base, "site"), "test", async (tmp) => {
    await Deno.writeTextFile(join(tmp, "index.html"), "new site");
  });
  assertEquals(await Deno.readTextFile(join(base, "site", "index.html")), "new site");
  assertEquals(await names(base), ["site"]);
  await Deno.remove(base, { recursive: true });
});

Deno.test("run lock: a second holder is refused, a stale lock is taken over, release frees it", async () => {
  const run = await Deno.makeTempDir();
  const notices: string[] = [];
  const lock = RunLock.acquire(run, (l) => notices.push(l));
  const owner = JSON.parse(await Deno.readTextFile(join(run, LOCK_FILE)));
  assertEquals([owner.pid, owner.host], [Deno.pid, hostname()]);
  throws(
    () => RunLock.acquire(run, (l) => notices.push(l)),
    (e: Error) =>
      e instanceof RunLockedError && e.message === `${run} is being trained by PID ${Deno.pid}`,
  );
  lock.release();
  assertEquals(await names(run), []);
  // A lock left by a process that has ended (SIGKILL) is taken over with a notice.
  const gone = new Deno.Command("true").spawn();
  await gone.status;
  await Deno.writeTextFile(
    join(run, LOCK_FILE),
    JSON.stringify({ pid: gone.pid, host: hostname(), since: "then" }),
  );
  const taken = RunLock.acquire(run, (l) => notices.push(l));
  assertEquals(notices, [
    `${run}: taking over the lock of PID ${gone.pid}, which is no longer running`,
  ]);
  assertEquals(JSON.parse(await Deno.readTextFile(join(run, LOCK_FILE))).pid, Deno.pid);
  taken.release();
  // Another host's lock is never taken over.
  await Deno.writeTextFile(join(run, LOCK_FILE), JSON.stringify({ pid: 1, host: "elsewhere" }));
  throws(() => RunLock.acquire(run, () => {}), /is being trained by PID 1 on elsewhere/);
  await Deno.remove(run, { recursive: true });
});

Deno.test("static server: symlinks out of the root and odd paths are 404, never 500", async () => {
  const base = await Deno.makeTempDir();
  const root = join(base, "dist");
  await Deno.mkdir(join(root, "models"), { recursive: true });
  await Deno.writeTextFile(join(root, "index.html"), "<p>demo</p>");
  await Deno.writeTextFile(join(base, "secret.txt"), "secret");
  await Deno.symlink(join(base, "secret.txt"), join(root, "leak.txt"));
  await Deno.symlink(base, join(root, "up"));
  await Deno.symlink("index.html", join(root, "models", "..", "alias.html"));
  const handler = staticSiteHandler(root);
  const get = async (path: string) => {
    const response = await handler(new Request(`http://127.0.0.1${path}`));
    return [response.status, await response.text()];
  };
  assertEquals(await get("/"), [200, "<p>demo</p>"]);
  assertEquals(await get("/alias.html"), [200, "<p>demo</p>"]);
  assertEquals(await get("/leak.txt"), [404, "not found\n"]);
  assertEquals(await get("/up/secret.txt"), [404, "not found\n"]);
  assertEquals(await get("/up/"), [404, "not found\n"]);
  assertEquals(await get("/etc/shadow"), [404, "not found\n"]);
  assertEquals(await get("/index.html/"), [404, "not found\n"]);
  assertEquals(await get("/index.html/x"), [404, "not found\n"]);
  assertEquals(await get(`/${"a".repeat(5000)}`), [404, "not found\n"]);
  assertEquals(await get(`/${"a/".repeat(3000)}x`), [404, "not found\n"]);
  match(String((await get("/%2e%2e/secret.txt"))[0]), /^40[04]$/);
  await Deno.remove(base, { recursive: true });
  ok(true);
});

Deno.test("static server: a file swapped for an outside symlink while requests run is never served", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.writeTextFile(join(outside, "secret.txt"), "SECRET");
  await Deno.writeTextFile(join(root, "real.txt"), "inside");
  await Deno.symlink(join(outside, "secret.txt"), join(root, "evil.txt"));
  const handler = staticSiteHandler(root);
  let swapping = true;
  const swapper = (async () => {
    // a.txt is the inside file and the outside link in turn, swapped with atomic renames.
    for (let i = 0; swapping; i++) {
      const from = i % 2 === 0 ? "real.txt" : "evil.txt";
      await Deno.link(join(root, from), join(root, "next")).catch(() =>
        Deno.symlink(Deno.readLinkSync(join(root, from)), join(root, "next"))
      );
      await Deno.rename(join(root, "next"), join(root, "a.txt"));
    }
  })();
  let leaked = 0;
  let served = 0;
  for (let round = 0; round < 40; round++) {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => handler(new Request("http://x/a.txt"))),
    );
    for (const r of responses) {
      const body = await r.text();
      if (r.status === 200) served++;
      if (body.includes("SECRET")) leaked++;
    }
  }
  swapping = false;
  await swapper;
  assertEquals(leaked, 0);
  ok(served > 0, "the inside file was never served");
  await Deno.remove(root, { recursive: true });
  await Deno.remove(outside, { recursive: true });
});
