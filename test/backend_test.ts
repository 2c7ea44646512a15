import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { describeTfjsNodeFailure } from "../src/compute/mod.ts";

const PKG = "/home/u/.cache/deno/npm/registry.npmjs.org/@tensorflow/tfjs-node/4.22.0";
const MISSING = "The Node.js native addon module (tfjs_binding.node) can not be found at path: " +
  `${PKG}/lib/napi-v8/tfjs_binding.node. \nPlease run command 'npm rebuild @tensorflow/tfjs-node ` +
  "--build-addon-from-source' to rebuild the native addon module.\nIf you have problem ...";

Deno.test("tfjs-node without its binding: one short line, no path", () => {
  const line = describeTfjsNodeFailure(MISSING, () => []);
  assertEquals(line, "installed without its native binding (its install script did not run)");
});

Deno.test("tfjs-node binding in another napi-v* folder (tfjs issue 8581): the line gives the copy", () => {
  const seen: string[] = [];
  const line = describeTfjsNodeFailure(MISSING, (lib) => {
    seen.push(lib);
    return [`${lib}/napi-v9/tfjs_binding.node`];
  });
  assertEquals(seen, [`${PKG}/lib`]);
  assertEquals(
    line,
    "its binding is in napi-v9/ but is looked up in napi-v8/ (tfjs issue 8581); " +
      `fix: cp -r ${PKG}/lib/napi-v9/. ${PKG}/lib/napi-v8/`,
  );
});

Deno.test("other tfjs-node failures: their first line, at most 120 characters", () => {
  assertEquals(
    describeTfjsNodeFailure("npm package '@tensorflow/tfjs-node' does not exist.\nmore"),
    "npm package '@tensorflow/tfjs-node' does not exist.",
  );
  const long = describeTfjsNodeFailure(`dlopen failed: ${"x".repeat(300)}`);
  assertEquals(long.length, 120);
  assertMatch(long, /^dlopen failed: x+\.\.\.$/);
});
