import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { architectureViolations, folderOf, repoImports } from "./architecture.ts";

Deno.test("architecture: folders import each other only through their doors, without cycles", async () => {
  const edges = await repoImports();
  // The graph is the real one: training reaches the compute folder through its door.
  assert(edges.some((e) => e.from === "src/train/loop.ts" && e.to === "src/compute/mod.ts"));
  assertEquals(architectureViolations(edges), []);
});

Deno.test("architecture: a folder is a top-level concern of src/, or the folder itself elsewhere", () => {
  assertEquals(folderOf("src/compute/ort/graphs/conv.ts"), "src/compute");
  assertEquals(folderOf("src/train/mod.ts"), "src/train");
  assertEquals(folderOf("scripts/train.ts"), "scripts");
  assertEquals(folderOf("web-demo/app/main.ts"), "web-demo/app");
});

Deno.test("architecture: an import past a folder's mod.ts is reported", () => {
  assertEquals(
    architectureViolations([
      { from: "src/train/loop.ts", to: "src/compute/kernel_sets.ts" },
      { from: "src/compute/kernel_sets.ts", to: "src/compute/ort/start.ts" },
      { from: "web-demo/app/engine.ts", to: "src/infer/browser.ts" },
    ]),
    ["src/train/loop.ts imports src/compute/kernel_sets.ts, past the door of src/compute"],
  );
});

Deno.test("architecture: a folder-level cycle is reported once, with its path", () => {
  assertEquals(
    architectureViolations([
      { from: "src/report/mod.ts", to: "src/train/mod.ts" },
      { from: "src/train/loop.ts", to: "src/checkpoint/mod.ts" },
      { from: "src/checkpoint/layers_io.ts", to: "src/report/mod.ts" },
      { from: "src/train/loop.ts", to: "src/random/mod.ts" },
    ]),
    ["folder cycle: src/checkpoint → src/report → src/train → src/checkpoint"],
  );
});
