/** Runs one of the project's scripts in its own Deno process, the way a user's command line does. */

/** What a script run printed and how it ended. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scripts/<name>` with `args` and returns its exit code and output. */
export async function runScript(name: string, ...args: string[]): Promise<ScriptRun> {
  const script = new URL(`../scripts/${name}`, import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The step and loss columns of a run's `history.csv`, one string per line (wall time differs between runs). */
export async function lossColumns(runDir: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${runDir}/history.csv`);
  return text.trim().split("\n").map((l) => l.split(",").slice(0, 4).join(","));
}
