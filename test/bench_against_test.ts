/**
 * `deno task bench --against FILE`: two generators timed in turn on the same provider and batch sizes, the
 * first one's rows carrying the ratio of the medians; a file that cannot be read is one error line, exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runScript } from "./run_script.ts";

const MODEL = new URL("../models/generator.onnx", import.meta.url).pathname;

interface Row {
  provider: string;
  tuning: string;
  batch: number;
  samplesPerSecond: number | null;
  msPerBatch: number | null;
  runs: number;
  note: string;
}

Deno.test("bench --against: both files' rows, interleaved runs, and the ratio of their medians", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench_against_" });
  try {
    const copy = join(dir, "copy.onnx");
    await Deno.copyFile(MODEL, copy);
    const r = await runScript(
      "bench.ts",
      ...["--model", MODEL, "--against", copy, "--providers", "cpu", "--batches", "1,3"],
      ...["--runs", "3", "--no-tfjs", "--json"],
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout).results as Row[];
    assert.deepEqual(
      rows.map((x) => [x.provider, x.tuning, x.batch, x.runs]),
      [["cpu", "", 1, 3], ["cpu", "--against copy.onnx", 1, 3], ["cpu", "", 3, 3], [
        "cpu",
        "--against copy.onnx",
        3,
        3,
      ]],
    );
    for (const [a, b] of [[rows[0], rows[1]], [rows[2], rows[3]]]) {
      assert.ok(a.samplesPerSecond! > 0 && b.samplesPerSecond! > 0);
      const ratio = (b.msPerBatch! / a.msPerBatch!).toFixed(2);
      assert.equal(a.note, `${ratio}× --against (interleaved)`);
    }
    const bad = await runScript("bench.ts", "--against", join(dir, "none.onnx"), "--no-tfjs");
    assert.equal(bad.code, 2, bad.stderr);
    const lines = bad.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(lines.length, 1, bad.stderr);
    assert.match(lines[0], /cannot read the model file .*none\.onnx/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
