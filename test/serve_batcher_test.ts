import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { DynamicBatcher, QueueFullError } from "../src/serve/mod.ts";

/** A fake model: output row = input row × 10; records each run's row count. */
function fakeModel(runs: number[], fail = false) {
  return (latents: Float32Array, rows: number) => {
    runs.push(rows);
    if (fail) return Promise.reject(new Error("model failed"));
    return Promise.resolve(latents.map((v) => v * 10));
  };
}

const rowsOf = (...values: number[]) => Float32Array.from(values);

Deno.test("batcher: concurrent requests share runs of at most maxBatch rows, each gets its own rows", async () => {
  const runs: number[] = [];
  const batches: number[][] = [];
  const batcher = new DynamicBatcher(
    fakeModel(runs),
    { maxBatch: 4, maxDelayMs: 30, inputSize: 1, outputSize: 1, othersArriving: () => true },
    { onBatch: (rows, requests) => batches.push([rows, requests]) },
  );
  const answers = await Promise.all([
    batcher.run(rowsOf(1), 1),
    batcher.run(rowsOf(2, 3), 2),
    batcher.run(rowsOf(4), 1),
    batcher.run(rowsOf(5, 6), 2), // does not fit the first run (4 rows): goes into the next
    batcher.run(rowsOf(7, 8, 9, 10, 11, 12), 6), // larger than maxBatch: runs alone
  ]);
  assertEquals(answers.map((a) => Array.from(a)), [[10], [20, 30], [40], [50, 60], [
    70,
    80,
    90,
    100,
    110,
    120,
  ]]);
  assertEquals(batches, [[4, 3], [2, 1], [6, 1]]);
  assertEquals(batcher.queueDepth, 0);
});

Deno.test("batcher: no waiting when nothing else is arriving, or with maxBatch 1", async () => {
  for (const [maxBatch, othersArriving] of [[8, false], [1, true]] as const) {
    const runs: number[] = [];
    const batcher = new DynamicBatcher(fakeModel(runs), {
      maxBatch,
      maxDelayMs: 10_000,
      inputSize: 1,
      outputSize: 1,
      othersArriving: () => othersArriving,
    });
    const started = performance.now();
    assertEquals(Array.from(await batcher.run(rowsOf(1), 1)), [10]);
    assertEquals(runs, [1]);
    assertEquals(performance.now() - started < 5000, true);
  }
});

Deno.test("batcher: a failed run rejects its requests only; later runs go on", async () => {
  const runs: number[] = [];
  let fail = true;
  const batcher = new DynamicBatcher(
    (latents, rows) => fakeModel(runs, fail)(latents, rows),
    { maxBatch: 2, maxDelayMs: 20, inputSize: 1, outputSize: 1 },
  );
  const failed = [batcher.run(rowsOf(1), 1), batcher.run(rowsOf(2), 1)];
  for (const p of failed) await rejects(p, /model failed/);
  fail = false;
  assertEquals(Array.from(await batcher.run(rowsOf(3), 1)), [30]);
  await rejects(batcher.run(rowsOf(1, 2), 1), /2 values are not 1 rows of 1/);
});

/** A model whose runs finish only when the test says so; records each run's rows and signal. */
function heldModel() {
  const runs: Array<{ rows: number; signal: AbortSignal; finish(): void }> = [];
  const run = (latents: Float32Array, rows: number, signal: AbortSignal) =>
    new Promise<Float32Array>((resolve) => {
      runs.push({ rows, signal, finish: () => resolve(latents.map((v) => v * 10)) });
    });
  return { runs, run };
}

Deno.test("batcher: a request whose signal fires leaves the queue at once, and its rows never run", async () => {
  const model = heldModel();
  const batcher = new DynamicBatcher(model.run, {
    maxBatch: 2,
    maxDelayMs: 0,
    inputSize: 1,
    outputSize: 1,
  });
  const first = batcher.run(rowsOf(1, 2), 2);
  const gone = new AbortController();
  const abandoned = batcher.run(rowsOf(3, 4), 2, gone.signal);
  const kept = batcher.run(rowsOf(5), 1);
  assertEquals(batcher.queueDepth, 2);
  gone.abort(new Error("client gone"));
  await rejects(abandoned, /client gone/);
  assertEquals(batcher.queueDepth, 1);
  model.runs[0].finish();
  assertEquals(Array.from(await first), [10, 20]);
  await new Promise((r) => setTimeout(r, 10));
  model.runs[1].finish();
  assertEquals(Array.from(await kept), [50]);
  assertEquals(model.runs.map((r) => r.rows), [2, 1]);
});

Deno.test("batcher: a run's signal fires once none of its requests waits for it", async () => {
  const model = heldModel();
  const batcher = new DynamicBatcher(model.run, {
    maxBatch: 2,
    maxDelayMs: 10_000,
    inputSize: 1,
    outputSize: 1,
    othersArriving: () => true,
  });
  const [a, b] = [new AbortController(), new AbortController()];
  const answers = [batcher.run(rowsOf(1), 1, a.signal), batcher.run(rowsOf(2), 1, b.signal)];
  assertEquals(model.runs.map((r) => r.rows), [2]);
  a.abort(new Error("a gone"));
  await rejects(answers[0], /a gone/);
  assertEquals(model.runs.map((r) => r.signal.aborted), [false]);
  b.abort(new Error("b gone"));
  await rejects(answers[1], /b gone/);
  assertEquals(model.runs.map((r) => r.signal.aborted), [true]);
  model.runs[0].finish();
});

Deno.test("batcher: a request that would pass maxQueueRows is refused with QueueFullError", async () => {
  const model = heldModel();
  const batcher = new DynamicBatcher(model.run, {
    maxBatch: 2,
    maxDelayMs: 0,
    inputSize: 1,
    outputSize: 1,
    maxQueueRows: 3,
  });
  const running = batcher.run(rowsOf(1, 2), 2);
  const queued = batcher.run(rowsOf(3, 4), 2);
  await rejects(batcher.run(rowsOf(5, 6), 2), QueueFullError);
  const fits = batcher.run(rowsOf(7), 1);
  model.runs[0].finish();
  await running;
  await new Promise((r) => setTimeout(r, 10));
  model.runs[1].finish();
  assertEquals(Array.from(await queued), [30, 40]);
  await new Promise((r) => setTimeout(r, 10));
  model.runs[2].finish();
  assertEquals(Array.from(await fits), [70]);
});
